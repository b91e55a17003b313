package gate

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Metrics are the gate's statistics, published once a minute: proxied-request latency as a
// value/count histogram of 0.1 ms buckets (so CloudWatch can compute p99), and decision-cache
// hits and misses.
type Metrics struct {
	mu         sync.Mutex
	latencies  map[int64]float64
	lastHits   int64
	lastMisses int64
}

// NewMetrics makes an empty histogram.
func NewMetrics() *Metrics { return &Metrics{latencies: map[int64]float64{}} }

// Record records one proxied request's latency.
func (m *Metrics) Record(d time.Duration) {
	bucket := int64(math.Round(float64(d) / float64(100*time.Microsecond)))
	m.mu.Lock()
	m.latencies[bucket]++
	m.mu.Unlock()
}

// Drained is what one drain returns.
type Drained struct {
	Hits, Misses int64
	// Values (ms) and Counts of the latency histogram (at most 150 values, PutMetricData's limit).
	Values, Counts []float64
}

// Drain returns the statistics since the last drain (and resets the latency histogram).
func (m *Metrics) Drain(hits, misses int64) Drained {
	m.mu.Lock()
	latencies := m.latencies
	m.latencies = map[int64]float64{}
	d := Drained{Hits: hits - m.lastHits, Misses: misses - m.lastMisses}
	m.lastHits, m.lastMisses = hits, misses
	m.mu.Unlock()
	buckets := make([]int64, 0, len(latencies))
	for b := range latencies {
		buckets = append(buckets, b)
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i] < buckets[j] })
	if len(buckets) > 150 {
		buckets = buckets[:150]
	}
	for _, b := range buckets {
		d.Values = append(d.Values, float64(b)/10)
		d.Counts = append(d.Counts, latencies[b])
	}
	return d
}
