package gate

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// recorder is a tunnel whose client and node are byte buffers.
type recorder struct {
	t      tunnel
	client bytes.Buffer
	pongs  []string
}

func newRecorder(merge func([]byte) ([]byte, bool)) *recorder {
	r := &recorder{}
	r.t = tunnel{
		forward: func(b []byte) error { r.client.Write(b); return nil },
		pong:    func(b []byte) error { r.pongs = append(r.pongs, string(b)); return nil },
		merge:   merge,
	}
	return r
}

// frame is a server frame (unmasked) with the given first byte.
func frame(b0 byte, payload string) []byte {
	f := appendServerFrame(nil, b0&0x0f, []byte(payload))
	f[0] = b0
	return f
}

// feedSplit feeds stream to the tunnel in pieces of size n, as reads might deliver it.
func (r *recorder) feedSplit(stream []byte, n int) error {
	var in []byte
	for i := 0; i < len(stream); i += n {
		end := i + n
		if end > len(stream) {
			end = len(stream)
		}
		in = append(in, stream[i:end]...)
		used, _, err := r.t.feed(in)
		if err != nil {
			return err
		}
		in = in[used:]
	}
	if len(in) > 0 {
		return errors.New("bytes left over")
	}
	return nil
}

func TestTheTunnelPassesFramesOnByteForByteHoweverTheyAreSplit(t *testing.T) {
	big := strings.Repeat("b", 70_000) // a 64-bit length
	mid := strings.Repeat("m", 300)    // a 16-bit length
	var stream, want []byte
	add := func(f []byte, forwarded bool) {
		stream = append(stream, f...)
		if forwarded {
			want = append(want, f...)
		}
	}
	add(frame(0x81, `{"id":1}`), true)
	add(frame(0x81, mid), true)
	add(frame(0x89, "ping-1"), false) // answered to the node, not passed on
	add(frame(0x8a, "pong"), false)   // dropped
	add(frame(0x82, "binary"), false) // dropped, as before
	// A fragmented text message with a ping between its fragments: passed on whole, without the ping.
	add(frame(0x01, "frag-1 "), false)
	add(frame(0x89, "ping-2"), false)
	add(frame(0x80, "frag-2"), false)
	want = append(want, frame(0x01, "frag-1 ")...)
	want = append(want, frame(0x80, "frag-2")...)
	add(frame(0x81, big), true)
	for _, n := range []int{1, 2, 3, 7, 100, 4096, len(stream)} {
		r := newRecorder(nil)
		if err := r.feedSplit(stream, n); err != nil {
			t.Fatalf("pieces of %d: %v", n, err)
		}
		if !bytes.Equal(r.client.Bytes(), want) {
			t.Fatalf("pieces of %d: the client got %d bytes, want %d", n, r.client.Len(), len(want))
		}
		if strings.Join(r.pongs, ",") != "ping-1,ping-2" {
			t.Fatalf("pieces of %d: pongs %q", n, r.pongs)
		}
	}
}

func TestTheTunnelEndsOnACloseFrameAfterPassingWhatCameBefore(t *testing.T) {
	r := newRecorder(nil)
	stream := append(frame(0x81, "last"), frame(0x88, "\x03\xe8")...)
	_, _, err := r.t.feed(stream)
	if !errors.Is(err, errNodeClosed) {
		t.Fatalf("got %v, want errNodeClosed", err)
	}
	if !bytes.Equal(r.client.Bytes(), frame(0x81, "last")) {
		t.Fatalf("the message before the close frame was not passed on")
	}
}

