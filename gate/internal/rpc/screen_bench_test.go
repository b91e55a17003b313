package rpc

import "testing"

// The gate's screening cost per message (go test -bench . ./internal/rpc), for the two calls of
// the gate benchmark (bench/gate.bench.ts).
func benchmarkScreen(b *testing.B, text string) {
	p, err := NewPolicy("", nil)
	if err != nil {
		b.Fatal(err)
	}
	s := &Screener{Policy: p, MaxBatch: 100}
	msg := []byte(text)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for i := 0; i < b.N; i++ {
		if r := s.Screen(msg); r.Kind != KindSingle || r.Text != nil {
			b.Fatalf("refused: %s", r.Text)
		}
	}
}

func BenchmarkScreenBlockNumber(b *testing.B) {
	benchmarkScreen(b, `{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}`)
}

func BenchmarkScreenCall(b *testing.B) {
	benchmarkScreen(b, `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":[{"data":"0x4360005260206000f3"},"latest"]}`)
}
