import { describe, expect, it } from 'vitest';
import { explicitNodes, mergePatch, quotaRefusals, refusedChanges, validateEnvironmentBody } from '../../lambda/management/control-plane/environment-changes';
import { EnvironmentConfig } from '../../lib/config/tenant-config';
import { DEFAULT_CONTROL_PLANE_QUOTAS, MAX_LOCK_TIMEOUT_SECONDS, parseControlPlaneQuotas, parseLockTimeoutSeconds } from '../../lib/contracts/control-plane';
import { abandonedReason, lockExpiry } from '../../lambda/management/control-plane/config-store';
import { FOUR_VALIDATOR_CHAIN } from '../support/control-plane-fixture';

/** A production-like environment: pinned account, region and zones, two members, a node group. */
const prod: EnvironmentConfig = {
  id: 'prod',
  cidr: '10.20.0.0/16',
  account: '123456789012',
  region: 'eu-west-1',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  chain: {
    client: 'besu',
    consensus: 'qbft',
    chainId: 4242,
    members: FOUR_VALIDATOR_CHAIN.members,
    nodes: [...FOUR_VALIDATOR_CHAIN.nodes, { id: 'rpc-1', member: 'globex', role: 'member', instanceType: 't4g.large', group: 'rpc' }],
  } as EnvironmentConfig['chain'],
};
const withNodes = (nodes: unknown[]): EnvironmentConfig => ({ ...prod, chain: { ...prod.chain, nodes } as EnvironmentConfig['chain'] });

describe('validateEnvironmentBody: the tenants.json parser, with paths into the body', () => {
  it('accepts a production-like environment and fills the id from the path', () => {
    const body: Record<string, unknown> = { ...prod };
    delete body.id;
    const out = validateEnvironmentBody('acme', 'prod', body, []);
    expect(out).toEqual({ config: prod });
  });

  it('names every bad field as body.<path> with the fix', () => {
    const out = validateEnvironmentBody('acme', 'prod', { ...prod, cidr: '10.20.0.0/8', chain: { ...prod.chain, nodes: [...prod.chain!.nodes!, { id: 'x-1', member: 'acme', role: 'member', instanceType: 'huge' }] }, flowLogRetentionDays: 2 }, []);
    expect('problems' in out).toBe(true);
    const fields = 'problems' in out ? out.problems.map((p) => p.field) : [];
    expect(fields).toEqual(expect.arrayContaining(['body.cidr', 'body.flowLogRetentionDays', 'body.chain.nodes[5].instanceType']));
    for (const p of 'problems' in out ? out.problems : []) expect(p.message).not.toContain('tenants[0]');
  });

  it('refuses unknown fields with a did-you-mean, and an id that is not the path\'s', () => {
    const typo = validateEnvironmentBody('acme', 'prod', { cidr: '10.20.0.0/16', ingres: {} }, []);
    expect(typo).toEqual({ problems: [expect.objectContaining({ field: 'body.ingres', message: expect.stringContaining('did you mean "ingress"') })] });
    const other = validateEnvironmentBody('acme', 'prod', { id: 'dev', cidr: '10.20.0.0/16' }, []);
    expect(other).toEqual({ problems: [{ field: 'body.id', message: expect.stringContaining('set it to "prod"') }] });
    expect(validateEnvironmentBody('acme', 'prod', [1], [])).toEqual({ problems: [expect.objectContaining({ field: 'body' })] });
  });

  it("refuses a CIDR that overlaps one of the tenant's other environments, naming it", () => {
    const out = validateEnvironmentBody('acme', 'prod', { cidr: '10.20.128.0/20' }, [{ environmentId: 'dev', cidr: '10.20.0.0/16' }]);
    expect(out).toEqual({ problems: [{ field: 'body.cidr', message: expect.stringContaining('overlaps environment acme/dev\'s cidr "10.20.0.0/16"') }] });
    // Its own stored CIDR is not an overlap.
    expect('config' in validateEnvironmentBody('acme', 'prod', { cidr: '10.20.0.0/16' }, [{ environmentId: 'prod', cidr: '10.20.0.0/16' }])).toBe(true);
  });
});

describe('mergePatch (RFC 7396)', () => {
  it('merges objects, removes null members, replaces arrays and scalars', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1, 2] }, { b: { c: null, x: 1 }, e: [3], f: 'n' })).toEqual({ a: 1, b: { d: 3, x: 1 }, e: [3], f: 'n' });
    expect(mergePatch({ a: 1 }, ['x'])).toEqual(['x']);
    // RFC 7396 appendix A examples
    expect(mergePatch({ a: 'b' }, { a: 'c' })).toEqual({ a: 'c' });
    expect(mergePatch({ a: [{ b: 'c' }] }, { a: [1] })).toEqual({ a: [1] });
    expect(mergePatch({ e: null }, { a: 1 })).toEqual({ e: null, a: 1 });
    expect(mergePatch([1, 2], { a: 'b', c: null })).toEqual({ a: 'b' });
    expect(mergePatch({}, { a: { bb: { ccc: null } } })).toEqual({ a: { bb: {} } });
  });
});

