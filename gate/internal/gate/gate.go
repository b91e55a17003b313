// Package gate is the node auth gate (lambda/node-gate/gate.ts in Go): the only way into a node's
// JSON-RPC. HTTP POST and WebSocket pass-through to the client on 127.0.0.1, for credentials the
// environment's authorizer allows on this node, with a method allowlist applied to every call
// (batches element by element), body, batch and nesting caps, time limits on request bodies and
// upgrades, and a health endpoint that needs no credential, reveals nothing, and fails while the
// client does not answer. Every refusal is a JSON-RPC error body; the client's bytes are
// forwarded and answers spliced without re-encoding. Requests are parsed by fasthttp.
package gate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/blockchain-tenancy/node-gate/internal/cache"
	"github.com/blockchain-tenancy/node-gate/internal/contracts"
	"github.com/blockchain-tenancy/node-gate/internal/rpc"
	"github.com/blockchain-tenancy/node-gate/internal/upstream"
)

// Options configure a gate (zero values take the contract's defaults).
type Options struct {
	NodeID       string
	UpstreamHTTP string
	UpstreamWS   string
	Authorize    cache.AuthorizeFunc
	Client       string
	ExtraMethods []string
	MaxBodyBytes int64
	MaxBatch     int
	Cache        cache.Options
	// Revalidate is how often open WebSockets' credentials are re-checked past the cache.
	Revalidate       time.Duration
	BodyTimeout      time.Duration
	UpgradeTimeout   time.Duration
	AuthorizeTimeout time.Duration
	// HealthMaxBlockAge: /health fails when the newest block is older while the client is not syncing (0: not checked).
	HealthMaxBlockAge time.Duration
	Upstream          upstream.Options
	Log               func(fields map[string]any)
}

// Gate is a running gate's state.
type Gate struct {
	o         Options
	Cache     *cache.Cache
	Metrics   *Metrics
	Upstream  *upstream.Pool
	screener  rpc.Screener
	rpcPaths  map[string]bool
	wsPaths   map[string]bool
	tagPrefix string
	batches   atomic.Int64
	health    health
	sockets   sockets
	reading   bodyReads
	stop      chan struct{}
	stopOnce  sync.Once
}

// New validates the options and makes a gate.
func New(o Options) (*Gate, error) {
	if o.NodeID == "" {
		return nil, errors.New("nodeId must be set")
	}
	policy, err := rpc.NewPolicy(o.Client, o.ExtraMethods)
	if err != nil {
		return nil, err
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = contracts.DefaultMaxBodyBytes
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 100
	}
	if o.BodyTimeout == 0 {
		o.BodyTimeout = contracts.RequestBodyTimeoutSeconds * time.Second
	}
	if o.UpgradeTimeout == 0 {
		o.UpgradeTimeout = contracts.UpgradeTimeoutSeconds * time.Second
	}
	if o.AuthorizeTimeout == 0 {
		o.AuthorizeTimeout = contracts.AuthorizeTimeoutSeconds * time.Second
	}
	if o.Revalidate == 0 {
		o.Revalidate = o.Cache.AllowTTL
		if o.Revalidate == 0 {
			o.Revalidate = contracts.GateAllowTTLSeconds * time.Second
		}
	}
	if o.Log == nil {
		o.Log = func(map[string]any) {}
	}
	if !strings.HasPrefix(o.UpstreamWS, "ws://") && !strings.HasPrefix(o.UpstreamWS, "wss://") {
		return nil, errors.New("upstream WebSocket must be a ws:// URL, got " + strconv.Quote(o.UpstreamWS))
	}
	pool, err := upstream.New(o.UpstreamHTTP, o.Upstream)
	if err != nil {
		return nil, err
	}
	authorize := o.Authorize
	timeout := o.AuthorizeTimeout
	limited := func(ctx context.Context, authorization, node string) (cache.Decision, error) {
		// The call belongs to every request that joins it: not to the first request's context.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		return authorize(ctx, authorization, node)
	}
	var tag [12]byte
	_, _ = rand.Read(tag[:])
	g := &Gate{
		o:         o,
		Cache:     cache.New(limited, o.Cache),
		Metrics:   NewMetrics(),
		Upstream:  pool,
		screener:  rpc.Screener{Policy: policy, MaxBatch: o.MaxBatch},
		rpcPaths:  map[string]bool{"/": true, "/nodes/" + o.NodeID: true, "/nodes/" + o.NodeID + "/": true},
		wsPaths:   map[string]bool{"/ws": true, "/nodes/" + o.NodeID + "/ws": true},
		tagPrefix: "gate-" + base64.RawURLEncoding.EncodeToString(tag[:]),
		stop:      make(chan struct{}),
	}
	g.sockets.byKey = map[cache.Key]map[*bridge]struct{}{}
	g.reading.started = map[*fasthttp.RequestHeader]struct{}{}
	go g.revalidateLoop()
	return g, nil
}

