package rpc

import (
	"encoding/json"
	"strings"
	"testing"
)

func screener(t *testing.T, client string, extra ...string) *Screener {
	t.Helper()
	p, err := NewPolicy(client, extra)
	if err != nil {
		t.Fatal(err)
	}
	return &Screener{Policy: p, MaxBatch: 100}
}

func TestNestingDepthIgnoresBracketsInStrings(t *testing.T) {
	if d := NestingDepth([]byte(`{"a":"[[[[{{{","b":[[1]]}`), 64); d != 3 {
		t.Fatalf("depth %d", d)
	}
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	if d := NestingDepth([]byte(deep), 64); d != 65 {
		t.Fatalf("stops past the limit: %d", d)
	}
}

func TestSingleCalls(t *testing.T) {
	s := screener(t, "")
	cases := []struct{ in, want string }{
		{`{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}`, ""},
		{`{"jsonrpc":"2.0","id":3,"method":"admin_peers","params":[]}`, `{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"method admin_peers is not allowed"}}`},
		{`{"jsonrpc":"2.0","id":4,"method":"eth_blockNumber","METHOD":"eth_sendTransaction"}`, `{"jsonrpc":"2.0","id":4,"error":{"code":-32600,"message":"invalid request: unknown member"}}`},
		{`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","method":"eth_sendTransaction"}`, `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"invalid request: duplicate member method"}}`},
		{`{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId"}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: id must be a string, a number or null"}}`},
		{`{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":"x"}`, `{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"invalid request: params must be an array or an object"}}`},
		{`{"jsonrpc":"2.0","id":1,"\u006dethod":"eth_accounts"}`, `{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method eth_accounts is not allowed"}}`},
		{`{"jsonrpc":"2.0","id":9007199254740993,"method":"eth_sign"}`, `{"jsonrpc":"2.0","id":9007199254740993,"error":{"code":-32601,"message":"method eth_sign is not allowed"}}`},
		{`{"jsonrpc":"2.0","id":1e400,"method":"eth_x\"y"}`, `{"jsonrpc":"2.0","id":1e400,"error":{"code":-32601,"message":"method eth_x\"y is not allowed"}}`},
		{`{"jsonrpc":"2.0","id":"a","method":7}`, `{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"invalid request: method must be a string"}}`},
		{`{"jsonrpc":"2.0","id":"a","method":"` + strings.Repeat("x", 65) + `"}`, `{"jsonrpc":"2.0","id":"a","error":{"code":-32601,"message":"method not allowed"}}`},
		{`[]`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: a batch must have 1 to 100 calls, this one has 0"}}`},
		{`{"jsonrpc":`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: the request is not valid JSON"}}`},
		{`7`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: a call must be a JSON object"}}`},
		{`{"jsonrpc":"2.0","id":1,"method":"eth_call","params":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: JSON nested deeper than 64 levels"}}`},
	}
	for _, c := range cases {
		got := s.Screen([]byte(c.in))
		if string(got.Text) != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.in, got.Text, c.want)
		}
		if got.Text != nil && !json.Valid(got.Text) {
			t.Errorf("not JSON: %s", got.Text)
		}
	}
}

func TestPolicyPerClientAndExtras(t *testing.T) {
	if s := screener(t, "goquorum"); s.Policy.Refusal("eth_getBlockReceipts", true) == "" {
		t.Error("goquorum has no eth_getBlockReceipts")
	}
	if s := screener(t, "geth"); s.Policy.Refusal("eth_getBlockReceipts", true) != "" {
		t.Error("geth has eth_getBlockReceipts")
	}
	if s := screener(t, "besu", "eth_getHeaderByNumber"); s.Policy.Refusal("eth_getHeaderByNumber", true) != "" {
		t.Error("extra method not allowed")
	}
	for _, bad := range []string{"eth_resend", "Admin_peers", "debug_traceTransaction", "personal_sign"} {
		if _, err := NewPolicy("", []string{bad}); err == nil || !strings.Contains(err.Error(), "can never be allowed") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := NewPolicy("", []string{"not a name"}); err == nil || err.Error() != "extraAllowedMethods: 'not a name' is not a JSON-RPC method name; give exact names such as eth_getHeaderByNumber" {
		t.Errorf("%v", err)
	}
}

func TestMixedBatchForwardsAllowedCallsAndMergesInOrder(t *testing.T) {
	s := screener(t, "")
	text := []byte(`[{"jsonrpc":"2.0","id":9007199254740993,"method":"eth_chainId"},{"jsonrpc":"2.0","id":"b","method":"eth_sign","params":[]},[],{"jsonrpc":"2.0","method":"eth_blockNumber"},{"jsonrpc":"2.0","id":1e400,"method":"net_version"}]`)
	got := s.Screen(text)
	if got.Kind != KindBatch || got.Allowed != 3 || !got.Waits() {
		t.Fatalf("%+v", got)
	}
	tag := "gate-x.1"
	fwd := ForwardText(text, got.Parts, tag)
	want := `[{"jsonrpc":"2.0","id":"gate-x.1.0","method":"eth_chainId"},{"jsonrpc":"2.0","method":"eth_blockNumber"},{"jsonrpc":"2.0","id":"gate-x.1.4","method":"net_version"}]`
	if string(fwd) != want {
		t.Fatalf("forwarded %s", fwd)
	}
	// The node answers in any order; an answer it does not give becomes an error for that call.
	answer := []byte(`[{"jsonrpc":"2.0","id":"gate-x.1.4","result":"0x2a"},{"jsonrpc":"2.0","id":"gate-x.1.0","result":"0x539"}]`)
	merged := MergeBatch(got.Parts, AnswersByIndex(answer, tag))
	wantMerged := `[{"jsonrpc":"2.0","id":9007199254740993,"result":"0x539"},{"jsonrpc":"2.0","id":"b","error":{"code":-32601,"message":"method eth_sign is not allowed"}},{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request: a call must be a JSON object"}},{"jsonrpc":"2.0","id":1e400,"result":"0x2a"}]`
	if string(merged) != wantMerged {
		t.Fatalf("merged %s", merged)
	}
	noAnswer := MergeBatch(got.Parts, AnswersByIndex([]byte(`not json`), tag))
	if !strings.Contains(string(noAnswer), `"id":9007199254740993,"error":{"code":-32603,"message":"the node's client gave no answer to this call"}`) {
		t.Fatalf("%s", noAnswer)
	}
}

func TestScreenNeverPanics(t *testing.T) {
	s := screener(t, "")
	inputs := []string{"", " ", "[", "]", "{", `{"`, `[{"id":`, `[1,2,{}]`, `{"id":1,"method":"eth_chainId"}garbage`, `"\u0000"`, "\"\\ud800\"", `[` + strings.Repeat(`{"id":1,"method":"eth_chainId"},`, 100) + `{}]`, `{"":1}`, `{"id":true,"method":"eth_chainId"}`, `{"id":-0.5e-7,"method":"eth_chainId","params":{}}`}
	for _, in := range inputs {
		got := s.Screen([]byte(in))
		if got.Kind == KindError || (got.Kind == KindSingle && got.Text != nil) {
			if !json.Valid(got.Text) {
				t.Errorf("%q: %s", in, got.Text)
			}
		}
	}
}

func TestAppendJSStringMatchesJSONStringify(t *testing.T) {
	cases := map[string]string{"a\"b\\c": `"a\"b\\c"`, "\n\t\x01<>&": `"\n\t\u0001<>&"`, "é": `"é"`}
	for in, want := range cases {
		if got := string(AppendJSString(nil, in)); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}
