package gate

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/blockchain-tenancy/node-gate/internal/cache"
	"github.com/blockchain-tenancy/node-gate/internal/contracts"
	"github.com/blockchain-tenancy/node-gate/internal/rpc"
)

var wsKey = regexp.MustCompile(`^[+/0-9A-Za-z]{22}==$`)

// token characters of RFC 9110 (a Sec-WebSocket-Protocol element).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// handshakeProblem is what is wrong with an upgrade request (checked before anything is opened upstream).
func handshakeProblem(h *fasthttp.RequestHeader) (string, []string) {
	if !h.IsGet() {
		m := string(h.Method())
		if len(m) > 16 {
			m = m[:16]
		}
		return "method " + m + "; a WebSocket upgrade is a GET", nil
	}
	if !bytes.EqualFold(h.Peek("Upgrade"), []byte("websocket")) {
		return "Upgrade must be websocket", nil
	}
	if !wsKey.Match(h.Peek("Sec-WebSocket-Key")) {
		return "missing or invalid Sec-WebSocket-Key", nil
	}
	if v := string(h.Peek("Sec-WebSocket-Version")); v != "8" && v != "13" {
		return "Sec-WebSocket-Version must be 13", nil
	}
	var protocols []string
	if values := h.PeekAll("Sec-WebSocket-Protocol"); len(values) > 0 {
		seen := map[string]bool{}
		for _, v := range values {
			for _, p := range strings.Split(string(v), ",") {
				p = strings.TrimSpace(p)
				if !isToken(p) || seen[p] {
					return "Invalid Sec-WebSocket-Protocol header", nil
				}
				seen[p] = true
				protocols = append(protocols, p)
			}
		}
	}
	return "", protocols
}

// rejectUpgrade answers a refused upgrade with the gate's JSON body and closes the connection.
func (g *Gate) rejectUpgrade(ctx *fasthttp.RequestCtx, status int, detail string) {
	ctx.SetConnectionClose()
	if status == 401 {
		ctx.Response.Header.Set("WWW-Authenticate", contracts.WWWAuthenticate)
	}
	ctx.Response.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(jsonType)
	ctx.Response.SetBody(rpc.RefusalText(status, detail))
}

var upgrader = websocket.FastHTTPUpgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	CheckOrigin:     func(*fasthttp.RequestCtx) bool { return true },
}

// upgrade authorizes a WebSocket upgrade, opens the node's WebSocket, and only then accepts the
// client's: an upstream socket never outlives a failed upgrade, and the whole handshake is
// bounded by the upgrade time limit (504).
func (g *Gate) upgrade(rc *fasthttp.RequestCtx, path string) {
	if !g.wsPaths[path] {
		g.rejectUpgrade(rc, 404, "")
		return
	}
	h := &rc.Request.Header
	bad, protocols := handshakeProblem(h)
	if bad != "" {
		g.rejectUpgrade(rc, 400, "bad WebSocket upgrade: "+bad)
		return
	}
	authorization := string(h.Peek("Authorization"))
	if authorization == "" {
		g.rejectUpgrade(rc, 401, "")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), g.o.UpgradeTimeout)
	defer cancel()
	timedOut := func() bool { return errorsIsDeadline(ctx) }
	lookup := g.Cache.Check(ctx, authorization, g.o.NodeID, false)
	switch {
	case timedOut():
		g.rejectUpgrade(rc, 504, "the WebSocket upgrade did not complete within "+strconv.Itoa(int(g.o.UpgradeTimeout/time.Second))+" s")
		return
	case lookup.Kind == cache.Unavailable:
		g.rejectUpgrade(rc, 503, "")
		return
	case lookup.Kind != cache.Allow:
		g.rejectUpgrade(rc, 401, "")
		return
	}
	// The upgrade's deadline (ctx) bounds the connection and the node's handshake.
	up, err := dialNode(ctx, g.o.UpstreamWS)
	if err != nil {
		var ne net.Error
		if timedOut() || errors.As(err, &ne) && ne.Timeout() {
			g.rejectUpgrade(rc, 504, "the WebSocket upgrade did not complete within "+strconv.Itoa(int(g.o.UpgradeTimeout/time.Second))+" s")
		} else {
			g.rejectUpgrade(rc, 502, "")
		}
		return
	}
	if timedOut() {
		up.Close()
		g.rejectUpgrade(rc, 504, "the WebSocket upgrade did not complete within "+strconv.Itoa(int(g.o.UpgradeTimeout/time.Second))+" s")
		return
	}
	// Version 8 (hybi) has the same handshake as 13.
	if string(h.Peek("Sec-WebSocket-Version")) == "8" {
		h.Set("Sec-WebSocket-Version", "13")
	}
	if len(protocols) > 0 {
		rc.Response.Header.Set("Sec-WebSocket-Protocol", protocols[0])
	}
	// The 101 answer is written after this handler returns; when that fails (the client is gone)
	// the bridge never starts, and the node's socket is closed within the upgrade time limit.
	var started atomic.Bool
	watch := time.AfterFunc(g.o.UpgradeTimeout, func() {
		if started.CompareAndSwap(false, true) {
			up.Close()
		}
	})
	expiresAt, hasExpiry := lookup.Decision.ExpiresAt, lookup.Decision.HasExpiry
	key := lookup.Key
	// The bridge reads and writes the connection on two goroutines: its writes go out at once,
	// from the 101 on (see gateConn).
	if dc, ok := rc.Conn().(interface{ Direct() error }); ok {
		_ = dc.Direct() // nothing is held back here: reading this request wrote it
	}
	err = upgrader.Upgrade(rc, func(client *websocket.Conn) {
		if !started.CompareAndSwap(false, true) {
			client.Close()
			return
		}
		watch.Stop()
		client.SetReadLimit(g.o.MaxBodyBytes)
		b := &bridge{g: g, client: client, up: up, key: key, authorization: authorization, pending: map[string][]rpc.Part{}}
		if hasExpiry {
			b.expiresAt = expiresAt
			b.hasExpiry = true
		}
		g.sockets.add(b)
		go b.fromNode()
		b.fromClient()
	})
	if err != nil {
		watch.Stop()
		up.Close()
	}
}

