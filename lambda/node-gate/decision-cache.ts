import { credentialCacheKey } from '../../lib/credentials/credential-format';

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
  /** Allows are trusted this long before asking again. @default 30 s */
  readonly allowTtlMs?: number;
  /** Denies are remembered this long. @default 5 s */
  readonly denyTtlMs?: number;
  /** While the authorizer is unreachable, cached allows keep serving this long. @default 10 min */
  readonly staleAllowMs?: number;
  /** Most cached decisions (LRU). @default 10000 */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry {
  decision: Decision;
  fresh: number;
  fetched: number;
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
  private readonly entries = new Map<string, Entry>();
  private readonly allowTtl: number;
  private readonly denyTtl: number;
  private readonly staleAllow: number;
  private readonly max: number;
  private readonly now: () => number;
  public hits = 0;
  public misses = 0;

  constructor(
    private readonly authorize: AuthorizeFn,
    options: DecisionCacheOptions = {},
  ) {
    this.allowTtl = options.allowTtlMs ?? 30_000;
    this.denyTtl = options.denyTtlMs ?? 5_000;
    this.staleAllow = options.staleAllowMs ?? 600_000;
    this.max = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Looks a credential up (asking the authorizer when the cached decision is stale or `force`). */
  async check(authorization: string, nodeId: string, force = false): Promise<Lookup> {
    const key = credentialCacheKey(authorization, nodeId);
    const entry = this.entries.get(key);
    const t = this.now();
    if (entry && !force && entry.fresh > t && this.stillValid(entry.decision, t)) {
      this.hits++;
      this.touch(key, entry);
      return entry.decision.allowed ? { kind: 'allow', decision: entry.decision, key, cached: true } : { kind: 'deny', key, cached: true };
    }
    this.misses++;
    let decision: Decision;
    try {
      decision = await this.authorize(authorization, nodeId);
    } catch {
      if (entry?.decision.allowed && t - entry.fetched < this.staleAllow && this.stillValid(entry.decision, t)) {
        return { kind: 'allow', decision: entry.decision, key, cached: true };
      }
      return { kind: 'unavailable', key };
    }
    const ttl = decision.allowed ? this.allowTtl : this.denyTtl;
    this.touch(key, { decision, fetched: t, fresh: t + ttl });
    if (decision.allowed && this.stillValid(decision, t)) return { kind: 'allow', decision, key, cached: false };
    return { kind: 'deny', key, cached: false };
  }

  private stillValid(decision: Decision, t: number): boolean {
    return !decision.expiresAt || Date.parse(decision.expiresAt) > t;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }
}