func TestTheTunnelRefusesWhatAServerMayNotSend(t *testing.T) {
	masked := frame(0x81, "x")
	masked[1] |= 0x80
	long := strings.Repeat("p", 126)
	for name, stream := range map[string][]byte{
		"reserved bits":          frame(0xc1, "x"),
		"a mask":                 masked,
		"an unknown opcode":      frame(0x83, "x"),
		"a fragmented ping":      frame(0x09, "x"),
		"a long ping":            frame(0x89, long),
		"a continuation alone":   frame(0x80, "x"),
		"a message in a message": append(frame(0x01, "a"), frame(0x81, "b")...),
		"a length over the cap":  {0x81, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		r := newRecorder(nil)
		if _, _, err := r.t.feed(stream); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestTheTunnelAsksForWhatAnIncompleteFrameNeeds(t *testing.T) {
	r := newRecorder(nil)
	f := frame(0x81, strings.Repeat("x", 70_000))
	used, need, err := r.t.feed(f[:5])
	if err != nil || used != 0 || need != 10 {
		t.Fatalf("header: used %d need %d err %v", used, need, err)
	}
	used, need, err = r.t.feed(f[:100])
	if err != nil || used != 0 || need != len(f) {
		t.Fatalf("payload: used %d need %d err %v", used, need, err)
	}
}

func TestTheTunnelOffersTextMessagesToMerge(t *testing.T) {
	r := newRecorder(func(payload []byte) ([]byte, bool) {
		if string(payload) == "tagged" {
			return appendServerFrame(nil, opText, []byte("merged")), true
		}
		return nil, false
	})
	stream := append(append(frame(0x81, "before"), frame(0x01, "tag")...), frame(0x80, "ged")...)
	stream = append(stream, frame(0x81, "after")...)
	if err := r.feedSplit(stream, 3); err != nil {
		t.Fatal(err)
	}
	want := append(append(frame(0x81, "before"), frame(0x81, "merged")...), frame(0x81, "after")...)
	if !bytes.Equal(r.client.Bytes(), want) {
		t.Fatalf("client got %q", r.client.Bytes())
	}
}

// A node as a real WebSocket server (fasthttp/websocket's net/http upgrader): it greets at once
// (bytes that arrive with the handshake answer), echoes text, pings once and records the pong.
func fakeNode(t *testing.T) (url string, pongs chan string) {
	t.Helper()
	pongs = make(chan string, 1)
	upgrader := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetPongHandler(func(s string) error { pongs <- s; return nil })
		_ = c.WriteMessage(websocket.TextMessage, []byte("hello"))
		_ = c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second))
		for {
			kind, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			_ = c.WriteMessage(kind, append([]byte("echo:"), msg...))
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws", pongs
}

// dialFake opens the gate's socket to a fakeNode.
func dialFake(t *testing.T) (*nodeSocket, chan string) {
	t.Helper()
	url, pongs := fakeNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := dialNode(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, pongs
}

func TestDialNodeHandshakesWritesMaskedFramesAndAnswersPings(t *testing.T) {
	s, pongs := dialFake(t)
	got := make(chan []byte, 8)
	s.mu.Lock() // a write to the node in flight: the tunnel must go on reading meanwhile
	r := &tunnel{
		forward: func(b []byte) error { got <- append([]byte(nil), b...); return nil },
		pong:    s.pong,
	}
	done := make(chan error, 1)
	go func() { done <- r.run(s) }()
	select {
	case b := <-got: // the greeting, read past the ping while the write waits
		if !bytes.Equal(b, frame(0x81, "hello")) {
			t.Fatalf("first forward %q", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the tunnel stopped reading while a write to the node waited")
	}
	s.mu.Unlock()
	big := strings.Repeat("z", 100_000)
	for _, msg := range []string{"one", big} {
		if err := s.write(opText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	var client []byte
	want := append(frame(0x81, "echo:one"), frame(0x81, "echo:"+big)...)
	for !bytes.Equal(client, want) {
		select {
		case b := <-got:
			client = append(client, b...)
			if len(client) > len(want) {
				t.Fatalf("the client got more than was sent: %d bytes", len(client))
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the client got %d of %d bytes", len(client), len(want))
		}
	}
	select {
	case p := <-pongs:
		if p != "are you there" {
			t.Fatalf("pong %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the node's ping was not answered")
	}
	s.closeFrame(websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the tunnel ended without a reason")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the tunnel did not end when the node closed")
	}
}

func TestDialNodeRefusesWhatIsNotAWebSocket(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := dialNode(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")); err == nil || !strings.Contains(err.Error(), "200") {
		t.Fatalf("got %v", err)
	}
	if _, err := dialNode(ctx, "http://127.0.0.1:1/"); err == nil {
		t.Fatal("accepted an http:// URL")
	}
}

func TestMaskedFramesUnmaskToThePayload(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 125, 126, 65535, 65536, 100_003} {
		payload := make([]byte, n)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		f := appendFrame(nil, opText, payload, 0xa1b2c3d4)
		header := 2
		switch {
		case n > 65535:
			header = 10
		case n > 125:
			header = 4
		}
		if f[0] != 0x81 || f[1]&0x80 == 0 {
			t.Fatalf("%d: header %x", n, f[:2])
		}
		mask := f[header : header+4]
		body := f[header+4:]
		for i := range body {
			if body[i]^mask[i&3] != payload[i] {
				t.Fatalf("%d: byte %d does not unmask", n, i)
			}
		}
	}
}

func TestCloseFrameNeverWaitsForAStuckWrite(t *testing.T) {
	s, _ := dialFake(t)
	s.mu.Lock() // a write in flight that the node does not take
	done := make(chan struct{})
	go func() {
		s.closeFrame(websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("closeFrame waited for the write in flight")
	}
	s.mu.Unlock()
}