func errorsIsDeadline(ctx context.Context) bool {
	return ctx.Err() == context.DeadlineExceeded
}

// bridge joins a client's WebSocket to the node's.
type bridge struct {
	g             *Gate
	client        *websocket.Conn
	up            *nodeSocket
	key           cache.Key
	authorization string
	expiresAt     time.Time
	hasExpiry     bool
	writeMu       sync.Mutex // client writes
	mu            sync.Mutex // pending
	pending       map[string][]rpc.Part
	waiting       atomic.Int32 // len(pending), read without the lock
	closeOnce     sync.Once
	closing       atomic.Bool
}

func (b *bridge) send(text []byte) {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	_ = b.client.WriteMessage(websocket.TextMessage, text)
}

// closeWith ends both sockets, telling the client why. The client's connection is closed when
// its close frame comes back (fromClient reads it) or after a second.
func (b *bridge) closeWith(code int, reason string) {
	b.closeOnce.Do(func() {
		b.closing.Store(true)
		b.g.sockets.remove(b)
		deadline := time.Now().Add(time.Second)
		_ = b.client.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
		b.up.closeFrame(websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
		b.up.Close()
		_ = b.client.SetReadDeadline(deadline)
		time.AfterFunc(time.Second, func() { b.client.Close() })
	})
}

// fromClient screens every message of the client and forwards what may pass.
func (b *bridge) fromClient() {
	var buf bytes.Buffer
	for {
		kind, rd, err := b.client.NextReader()
		if err != nil {
			b.clientGone(err)
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(rd); err != nil {
			b.clientGone(err)
			return
		}
		if b.closing.Load() {
			continue // waiting for the client's close frame
		}
		if kind == websocket.BinaryMessage {
			b.send(rpc.ErrorText(contracts.CodeInvalidRequest, "invalid request: binary frames are not accepted; send JSON-RPC as text", "null"))
			continue
		}
		text := buf.Bytes()
		if !utf8.Valid(text) {
			b.closeWith(websocket.CloseInvalidFramePayloadData, "invalid UTF-8 in a text message")
			continue
		}
		if err := b.screen(text); err != nil {
			b.closeWith(websocket.CloseInternalServerErr, "the node's client closed the connection")
		}
	}
}

func (b *bridge) screen(text []byte) (err error) {
	defer func() {
		if e := recover(); e != nil {
			b.g.o.Log(map[string]any{"level": "error", "msg": "gate websocket message failed"})
			b.send(rpc.ErrorText(contracts.CodeInternal, "internal error in the node gate", "null"))
			err = nil
		}
	}()
	s := b.g.screener.Screen(text)
	switch {
	case s.Kind == rpc.KindError:
		b.send(s.Text)
		return nil
	case s.Kind == rpc.KindSingle && s.Text != nil:
		b.send(s.Text)
		return nil
	case s.Kind == rpc.KindSingle || s.Allowed == len(s.Parts):
		return b.up.write(opText, text)
	}
	if s.Allowed == 0 || !s.Waits() {
		if s.Allowed > 0 {
			if err := b.up.write(opText, rpc.ForwardText(text, s.Parts, b.g.tagPrefix+".0")); err != nil {
				return err
			}
		}
		b.send(rpc.MergeBatch(s.Parts, nil))
		return nil
	}
	b.mu.Lock()
	if len(b.pending) >= contracts.MaxPendingBatches {
		b.mu.Unlock()
		b.send(rpc.ErrorText(contracts.CodeInvalidRequest, "too many batches waiting for answers (at most "+strconv.Itoa(contracts.MaxPendingBatches)+"); wait for answers before sending more", "null"))
		return nil
	}
	tag := b.g.tagPrefix + "." + strconv.FormatInt(b.g.batches.Add(1), 10)
	b.pending[tag] = s.Parts
	b.waiting.Store(int32(len(b.pending)))
	b.mu.Unlock()
	return b.up.write(opText, rpc.ForwardText(text, s.Parts, tag))
}

var tagPattern = regexp.MustCompile(`"(gate-[A-Za-z0-9_-]+\.\d+)\.\d+"`)

// fromNode passes the node's messages on (tunnel: its frames byte for byte), merging the answers
// of mixed batches.
func (b *bridge) fromNode() {
	prefix := []byte(b.g.tagPrefix)
	out := b.client.NetConn()
	t := &tunnel{
		// A client that is gone is noticed by fromClient, which ends the bridge.
		forward: func(frames []byte) error {
			b.writeMu.Lock()
			defer b.writeMu.Unlock()
			_, _ = out.Write(frames)
			return nil
		},
		pong: b.up.pong,
		merge: func(data []byte) ([]byte, bool) {
			if b.waiting.Load() == 0 || !bytes.Contains(data, prefix) {
				return nil, false
			}
			m := tagPattern.FindSubmatch(data)
			if m == nil {
				return nil, false
			}
			tag := string(m[1])
			b.mu.Lock()
			parts, ok := b.pending[tag]
			delete(b.pending, tag)
			b.waiting.Store(int32(len(b.pending)))
			b.mu.Unlock()
			if !ok {
				return nil, false
			}
			return appendServerFrame(nil, opText, rpc.MergeBatch(parts, rpc.AnswersByIndex(data, tag))), true
		},
	}
	_ = t.run(b.up)
	b.closeWith(websocket.CloseInternalServerErr, "the node's client closed the connection")
}

// clientGone ends the bridge after the client's socket failed or closed. A too large message
// has already been answered with close code 1009 by the WebSocket library, whose reads then fail
// for good: the connection is closed a second later, after the client has seen the close frame.
func (b *bridge) clientGone(err error) {
	if err == websocket.ErrReadLimit {
		b.closeOnce.Do(func() {
			b.closing.Store(true)
			b.g.sockets.remove(b)
			b.up.Close()
			time.AfterFunc(time.Second, func() { b.client.Close() })
		})
		return
	}
	b.closeWith(websocket.CloseNormalClosure, "")
	b.client.Close()
}

// sockets are the open bridges by credential key (for revalidation).
type sockets struct {
	mu    sync.Mutex
	byKey map[cache.Key]map[*bridge]struct{}
}

func (s *sockets) add(b *bridge) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.byKey[b.key]
	if set == nil {
		set = map[*bridge]struct{}{}
		s.byKey[b.key] = set
	}
	set[b] = struct{}{}
}

func (s *sockets) remove(b *bridge) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if set := s.byKey[b.key]; set != nil {
		delete(set, b)
		if len(set) == 0 {
			delete(s.byKey, b.key)
		}
	}
}

