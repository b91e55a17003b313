import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { describeFetchError } from '../../bin/cli';
import { BlockchainClient, ConsensusProtocol, NodeRole, parseTenantsConfig } from '../../lib';
import { localChainFor } from '../../lib/local/local-environment';
import { selectEnvironment } from '../../lib/local/local-command';

const config = parseTenantsConfig({
  tenants: [
    { id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16' }, { id: 'qa', cidr: '10.11.0.0/16', chain: { client: 'geth', consensus: 'clique', nodes: [{ id: 'signer-1', member: 'default', role: 'validator' }] } }] },
    { id: 'globex', environments: [{ id: 'prod', cidr: '10.12.0.0/16', chain: { client: 'besu', consensus: 'qbft', chainId: 4242, blockPeriodSeconds: 5, members: [{ id: 'globex' }, { id: 'initech' }], nodes: [1, 2, 3, 4].map((i) => ({ id: `v-${i}`, member: i < 3 ? 'globex' : 'initech', role: 'validator' })).concat([{ id: 'rpc-1', member: 'initech', role: 'member' }]) } }] },
  ],
});

describe('the local environment of a config environment', () => {
  it('is not loaded by importing the library (it starts processes and loads the AWS SDK)', () => {
    const script = "require('./lib'); const k = Object.keys(require.cache); console.log(JSON.stringify([k.filter((x) => x.includes('/lib/local/')).length, k.some((x) => x.endsWith('/lib/index.ts'))]))";
    expect(JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' }))).toEqual([0, true]);
  });

  it('picks the first tenant and environment by default, or the named ones; refuses unknown ids listing the known', () => {
    expect(selectEnvironment(config)).toMatchObject({ tenantId: 'acme', environmentId: 'dev' });
    expect(selectEnvironment(config, 'acme', 'qa')).toMatchObject({ tenantId: 'acme', environmentId: 'qa' });
    expect(selectEnvironment(config, 'globex')).toMatchObject({ tenantId: 'globex', environmentId: 'prod' });
    expect(() => selectEnvironment(config, 'initech')).toThrow('--tenant initech: no such tenant in the config; its tenants are acme, globex');
    expect(() => selectEnvironment(config, 'acme', 'prod')).toThrow('--env prod: tenant acme has no such environment; its environments are dev, qa');
  });

  it('runs a geth environment as configured, with nothing substituted', () => {
    const local = localChainFor(selectEnvironment(config, 'acme', 'qa').environment);
    expect(local.substitution).toBeUndefined();
    expect(local.chain).toMatchObject({ client: BlockchainClient.GETH, consensus: ConsensusProtocol.CLIQUE, nodes: [expect.objectContaining({ id: 'signer-1' })] });
  });

  it('runs a Besu environment on geth Clique with the same nodes, members, roles, chain id and block period, and says so', () => {
    const local = localChainFor(selectEnvironment(config, 'globex', 'prod').environment);
    expect(local.chain).toMatchObject({ client: BlockchainClient.GETH, consensus: ConsensusProtocol.CLIQUE, chainId: 4242, blockPeriodSeconds: 5 });
    expect(local.chain.nodes.map((n) => [n.id, n.member, n.role])).toEqual([
      ['v-1', 'globex', NodeRole.VALIDATOR],
      ['v-2', 'globex', NodeRole.VALIDATOR],
      ['v-3', 'initech', NodeRole.VALIDATOR],
      ['v-4', 'initech', NodeRole.VALIDATOR],
      ['rpc-1', 'initech', NodeRole.MEMBER],
    ]);
    expect(local.substitution).toBe(
      "the environment runs besu + qbft in AWS, which does not run on this machine; locally its 5 node(s) (same ids, members and roles), chain id 4242 and 5 s blocks run on geth 1.13.15 with Clique instead. Credentials, URLs and refusals are the same as in AWS; genesis, consensus, fork rules and gas pricing are geth's.",
    );
    // The default environment (Besu + QBFT, 4 validators of member "default") likewise.
    expect(localChainFor(selectEnvironment(config).environment)).toMatchObject({ chain: { client: BlockchainClient.GETH, nodes: [{ id: 'validator-1' }, { id: 'validator-2' }, { id: 'validator-3' }, { id: 'validator-4' }] }, substitution: expect.stringContaining('besu + qbft') });
  });
});

describe('describeFetchError (what the CLI prints instead of "fetch failed")', () => {
  const url = new URL('https://api.example.com/v1');
  const failed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });
  it.each([
    [failed(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED', address: '10.0.0.1', port: 443 })), /refused the connection \(ECONNREFUSED 10\.0\.0\.1:443\)/],
    [failed(Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED', address: '::1', port: 443 })]), { code: 'ECONNREFUSED' })), /ECONNREFUSED ::1:443/],
    [failed(Object.assign(new Error('getaddrinfo ENOTFOUND api.example.com'), { code: 'ENOTFOUND', hostname: 'api.example.com' })), /the host name api\.example\.com does not resolve \(ENOTFOUND\)/],
    [failed(Object.assign(new Error('getaddrinfo EAI_AGAIN api.example.com'), { code: 'EAI_AGAIN', hostname: 'api.example.com' })), /does not resolve \(EAI_AGAIN: DNS did not answer\)/],
    [failed(Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })), /TLS with https:\/\/api\.example\.com failed \(ERR_TLS_CERT_ALTNAME_INVALID: Hostname\/IP does not match/],
    [failed(Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' })), /TLS .* failed \(CERT_HAS_EXPIRED/],
    [Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), /did not answer in time \(TimeoutError\)/],
    [failed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), /closed the connection \(UND_ERR_SOCKET\)/],
    [failed(Object.assign(new Error('something new'), { code: 'EWHATEVER' })), /is unreachable \(EWHATEVER: something new\)/],
  ])('explains %s', (error, message) => {
    const text = describeFetchError(error, url);
    expect(text).toMatch(message);
    expect(text).not.toContain('fetch failed');
    expect(text).toMatch(/check|NODE_EXTRA_CA_CERTS/);
  });
});
