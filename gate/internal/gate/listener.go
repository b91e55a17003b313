package gate

import (
	"bytes"
	"net"
	"strconv"

	"github.com/blockchain-tenancy/node-gate/internal/contracts"
	"github.com/blockchain-tenancy/node-gate/internal/rpc"
)

// Listener gives requests that net/http refuses before any handler runs (malformed HTTP, header
// fields too large, an unsupported transfer coding) the gate's JSON-RPC error body instead of
// net/http's plain text: net/http writes those answers in one write, with fixed fields, on a
// connection that is closed after it; this rewrites exactly that write. Requests are still parsed
// by net/http only.
type Listener struct {
	net.Listener
}

// Accept wraps each connection.
func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &conn{TCPConn: tc}, nil
	}
	return c, nil
}

type conn struct {
	*net.TCPConn
}

// The fields of net/http's own error answers (net/http server.go, conn.serve).
var plainError = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

func (c *conn) Write(p []byte) (int, error) {
	if len(p) < 512 && bytes.HasPrefix(p, []byte("HTTP/1.1 4")) || len(p) < 512 && bytes.HasPrefix(p, []byte("HTTP/1.1 5")) {
		if bytes.Contains(p, plainError) {
			if _, err := c.TCPConn.Write(errorAnswer(p)); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.TCPConn.Write(p)
}

func errorAnswer(p []byte) []byte {
	status, text, body := 400, "Bad Request", rpc.RefusalText(400, "bad request: malformed HTTP")
	if bytes.HasPrefix(p, []byte("HTTP/1.1 431")) {
		status, text, body = 431, "Request Header Fields Too Large", rpc.ErrorText(contracts.CodeTooLarge, "request headers too large", "null")
	}
	out := []byte("HTTP/1.1 " + strconv.Itoa(status) + " " + text + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	return append(out, body...)
}