func (s *sockets) snapshot() map[cache.Key][]*bridge {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[cache.Key][]*bridge, len(s.byKey))
	for k, set := range s.byKey {
		for b := range set {
			out[k] = append(out[k], b)
		}
	}
	return out
}

func (s *sockets) closeAll() {
	for _, list := range s.snapshot() {
		for _, b := range list {
			b.closeOnce.Do(func() {
				b.client.Close()
				b.up.Close()
			})
		}
	}
	s.mu.Lock()
	s.byKey = map[cache.Key]map[*bridge]struct{}{}
	s.mu.Unlock()
}

// revalidateLoop re-checks the credentials of open WebSockets past the gate's cache: a revoked or
// expired credential loses its sockets within the revocation bound; an unreachable authorizer
// keeps cached allows serving.
func (g *Gate) revalidateLoop() {
	t := time.NewTicker(g.o.Revalidate)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.revalidate()
		}
	}
}

func (g *Gate) revalidate() {
	work := make(chan []*bridge)
	var wg sync.WaitGroup
	// A few at a time, so many credentials are all re-checked well within one interval.
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for list := range work {
				first := list[0]
				lookup := g.Cache.Check(context.Background(), first.authorization, g.o.NodeID, true)
				expired := first.hasExpiry && !first.expiresAt.After(time.Now())
				if lookup.Kind == cache.Deny || expired {
					g.o.Log(map[string]any{"msg": "closing websockets of a credential that is no longer valid", "sockets": len(list)})
					for _, b := range list {
						b.closeWith(websocket.ClosePolicyViolation, "credential no longer valid")
					}
				}
			}
		}()
	}
	for _, list := range g.sockets.snapshot() {
		work <- list
	}
	close(work)
	wg.Wait()
}
