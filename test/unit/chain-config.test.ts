import { describe, expect, it } from 'vitest';
import { TenantConfigError, parseTenantsConfig } from '../../lib';

const withChain = (chain: unknown) => ({ tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16', chain }] }] });
const problems = (raw: unknown): readonly string[] => {
  try {
    parseTenantsConfig(raw, 't.json');
  } catch (e) {
    expect(e).toBeInstanceOf(TenantConfigError);
    return (e as TenantConfigError).problems;
  }
  throw new Error('accepted');
};
const P = 'tenants[0].environments[0].chain';
const validators = (n: number, member = 'acme') =>
  Array.from({ length: n }, (_, i) => ({ id: `validator-${i + 1}`, member, role: 'validator' }));

describe('the chain section of an environment', () => {
  it('accepts a full chain', () => {
    const config = parseTenantsConfig(
      withChain({
        client: 'goquorum',
        consensus: 'ibft',
        chainId: 2026,
        blockPeriodSeconds: 5,
        freeGas: true,
        members: [{ id: 'acme', name: 'Acme' }, { id: 'globex' }],
        nodes: [...validators(4), { id: 'globex-1', member: 'globex', role: 'member', instanceType: 'm7i.large', architecture: 'x86_64' }],
      }),
    );
    expect(config.tenants[0].environments[0].chain?.nodes).toHaveLength(5);
  });

  it('names unknown fields, bad values and the fix', () => {
    expect(problems(withChain({ clinet: 'besu' }))[0]).toMatch(new RegExp(`^${P.replace(/[[\].]/g, '\\$&')}\\.clinet: unknown field; did you mean "client"\\?`));
    expect(problems(withChain({ client: 'parity' }))[0]).toBe(`${P}.client: must be one of "besu", "goquorum", "geth", got "parity"`);
    expect(problems(withChain({ members: [{ id: 'acme' }], nodes: validators(3) }))).toEqual([
      `${P}.nodes: 3 validator(s) for qbft; a BFT network needs n >= 3f+1 validators to tolerate f faults, so at least 4. Add validators (role "validator") to ${P}.nodes`,
    ]);
    expect(problems(withChain({ members: [{ id: 'acme' }], nodes: [...validators(4), { id: 'x-1', member: 'initech', role: 'member' }] }))[0]).toMatch(
      /chain\.nodes\[4\]\.member: "initech" is not a member of this environment; add it to tenants\[0\]\.environments\[0\]\.chain\.members/,
    );
    expect(problems(withChain({ client: 'geth', consensus: 'qbft' }))[0]).toMatch(/chain\.consensus: geth cannot run "qbft"/);
    expect(problems(withChain({ nodes: [{ id: 'v', role: 'boss' }] }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/nodes\[0\]\.member: must be a string/), expect.stringMatching(/nodes\[0\]\.role: must be one of "validator", "member"/)]),
    );
  });
});