// Server is the gate's HTTP server: fasthttp (a maintained, fuzzed HTTP/1.1 parser that refuses
// ambiguous framing) with the gate's limits. Requests are answered from the connection's own
// goroutine: no goroutine, header map or background read per request.
func (g *Gate) Server() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:      g.Serve,
		ErrorHandler: g.requestError,
		// The body has its own time limit, counted from the end of the header fields.
		HeaderReceived: func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
			if h.ContentLength() == 0 {
				return fasthttp.RequestConfig{}
			}
			g.reading.start(h)
			return fasthttp.RequestConfig{ReadTimeout: g.o.BodyTimeout}
		},
		// The header fields must arrive within the header limit (slowloris), counted from a
		// request's first byte; an idle keep-alive connection waits up to the keep-alive time,
		// as the load balancer keeps idle connections up to its idle timeout.
		ReadTimeout: contracts.HeadersTimeoutSeconds * time.Second,
		IdleTimeout: contracts.GateKeepAliveSeconds * time.Second,
		// Request line and header fields: 16 KiB in all, as Node.js (and the Node gate).
		ReadBufferSize: 16 << 10,
		// The handler runs once the header fields are read; it reads the body (at most 8 KiB
		// of it is read ahead) only after the credential is allowed.
		StreamRequestBody:            true,
		MaxRequestBodySize:           int(g.o.MaxBodyBytes),
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		SecureErrorLogMessage:        true,
		CloseOnShutdown:              true,
		// A bridged WebSocket owns its connection: it is closed a second after the close frame,
		// so that the frame is not lost to a reset over unread bytes.
		KeepHijackedConns: true,
		Logger:            discard{},
	}
}

type discard struct{}

func (discard) Printf(string, ...any) {}

// requestError answers a request the parser refused, or whose header fields or body did not
// arrive in time, with the gate's JSON-RPC error body (the connection is closed after it).
func (g *Gate) requestError(ctx *fasthttp.RequestCtx, err error) {
	started := time.Now()
	body := g.reading.done(&ctx.Request.Header)
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &small):
		g.reply(ctx, started, 431, jsonType, rpc.ErrorText(contracts.CodeTooLarge, "request headers too large", "null"))
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		g.refuse(ctx, started, 413, g.tooLarge())
	case errors.As(err, &ne) && ne.Timeout() && body:
		g.refuse(ctx, started, 408, g.bodyTimeout())
	case errors.As(err, &ne) && ne.Timeout():
		g.refuse(ctx, started, 408, "")
	default:
		g.refuse(ctx, started, 400, "bad request: malformed HTTP")
	}
}

// bodyReads marks the requests whose body is being read ahead of the handler: the parser resets a
// request whose body fails, so this is how a body's timeout is told from the header fields'.
type bodyReads struct {
	mu      sync.Mutex
	started map[*fasthttp.RequestHeader]struct{}
}

func (b *bodyReads) start(h *fasthttp.RequestHeader) {
	b.mu.Lock()
	b.started[h] = struct{}{}
	b.mu.Unlock()
}

// done ends a body's read, and says whether it had started.
func (b *bodyReads) done(h *fasthttp.RequestHeader) bool {
	b.mu.Lock()
	_, ok := b.started[h]
	delete(b.started, h)
	b.mu.Unlock()
	return ok
}

