package gate

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// served accepts one connection through the gate's Listener.
func served(t *testing.T) (client net.Conn, server *gateConn) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := Listener{Listener: inner}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := <-accepted
	gc, ok := c.(*gateConn)
	if !ok {
		t.Fatalf("accepted %T, want *gateConn", c)
	}
	t.Cleanup(func() { client.Close(); gc.TCPConn.Close() })
	return client, gc
}

func readWithin(t *testing.T, c net.Conn, n int, d time.Duration) (string, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, n)
	_, err := io.ReadFull(c, buf)
	return string(buf), err
}

func TestAnAnswerIsHeldUntilTheNextReadThenWrittenBeforeIt(t *testing.T) {
	client, server := served(t)
	if _, err := server.Write([]byte("answer-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := readWithin(t, client, 8, 100*time.Millisecond); err == nil {
		t.Fatal("the answer went out before the server read again")
	}
	done := make(chan string, 1)
	go func() {
		buf := make([]byte, 9)
		_, _ = io.ReadFull(server, buf)
		done <- string(buf)
	}()
	if got, err := readWithin(t, client, 8, 2*time.Second); err != nil || got != "answer-1" {
		t.Fatalf("client read %q, %v", got, err)
	}
	if _, err := client.Write([]byte("request-2")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got != "request-2" {
			t.Fatalf("server read %q", got)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the server's read missed the request that followed its answer")
	}
}

func TestAKeepAliveExchangeNeverStalls(t *testing.T) {
	client, server := served(t)
	go func() {
		br := bufio.NewReader(server)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			_, _ = server.Write([]byte("re " + line))
		}
	}()
	br := bufio.NewReader(client)
	for i := 0; i < 2000; i++ {
		_ = client.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := client.Write([]byte("call\n")); err != nil {
			t.Fatal(err)
		}
		if line, err := br.ReadString('\n'); err != nil || line != "re call\n" {
			t.Fatalf("exchange %d: %q, %v", i, line, err)
		}
	}
}

func TestCloseWritesWhatIsHeldBack(t *testing.T) {
	client, server := served(t)
	_, _ = server.Write([]byte("HTTP/1.1 413 "))
	_, _ = server.Write([]byte("Request Entity Too Large\r\n\r\n"))
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(3 * time.Second))
	all, err := io.ReadAll(client)
	if err != nil || string(all) != "HTTP/1.1 413 Request Entity Too Large\r\n\r\n" {
		t.Fatalf("client read %q, %v", all, err)
	}
}

func TestALargeAnswerGoesOutAtOnceAndInOrder(t *testing.T) {
	client, server := served(t)
	_, _ = server.Write([]byte("head:"))
	big := strings.Repeat("x", maxDeferred)
	got := make(chan string, 1)
	go func() {
		s, _ := readWithin(t, client, 5+len(big), 5*time.Second)
		got <- s
	}()
	if _, err := server.Write([]byte(big)); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "head:"+big {
		t.Fatalf("client read %d bytes, not the answer in order", len(s))
	}
}

func TestDirectWritesAtOnce(t *testing.T) {
	client, server := served(t)
	_, _ = server.Write([]byte("101 "))
	if err := server.Direct(); err != nil {
		t.Fatal(err)
	}
	_, _ = server.Write([]byte("frame"))
	if got, err := readWithin(t, client, 9, time.Second); err != nil || got != "101 frame" {
		t.Fatalf("client read %q, %v", got, err)
	}
}

func TestReadFromKeepsTheOrder(t *testing.T) {
	client, server := served(t)
	_, _ = server.Write([]byte("first "))
	if _, err := server.ReadFrom(bytes.NewReader([]byte("second"))); err != nil {
		t.Fatal(err)
	}
	if got, err := readWithin(t, client, 12, time.Second); err != nil || got != "first second" {
		t.Fatalf("client read %q, %v", got, err)
	}
}
