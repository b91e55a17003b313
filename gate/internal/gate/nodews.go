package gate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	randv2 "math/rand/v2"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/blockchain-tenancy/node-gate/internal/sockio"
)

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// maxNodeMessage caps a message from the node (as the read limit of the node's socket did).
const maxNodeMessage = 256 << 20

// errNodeClosed is the node's close frame.
var errNodeClosed = errors.New("the node closed its WebSocket")

// nodeSocket is the gate's WebSocket to its node, the node's own client on loopback. The client
// side of the bridge is framed by fasthttp/websocket; this side carries the node's frames to the
// client byte for byte (see tunnel), so it does its own opening handshake (the answer read by
// fasthttp's response parser), and writes masked frames as a WebSocket client must.
type nodeSocket struct {
	conn net.Conn
	raw  syscall.RawConn
	// early holds bytes that arrived with the handshake answer (the start of the first frames).
	early []byte
	mu    sync.Mutex // writes
	out   []byte     // frame buffer (under mu)
}

// dialNode opens the node's WebSocket at a ws:// URL within ctx.
func dialNode(ctx context.Context, rawURL string) (*nodeSocket, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "ws" || u.Host == "" {
		return nil, fmt.Errorf("the node's WebSocket must be a ws:// URL, got %q", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	path := u.RequestURI()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	if deadline, has := ctx.Deadline(); has {
		_ = c.SetDeadline(deadline)
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	key := base64.StdEncoding.EncodeToString(nonce[:])
	request := "GET " + path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, request); err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(c, 4096)
	var h fasthttp.ResponseHeader
	if err := h.Read(br); err != nil {
		return nil, err
	}
	if h.StatusCode() != fasthttp.StatusSwitchingProtocols {
		return nil, fmt.Errorf("the node answered the WebSocket handshake with %d", h.StatusCode())
	}
	if !bytes.EqualFold(h.Peek("Upgrade"), []byte("websocket")) || !hasToken(h.Peek("Connection"), "upgrade") {
		return nil, errors.New("the node's handshake answer does not upgrade to websocket")
	}
	if string(h.Peek("Sec-WebSocket-Accept")) != acceptKey(key) {
		return nil, errors.New("the node's handshake answer has a wrong Sec-WebSocket-Accept")
	}
	if len(h.Peek("Sec-WebSocket-Extensions")) > 0 {
		return nil, errors.New("the node's handshake answer names an extension the gate did not offer")
	}
	early, _ := br.Peek(br.Buffered())
	_ = c.SetDeadline(time.Time{})
	ok = true
	return &nodeSocket{conn: c, raw: sockio.Raw(c), early: append([]byte(nil), early...)}, nil
}

// acceptKey is the Sec-WebSocket-Accept value for a Sec-WebSocket-Key (RFC 6455, section 4.2.2).
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// hasToken is true when a comma-separated header value holds token (case-insensitive).
func hasToken(value []byte, token string) bool {
	for _, part := range bytes.Split(value, []byte(",")) {
		if bytes.EqualFold(bytes.TrimSpace(part), []byte(token)) {
			return true
		}
	}
	return false
}

// appendHeader appends the header of one final frame of n payload bytes (maskBit 0x80 for a
// masked frame, 0 for an unmasked one).
func appendHeader(out []byte, opcode byte, n int, maskBit byte) []byte {
	out = append(out, 0x80|opcode)
	switch {
	case n < 126:
		return append(out, maskBit|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(out, maskBit|126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(out, maskBit|127), uint64(n))
	}
}

// appendServerFrame appends one final unmasked frame (what the gate sends its client).
func appendServerFrame(out []byte, opcode byte, payload []byte) []byte {
	return append(appendHeader(out, opcode, len(payload), 0), payload...)
}

// appendFrame appends one final frame, masked with key as a client's must be.
func appendFrame(out []byte, opcode byte, payload []byte, key uint32) []byte {
	out = appendHeader(out, opcode, len(payload), 0x80)
	var mask [4]byte
	binary.BigEndian.PutUint32(mask[:], key)
	out = append(out, mask[:]...)
	start := len(out)
	out = append(out, payload...)
	body := out[start:]
	// Eight bytes at a time (the key repeats every four), then the rest.
	word := uint64(binary.LittleEndian.Uint32(mask[:]))
	word |= word << 32
	i := 0
	for ; i+8 <= len(body); i += 8 {
		binary.LittleEndian.PutUint64(body[i:], binary.LittleEndian.Uint64(body[i:])^word)
	}
	for ; i < len(body); i++ {
		body[i] ^= mask[i&3]
	}
	return out
}

// write sends one message or control frame to the node.
func (s *nodeSocket) write(opcode byte, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = appendFrame(s.out[:0], opcode, payload, randv2.Uint32())
	_, err := s.conn.Write(s.out)
	if cap(s.out) > 64<<10 {
		s.out = nil
	}
	return err
}

// pong answers a ping of the node on its own goroutine: the tunnel must keep reading the node
// even while a write to the node waits (a node that stops reading until its answers are taken
// would otherwise never get them). Pings are rare (geth sends one after 30 s without traffic).
func (s *nodeSocket) pong(data []byte) error {
	payload := append([]byte(nil), data...)
	go func() { _ = s.write(opPong, payload) }()
	return nil
}

// closeFrame tells the node the gate is closing (within deadline). It never waits for a write
// in flight (one the node does not take would hold it up; closing the socket, which follows,
// ends that write): then the node sees the socket close without a close frame.
func (s *nodeSocket) closeFrame(payload []byte, deadline time.Time) {
	if !s.mu.TryLock() {
		return
	}
	defer s.mu.Unlock()
	_ = s.conn.SetWriteDeadline(deadline)
	_, _ = s.conn.Write(appendFrame(nil, opClose, payload, randv2.Uint32()))
}

func (s *nodeSocket) Close() error { return s.conn.Close() }

// tunnel carries the node's frames to the client. A frame of a text message goes on byte for byte
// (the node writes unmasked server frames, exactly what the client must receive); a fragmented
// message goes on whole, in one write, so that the gate's own answers to the client only ever
// fall between messages. Pings are answered to the node and not passed on, pongs are dropped,
// binary messages are dropped, a close frame ends the tunnel, and anything a server may not send
// (a mask, reserved bits, an unknown opcode, a fragmented or long control frame) ends it too.
// Each text message is offered to merge (when set) first, which answers in its place when it is
// the answer to a mixed batch.
type tunnel struct {
	// forward writes complete frames to the client.
	forward func([]byte) error
	// pong answers a ping of the node.
	pong func([]byte) error
	// merge returns the frame to send in place of a text message (ok false: none), for the
	// answers of mixed batches; nil: no merging.
	merge func(payload []byte) (frame []byte, ok bool)

	inMessage bool   // a fragmented message is under way
	kind      byte   // its opcode
	frames    []byte // its frames (control frames left out)
	payload   []byte // its payload (for merge)
	out       []byte // complete frames to forward
}

// feed takes the node's bytes; it returns how many it used (complete frames) and, when the
// next frame is incomplete, the size that frame needs.
func (t *tunnel) feed(in []byte) (used, need int, err error) {
	defer func() {
		// What came before a failing frame (a close frame above all) still goes to the client.
		if ferr := t.flush(); err == nil {
			err = ferr
		}
	}()
	for {
		rest := in[used:]
		if len(rest) < 2 {
			return used, 2, nil
		}
		b0, b1 := rest[0], rest[1]
		fin, opcode := b0&0x80 != 0, b0&0x0f
		if b0&0x70 != 0 {
			return used, 0, errors.New("the node set reserved bits in a frame")
		}
		if b1&0x80 != 0 {
			return used, 0, errors.New("the node masked a frame")
		}
		header, length := 2, uint64(b1&0x7f)
		switch length {
		case 126:
			if len(rest) < 4 {
				return used, 4, nil
			}
			header, length = 4, uint64(binary.BigEndian.Uint16(rest[2:4]))
		case 127:
			if len(rest) < 10 {
				return used, 10, nil
			}
			header, length = 10, binary.BigEndian.Uint64(rest[2:10])
		}
		if opcode >= opClose {
			if !fin || length > 125 || opcode > opPong {
				return used, 0, fmt.Errorf("the node sent a bad control frame (opcode %d)", opcode)
			}
		} else if opcode > opBinary {
			return used, 0, fmt.Errorf("the node sent an unknown opcode %d", opcode)
		}
		if length > maxNodeMessage || uint64(len(t.frames))+length > maxNodeMessage {
			return used, 0, errors.New("a message of the node is over the size cap")
		}
		size := header + int(length)
		if len(rest) < size {
			return used, size, nil
		}
		frame, data := rest[:size], rest[header:size]
		used += size
		switch opcode {
		case opPing:
			if err := t.pong(data); err != nil {
				return used, 0, err
			}
		case opPong:
		case opClose:
			return used, 0, errNodeClosed
		case opText, opBinary:
			if t.inMessage {
				return used, 0, errors.New("the node began a message inside another")
			}
			if fin {
				if err := t.message(opcode, frame, data); err != nil {
					return used, 0, err
				}
				continue
			}
			t.inMessage, t.kind = true, opcode
			t.frames = append(t.frames[:0], frame...)
			t.payload = append(t.payload[:0], data...)
		case opContinuation:
			if !t.inMessage {
				return used, 0, errors.New("the node continued no message")
			}
			t.frames = append(t.frames, frame...)
			t.payload = append(t.payload, data...)
			if fin {
				t.inMessage = false
				if err := t.message(t.kind, t.frames, t.payload); err != nil {
					return used, 0, err
				}
				if cap(t.frames) > 64<<10 {
					t.frames, t.payload = nil, nil
				}
			}
		}
	}
}

// message passes on one complete message (its frames as the node sent them).
func (t *tunnel) message(kind byte, frames, payload []byte) error {
	if kind != opText {
		return nil
	}
	if t.merge != nil {
		if answer, ok := t.merge(payload); ok {
			if err := t.flush(); err != nil {
				return err
			}
			return t.forward(answer)
		}
	}
	t.out = append(t.out, frames...)
	return nil
}

// flush forwards what is gathered so far (before an answer of the gate's own).
func (t *tunnel) flush() error {
	if len(t.out) == 0 {
		return nil
	}
	err := t.forward(t.out)
	t.out = t.out[:0]
	return err
}

// run reads the node's socket until it fails or closes, inside one raw read: a read that does not
// fill the buffer is followed by a wait, not by another read that would find nothing, and since
// the runtime resets the socket's readiness flag only when a raw read begins, no wake-up between
// the reads is lost.
func (t *tunnel) run(s *nodeSocket) error {
	in := make([]byte, 0, 16<<10)
	in = append(in, s.early...)
	var failure error
	process := func() bool {
		used, need, err := t.feed(in)
		if err != nil {
			failure = err
			return false
		}
		in = in[:copy(in, in[used:])]
		if need > cap(in) {
			grown := make([]byte, len(in), need)
			copy(grown, in)
			in = grown
		} else if cap(in) > 64<<10 && len(in) < 16<<10 && need <= 16<<10 {
			in = append(make([]byte, 0, 16<<10), in...)
		}
		return true
	}
	if !process() {
		return failure
	}
	if s.raw == nil {
		return errors.New("the node's WebSocket is not a socket")
	}
	err := s.raw.Read(func(fd uintptr) bool {
		for {
			if len(in) == cap(in) {
				in = append(in, 0)[:len(in)] // grow
			}
			free := cap(in) - len(in)
			n, err := syscall.Read(int(fd), in[len(in):cap(in)])
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return false // wait for the node
			case err != nil:
				failure = err
				return true
			case n == 0:
				failure = io.EOF
				return true
			}
			in = in[:len(in)+n]
			if !process() {
				return true
			}
			if n < free {
				return false // the socket is drained: wait before reading again
			}
		}
	})
	if failure != nil {
		return failure
	}
	return err
}
