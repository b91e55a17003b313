package gate

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

func TestNetHTTPErrorAnswersBecomeJSONRPC(t *testing.T) {
	for raw, want := range map[string]string{
		"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request":                                                   "HTTP/1.1 400 Bad Request\r\n",
		"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n431 Request Header Fields Too Large":           "HTTP/1.1 431 Request Header Fields Too Large\r\n",
		"HTTP/1.1 505 HTTP Version Not Supported: unsupported protocol version\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n505 HTTP Version ...": "HTTP/1.1 400 Bad Request\r\n",
	} {
		got := string(errorAnswer([]byte(raw)))
		if !strings.HasPrefix(got, want) {
			t.Errorf("%q", got)
		}
		body := got[strings.Index(got, "\r\n\r\n")+4:]
		var v struct {
			Error struct{ Message string }
		}
		if json.Unmarshal([]byte(body), &v) != nil || v.Error.Message == "" {
			t.Errorf("body %q", body)
		}
	}
}

func TestHandshakeProblems(t *testing.T) {
	good := func() *http.Request {
		r := httptest.NewRequest("GET", "/ws", nil)
		r.Header.Set("Connection", "keep-alive, Upgrade")
		r.Header.Set("Upgrade", "WebSocket")
		r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		r.Header.Set("Sec-WebSocket-Version", "13")
		return r
	}
	if r := good(); !isUpgrade(r) {
		t.Fatal("not an upgrade")
	}
	if bad, _ := handshakeProblem(good()); bad != "" {
		t.Fatal(bad)
	}
	cases := map[string]func(*http.Request){
		"method POST; a WebSocket upgrade is a GET": func(r *http.Request) { r.Method = "POST" },
		"Upgrade must be websocket":                 func(r *http.Request) { r.Header.Set("Upgrade", "h2c") },
		"missing or invalid Sec-WebSocket-Key":      func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "short") },
		"Sec-WebSocket-Version must be 13":          func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "7") },
		"Invalid Sec-WebSocket-Protocol header":     func(r *http.Request) { r.Header.Set("Sec-WebSocket-Protocol", ",,,") },
		"Invalid Sec-WebSocket-Protocol header ":    func(r *http.Request) { r.Header.Set("Sec-WebSocket-Protocol", "a, a") },
	}
	for want, change := range cases {
		r := good()
		change(r)
		if bad, _ := handshakeProblem(r); bad != strings.TrimSpace(want) {
			t.Errorf("%q: got %q", want, bad)
		}
	}
	r := good()
	r.Header.Set("Sec-WebSocket-Version", "8")
	r.Header.Set("Sec-WebSocket-Protocol", "json, graphql-ws")
	if bad, protocols := handshakeProblem(r); bad != "" || len(protocols) != 2 || protocols[0] != "json" {
		t.Fatalf("%q %v", bad, protocols)
	}
	plain := httptest.NewRequest("POST", "/", nil)
	plain.Header.Set("Upgrade", "websocket")
	if isUpgrade(plain) {
		t.Fatal("an Upgrade field without Connection: upgrade is not an upgrade")
	}
}