describe('refusedChanges: guard rails', () => {
  it('allows member nodes in and out, instance types, ingress-free settings, lifetimes', () => {
    const after = withNodes([...prod.chain!.nodes!.filter((n) => n.id !== 'rpc-1'), { id: 'rpc-2', member: 'acme', role: 'member', instanceType: 'm7g.large' }]);
    expect(refusedChanges(prod, after)).toEqual([]);
    expect(refusedChanges(prod, { ...prod, flowLogRetentionDays: 30, ecrEndpoints: true, credentials: { defaultLifetimeDays: 30, maxLifetimeDays: 90 } })).toEqual([]);
    expect(refusedChanges(prod, withNodes(prod.chain!.nodes!.map((n) => (n.id === 'validator-1' ? { ...n, instanceType: 'm7g.xlarge' } : n))))).toEqual([]);
    // Writing a default out is no change.
    expect(refusedChanges({ id: 'dev', cidr: '10.10.0.0/16' }, { id: 'dev', cidr: '10.10.0.0/16', chain: { chainId: 1337, client: 'besu' } as EnvironmentConfig['chain'] })).toEqual([]);
  });

  it('refuses genesis changes, naming the field', () => {
    const reasons = refusedChanges(prod, { ...prod, chain: { ...prod.chain, chainId: 4243, blockPeriodSeconds: 5 } as EnvironmentConfig['chain'] });
    expect(reasons).toEqual([expect.stringMatching(/^chain\.chainId: changing 4242 to 4243 would fork the chain/), expect.stringMatching(/^chain\.blockPeriodSeconds:/)]);
    expect(refusedChanges(prod, { ...prod, chain: { ...prod.chain, client: 'goquorum' } as EnvironmentConfig['chain'] })[0]).toMatch(/^chain\.client:/);
    expect(refusedChanges(prod, { ...prod, chain: { ...prod.chain, prefundedAccounts: [{ address: '0xfe3b557e8fb62b89f4916b721be55ceb828dbd73', balance: '1' }] } as EnvironmentConfig['chain'] })[0]).toMatch(/^chain\.prefundedAccounts:/);
  });

  it('refuses validator set changes (added, removed, promoted) and points at the voting API', () => {
    const added = refusedChanges(prod, withNodes([...prod.chain!.nodes!, { id: 'validator-5', member: 'acme', role: 'validator' }]));
    expect(added).toEqual([expect.stringContaining('+validator-5')]);
    expect(added[0]).toContain('qbft_proposeValidatorVote');
    const five = withNodes([...prod.chain!.nodes!, { id: 'validator-5', member: 'acme', role: 'validator' }]);
    expect(refusedChanges(five, withNodes(five.chain!.nodes!.filter((n) => n.id !== 'validator-4')))).toEqual([expect.stringContaining('-validator-4')]);
    expect(refusedChanges(prod, withNodes(prod.chain!.nodes!.map((n) => (n.id === 'rpc-1' ? { ...n, role: 'validator' } : n))))).toEqual([expect.stringContaining('+rpc-1')]);
  });

  it("refuses moving a node's group (its file system), the network, the account/region and retain -> destroy", () => {
    expect(refusedChanges(prod, withNodes(prod.chain!.nodes!.map((n) => (n.id === 'rpc-1' ? { ...n, group: 'other' } : n))))).toEqual([expect.stringContaining('would replace its file system')]);
    expect(refusedChanges(prod, { ...prod, cidr: '10.30.0.0/16' })).toEqual([expect.stringMatching(/^cidr: .*VPC/)]);
    expect(refusedChanges(prod, { ...prod, region: 'eu-west-2', availabilityZones: ['eu-west-2a', 'eu-west-2b'] })).toHaveLength(2);
    expect(refusedChanges(prod, { ...prod, removalPolicy: 'destroy' })).toEqual([expect.stringContaining('purge=true&confirm=')]);
    expect(refusedChanges({ ...prod, removalPolicy: 'destroy' }, { ...prod, removalPolicy: 'retain' })).toEqual([]);
  });
});

