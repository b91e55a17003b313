// Package upstream is the gate's HTTP client to the node's JSON-RPC on loopback: persistent
// keep-alive connections, one request in flight per connection, answers read with fasthttp's
// response parser (the maintained parser of the request side). Anything it cannot frame exactly
// (a malformed answer, bytes nobody asked for, the connection closing mid-answer, an answer over the size cap) closes
// that connection and fails the request with 502; an answer that takes longer than the timeout
// fails with 504. Failed requests are never retried (a JSON-RPC call may not be idempotent).
package upstream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/blockchain-tenancy/node-gate/internal/sockio"
)

// Options of a pool (zero values take the defaults of lambda/node-gate/upstream-pool.ts).
type Options struct {
	MaxConnections   int
	Idle             time.Duration
	Timeout          time.Duration
	MaxResponseBytes int64
}

// Response is a complete upstream answer.
type Response struct {
	Status int
	Body   []byte
}

// Error is why a request failed, with the status the gate answers (502 or 504).
type Error struct {
	Status int
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("upstream %d: %v", e.Status, e.Err) }

type conn struct {
	c        net.Conn
	raw      syscall.RawConn // nil when c is not a socket
	br       *bufio.Reader
	lastUsed time.Time
}

// Pool is a pool of connections to one upstream.
type Pool struct {
	addr   string
	prefix []byte
	opts   Options
	slots  chan struct{}
	mu     sync.Mutex
	idle   []*conn
	closed bool
	opened atomic.Int64
	done   chan struct{}
}

// New makes a pool for an http:// URL.
func New(rawURL string, o Options) (*Pool, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("upstream must be an http:// URL, got %q", rawURL)
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = 64
	}
	if o.Idle == 0 {
		o.Idle = 4 * time.Second
	}
	if o.Timeout == 0 {
		o.Timeout = 120 * time.Second
	}
	if o.MaxResponseBytes == 0 {
		o.MaxResponseBytes = 256 << 20
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	p := &Pool{
		addr:   addr,
		prefix: []byte("POST " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\nContent-Length: "),
		opts:   o,
		slots:  make(chan struct{}, o.MaxConnections),
		done:   make(chan struct{}),
	}
	go p.janitor()
	return p, nil
}

// ConnectionsOpened counts the connections opened so far.
func (p *Pool) ConnectionsOpened() int64 { return p.opened.Load() }

// janitor closes connections idle longer than the idle time (below the upstream's own idle timeout).
func (p *Pool) janitor() {
	t := time.NewTicker(p.opts.Idle / 2)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case now := <-t.C:
			p.mu.Lock()
			keep := p.idle[:0]
			for _, c := range p.idle {
				if now.Sub(c.lastUsed) > p.opts.Idle {
					c.c.Close()
				} else {
					keep = append(keep, c)
				}
			}
			for i := len(keep); i < len(p.idle); i++ {
				p.idle[i] = nil
			}
			p.idle = keep
			p.mu.Unlock()
		}
	}
}

// Close closes every idle connection; later requests fail with 502.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.closed = true
	close(p.done)
	for _, c := range p.idle {
		c.c.Close()
	}
	p.idle = nil
}

// alive is false when the peer closed an idle connection (a non-blocking peek sees EOF or an error).
func alive(c *conn) bool {
	if c.raw == nil {
		return true
	}
	ok := true
	var buf [1]byte
	_ = c.raw.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if n == 0 && err == nil {
			ok = false // EOF
		} else if n > 0 {
			ok = false // bytes nobody asked for
		} else if err != nil && err != syscall.EAGAIN {
			ok = false
		}
		return true
	})
	return ok
}

func (p *Pool) get() (*conn, error) {
	now := time.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("pool closed")
	}
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle[len(p.idle)-1] = nil
		p.idle = p.idle[:len(p.idle)-1]
		idle := now.Sub(c.lastUsed)
		if idle > p.opts.Idle {
			c.c.Close()
			continue
		}
		// A connection that sat idle for a while may have been closed by the node (a restart).
		if idle > 20*time.Millisecond && !alive(c) {
			c.c.Close()
			continue
		}
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	nc, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	p.opened.Add(1)
	return &conn{c: nc, raw: sockio.Raw(nc), br: bufio.NewReaderSize(nc, 16<<10)}, nil
}

func (p *Pool) put(c *conn) {
	c.lastUsed = time.Now()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.c.Close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Post sends a JSON body and returns the complete answer, or an *Error.
func (p *Pool) Post(body []byte) (Response, *Error) {
	p.slots <- struct{}{}
	defer func() { <-p.slots }()
	c, err := p.get()
	if err != nil {
		return Response{}, &Error{Status: 502, Err: err}
	}
	// One deadline for the whole exchange; it is replaced by the next request on this connection
	// (an idle connection is never read or written in between).
	_ = c.c.SetDeadline(time.Now().Add(p.opts.Timeout))
	out := bufs.Get().(*bytes.Buffer)
	out.Reset()
	out.Write(p.prefix)
	out.WriteString(strconv.Itoa(len(body)))
	out.WriteString("\r\n\r\n")
	out.Write(body)
	// The request is written so that the wait for the answer skips the read that finds nothing.
	err = sockio.WriteThenAwait(c.c, c.raw, out.Bytes())
	bufs.Put(out)
	if err != nil {
		c.c.Close()
		return Response{}, fail(err)
	}
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(res)
	if err = res.ReadLimitBody(c.br, int(p.opts.MaxResponseBytes)); err != nil {
		c.c.Close()
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			return Response{}, &Error{Status: 502, Err: errors.New("answer too large")}
		}
		return Response{}, fail(err)
	}
	// Reuse only a connection that is exactly at the end of a length-framed answer.
	if res.ConnectionClose() || c.br.Buffered() > 0 || res.Header.ContentLength() == -2 {
		c.c.Close()
	} else {
		p.put(c)
	}
	return Response{Status: res.StatusCode(), Body: append([]byte(nil), res.Body()...)}, nil
}

func fail(err error) *Error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, fasthttp.ErrTimeout) {
		return &Error{Status: 504, Err: err}
	}
	return &Error{Status: 502, Err: err}
}
