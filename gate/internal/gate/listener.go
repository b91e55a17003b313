package gate

import (
	"io"
	"net"
	"time"
)

// lingerTime is how long a closing connection still reads (and drops) what its client sends.
const lingerTime = time.Second

// lingerBytes caps what a closing connection reads before it closes anyway.
const lingerBytes = 4 << 20

// Listener closes the gate's connections gracefully ("lingering close", as nginx and Go's net/http
// do): it sends FIN first and drops what the client still sends for up to a second, so that an
// answer given before the request was read (413 for a declared length over the cap, 401 before a
// body) is not destroyed by the TCP reset that closing a socket with unread bytes causes.
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
		return &lingeringConn{TCPConn: tc}, nil
	}
	return c, nil
}

type lingeringConn struct {
	*net.TCPConn
}

func (c *lingeringConn) Close() error {
	if err := c.TCPConn.CloseWrite(); err != nil {
		return c.TCPConn.Close()
	}
	go func() {
		_ = c.TCPConn.SetReadDeadline(time.Now().Add(lingerTime))
		_, _ = io.CopyN(io.Discard, c.TCPConn, lingerBytes)
		_ = c.TCPConn.Close()
	}()
	return nil
}