describe('quotas', () => {
  it('refuses too many nodes and instance types outside the list, only for new or changed nodes', () => {
    const q = { maxEnvironmentsPerTenant: 3, maxNodesPerEnvironment: 5, allowedInstanceTypes: ['t4g.medium', 'm7g.large'] };
    expect(quotaRefusals(undefined, withNodes([...prod.chain!.nodes!, { id: 'rpc-2', member: 'acme', role: 'member' }]), q)).toEqual(
      expect.arrayContaining([expect.objectContaining({ limit: 'maxNodesPerEnvironment', message: expect.stringContaining('6 nodes; the quota maxNodesPerEnvironment is 5') })]),
    );
    // rpc-1 (t4g.large) was created before the list was narrowed: unchanged, not refused.
    expect(quotaRefusals(prod, withNodes(prod.chain!.nodes!.map((n) => (n.id === 'validator-1' ? { ...n, instanceType: 'm7g.large' } : n))), q)).toEqual([]);
    expect(quotaRefusals(prod, withNodes(prod.chain!.nodes!.map((n) => (n.id === 'validator-1' ? { ...n, instanceType: 'c7g.large' } : n))), q)).toEqual([
      { limit: 'allowedInstanceTypes', field: 'body.chain.nodes[0].instanceType', message: expect.stringContaining('the quota allowedInstanceTypes is t4g.medium, m7g.large') },
    ]);
    expect(quotaRefusals(undefined, prod, q).map((r) => r.field)).toEqual(['body.chain.nodes[4].instanceType']);
  });

  it('parses CONTROL_PLANE_QUOTAS strictly', () => {
    expect(parseControlPlaneQuotas(undefined)).toEqual(DEFAULT_CONTROL_PLANE_QUOTAS);
    expect(parseControlPlaneQuotas('{"maxEnvironmentsPerTenant":2,"maxNodesPerEnvironment":8,"allowedInstanceTypes":["t4g.medium"]}')).toEqual({ maxEnvironmentsPerTenant: 2, maxNodesPerEnvironment: 8, allowedInstanceTypes: ['t4g.medium'] });
    expect(() => parseControlPlaneQuotas('{"maxEnvironments":2}')).toThrow(/maxEnvironments is not a quota/);
    expect(() => parseControlPlaneQuotas('{"maxNodesPerEnvironment":0}')).toThrow(/maxNodesPerEnvironment must be a whole number/);
    expect(() => parseControlPlaneQuotas('{"allowedInstanceTypes":["huge"]}')).toThrow(/allowedInstanceTypes/);
    expect(() => parseControlPlaneQuotas('nope')).toThrow(/not JSON/);
  });
});

describe('explicitNodes', () => {
  it('writes out the default chain\'s nodes so one can be added', () => {
    expect(explicitNodes(undefined).map((n) => `${n.id}:${n.role}:${n.member}`)).toEqual(['validator-1:validator:default', 'validator-2:validator:default', 'validator-3:validator:default', 'validator-4:validator:default']);
  });

  it('reads CONTROL_PLANE_LOCK_TIMEOUT_SECONDS: whole seconds from 30 minutes to the longest engine + margin; unset -> the longest', () => {
    expect(parseLockTimeoutSeconds('9900')).toBe(9900);
    expect(parseLockTimeoutSeconds(undefined)).toBe(MAX_LOCK_TIMEOUT_SECONDS);
    expect(MAX_LOCK_TIMEOUT_SECONDS).toBe((480 + 90 + 15) * 60);
    for (const bad of ['1799', '35101', '-9900', '9900.5', '9e3', '0x100', 'abc']) expect(() => parseLockTimeoutSeconds(bad)).toThrow(/CONTROL_PLANE_LOCK_TIMEOUT_SECONDS is .*whole seconds from 1800 to 35100/);
  });

  it('a lock expires at lockExpiresAt, or (written before expiry existed) lockTimeout after lockedAt; the abandoned reason names both', () => {
    expect(lockExpiry(undefined, 9900)).toBeUndefined();
    expect(lockExpiry({ lockedAt: '2026-01-01T00:00:00.000Z' }, 9900)).toBeUndefined();
    expect(lockExpiry({ lockDeploymentId: 'd-1', lockedAt: '2026-01-01T00:00:00.000Z', lockExpiresAt: '2026-01-01T02:45:00.000Z' }, 60)?.toISOString()).toBe('2026-01-01T02:45:00.000Z');
    expect(lockExpiry({ lockDeploymentId: 'd-1', lockedAt: '2026-01-01T00:00:00.000Z' }, 9900)?.toISOString()).toBe('2026-01-01T02:45:00.000Z');
    expect(abandonedReason(9900, new Date('2026-01-01T02:45:00.000Z'))).toBe('abandoned: the engine did not report within 165 minutes (lock expired at 2026-01-01T02:45:00.000Z)');
  });
});
