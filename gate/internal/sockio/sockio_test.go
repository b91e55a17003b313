package sockio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair is a connected loopback TCP pair (client side, server side).
func pair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func TestReturnsWhenTheAnswerCanBeRead(t *testing.T) {
	c, s := pair(t)
	go func() {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(s, buf); err != nil {
			return
		}
		time.Sleep(150 * time.Millisecond) // the answer comes well after the request
		_, _ = s.Write(append([]byte("re:"), buf...))
	}()
	start := time.Now()
	if err := WriteThenAwait(c, Raw(c), []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Fatalf("returned after %v, before the answer was sent", waited)
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond)) // the answer is there already
	got := make([]byte, 8)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "re:hello" {
		t.Fatalf("read %q, %v", got, err)
	}
}

func TestAnAnswerFasterThanTheWaitIsNotMissed(t *testing.T) {
	c, s := pair(t)
	go func() {
		buf := make([]byte, 1)
		for {
			if _, err := s.Read(buf); err != nil {
				return
			}
			_, _ = s.Write(buf) // answers at once, often before the writer waits
		}
	}()
	raw := Raw(c)
	for i := 0; i < 2000; i++ {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := WriteThenAwait(c, raw, []byte{byte(i)}); err != nil {
			t.Fatalf("exchange %d: %v", i, err)
		}
		got := make([]byte, 1)
		if _, err := c.Read(got); err != nil || got[0] != byte(i) {
			t.Fatalf("exchange %d: read %v, %v", i, got, err)
		}
	}
}

func TestTheReadDeadlineEndsTheWait(t *testing.T) {
	c, _ := pair(t)
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	err := WriteThenAwait(c, Raw(c), []byte("no answer"))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	// A deadline already past refuses before writing anything.
	err = WriteThenAwait(c, Raw(c), []byte("late"))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
}

func TestAPeerThatClosesEndsTheWait(t *testing.T) {
	c, s := pair(t)
	go func() {
		buf := make([]byte, 4)
		_, _ = io.ReadFull(s, buf)
		s.Close()
	}()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := WriteThenAwait(c, Raw(c), []byte("ping")); err != nil {
		t.Fatalf("the wait should end readable (EOF), got %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read %v, want EOF", err)
	}
}

func TestAMessageLargerThanTheSocketTakesIsWrittenWhole(t *testing.T) {
	c, s := pair(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB: more than a send buffer
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, len(big))
		_, _ = io.ReadFull(s, buf)
		_, _ = s.Write([]byte("ok"))
		got <- buf
	}()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := WriteThenAwait(c, Raw(c), big); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(<-got, big) {
		t.Fatal("the peer did not receive the message whole")
	}
	answer := make([]byte, 2)
	if _, err := io.ReadFull(c, answer); err != nil || string(answer) != "ok" {
		t.Fatalf("answer %q, %v", answer, err)
	}
}

func TestWithoutARawConnItOnlyWrites(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { _ = WriteThenAwait(a, Raw(a), []byte("x")) }()
	buf := make([]byte, 1)
	if _, err := b.Read(buf); err != nil || buf[0] != 'x' {
		t.Fatalf("read %q, %v", buf, err)
	}
}
