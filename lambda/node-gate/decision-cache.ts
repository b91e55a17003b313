import { credentialCacheKey } from '../../lib/contracts/credential-format';
import { AUTHORIZE_JOIN_SECONDS, DECISION_CACHE_ENTRIES, STALE_ALLOW_SECONDS } from '../../lib/contracts/gate-protocol';
import { DENY_TTL_SECONDS, GATE_ALLOW_TTL_SECONDS } from '../../lib/contracts/revocation';
import { LruMap } from '../shared/lru-map';

/** An authorization decision for one credential on this node. */
export interface Decision {
  readonly allowed: boolean;
  readonly credentialId?: string;
  /** ISO time the credential expires (allows are never cached past it). */
  readonly expiresAt?: string;
}

/** Asks the environment's authorizer. Throws when the authorizer cannot answer. */
export type AuthorizeFn = (authorization: string, nodeId: string) => Promise<Decision>;

export interface DecisionCacheOptions {
  /**
   * Allows are trusted this long before asking again. Part of the revocation bound
   * (lib/contracts/revocation.ts): change it there, not here. @default GATE_ALLOW_TTL_SECONDS (14 s)
   */
  readonly allowTtlMs?: number;
  /** Denies are remembered this long. @default DENY_TTL_SECONDS (5 s) */
  readonly denyTtlMs?: number;
  /** While the authorizer is unreachable, cached allows keep serving this long. @default 10 min */
  readonly staleAllowMs?: number;
  /** Most cached decisions (LRU). @default 10000 */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/** Concurrent misses join an authorizer call at most this old. */
const JOIN_MS = AUTHORIZE_JOIN_SECONDS * 1000;

interface Entry {
  decision: Decision;
  fresh: number;
  fetched: number;
  /** decision.expiresAt parsed once (Infinity when it has none). */
  expires: number;
  /** The answer to a cache hit, built once (Lookups are read-only). */
  hit: Lookup;
}

/** The outcome of a lookup. */
export type Lookup =
  | { readonly kind: 'allow'; readonly decision: Decision; readonly key: string; readonly cached: boolean }
  | { readonly kind: 'deny'; readonly key: string; readonly cached: boolean }
  | { readonly kind: 'unavailable'; readonly key: string };

/**
 * The gate's bounded decision cache. Keys are salted hashes of the Authorization header (no
 * plaintext is kept). Allows live for a bounded TTL (never past the credential's expiry), denies
 * for less; when the authorizer is unreachable, cached allows keep serving (up to
 * `staleAllowMs`) and new credentials are refused.
 */
export class DecisionCache {
  private readonly entries: LruMap<Entry>;
  private readonly inflight = new Map<string, { call: Promise<Decision>; started: number }>();
  private readonly allowTtl: number;
  private readonly denyTtl: number;
  private readonly staleAllow: number;
  private readonly now: () => number;
  public hits = 0;
  public misses = 0;
  /** Calls made to the authorizer (concurrent misses for one credential share one call). */
  public authorizerCalls = 0;

  constructor(
    private readonly authorize: AuthorizeFn,
    options: DecisionCacheOptions = {},
  ) {
    this.allowTtl = options.allowTtlMs ?? GATE_ALLOW_TTL_SECONDS * 1000;
    this.denyTtl = options.denyTtlMs ?? DENY_TTL_SECONDS * 1000;
    this.staleAllow = options.staleAllowMs ?? STALE_ALLOW_SECONDS * 1000;
    this.entries = new LruMap(options.maxEntries ?? DECISION_CACHE_ENTRIES);
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The cached decision when it is fresh (a cache hit), synchronously; undefined when the
   * authorizer must be asked (then call {@link check}). Exactly the hit rule of `check`.
   */
  cached(authorization: string, nodeId: string): Lookup | undefined {
    return this.hit(credentialCacheKey(authorization, nodeId), this.now());
  }

  /** Looks a credential up (asking the authorizer when the cached decision is stale or `force`). */
  async check(authorization: string, nodeId: string, force = false): Promise<Lookup> {
    const key = credentialCacheKey(authorization, nodeId);
    const t = this.now();
    if (!force) {
      const hit = this.hit(key, t);
      if (hit) return hit;
    }
    const entry = this.entries.peek(key);
    this.misses++;
    let decision: Decision;
    try {
      decision = await this.ask(key, authorization, nodeId, force, t);
    } catch {
      if (entry?.decision.allowed && t - entry.fetched < this.staleAllow && entry.expires > t) {
        return { kind: 'allow', decision: entry.decision, key, cached: true };
      }
      return { kind: 'unavailable', key };
    }
    const ttl = decision.allowed ? this.allowTtl : this.denyTtl;
    const expires = decision.expiresAt ? Date.parse(decision.expiresAt) : Infinity;
    const hit: Lookup = decision.allowed ? { kind: 'allow', decision, key, cached: true } : { kind: 'deny', key, cached: true };
    this.entries.set(key, { decision, fetched: t, fresh: t + ttl, expires, hit });
    // An unparseable expiry is treated as expired (NaN > t is false): fail closed.
    if (decision.allowed && expires > t) return { kind: 'allow', decision, key, cached: false };
    return { kind: 'deny', key, cached: false };
  }

  /**
   * Asks the authorizer. Concurrent misses for the same key share one call (its answer is for the
   * same header and node), so a burst of requests on an expired entry costs one authorizer call,
   * not one per request. A forced check (WebSocket revalidation) always makes its own call.
   */
  private ask(key: string, authorization: string, nodeId: string, force: boolean, t: number): Promise<Decision> {
    if (force) {
      this.authorizerCalls++;
      return this.authorize(authorization, nodeId);
    }
    const pending = this.inflight.get(key);
    // Only a recent call is joined: one that hangs must not hold every later request for the key.
    if (pending && t - pending.started < JOIN_MS) return pending.call;
    this.authorizerCalls++;
    const call = this.authorize(authorization, nodeId);
    const entry = { call, started: t };
    this.inflight.set(key, entry);
    const done = () => {
      if (this.inflight.get(key) === entry) this.inflight.delete(key);
    };
    call.then(done, done);
    return call;
  }

  private hit(key: string, t: number): Lookup | undefined {
    const entry = this.entries.peek(key);
    if (!entry || !(entry.fresh > t) || !(entry.expires > t)) return undefined;
    this.hits++;
    this.entries.get(key); // most recently used
    return entry.hit;
  }
}
