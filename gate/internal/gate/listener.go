package gate

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blockchain-tenancy/node-gate/internal/contracts"
	"github.com/blockchain-tenancy/node-gate/internal/sockio"
)

// lingerTime is how long a closing connection still reads (and drops) what its client sends.
const lingerTime = time.Second

// lingerBytes caps what a closing connection reads before it closes anyway.
const lingerBytes = 4 << 20

// finalWriteTime bounds the write of an answer held back when its connection closes.
const finalWriteTime = contracts.HeadersTimeoutSeconds * time.Second

// maxDeferred caps the answer bytes a connection holds back until its next read; a larger
// answer is written at once.
const maxDeferred = 64 << 10

// maxKept caps the buffer a connection keeps between answers.
const maxKept = 8 << 10

// Listener wraps each accepted connection in a gateConn.
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
		return &gateConn{TCPConn: tc, raw: sockio.Raw(tc)}, nil
	}
	return c, nil
}

// gateConn is a client connection of the gate. It does two things:
//
//   - It closes gracefully ("lingering close", as nginx and Go's net/http do): FIN first, then
//     it drops what the client still sends for up to a second, so that an answer given before
//     the request was read (413 for a declared length over the cap, 401 before a body) is not
//     destroyed by the TCP reset that closing a socket with unread bytes causes.
//   - It holds an HTTP answer back until the server next reads the connection (for the next
//     request, a body, or to drain one) and writes it then with sockio.WriteThenAwait, which
//     spares the read that would find nothing. The server reads a connection right after every
//     answer it writes, or closes it, and Close writes what is held back first. A connection
//     handed to a WebSocket bridge writes at once (Direct), since its reads and writes run on
//     different goroutines.
type gateConn struct {
	*net.TCPConn
	raw     syscall.RawConn
	mu      sync.Mutex
	pending []byte
	spare   []byte
	direct  bool
	held    atomic.Bool // pending is not empty (read without the lock)
}

// Direct makes every later write go out at once (and writes what is held back).
func (c *gateConn) Direct() error {
	c.mu.Lock()
	c.direct = true
	out := c.takeLocked()
	c.mu.Unlock()
	return c.writeOut(out)
}

// takeLocked removes what is held back (c.mu held).
func (c *gateConn) takeLocked() []byte {
	out := c.pending
	c.pending = nil
	c.held.Store(false)
	return out
}

// take removes what is held back.
func (c *gateConn) take() []byte {
	if !c.held.Load() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeLocked()
}

// writeOut writes what was held back, at once.
func (c *gateConn) writeOut(out []byte) error {
	if len(out) == 0 {
		return nil
	}
	_, err := c.TCPConn.Write(out)
	return err
}

// recycle keeps a written buffer for the next answer when it is small (an idle keep-alive
// connection holds it).
func (c *gateConn) recycle(b []byte) {
	if cap(b) > maxKept {
		return
	}
	c.mu.Lock()
	c.spare = b[:0]
	c.mu.Unlock()
}

func (c *gateConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.direct || len(c.pending)+len(p) > maxDeferred {
		out := c.takeLocked()
		c.mu.Unlock()
		if err := c.writeOut(out); err != nil {
			return 0, err
		}
		return c.TCPConn.Write(p)
	}
	if c.pending == nil {
		c.pending, c.spare = c.spare, nil
	}
	c.pending = append(c.pending, p...)
	c.held.Store(true)
	c.mu.Unlock()
	return len(p), nil
}

func (c *gateConn) Read(p []byte) (int, error) {
	if out := c.take(); len(out) > 0 {
		err := sockio.WriteThenAwait(c.TCPConn, c.raw, out)
		c.recycle(out)
		if err != nil {
			return 0, err
		}
	}
	return c.TCPConn.Read(p)
}

// ReadFrom and WriteTo keep the order of what is held back (the embedded connection's own would
// bypass it).
func (c *gateConn) ReadFrom(r io.Reader) (int64, error) {
	if err := c.writeOut(c.take()); err != nil {
		return 0, err
	}
	return c.TCPConn.ReadFrom(r)
}

func (c *gateConn) WriteTo(w io.Writer) (int64, error) {
	if err := c.writeOut(c.take()); err != nil {
		return 0, err
	}
	return c.TCPConn.WriteTo(w)
}

// Close writes what is held back (as the server's own flush did, within finalWriteTime), then
// closes gracefully without waiting. Only the serving goroutine holds answers back: a
// connection closed from elsewhere (shutdown) is idle or reading, with nothing held.
func (c *gateConn) Close() error {
	if out := c.take(); len(out) > 0 {
		_ = c.TCPConn.SetWriteDeadline(time.Now().Add(finalWriteTime))
		if _, err := c.TCPConn.Write(out); err != nil {
			return c.TCPConn.Close()
		}
	}
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
