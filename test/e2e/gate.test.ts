import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { JsonRpcProvider, WebSocketProvider, Wallet, parseEther } from 'ethers';
import { Web3 } from 'web3';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../lambda/authorizer/handler';
import { Decision } from '../../lambda/node-gate/decision-cache';
import { createGate } from '../../lambda/node-gate/gate';
import { authorizerEvent, decisionFromAnswer } from '../../lambda/node-gate/lambda-authorizer';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { nodeMetricNamespace } from '../../lib/contracts/metric-names';
import { LocalNode, startGanache } from '../support/ganache';
import { MotoServer, freePort, startMoto } from '../support/moto';

// End to end on this machine: a real local Ethereum node (ganache), the real gate in front of it,
// the real authorizer handler (real argon2id, Secrets Manager on moto) behind it, and the real
// clients, ethers v6 and web3.js v4, given ID:SECRET URLs as users write them.
describe('dApps through the node gate with app credentials', () => {
  let moto: MotoServer;
  let node: LocalNode;
  let gate: ReturnType<typeof createGate>;
  let port: number;
  let service: CredentialService;
  const logs: string[] = [];
  let authorizerDown = false;
  const creds: Record<string, { id: string; secret: string }> = {};
  const url = (c: { id: string; secret: string }, scheme = 'http', path = '/') => `${scheme}://${c.id}:${c.secret}@127.0.0.1:${port}${path}`;

  beforeAll(async () => {
    moto = await startMoto();
    node = await startGanache(1);
    const sm = new SecretsManagerClient(moto.clientConfig);
    service = new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'dev' });
    const pastService = new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'dev', now: () => new Date(Date.now() - 3 * 86_400_000) });
    const otherEnv = new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'prod' });
    const good = await service.create({ memberId: 'acme', description: 'dApp' });
    creds.good = { id: good.credential.id, secret: good.secret };
    const toRevoke = await service.create({ memberId: 'acme' });
    creds.revoked = { id: toRevoke.credential.id, secret: toRevoke.secret };
    await service.revoke(toRevoke.credential.id);
    const expired = await pastService.create({ memberId: 'acme', lifetimeDays: 1 });
    creds.expired = { id: expired.credential.id, secret: expired.secret };
    const globex = await service.create({ memberId: 'globex' });
    creds.otherMember = { id: globex.credential.id, secret: globex.secret };
    const prod = await otherEnv.create({ memberId: 'acme' });
    creds.otherEnvironment = { id: prod.credential.id, secret: prod.secret };
    creds.wrongSecret = { id: good.credential.id, secret: 'A'.repeat(43) };
    creds.unknown = { id: 'bt' + 'a'.repeat(24), secret: good.secret };

    const authorizer = createAuthorizer(service, {
      nodeMembers: { 'validator-1': 'acme', 'globex-1': 'globex' },
      allowTtlMs: 500,
      scope: { tenant: 'acme', environment: 'dev' },
      log: (e) => logs.push(JSON.stringify(e)),
    });
    port = await freePort();
    gate = createGate({
      nodeId: 'validator-1',
      upstreamHttp: node.rpcUrl,
      upstreamWs: node.wsUrl,
      allowTtlMs: 500,
      denyTtlMs: 200,
      revalidateMs: 300,
      log: (e) => logs.push(JSON.stringify(e)),
      authorize: async (authorization, nodeId): Promise<Decision> => {
        if (authorizerDown) throw new Error('authorizer unreachable');
        return decisionFromAnswer(await authorizer.handle(authorizerEvent(authorization, nodeId)));
      },
    });
    await new Promise<void>((r) => gate.server.listen(port, '127.0.0.1', r));
  }, 300_000);

  afterAll(async () => {
    await gate?.close();
    await node?.stop();
    await moto?.stop();
  });

  it('ethers v6 over https-style URL credentials: block number and a transaction', async () => {
    const provider = new JsonRpcProvider(url(creds.good), undefined, { staticNetwork: true });
    expect(await provider.getBlockNumber()).toBeGreaterThanOrEqual(0);
    // A transaction from a funded ganache account, signed client-side (the gate refuses eth_sendTransaction).
    const accounts = (await (await fetch(node.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_accounts', params: [] }) })).json()) as { result: string[] };
    expect(accounts.result.length).toBeGreaterThan(0);
    const funded = new Wallet(Wallet.createRandom().privateKey, provider);
    await (await fetch(node.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'evm_setAccountBalance', params: [funded.address, '0x56BC75E2D63100000'] }) })).json();
    const to = Wallet.createRandom().address;
    const tx = await funded.sendTransaction({ to, value: parseEther('1') });
    const receipt = await tx.wait();
    expect(receipt?.status).toBe(1);
    expect(await provider.getBalance(to)).toBe(parseEther('1'));
    provider.destroy();
  });

  it('web3.js v4 with the same URL: block number', async () => {
    const web3 = new Web3(url(creds.good));
    expect(Number(await web3.eth.getBlockNumber())).toBeGreaterThanOrEqual(0);
  });

  it('eth_subscribe newHeads over wss-style URL credentials receives blocks (ethers and web3)', async () => {
    const provider = new WebSocketProvider(url(creds.good, 'ws', '/ws'));
    const blocks: number[] = [];
    await provider.on('block', (n: number) => blocks.push(n));
    const deadline = Date.now() + 10_000;
    while (blocks.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    await provider.destroy();

    const web3 = new Web3(url(creds.good, 'ws', '/ws'));
    const sub = await web3.eth.subscribe('newBlockHeaders');
    const header = await new Promise<{ number?: unknown }>((resolve, reject) => {
      sub.on('data', (h) => resolve(h as { number?: unknown }));
      sub.on('error', reject);
      setTimeout(() => reject(new Error('no header within 10 s')), 10_000);
    });
    expect(Number(header.number)).toBeGreaterThan(0);
    await web3.provider?.disconnect?.();
  });

  const bad = ['wrongSecret', 'unknown', 'expired', 'revoked', 'otherEnvironment', 'otherMember'] as const;
  it.each(bad)('refuses the %s credential on HTTP (401) and on the WebSocket upgrade', async (which) => {
    const c = creds[which];
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
    });
    expect(res.status).toBe(401);
    const refusal = (await res.json()) as { jsonrpc: string; id: null; error: { code: number; message: string } };
    expect([refusal.id, refusal.error.code, refusal.error.message]).toEqual([null, -32001, expect.stringMatching(/^unauthorized: /)]);
    expect(JSON.stringify(refusal)).not.toContain(c.secret);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url(c, 'ws', '/ws'));
      ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(-1));
    });
    expect(status).toBe(401);
    // And through ethers and web3 as a user would see it: the gate's message, not "invalid json response".
    const provider = new JsonRpcProvider(url(c), undefined, { staticNetwork: true });
    await expect(provider.getBlockNumber()).rejects.toThrow();
    provider.destroy();
    const web3Error = await new Web3(url(c)).eth.getBlockNumber().then(
      () => undefined,
      (e: Error & { cause?: { message?: string } }) => `${e.message} ${e.cause?.message ?? ''}`,
    );
    expect(web3Error).toMatch(/unauthorized: this endpoint needs a valid app credential/);
    expect(web3Error).not.toContain(c.secret);
  });

  it('refuses admin_ and other administrative methods, batch element by element', async () => {
    const post = (body: unknown) =>
      fetch(url(creds.good).replace(/\/\/.*@/, '//'), {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${creds.good.id}:${creds.good.secret}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<unknown>);
    expect(await post({ jsonrpc: '2.0', id: 7, method: 'admin_nodeInfo', params: [] })).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'method admin_nodeInfo is not allowed' } });
    const batch = (await post([
      { jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] },
      { jsonrpc: '2.0', id: 2, method: 'personal_listAccounts', params: [] },
      { jsonrpc: '2.0', id: 3, method: 'net_version', params: [] },
      { jsonrpc: '2.0', id: 4, method: 'eth_sendTransaction', params: [] },
    ])) as { id: number; result?: unknown; error?: { message: string } }[];
    expect(batch.map((b) => b.id)).toEqual([1, 2, 3, 4]);
    expect(batch[0].result).toMatch(/^0x/);
    expect(batch[1].error?.message).toBe('method personal_listAccounts is not allowed');
    expect(batch[2].result).toMatch(/^\d+$/); // ganache's network id
    expect(batch[3].error?.message).toBe('method eth_sendTransaction is not allowed');
    const tooLong = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${creds.good.id}:${creds.good.secret}`).toString('base64')}` },
      body: JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))),
    });
    expect(tooLong.status).toBe(400);
  });

  it('answers /health without a credential and reveals nothing; unknown paths get a JSON-RPC 404', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect([health.status, await health.text()]).toEqual([200, 'ok']);
    const missing = await fetch(`http://127.0.0.1:${port}/admin`);
    expect([missing.status, ((await missing.json()) as { error: { code: number } }).error.code]).toEqual([404, -32600]);
  });

  it('keeps serving cached allows while the authorizer is unreachable, refuses new credentials', async () => {
    const fresh = await service.create({ memberId: 'acme' });
    const provider = new JsonRpcProvider(url(creds.good), undefined, { staticNetwork: true });
    await provider.getBlockNumber(); // warm
    authorizerDown = true;
    try {
      await new Promise((r) => setTimeout(r, 700)); // past the allow TTL: the gate must ask again
      expect(await provider.getBlockNumber()).toBeGreaterThanOrEqual(0);
      const res = await fetch(`http://127.0.0.1:${port}/`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${fresh.credential.id}:${fresh.secret}`).toString('base64')}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' }),
      });
      expect(res.status).toBe(503);
    } finally {
      authorizerDown = false;
      provider.destroy();
    }
  });

  // Shortened cache times here (a fast functional check); test/e2e/gate-process.test.ts measures
  // the revocation bound with the production ones.
  it('revocation closes a live subscription within the (shortened) TTL', async () => {
    const c = await service.create({ memberId: 'acme' });
    const ws = new WebSocket(url({ id: c.credential.id, secret: c.secret }, 'ws', '/ws'));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }));
    const heads: unknown[] = [];
    ws.on('message', (m) => heads.push(JSON.parse(m.toString())));
    await new Promise((r) => setTimeout(r, 1500));
    expect(heads.length).toBeGreaterThan(1);
    const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() })));
    const revokedAt = Date.now();
    await service.revoke(c.credential.id);
    const { code, at } = await closed;
    expect(code).toBe(1008);
    expect(at - revokedAt).toBeLessThan(3000);
  });

  it('publishes gate latency and cache hits / misses to CloudWatch (moto)', async () => {
    const cw = new CloudWatchClient(moto.clientConfig);
    const data = gate.metrics.drain({ tenantId: 'acme', environmentId: 'dev', nodeId: 'validator-1' }, gate.cache);
    const byName = Object.fromEntries(data.map((d) => [d.MetricName, d]));
    expect(byName.GateCacheHits.Value).toBeGreaterThan(0);
    expect(byName.GateCacheMisses.Value).toBeGreaterThan(0);
    expect((byName.GateLatency.Counts ?? []).reduce((a: number, b: number) => a + b, 0)).toBeGreaterThan(10);
    await gate.metrics.publish(cw, data, nodeMetricNamespace('acme', 'dev'));
    const listed = await cw.send(new ListMetricsCommand({ Namespace: 'BlockchainTenancy/acme/dev' }));
    expect([...new Set((listed.Metrics ?? []).map((m) => m.MetricName))].sort()).toEqual(['GateCacheHits', 'GateCacheMisses', 'GateLatency']);
    // The next interval starts from zero.
    expect(gate.metrics.drain({ tenantId: 'acme', environmentId: 'dev', nodeId: 'validator-1' }, gate.cache).find((d) => d.MetricName === 'GateCacheHits')!.Value).toBe(0);
  });

  it('never logs a secret', () => {
    const all = logs.join('\n');
    for (const c of Object.values(creds)) expect(all).not.toContain(c.secret);
    expect(all).toContain('"outcome":"revoked"');
    // The decision lines carry what the AuthorizerDenies metric filter reads.
    expect(all).toMatch(/\{"msg":"authorize","tenant":"acme","environment":"dev","outcome":"revoked"/);
  });
});