func (g *Gate) tooLarge() string {
	return "request too large: the body may have at most " + strconv.FormatInt(g.o.MaxBodyBytes, 10) + " bytes"
}

func (g *Gate) bodyTimeout() string {
	return "request timeout: the body did not arrive within " + strconv.Itoa(int((g.o.BodyTimeout+500*time.Millisecond)/time.Second)) + " s"
}

// Close stops the gate's timers, its WebSockets and its upstream connections.
func (g *Gate) Close() {
	g.stopOnce.Do(func() {
		close(g.stop)
		g.Upstream.Close()
		g.sockets.closeAll()
	})
}

var (
	jsonType = []byte("application/json")
	textType = []byte("text/plain")
)

// reply writes a response and records its latency. body is the gate's own (every answer is a
// fresh slice nothing else writes to), so it is not copied.
func (g *Gate) reply(ctx *fasthttp.RequestCtx, started time.Time, status int, contentType, body []byte) {
	ctx.Response.SetStatusCode(status)
	ctx.Response.Header.SetContentTypeBytes(contentType)
	ctx.Response.SetBodyRaw(body)
	g.Metrics.Record(time.Since(started))
}

func (g *Gate) refuse(ctx *fasthttp.RequestCtx, started time.Time, status int, detail string) {
	switch status {
	case 401:
		ctx.Response.Header.Set("WWW-Authenticate", contracts.WWWAuthenticate)
	case 503:
		ctx.Response.Header.Set("Retry-After", "5")
	case 405:
		ctx.Response.Header.Set("Allow", "POST")
	}
	g.reply(ctx, started, status, jsonType, rpc.RefusalText(status, detail))
}

// Serve answers one request. Nothing a request does may end the process: a panic is answered with 500.
func (g *Gate) Serve(ctx *fasthttp.RequestCtx) {
	started := time.Now()
	h := &ctx.Request.Header
	if h.ContentLength() != 0 {
		g.reading.done(h)
	}
	defer func() {
		if e := recover(); e != nil {
			g.o.Log(map[string]any{"level": "error", "msg": "gate request failed"})
			ctx.Response.Reset()
			ctx.SetConnectionClose()
			g.refuse(ctx, started, 500, "")
		}
	}()
	path := h.RequestURI()
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	// HTTP/1.1 and 1.0 only; HTTP/1.1 requires a Host field (RFC 9112 3.2).
	if proto := h.Protocol(); string(proto) != "HTTP/1.1" && string(proto) != "HTTP/1.0" || len(h.Host()) == 0 && h.IsHTTP11() {
		ctx.SetConnectionClose()
		g.refuse(ctx, started, 400, "bad request: malformed HTTP")
		return
	}
	if isUpgrade(h) {
		g.upgrade(ctx, string(path))
		return
	}
	if string(path) == "/health" && (h.IsGet() || h.IsHead()) {
		g.serveHealth(ctx, started)
		return
	}
	if !g.rpcPaths[string(path)] {
		g.refuse(ctx, started, 404, "")
		return
	}
	if !h.IsPost() {
		g.refuse(ctx, started, 405, "")
		return
	}
	authorization := h.Peek("Authorization")
	if len(authorization) == 0 {
		g.refuse(ctx, started, 401, "")
		return
	}
	switch lookup := g.Cache.Check(context.Background(), string(authorization), g.o.NodeID, false); lookup.Kind {
	case cache.Unavailable:
		g.refuse(ctx, started, 503, "")
		return
	case cache.Deny:
		g.refuse(ctx, started, 401, "")
		return
	}
	// A chunked request body is rare for JSON-RPC (clients and the load balancer send a length).
	// As RFC 9112 6.1 asks, the connection is closed after the answer, so no bytes after the
	// body can be read as another request whatever the sender meant.
	if h.ContentLength() == -1 {
		ctx.SetConnectionClose()
	}
	buf := bodyBuffers.Get().(*[]byte)
	defer bodyBuffers.Put(buf)
	body, status := g.readBody(ctx, (*buf)[:0])
	*buf = body[:0]
	switch status {
	case 400:
		ctx.SetConnectionClose()
		g.refuse(ctx, started, 400, "bad request: malformed HTTP")
		return
	case 413:
		ctx.SetConnectionClose()
		g.refuse(ctx, started, 413, g.tooLarge())
		return
	case 408:
		ctx.SetConnectionClose()
		g.refuse(ctx, started, 408, g.bodyTimeout())
		return
	case 499:
		ctx.SetConnectionClose()
		return
	}
	g.forward(ctx, started, body)
}

