package gate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/blockchain-tenancy/node-gate/internal/cache"
)

func TestDecisionFromAnswer(t *testing.T) {
	allow := `{"principalId":"bt1","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"x"}]},"context":{"credentialId":"bt1","expiresAt":"2027-01-01T00:00:00.000Z"}}`
	d, err := DecisionFromAnswer([]byte(allow))
	if err != nil || !d.Allowed || d.CredentialID != "bt1" || !d.HasExpiry || !d.ExpiresAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v %v", d, err)
	}
	if d, err := DecisionFromAnswer([]byte(`{"policyDocument":{"Statement":[{"Effect":"Deny"}]},"context":{"reason":"unauthorized"}}`)); err != nil || d.Allowed {
		t.Fatalf("deny: %+v %v", d, err)
	}
	for _, undecided := range []string{`{"policyDocument":{"Statement":[{"Effect":"Deny"}]},"context":{"reason":"unavailable"}}`, `{}`, `null`, `[]`, `{"policyDocument":{"Statement":[]}}`} {
		if _, err := DecisionFromAnswer([]byte(undecided)); err == nil {
			t.Errorf("%s decided", undecided)
		}
	}
	if d, _ := DecisionFromAnswer([]byte(`{"policyDocument":{"Statement":[{"Effect":"Allow"}]},"context":{"expiresAt":"soon"}}`)); !d.HasExpiry || !d.ExpiresAt.IsZero() {
		t.Fatalf("unparseable expiry: %+v", d)
	}
}

func TestAuthorizerEventIsAPIGatewayShaped(t *testing.T) {
	var e map[string]any
	if err := json.Unmarshal(AuthorizerEvent("Basic x", "validator-1"), &e); err != nil {
		t.Fatal(err)
	}
	h := e["headers"].(map[string]any)
	if e["type"] != "REQUEST" || e["methodArn"] != "arn:aws:execute-api:gate:node/validator-1" || h["authorization"] != "Basic x" || h["x-blockchain-node"] != "validator-1" {
		t.Fatalf("%v", e)
	}
}

func TestMetricsHistogram(t *testing.T) {
	m := NewMetrics()
	m.Record(1234 * time.Microsecond)
	m.Record(1249 * time.Microsecond)
	m.Record(80 * time.Microsecond)
	d := m.Drain(10, 4)
	if len(d.Values) != 2 || d.Values[0] != 0.1 || d.Values[1] != 1.2 || d.Counts[1] != 2 || d.Hits != 10 || d.Misses != 4 {
		t.Fatalf("%+v", d)
	}
	if d := m.Drain(15, 4); len(d.Values) != 0 || d.Hits != 5 || d.Misses != 0 {
		t.Fatalf("second drain %+v", d)
	}
	for i := 0; i < 300; i++ {
		m.Record(time.Duration(i) * time.Millisecond)
	}
	if d := m.Drain(0, 0); len(d.Values) != 150 {
		t.Fatalf("%d values (PutMetricData takes at most 150)", len(d.Values))
	}
}

func TestParserErrorsBecomeJSONRPC(t *testing.T) {
	g, err := New(Options{NodeID: "validator-1", UpstreamHTTP: "http://127.0.0.1:1", UpstreamWS: "ws://127.0.0.1:1", Authorize: func(context.Context, string, string) (cache.Decision, error) { return cache.Decision{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	timeout := &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	for _, c := range []struct {
		err     error
		headers bool
		status  int
		message string
	}{
		{&fasthttp.ErrSmallBuffer{}, false, 431, "request headers too large"},
		{fasthttp.ErrBodyTooLarge, true, 413, "request too large: the body may have at most 1048576 bytes"},
		{timeout, true, 408, "request timeout: the body did not arrive within 30 s"},
		{fmt.Errorf("error when reading request headers: %w", timeout), false, 408, "request timeout: the request did not arrive completely in time"},
		{fasthttp.ErrBrokenChunk{}, true, 400, "bad request: malformed HTTP"},
		{errors.New("unsupported transfer-encoding"), false, 400, "bad request: malformed HTTP"},
	} {
		var ctx fasthttp.RequestCtx
		if c.headers {
			// As the server does: the header fields were read, and the body's read began.
			if err := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n"))); err != nil {
				t.Fatal(err)
			}
			g.Server().HeaderReceived(&ctx.Request.Header)
			ctx.Request.Header.Reset()
		}
		g.requestError(&ctx, c.err)
		var v struct {
			JSONRPC string
			Error   struct{ Message string }
		}
		if ctx.Response.StatusCode() != c.status || string(ctx.Response.Header.ContentType()) != "application/json" || json.Unmarshal(ctx.Response.Body(), &v) != nil || v.JSONRPC != "2.0" || v.Error.Message != c.message {
			t.Errorf("%v: %d %q", c.err, ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
	if n := len(g.reading.started); n != 0 {
		t.Errorf("%d body reads still marked", n)
	}
}

func TestHandshakeProblems(t *testing.T) {
	good := func() *fasthttp.RequestHeader {
		var r fasthttp.RequestHeader
		r.SetMethod("GET")
		r.SetRequestURI("/ws")
		r.Set("Connection", "keep-alive, Upgrade")
		r.Set("Upgrade", "WebSocket")
		r.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		r.Set("Sec-WebSocket-Version", "13")
		return &r
	}
	if r := good(); !isUpgrade(r) {
		t.Fatal("not an upgrade")
	}
	if bad, _ := handshakeProblem(good()); bad != "" {
		t.Fatal(bad)
	}
	cases := map[string]func(*fasthttp.RequestHeader){
		"method POST; a WebSocket upgrade is a GET": func(r *fasthttp.RequestHeader) { r.SetMethod("POST") },
		"Upgrade must be websocket":                 func(r *fasthttp.RequestHeader) { r.Set("Upgrade", "h2c") },
		"missing or invalid Sec-WebSocket-Key":      func(r *fasthttp.RequestHeader) { r.Set("Sec-WebSocket-Key", "short") },
		"Sec-WebSocket-Version must be 13":          func(r *fasthttp.RequestHeader) { r.Set("Sec-WebSocket-Version", "7") },
		"Invalid Sec-WebSocket-Protocol header":     func(r *fasthttp.RequestHeader) { r.Set("Sec-WebSocket-Protocol", ",,,") },
		"Invalid Sec-WebSocket-Protocol header ":    func(r *fasthttp.RequestHeader) { r.Set("Sec-WebSocket-Protocol", "a, a") },
	}
	for want, change := range cases {
		r := good()
		change(r)
		if bad, _ := handshakeProblem(r); bad != strings.TrimSpace(want) {
			t.Errorf("%q: got %q", want, bad)
		}
	}
	r := good()
	r.Set("Sec-WebSocket-Version", "8")
	r.Set("Sec-WebSocket-Protocol", "json, graphql-ws")
	if bad, protocols := handshakeProblem(r); bad != "" || len(protocols) != 2 || protocols[0] != "json" {
		t.Fatalf("%q %v", bad, protocols)
	}
	var plain fasthttp.RequestHeader
	plain.SetMethod("POST")
	plain.Set("Upgrade", "websocket")
	if isUpgrade(&plain) {
		t.Fatal("an Upgrade field without Connection: upgrade is not an upgrade")
	}
}
