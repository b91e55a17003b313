package upstream

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// scripted is a node whose HTTP answers a test scripts (raw bytes on the connection).
type scripted struct {
	ln      net.Listener
	answer  atomic.Value // func(body []byte) string ("" = no answer; "close" = close)
	bodies  chan []byte
	accepts atomic.Int64
}

func newScripted(t *testing.T) *scripted {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{ln: ln, bodies: make(chan []byte, 100)}
	s.answer.Store(func(b []byte) string { return ok(`{"jsonrpc":"2.0","id":1,"result":"0x1"}`) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			go func() {
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						c.Close()
						return
					}
					body, _ := io.ReadAll(req.Body)
					s.bodies <- body
					a := s.answer.Load().(func([]byte) string)(body)
					if a == "close" {
						c.Close()
						return
					}
					if a != "" {
						_, _ = c.Write([]byte(strings.TrimSuffix(a, "\x00close")))
					}
					if strings.HasSuffix(a, "\x00close") {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func ok(body string) string {
	return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

func TestForwardsBytesAndReusesTheConnection(t *testing.T) {
	s := newScripted(t)
	p, err := New("http://"+s.ln.Addr().String(), Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 5; i++ {
		res, e := p.Post([]byte(`{"id":1}`))
		if e != nil || res.Status != 200 || string(res.Body) != `{"jsonrpc":"2.0","id":1,"result":"0x1"}` {
			t.Fatalf("%+v %v", res, e)
		}
		if got := <-s.bodies; string(got) != `{"id":1}` {
			t.Fatalf("body %q", got)
		}
	}
	if p.ConnectionsOpened() != 1 {
		t.Fatalf("%d connections", p.ConnectionsOpened())
	}
	// A node status passes through and keeps the connection.
	s.answer.Store(func([]byte) string { return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}" })
	if res, e := p.Post([]byte(`{}`)); e != nil || res.Status != 500 || string(res.Body) != "{}" || p.ConnectionsOpened() != 1 {
		t.Fatalf("%+v %v", res, e)
	}
	// Chunked answers are framed.
	s.answer.Store(func([]byte) string {
		return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
	})
	if res, e := p.Post([]byte(`{}`)); e != nil || string(res.Body) != "abcde" {
		t.Fatalf("%+v %v", res, e)
	}
}

func TestFailuresAre502Or504AndNeverRetried(t *testing.T) {
	s := newScripted(t)
	p, _ := New("http://"+s.ln.Addr().String(), Options{Timeout: 300 * time.Millisecond})
	defer p.Close()
	s.answer.Store(func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"jsonrpc\":" + "close" })
	s.answer.Store(func([]byte) string { return "close" })
	if _, e := p.Post([]byte(`{}`)); e == nil || e.Status != 502 {
		t.Fatalf("closed: %v", e)
	}
	s.answer.Store(func([]byte) string { return "" })
	if _, e := p.Post([]byte(`{}`)); e == nil || e.Status != 504 {
		t.Fatalf("silent: %v", e)
	}
	s.answer.Store(func([]byte) string { return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n{}" })
	if _, e := p.Post([]byte(`{}`)); e == nil || e.Status != 502 {
		t.Fatalf("conflicting lengths: %v", e)
	}
	for len(s.bodies) > 0 {
		<-s.bodies
	}
	// Bytes nobody asked for: the answer is used, the connection is not.
	s.answer.Store(func([]byte) string { return ok("{}") + ok("{}") })
	before := p.ConnectionsOpened()
	p.Post([]byte(`{}`))
	s.answer.Store(func([]byte) string { return ok("[]") })
	if res, e := p.Post([]byte(`{}`)); e != nil || string(res.Body) != "[]" || p.ConnectionsOpened() != before+2 {
		t.Fatalf("%+v %v %d", res, e, p.ConnectionsOpened()-before)
	}
	if p, err := New("ws://x", Options{}); err == nil || p != nil {
		t.Fatal("a ws:// upstream was accepted")
	}
}

func TestAConnectionTheNodeClosedWhileIdleIsNotUsed(t *testing.T) {
	s := newScripted(t)
	p, _ := New("http://"+s.ln.Addr().String(), Options{Timeout: time.Second})
	defer p.Close()
	// The node answers, then closes the kept-alive connection (a restart, its idle timeout).
	s.answer.Store(func([]byte) string { return ok("{}") + "\x00close" })
	if _, e := p.Post([]byte(`{}`)); e != nil {
		t.Fatal(e)
	}
	time.Sleep(100 * time.Millisecond)
	s.answer.Store(func([]byte) string { return ok("[]") })
	if res, e := p.Post([]byte(`{}`)); e != nil || string(res.Body) != "[]" {
		t.Fatalf("the closed connection was used: %+v %v", res, e)
	}
	if p.ConnectionsOpened() != 2 {
		t.Fatalf("%d connections", p.ConnectionsOpened())
	}
}