var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// readBody reads the request body (appended to buf) within the body time limit and size cap:
// 413 when it is (or is declared) larger, 408 when it does not arrive in time, 499 when the
// client went away, 400 for a malformed chunked framing.
func (g *Gate) readBody(ctx *fasthttp.RequestCtx, buf []byte) ([]byte, int) {
	max := g.o.MaxBodyBytes
	cl := int64(ctx.Request.Header.ContentLength())
	if cl > max {
		return buf, 413
	}
	if !ctx.Request.IsBodyStream() {
		return append(buf, ctx.Request.Body()...), 0
	}
	stream := ctx.RequestBodyStream()
	if cl >= 0 {
		if int64(cap(buf)) < cl {
			buf = make([]byte, 0, cl)
		}
		buf = buf[:cl]
		if n, err := io.ReadFull(stream, buf); err != nil {
			return buf[:n], readError(err)
		}
		return buf, 0
	}
	for int64(len(buf)) <= max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := stream.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, 0
		}
		if err != nil {
			return buf, readError(err)
		}
	}
	return buf, 413
}

// readError is 408 when the body did not arrive in time, 413 when a chunked body grew past the
// cap, 499 when the client went away, and 400 when the body is malformed (a bad chunked framing).
func readError(err error) int {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return 408
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return 413
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.As(err, new(*net.OpError)):
		return 499
	}
	return 400
}

// forward screens a body and passes it (or its allowed calls) to the node.
func (g *Gate) forward(w *fasthttp.RequestCtx, started time.Time, raw []byte) {
	if !utf8.Valid(raw) {
		g.reply(w, started, 400, jsonType, rpc.ErrorText(contracts.CodeParse, "parse error: the request is not valid UTF-8", "null"))
		return
	}
	s := g.screener.Screen(raw)
	switch {
	case s.Kind == rpc.KindError:
		g.reply(w, started, s.Status, jsonType, s.Text)
		return
	case s.Kind == rpc.KindSingle && s.Text != nil:
		g.reply(w, started, 200, jsonType, s.Text)
		return
	case s.Kind == rpc.KindSingle || s.Allowed == len(s.Parts):
		// Everything allowed: forward the original bytes.
		g.passOn(w, started, raw)
		return
	case s.Allowed == 0:
		g.reply(w, started, 200, jsonType, rpc.MergeBatch(s.Parts, nil))
		return
	}
	tag := g.tagPrefix + "." + strconv.FormatInt(g.batches.Add(1), 10)
	res, err := g.Upstream.Post(rpc.ForwardText(raw, s.Parts, tag))
	if err != nil {
		g.refuse(w, started, err.Status, "")
		return
	}
	if res.Status != 200 {
		g.reply(w, started, res.Status, jsonType, res.Body)
		return
	}
	g.reply(w, started, 200, jsonType, rpc.MergeBatch(s.Parts, rpc.AnswersByIndex(res.Body, tag)))
}

func (g *Gate) passOn(w *fasthttp.RequestCtx, started time.Time, body []byte) {
	res, err := g.Upstream.Post(body)
	if err != nil {
		g.refuse(w, started, err.Status, "")
		return
	}
	g.reply(w, started, res.Status, jsonType, res.Body)
}

// isUpgrade is true for a request that asks for a protocol upgrade (Connection: upgrade and an Upgrade field), as Node.js's parser decides.
func isUpgrade(h *fasthttp.RequestHeader) bool {
	if len(h.Peek("Upgrade")) == 0 {
		return false
	}
	for _, v := range h.PeekAll("Connection") {
		for _, t := range bytes.Split(v, []byte(",")) {
			if bytes.EqualFold(bytes.TrimSpace(t), []byte("upgrade")) {
				return true
			}
		}
	}
	return false
}
