// Package gate is the node auth gate (lambda/node-gate/gate.ts in Go): the only way into a node's
// JSON-RPC. HTTP POST and WebSocket pass-through to the client on 127.0.0.1, for credentials the
// environment's authorizer allows on this node, with a method allowlist applied to every call
// (batches element by element), body, batch and nesting caps, time limits on request bodies and
// upgrades, and a health endpoint that needs no credential, reveals nothing, and fails while the
// client does not answer. Every refusal is a JSON-RPC error body; the client's bytes are
// forwarded and answers spliced without re-encoding. Requests are parsed by Go's net/http.
package gate

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	go g.revalidateLoop()
	return g, nil
}

// Server is the gate's HTTP server: Go's net/http with the gate's time limits.
func (g *Gate) Server() *http.Server {
	return &http.Server{
		Handler: g,
		// The load balancer keeps idle connections up to its idle timeout: the gate must not close them first.
		IdleTimeout:       contracts.GateKeepAliveSeconds * time.Second,
		ReadHeaderTimeout: contracts.HeadersTimeoutSeconds * time.Second,
		// net/http allows MaxHeaderBytes + 4096: 16 KiB of request line and fields in all, as Node.js.
		MaxHeaderBytes:               16<<10 - 4096,
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     log.New(io.Discard, "", 0),
	}
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
	jsonType = []string{"application/json"}
	textType = []string{"text/plain"}
)

// reply writes a response and records its latency.
func (g *Gate) reply(w http.ResponseWriter, started time.Time, status int, contentType []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = contentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	g.Metrics.Record(time.Since(started))
}

func (g *Gate) refuse(w http.ResponseWriter, started time.Time, status int, detail string) {
	switch status {
	case 401:
		w.Header()["Www-Authenticate"] = []string{contracts.WWWAuthenticate}
	case 503:
		w.Header()["Retry-After"] = []string{"5"}
	case 405:
		w.Header()["Allow"] = []string{"POST"}
	}
	g.reply(w, started, status, jsonType, rpc.RefusalText(status, detail))
}

// ServeHTTP answers one request. Nothing a request does may end the process: a panic is answered with 500.
func (g *Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	defer func() {
		if e := recover(); e != nil {
			if e == http.ErrAbortHandler {
				panic(e)
			}
			g.o.Log(map[string]any{"level": "error", "msg": "gate request failed"})
			g.refuse(w, started, 500, "")
		}
	}()
	path := r.RequestURI
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if isUpgrade(r) {
		g.upgrade(w, r, path)
		return
	}
	if path == "/health" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		g.serveHealth(w, started)
		return
	}
	if !g.rpcPaths[path] {
		g.refuse(w, started, 404, "")
		return
	}
	if r.Method != http.MethodPost {
		g.refuse(w, started, 405, "")
		return
	}
	authorization := r.Header.Get("Authorization")
	if authorization == "" {
		g.refuse(w, started, 401, "")
		return
	}
	switch lookup := g.Cache.Check(r.Context(), authorization, g.o.NodeID, false); lookup.Kind {
	case cache.Unavailable:
		g.refuse(w, started, 503, "")
		return
	case cache.Deny:
		g.refuse(w, started, 401, "")
		return
	}
	// A chunked request body is rare for JSON-RPC (clients and the load balancer send a length).
	// net/http frames it by Transfer-Encoding and drops a Content-Length beside it (RFC 9112 6.1);
	// as that section asks, the connection is closed after the answer, so no bytes after the body
	// can be read as another request whatever the sender meant.
	if len(r.TransferEncoding) > 0 {
		w.Header()["Connection"] = []string{"close"}
	}
	body, status := g.readBody(w, r)
	switch status {
	case 400:
		w.Header()["Connection"] = []string{"close"}
		g.refuse(w, started, 400, "bad request: malformed HTTP")
		return
	case 413:
		w.Header()["Connection"] = []string{"close"}
		g.refuse(w, started, 413, "request too large: the body may have at most "+strconv.FormatInt(g.o.MaxBodyBytes, 10)+" bytes")
		return
	case 408:
		w.Header()["Connection"] = []string{"close"}
		g.refuse(w, started, 408, "request timeout: the body did not arrive within "+strconv.Itoa(int((g.o.BodyTimeout+500*time.Millisecond)/time.Second))+" s")
		return
	case 499:
		return
	}
	g.forward(w, started, body)
}

// readBody reads the request body within the body time limit and size cap: 413 when it is (or
// is declared) larger, 408 when it does not arrive in time, 499 when the client went away.
func (g *Gate) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int) {
	max := g.o.MaxBodyBytes
	if r.ContentLength > max {
		return nil, 413
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(g.o.BodyTimeout))
	defer func() { _ = rc.SetReadDeadline(time.Time{}) }()
	var body []byte
	if r.ContentLength >= 0 {
		body = make([]byte, r.ContentLength)
		n, err := io.ReadFull(r.Body, body)
		if err != nil {
			return nil, readError(err, n)
		}
		return body, 0
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, readError(err, len(body))
	}
	if int64(len(body)) > max {
		return nil, 413
	}
	return body, 0
}

// readError is 408 when the body did not arrive in time, 499 when the client went away, and 400
// when the body is malformed (a bad chunked framing).
func readError(err error, _ int) int {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return 408
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.As(err, new(*net.OpError)):
		return 499
	}
	return 400
}

// forward screens a body and passes it (or its allowed calls) to the node.
func (g *Gate) forward(w http.ResponseWriter, started time.Time, raw []byte) {
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

func (g *Gate) passOn(w http.ResponseWriter, started time.Time, body []byte) {
	res, err := g.Upstream.Post(body)
	if err != nil {
		g.refuse(w, started, err.Status, "")
		return
	}
	g.reply(w, started, res.Status, jsonType, res.Body)
}

// isUpgrade is true for a request that asks for a protocol upgrade (Connection: upgrade and an Upgrade field), as Node.js's parser decides.
func isUpgrade(r *http.Request) bool {
	if len(r.Header["Upgrade"]) == 0 {
		return false
	}
	for _, v := range r.Header["Connection"] {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "upgrade") {
				return true
			}
		}
	}
	return false
}
