import { describe, expect, it } from 'vitest';
import { Decision, DecisionCache } from '../../lambda/node-gate/decision-cache';
import { credentialCacheKey as cacheKey } from '../../lib/contracts/credential-format';

const A = `Basic ${Buffer.from('bta:secret-a').toString('base64')}`;
const B = `Basic ${Buffer.from('btb:secret-b').toString('base64')}`;

/** A controllable clock and authorizer. */
function setup(options: ConstructorParameters<typeof DecisionCache>[1] = {}) {
  let now = 1_000_000;
  const calls: string[] = [];
  let answer: (authorization: string) => Promise<Decision> = async () => ({ allowed: true });
  const cache = new DecisionCache(
    (authorization) => {
      calls.push(authorization);
      return answer(authorization);
    },
    { now: () => now, ...options },
  );
  return {
    cache,
    calls,
    tick: (ms: number) => (now += ms),
    at: () => now,
    answer: (f: (authorization: string) => Promise<Decision>) => (answer = f),
  };
}

describe('gate decision cache', () => {
  it('keys are salted SHA-256 of node id and header: stable in the process, never the plaintext', () => {
    const k = cacheKey(A, 'validator-1');
    expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cacheKey(A, 'validator-1')).toBe(k);
    expect(cacheKey(A, 'validator-2')).not.toBe(k);
    expect(cacheKey(B, 'validator-1')).not.toBe(k);
    expect(k).not.toContain('secret');
    expect(k).not.toContain(A.slice(6, 20));
  });

  it('serves a fresh allow synchronously, asks again after the allow TTL, never past the credential expiry', async () => {
    const t = setup({ allowTtlMs: 30_000 });
    const expiresAt = new Date(t.at() + 45_000).toISOString();
    t.answer(async () => ({ allowed: true, expiresAt }));
    expect(t.cache.cached(A, 'n')).toBeUndefined();
    expect((await t.cache.check(A, 'n')).kind).toBe('allow');
    expect(t.cache.cached(A, 'n')?.kind).toBe('allow');
    expect(t.calls).toHaveLength(1);
    t.tick(30_001);
    expect(t.cache.cached(A, 'n')).toBeUndefined(); // stale: ask again
    expect((await t.cache.check(A, 'n')).kind).toBe('allow');
    expect(t.calls).toHaveLength(2);
    t.tick(15_000); // past expiresAt, inside the new TTL
    expect(t.cache.cached(A, 'n')).toBeUndefined();
    expect((await t.cache.check(A, 'n')).kind).toBe('deny');
  });

  it('fails closed on an unparseable expiry', async () => {
    const t = setup();
    t.answer(async () => ({ allowed: true, expiresAt: 'not a date' }));
    expect((await t.cache.check(A, 'n')).kind).toBe('deny');
    expect(t.cache.cached(A, 'n')).toBeUndefined();
  });

  it('remembers denies for the deny TTL', async () => {
    const t = setup({ denyTtlMs: 5_000 });
    t.answer(async () => ({ allowed: false }));
    expect((await t.cache.check(A, 'n')).kind).toBe('deny');
    expect(t.cache.cached(A, 'n')?.kind).toBe('deny');
    t.tick(5_001);
    expect(t.cache.cached(A, 'n')).toBeUndefined();
  });

  it('keeps serving a cached allow while the authorizer is down (up to staleAllowMs); new credentials are unavailable', async () => {
    const t = setup({ allowTtlMs: 1_000, staleAllowMs: 60_000 });
    await t.cache.check(A, 'n');
    t.answer(async () => {
      throw new Error('down');
    });
    t.tick(2_000);
    expect((await t.cache.check(A, 'n')).kind).toBe('allow');
    expect((await t.cache.check(B, 'n')).kind).toBe('unavailable');
    t.tick(60_000);
    expect((await t.cache.check(A, 'n')).kind).toBe('unavailable');
  });

  it('asks once for concurrent misses of one credential, separately per credential; a forced check asks on its own', async () => {
    const t = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.answer(async (a) => {
      await gate;
      return { allowed: a === A };
    });
    const burst = [...Array.from({ length: 10 }, () => t.cache.check(A, 'n')), t.cache.check(B, 'n'), t.cache.check(A, 'n', true)];
    release();
    const results = await Promise.all(burst);
    expect(results.map((r) => r.kind)).toEqual([...Array(10).fill('allow'), 'deny', 'allow']);
    expect(t.calls.filter((c) => c === A)).toHaveLength(2); // the shared one and the forced one
    expect(t.calls.filter((c) => c === B)).toHaveLength(1);
    expect(t.cache.authorizerCalls).toBe(3);
    expect(t.cache.misses).toBe(12);
  });

  it('does not hold later requests on an authorizer call that hangs (joins only calls under 5 s old)', async () => {
    const t = setup();
    t.answer(() => new Promise<Decision>(() => undefined)); // never answers
    void t.cache.check(A, 'n');
    t.tick(6_000);
    t.answer(async () => ({ allowed: true }));
    expect((await t.cache.check(A, 'n')).kind).toBe('allow');
    expect(t.calls).toHaveLength(2);
  });

  it('is bounded (least recently used entries go first)', async () => {
    const t = setup({ maxEntries: 2 });
    await t.cache.check(A, 'n1');
    await t.cache.check(A, 'n2');
    t.cache.cached(A, 'n1'); // n1 is now the most recent
    await t.cache.check(A, 'n3');
    expect(t.cache.size).toBe(2);
    expect(t.cache.cached(A, 'n2')).toBeUndefined();
    expect(t.cache.cached(A, 'n1')?.kind).toBe('allow');
  });
});
