package gate

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/blockchain-tenancy/node-gate/internal/contracts"
	"github.com/blockchain-tenancy/node-gate/internal/rpc"
)

var healthProbe = []byte(`[{"jsonrpc":"2.0","id":1,"method":"eth_syncing","params":[]},{"jsonrpc":"2.0","id":2,"method":"eth_getBlockByNumber","params":["latest",false]}]`)

// health caches one probe's answer for HealthCacheMs and runs one probe at a time (the endpoint needs no credential: it must not amplify).
type health struct {
	mu      sync.Mutex
	at      time.Time
	ok      bool
	waiters []chan bool
}

func (g *Gate) serveHealth(w *fasthttp.RequestCtx, started time.Time) {
	if g.probe() {
		g.reply(w, started, 200, textType, []byte("ok"))
		return
	}
	g.reply(w, started, 503, jsonType, rpc.ErrorText(contracts.CodeNodeUnavailable, "not ready", "null"))
}

func (g *Gate) probe() bool {
	h := &g.health
	h.mu.Lock()
	if !h.at.IsZero() && time.Since(h.at) < contracts.HealthCacheMs*time.Millisecond {
		ok := h.ok
		h.mu.Unlock()
		return ok
	}
	ch := make(chan bool, 1)
	first := h.waiters == nil
	h.waiters = append(h.waiters, ch)
	h.mu.Unlock()
	if first {
		go func() {
			result := make(chan bool, 1)
			go func() { result <- g.probeOnce() }()
			var ok bool
			select {
			case ok = <-result:
			case <-time.After(contracts.HealthProbeTimeoutMs * time.Millisecond):
			}
			h.mu.Lock()
			h.at, h.ok = time.Now(), ok
			waiters := h.waiters
			h.waiters = nil
			h.mu.Unlock()
			for _, w := range waiters {
				w <- ok
			}
		}()
	}
	return <-ch
}

// probeOnce asks the client whether it syncs and for its newest block.
func (g *Gate) probeOnce() bool {
	res, err := g.Upstream.Post(healthProbe)
	if err != nil || res.Status != 200 {
		return false
	}
	var answers []struct {
		ID     json.RawMessage `json:"id"`
		Result json.RawMessage `json:"result"`
	}
	if json.Unmarshal(res.Body, &answers) != nil {
		return false
	}
	var syncing, block json.RawMessage
	for _, a := range answers {
		switch string(a.ID) {
		case "1":
			if syncing == nil {
				syncing = a.Result
			}
		case "2":
			if block == nil {
				block = a.Result
			}
		}
	}
	if syncing == nil {
		return false
	}
	var b struct {
		Timestamp *string `json:"timestamp"`
	}
	if block == nil || json.Unmarshal(block, &b) != nil || b.Timestamp == nil {
		return false
	}
	if max := g.o.HealthMaxBlockAge; max > 0 && string(syncing) == "false" {
		ts, err := strconv.ParseInt(trimHex(*b.Timestamp), 16, 64)
		if err != nil || time.Since(time.Unix(ts, 0)) > max {
			return false
		}
	}
	return true
}

func trimHex(s string) string {
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") {
		return s[2:]
	}
	return s
}
