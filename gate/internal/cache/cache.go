// Package cache is the gate's bounded decision cache (lambda/node-gate/decision-cache.ts). Keys
// are salted SHA-256 hashes of the Authorization header and the node (no plaintext is kept).
// Allows live for a bounded TTL (never past the credential's expiry), denies for less; while the
// authorizer is unreachable, cached allows keep serving (up to the stale window) and new
// credentials are refused. Concurrent misses for one key share one authorizer call.
package cache

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blockchain-tenancy/node-gate/internal/contracts"
)

// Decision is an authorization decision for one credential on this node.
type Decision struct {
	Allowed      bool
	CredentialID string
	// ExpiresAt is when the credential expires (allows are never cached past it); zero when it has none.
	ExpiresAt time.Time
	// HasExpiry is true when the authorizer named an expiry (an unparseable one is already in the past).
	HasExpiry bool
}

// AuthorizeFunc asks the environment's authorizer; an error means it could not decide.
type AuthorizeFunc func(ctx context.Context, authorization, nodeID string) (Decision, error)

// Kind of a lookup.
type Kind int

const (
	Allow Kind = iota
	Deny
	Unavailable
)

// Lookup is the outcome of a lookup.
type Lookup struct {
	Kind     Kind
	Key      Key
	Decision Decision
	Cached   bool
}

// Key is a cache key.
type Key [32]byte

// Options of a cache (zero values take the contract's defaults).
type Options struct {
	AllowTTL   time.Duration
	DenyTTL    time.Duration
	StaleAllow time.Duration
	MaxEntries int
	Now        func() time.Time
}

type entry struct {
	key     Key
	dec     Decision
	fresh   time.Time
	fetched time.Time
	expires time.Time // zero: never
}

type call struct {
	done    chan struct{}
	dec     Decision
	err     error
	started time.Time
}

// Cache is the decision cache.
type Cache struct {
	authorize AuthorizeFunc
	opts      Options
	salt      [16]byte
	mu        sync.Mutex
	entries   map[Key]*list.Element
	lru       *list.List
	inflight  map[Key]*call
	hits      atomic.Int64
	misses    atomic.Int64
	calls     atomic.Int64
}

// New makes a cache.
func New(authorize AuthorizeFunc, o Options) *Cache {
	if o.AllowTTL == 0 {
		o.AllowTTL = contracts.GateAllowTTLSeconds * time.Second
	}
	if o.DenyTTL == 0 {
		o.DenyTTL = contracts.DenyTTLSeconds * time.Second
	}
	if o.StaleAllow == 0 {
		o.StaleAllow = contracts.StaleAllowSeconds * time.Second
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = contracts.DecisionCacheEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Cache{authorize: authorize, opts: o, entries: map[Key]*list.Element{}, lru: list.New(), inflight: map[Key]*call{}}
	if _, err := rand.Read(c.salt[:]); err != nil {
		panic(err)
	}
	return c
}

// KeyOf is the cache key of a header on a node.
func (c *Cache) KeyOf(authorization, nodeID string) Key {
	h := sha256.New()
	h.Write(c.salt[:])
	h.Write([]byte(nodeID))
	h.Write([]byte{0})
	h.Write([]byte(authorization))
	var k Key
	h.Sum(k[:0])
	return k
}

// Hits, Misses and AuthorizerCalls count lookups.
func (c *Cache) Hits() int64            { return c.hits.Load() }
func (c *Cache) Misses() int64          { return c.misses.Load() }
func (c *Cache) AuthorizerCalls() int64 { return c.calls.Load() }

// Len is the number of cached decisions.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func live(t, end time.Time) bool { return end.IsZero() || end.After(t) }

// Check looks a credential up, asking the authorizer when the cached decision is stale or force.
func (c *Cache) Check(ctx context.Context, authorization, nodeID string, force bool) Lookup {
	key := c.KeyOf(authorization, nodeID)
	t := c.opts.Now()
	c.mu.Lock()
	var old *entry
	if el, ok := c.entries[key]; ok {
		old = el.Value.(*entry)
		if !force && old.fresh.After(t) && live(t, old.expires) {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			c.hits.Add(1)
			if old.dec.Allowed {
				return Lookup{Kind: Allow, Key: key, Decision: old.dec, Cached: true}
			}
			return Lookup{Kind: Deny, Key: key, Cached: true}
		}
	}
	var snapshot entry
	if old != nil {
		snapshot = *old
	}
	cl, owner := c.join(key, t, force)
	c.mu.Unlock()
	c.misses.Add(1)
	if owner {
		c.calls.Add(1)
		cl.dec, cl.err = c.authorize(ctx, authorization, nodeID)
		close(cl.done)
		c.mu.Lock()
		if c.inflight[key] == cl {
			delete(c.inflight, key)
		}
		c.mu.Unlock()
	} else {
		select {
		case <-cl.done:
		case <-ctx.Done():
			cl = &call{err: ctx.Err()}
		}
	}
	if cl.err != nil {
		if old != nil && snapshot.dec.Allowed && t.Sub(snapshot.fetched) < c.opts.StaleAllow && live(t, snapshot.expires) {
			return Lookup{Kind: Allow, Key: key, Decision: snapshot.dec, Cached: true}
		}
		return Lookup{Kind: Unavailable, Key: key}
	}
	dec := cl.dec
	ttl := c.opts.DenyTTL
	if dec.Allowed {
		ttl = c.opts.AllowTTL
	}
	var expires time.Time
	if dec.HasExpiry {
		expires = dec.ExpiresAt
		if expires.IsZero() {
			expires = time.Unix(0, 1) // unparseable: expired (fail closed)
		}
	}
	c.store(&entry{key: key, dec: dec, fetched: t, fresh: t.Add(ttl), expires: expires})
	if dec.Allowed && live(t, expires) {
		return Lookup{Kind: Allow, Key: key, Decision: dec}
	}
	return Lookup{Kind: Deny, Key: key}
}

// join returns the call to wait for, and whether this caller makes it. A forced check always
// makes its own call; only a recent call is joined (one that hangs must not hold every later request).
func (c *Cache) join(key Key, t time.Time, force bool) (*call, bool) {
	if !force {
		if p, ok := c.inflight[key]; ok && t.Sub(p.started) < contracts.AuthorizeJoinSeconds*time.Second {
			return p, false
		}
	}
	cl := &call{done: make(chan struct{}), started: t}
	if !force {
		c.inflight[key] = cl
	}
	return cl, true
}

func (c *Cache) store(e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[e.key]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.entries[e.key] = c.lru.PushFront(e)
	for c.lru.Len() > c.opts.MaxEntries {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.entries, last.Value.(*entry).key)
	}
}

// Clear drops every cached decision.
func (c *Cache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[Key]*list.Element{}
	c.lru.Init()
}
