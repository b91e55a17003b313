package cache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestTTLsStaleAllowAndExpiry(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	var down atomic.Bool
	var calls atomic.Int64
	expires := clk.t.Add(time.Hour)
	c := New(func(ctx context.Context, a, n string) (Decision, error) {
		calls.Add(1)
		if down.Load() {
			return Decision{}, errors.New("unreachable")
		}
		if a != "good" {
			return Decision{Allowed: false}, nil
		}
		return Decision{Allowed: true, ExpiresAt: expires, HasExpiry: true}, nil
	}, Options{Now: clk.now})
	ctx := context.Background()
	if l := c.Check(ctx, "good", "n", false); l.Kind != Allow || l.Cached {
		t.Fatalf("%+v", l)
	}
	if l := c.Check(ctx, "good", "n", false); l.Kind != Allow || !l.Cached {
		t.Fatalf("cached allow: %+v", l)
	}
	// Allows are trusted for the gate's allow TTL (14 s), then asked again.
	clk.t = clk.t.Add(13 * time.Second)
	c.Check(ctx, "good", "n", false)
	if calls.Load() != 1 {
		t.Fatalf("asked within the TTL: %d", calls.Load())
	}
	clk.t = clk.t.Add(2 * time.Second)
	c.Check(ctx, "good", "n", false)
	if calls.Load() != 2 {
		t.Fatalf("not asked after the TTL: %d", calls.Load())
	}
	// Authorizer down: a cached allow keeps serving, a new credential is refused (503).
	down.Store(true)
	clk.t = clk.t.Add(20 * time.Second)
	if l := c.Check(ctx, "good", "n", false); l.Kind != Allow {
		t.Fatalf("stale allow: %+v", l)
	}
	if l := c.Check(ctx, "other", "n", false); l.Kind != Unavailable {
		t.Fatalf("new credential: %+v", l)
	}
	// ... but never past the stale window or the credential's expiry.
	clk.t = clk.t.Add(61 * time.Minute)
	if l := c.Check(ctx, "good", "n", false); l.Kind != Unavailable {
		t.Fatalf("past expiry: %+v", l)
	}
	down.Store(false)
	if l := c.Check(ctx, "good", "n", false); l.Kind != Deny {
		t.Fatalf("expired credential: %+v", l)
	}
	// Denies are remembered for 5 s.
	c.Check(ctx, "bad", "n", false)
	n := calls.Load()
	clk.t = clk.t.Add(4 * time.Second)
	if l := c.Check(ctx, "bad", "n", false); l.Kind != Deny || calls.Load() != n {
		t.Fatalf("deny cache: %+v", l)
	}
	// Keys are per node.
	if c.KeyOf("good", "a") == c.KeyOf("good", "b") {
		t.Fatal("same key for two nodes")
	}
}

func TestUnparseableExpiryFailsClosed(t *testing.T) {
	c := New(func(ctx context.Context, a, n string) (Decision, error) {
		return Decision{Allowed: true, HasExpiry: true}, nil
	}, Options{})
	if l := c.Check(context.Background(), "x", "n", false); l.Kind != Deny {
		t.Fatalf("%+v", l)
	}
}

func TestConcurrentMissesShareOneCallAndForceMakesItsOwn(t *testing.T) {
	var calls atomic.Int64
	c := New(func(ctx context.Context, a, n string) (Decision, error) {
		calls.Add(1)
		time.Sleep(50 * time.Millisecond)
		return Decision{Allowed: true}, nil
	}, Options{})
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l := c.Check(context.Background(), "x", "n", false); l.Kind != Allow {
				t.Errorf("%+v", l)
			}
		}()
	}
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("%d authorizer calls", calls.Load())
	}
	c.Check(context.Background(), "x", "n", true)
	if calls.Load() != 2 {
		t.Fatalf("forced check did not ask: %d", calls.Load())
	}
}

func TestLRUBound(t *testing.T) {
	c := New(func(ctx context.Context, a, n string) (Decision, error) { return Decision{Allowed: true}, nil }, Options{MaxEntries: 3})
	for _, a := range []string{"a", "b", "c", "d"} {
		c.Check(context.Background(), a, "n", false)
	}
	if c.Len() != 3 {
		t.Fatalf("%d entries", c.Len())
	}
}
