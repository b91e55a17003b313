import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { CloudWatchClient, GetMetricStatisticsCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { JsonRpcProvider, WebSocketProvider, Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Web3 } from 'web3';
import WebSocket from 'ws';
import { MetricDimensions, NodeMetrics, nodeMetricNamespace } from '../../lib/contracts/metric-names';
import { encodeNodeMembers } from '../../lib/contracts/node-members';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { LocalLambda, serveLocalLambda } from '../../lib/local/local-lambda';
import { AUTHORIZER_ALLOW_TTL_SECONDS, GATE_ALLOW_TTL_SECONDS, REVOCATION_BOUND_SECONDS, REVOCATION_CHECK_SECONDS } from '../../lib/contracts/revocation';
import { allowedMethods } from '../../lib/contracts/rpc-policy';
import { GateProcess, gateImpl, startGateProcess } from '../support/gate-process';
import { LocalNode, startGanacheOn } from '../support/ganache';
import { HostileCase, hostileCases, prng } from '../support/hostile-json-rpc';
import { MotoServer, envFor, freePort, startMoto } from '../support/moto';
import { RecordingNode, startRecordingNode } from '../support/recording-node';

// Gate contract (README "Testing"): runs against GATE_IMPL=node|go.
// The gate as users run it: its own process, configured by its environment, calling the REAL
// authorizer handler (lambda/authorizer/index.ts: argon2id against Secrets Manager on moto)
// through the Lambda Invoke API, with ganache behind a recording front that shows what reached
// the node, and publishing its metrics to CloudWatch on moto. Production cache times and limits
// throughout: nothing here is shortened.
const DAY_MS = 86_400_000;
const basic = (c: { id: string; secret: string }) => `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

describe('the gate process with the real authorizer: credentials, revocation, outage, hostile input, health, metrics', () => {
  let moto: MotoServer;
  let ganache: LocalNode;
  let ganachePort: number;
  let node: RecordingNode;
  let lambda: LocalLambda;
  let lambdaPort: number;
  let gate: GateProcess;
  let service: CredentialService;
  let sm: SecretsManagerClient;
  let auth: string;
  /** When set, the authorizer function fails (Lambda answers with FunctionError: Unhandled). */
  let authorizerFails = false;
  const authorizerLogs: string[] = [];
  const secrets: string[] = [];
  const creds: Record<string, { id: string; secret: string }> = {};
  const allowed = new Set(allowedMethods());
  let functions: Parameters<typeof serveLocalLambda>[0];

  beforeAll(async () => {
    moto = await startMoto();
    ganachePort = await freePort();
    ganache = await startGanacheOn(ganachePort, 1);
    node = await startRecordingNode(ganache);
    // The authorizer Lambda's environment as CredentialStore writes it.
    Object.assign(process.env, envFor(moto.endpoint), {
      TENANT_ID: 'acme',
      ENVIRONMENT_ID: 'dev',
      NODE_MEMBERS: encodeNodeMembers({ 'validator-1': 'acme', 'globex-1': 'globex' }),
      ALLOW_TTL_SECONDS: String(AUTHORIZER_ALLOW_TTL_SECONDS),
    });
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void authorizerLogs.push(String(line)));
    const { handler } = await import('../../lambda/authorizer/index');
    functions = {
      'acme-dev-authorizer': async (event) => {
        if (authorizerFails) throw new Error('authorizer down');
        return handler(event as Parameters<typeof handler>[0]);
      },
    };
    lambdaPort = await freePort();
    lambda = await serveLocalLambda(functions, lambdaPort);
    sm = new SecretsManagerClient(moto.clientConfig);
    service = new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'dev' });
    const c = await service.create({ memberId: 'acme', description: 'fuzz' });
    creds.good = { id: c.credential.id, secret: c.secret };
    auth = basic(creds.good);
    // The credentials a gate must refuse.
    const toRevoke = await service.create({ memberId: 'acme' });
    creds.revoked = { id: toRevoke.credential.id, secret: toRevoke.secret };
    await service.revoke(toRevoke.credential.id);
    const expired = await new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'dev', now: () => new Date(Date.now() - 3 * DAY_MS) }).create({ memberId: 'acme', lifetimeDays: 1 });
    creds.expired = { id: expired.credential.id, secret: expired.secret };
    const globex = await service.create({ memberId: 'globex' });
    creds.otherMember = { id: globex.credential.id, secret: globex.secret };
    const prod = await new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'prod' }).create({ memberId: 'acme' });
    creds.otherEnvironment = { id: prod.credential.id, secret: prod.secret };
    creds.wrongSecret = { id: c.credential.id, secret: 'A'.repeat(43) };
    creds.unknown = { id: 'bt' + 'a'.repeat(24), secret: c.secret };
    for (const v of Object.values(creds)) secrets.push(v.secret);
    gate = await startGateProcess({
      nodeId: 'validator-1',
      authorizerFunction: 'acme-dev-authorizer',
      lambdaEndpoint: lambda.endpoint,
      upstreamHttp: node.rpcUrl,
      upstreamWs: node.wsUrl,
      // As the node's gate.env has it; its metrics go to CloudWatch on moto.
      extra: { BT_TENANT: 'acme', BT_ENVIRONMENT: 'dev', RPC_CLIENT: 'geth', AWS_ENDPOINT_URL_CLOUDWATCH: moto.endpoint },
    });
  }, 180_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    await gate?.stop();
    await lambda?.close();
    await node?.stop();
    await ganache?.stop();
    await moto?.stop();
  });

  /** A well-formed JSON-RPC answer: a response object, or a non-empty array of them. */
  const wellFormed = (text: string): boolean => {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return false;
    }
    const one = (a: unknown) => {
      if (!a || typeof a !== 'object' || Array.isArray(a)) return false;
      const o = a as Record<string, unknown>;
      // (ganache also answers notifications, without an id)
      return o.jsonrpc === '2.0' && ('result' in o) !== ('error' in o) && (!('error' in o) || typeof (o.error as { message?: unknown })?.message === 'string');
    };
    return Array.isArray(v) ? v.length > 0 && v.every(one) : one(v);
  };
  const call = (authorization: string | undefined, body = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}') =>
    fetch(`${gate.url}/`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) }, body }).then(async (res) => ({
      status: res.status,
      headers: res.headers,
      text: await res.text(),
    }));
  /** The status of a WebSocket upgrade (101 when it opened; the socket is closed again). */
  const upgradeStatus = (headers: Record<string, string>, url = `ws://127.0.0.1:${gate.port}/ws`) =>
    new Promise<{ status: number; body: string }>((resolve) => {
      const ws = new WebSocket(url, { headers });
      ws.on('unexpected-response', (_req, r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      ws.on('open', () => {
        ws.close();
        resolve({ status: 101, body: '' });
      });
      ws.on('error', () => resolve({ status: -1, body: '' }));
    });
  const openWs = async (authorization: string) => {
    const ws = new WebSocket(`ws://127.0.0.1:${gate.port}/ws`, { headers: { authorization } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return ws;
  };

  it('serves ethers v6 and web3.js v4 with URL credentials over HTTP and WebSocket (a client-signed transaction, newHeads)', async () => {
    const url = (scheme: string, path: string) => `${scheme}://${creds.good.id}:${creds.good.secret}@127.0.0.1:${gate.port}${path}`;
    const provider = new JsonRpcProvider(url('http', '/'), undefined, { staticNetwork: true, pollingInterval: 250 });
    expect(await provider.getBlockNumber()).toBeGreaterThanOrEqual(0);
    // Funded directly on ganache; signed client-side (the gate refuses eth_sendTransaction).
    const funded = new Wallet(Wallet.createRandom().privateKey, provider);
    await fetch(ganache.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'evm_setAccountBalance', params: [funded.address, '0x56BC75E2D63100000'] }) });
    const to = Wallet.createRandom().address;
    expect((await (await funded.sendTransaction({ to, value: parseEther('1') })).wait())?.status).toBe(1);
    expect(await provider.getBalance(to)).toBe(parseEther('1'));
    provider.destroy();
    expect(Number(await new Web3(url('http', '/')).eth.getBlockNumber())).toBeGreaterThanOrEqual(0);

    const ws = new WebSocketProvider(url('ws', '/ws'));
    const blocks: number[] = [];
    await ws.on('block', (n: number) => blocks.push(n));
    for (let i = 0; i < 100 && blocks.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    await ws.destroy();
    const web3 = new Web3(url('ws', '/ws'));
    const sub = await web3.eth.subscribe('newBlockHeaders');
    const header = await new Promise<{ number?: unknown }>((resolve, reject) => {
      sub.on('data', (h) => resolve(h as { number?: unknown }));
      sub.on('error', reject);
      setTimeout(() => reject(new Error('no header within 10 s')), 10_000);
    });
    expect(Number(header.number)).toBeGreaterThan(0);
    await web3.provider?.disconnect?.();
  }, 60_000);

  const refused = ['wrongSecret', 'unknown', 'expired', 'revoked', 'otherEnvironment', 'otherMember'] as const;
  it.each(refused)('refuses the %s credential on HTTP and on the WebSocket upgrade (401, JSON-RPC body, no secret), as ethers and web3 show it', async (which) => {
    const c = creds[which];
    const r = await call(basic(c));
    expect([r.status, r.headers.get('www-authenticate')]).toEqual([401, 'Basic realm="blockchain", charset="UTF-8"']);
    const refusal = JSON.parse(r.text) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
    expect([refusal.jsonrpc, refusal.id, refusal.error.code, refusal.error.message]).toEqual(['2.0', null, -32001, expect.stringMatching(/^unauthorized: /)]);
    expect(r.text).not.toContain(c.secret);
    const up = await upgradeStatus({ authorization: basic(c) });
    expect(up.status).toBe(401);
    expect(JSON.parse(up.body).error.code).toBe(-32001);
    const provider = new JsonRpcProvider(`http://${c.id}:${c.secret}@127.0.0.1:${gate.port}/`, undefined, { staticNetwork: true });
    await expect(provider.getBlockNumber()).rejects.toThrow();
    provider.destroy();
    const web3Error = await new Web3(`http://${c.id}:${c.secret}@127.0.0.1:${gate.port}/`).eth.getBlockNumber().then(
      () => undefined,
      (e: Error & { cause?: { message?: string } }) => `${e.message} ${e.cause?.message ?? ''}`,
    );
    expect(web3Error).toMatch(/unauthorized: this endpoint needs a valid app credential/);
    expect(web3Error).not.toContain(c.secret);
  });

  it('refuses a missing or malformed Authorization header on HTTP and on the upgrade with 401 and a JSON-RPC body', async () => {
    const malformed = [
      undefined,
      '',
      'Bearer abc',
      'Basic',
      'Basic !!!not-base64!!!',
      `Basic ${Buffer.from('no-colon-here').toString('base64')}`,
      `Basic ${Buffer.from(`${creds.good.id}:`).toString('base64')}`,
      `Basic ${Buffer.from(`:${creds.good.secret}`).toString('base64')}`,
      `basic ${Buffer.from(`${creds.good.id}:${creds.good.secret}x`).toString('base64')}`,
      `Basic ${Buffer.from(`${creds.good.id}:${creds.good.secret}`).toString('base64')}${'A'.repeat(4000)}`,
      `Basic ${Buffer.from(`${'\u0000'.repeat(10)}:${'\u00ff'.repeat(10)}`).toString('base64')}`,
    ];
    const before = node.methods.length;
    for (const a of malformed) {
      const r = await call(a);
      expect([a?.slice(0, 30), r.status, wellFormed(r.text), JSON.parse(r.text).error.code]).toEqual([a?.slice(0, 30), 401, true, -32001]);
      expect((await upgradeStatus(a === undefined ? {} : { authorization: a })).status).toBe(401);
    }
    expect(node.methods.length).toBe(before);
  });

  it('survives thousands of hostile HTTP bodies and WebSocket frames with a valid credential; no refused method reaches the node', async () => {
    const started = Date.now();
    const before = node.methods.length;
    const cases = hostileCases(20261129, 3000);
    const http = cases.slice(0, 1800);
    const frames = cases.slice(1800);
    const problems: string[] = [];
    const statuses = new Map<number, number>();

    // HTTP, 6 at a time.
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < http.length; i = next++) {
        const c = http[i];
        const res = await fetch(`${gate.url}/`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: c.bytes });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (![200, 400, 413].includes(res.status)) problems.push(`HTTP ${res.status} for ${c.kind}`);
        if (!wellFormed(text)) problems.push(`HTTP ${res.status} ${c.kind}: not JSON-RPC: ${text.slice(0, 120)}`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, lane));
    if (process.env.FUZZ_DEBUG) console.error('http phase', Date.now() - started);

    // WebSocket: text, binary and fragmented frames on a few sockets; a socket the gate closes
    // (invalid UTF-8: 1007, over the cap: 1009) is replaced.
    const r = prng(7);
    let ws: WebSocket | undefined;
    let answers = 0;
    const closes = new Map<number, number>();
    const open = async () => {
      const s = new WebSocket(`ws://127.0.0.1:${gate.port}/ws`, { headers: { authorization: auth }, maxPayload: 64 * 1024 * 1024 });
      await new Promise((resolve, reject) => {
        s.once('open', resolve);
        s.once('error', reject);
      });
      s.on('message', (m) => {
        answers++;
        if (!wellFormed(m.toString())) problems.push(`WS message not JSON-RPC: ${m.toString().slice(0, 120)}`);
      });
      s.on('close', (code) => closes.set(code, (closes.get(code) ?? 0) + 1));
      s.on('error', () => undefined);
      return s;
    };
    const send = async (s: WebSocket, c: HostileCase) => {
      const mode = r();
      if (mode < 0.1) s.send(c.bytes, { binary: true });
      else if (mode < 0.25 && c.bytes.length > 4) {
        // Fragmented: the message in three frames.
        const a = Math.floor(c.bytes.length / 3);
        s.send(c.bytes.subarray(0, a), { fin: false, binary: false });
        s.send(c.bytes.subarray(a, 2 * a), { fin: false });
        s.send(c.bytes.subarray(2 * a), { fin: true });
      } else s.send(c.bytes, { binary: false });
      await new Promise((res) => setImmediate(res));
    };
    // Frames the gate must close on (invalid UTF-8 in a text frame: 1007; over 1 MiB: 1009) each
    // get a socket of their own, so later frames are not sent into a closing one.
    const closing = (c: HostileCase) => c.bytes.length > 1024 * 1024 || !isUtf8(c.bytes);
    let expectedAnswers = 0;
    for (const c of frames) {
      if (closing(c)) {
        if (r() < 0.5) {
          const own = await open();
          const code = new Promise<number>((res) => own.once('close', res));
          own.send(c.bytes, { binary: false });
          const got = await code;
          if (got !== (c.bytes.length > 1024 * 1024 ? 1009 : 1007)) problems.push(`WS ${c.kind}: closed with ${got}`);
        } else {
          // As a binary frame: refused with an answer, the socket stays.
          if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open();
          if (c.bytes.length <= 1024 * 1024) {
            ws.send(c.bytes, { binary: true });
            expectedAnswers++;
          }
        }
        continue;
      }
      if (!ws || ws.readyState !== WebSocket.OPEN) ws = await open();
      await send(ws, c);
      expectedAnswers++;
    }
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && answers < expectedAnswers * 0.8) await new Promise((res) => setTimeout(res, 50));
    ws?.close();
    if (process.env.FUZZ_DEBUG) console.error('ws phase', Date.now() - started, answers, expectedAnswers, [...closes]);

    // The process is alive, nothing escaped a request path, and it still serves.
    expect(gate.process.exitCode).toBeNull();
    expect(gate.output()).not.toMatch(/uncaught|unhandled|panic/i);
    const ok = await call(auth, '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}');
    expect(JSON.parse(ok.text)).toEqual({ jsonrpc: '2.0', id: 1, result: '0x539' });
    expect(problems.slice(0, 10)).toEqual([]);
    // Every kind of answer happened, and many calls did reach the node ...
    expect([...statuses.keys()].sort()).toEqual([200, 400, 413]);
    // (allowed notifications get no answer from a node that follows the spec)
    expect(answers).toBeGreaterThan(expectedAnswers * 0.8);
    const reached = node.methods.slice(before);
    expect(reached.length).toBeGreaterThan(500);
    // ... but only allowed ones, and nothing that was not JSON.
    expect([...new Set(reached.filter((m) => !allowed.has(m)))]).toEqual([]);
    expect(node.unparsed()).toBe(0);
    // Bounded time (a benchmark measures speed; this only keeps the suite fast).
    expect(Date.now() - started).toBeLessThan(120_000);
  }, 180_000);

  it(`a revoked credential, and one that expires, stop working within ${REVOCATION_BOUND_SECONDS} s over HTTP and on an open WebSocket (production cache times)`, async () => {
    /** How long after `from` a credential stopped working over HTTP and on its open WebSocket. */
    const watch = async (header: string, ws: WebSocket, from: () => number) => {
      const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() })));
      let httpStoppedAt = 0;
      const limit = Date.now() + (REVOCATION_BOUND_SECONDS + 40) * 1000;
      while (!httpStoppedAt && Date.now() < limit) {
        if ((await call(header)).status === 401) httpStoppedAt = Date.now();
        else await new Promise((res) => setTimeout(res, 250));
      }
      const wsClosed = await Promise.race([closed, new Promise<{ code: number; at: number }>((res) => setTimeout(() => res({ code: -1, at: Date.now() }), Math.max(0, limit - Date.now())))]);
      return { http: httpStoppedAt ? (httpStoppedAt - from()) / 1000 : Infinity, ws: (wsClosed.at - from()) / 1000, code: wsClosed.code };
    };
    const subscribe = async (header: string) => {
      expect((await call(header)).status).toBe(200); // both caches hold the allow now
      const ws = await openWs(header);
      ws.send('{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}');
      return ws;
    };

    // Revoked: revoke after the caches have aged a little, as they would in use.
    const revocable = await service.create({ memberId: 'acme' });
    secrets.push(revocable.secret);
    const revocableHeader = basic({ id: revocable.credential.id, secret: revocable.secret });
    const revocableWs = await subscribe(revocableHeader);
    // Expiring: a real credential issued (almost) a day ago with a one-day lifetime, so it expires
    // in 20 s, while the gate and the authorizer hold allows for it.
    const expiresAt = Date.now() + 20_000;
    const expiring = await new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'dev', now: () => new Date(expiresAt - DAY_MS) }).create({ memberId: 'acme', lifetimeDays: 1 });
    secrets.push(expiring.secret);
    const expiringHeader = basic({ id: expiring.credential.id, secret: expiring.secret });
    const expiringWs = await subscribe(expiringHeader);
    await new Promise((res) => setTimeout(res, 3_000));
    expect((await call(revocableHeader)).status).toBe(200);
    const revokedAt = Date.now();
    await service.revoke(revocable.credential.id);
    const [revoked, expired] = await Promise.all([watch(revocableHeader, revocableWs, () => revokedAt), watch(expiringHeader, expiringWs, () => expiresAt)]);
    if (process.env.GATE_TEST_REPORT) console.error(`revocation: HTTP ${revoked.http} s, WebSocket ${revoked.ws} s; expiry: HTTP ${expired.http} s, WebSocket ${expired.ws} s`);
    expect(revoked.http).toBeLessThanOrEqual(REVOCATION_BOUND_SECONDS);
    expect(revoked.code).toBe(1008);
    expect(revoked.ws).toBeLessThanOrEqual(REVOCATION_BOUND_SECONDS);
    // Allows are never cached past a credential's expiry: HTTP stops at once (one retry interval);
    // open WebSockets are closed at the next re-check, within the gate's allow TTL and one check.
    expect(expired.http).toBeLessThanOrEqual(1);
    expect(expired.code).toBe(1008);
    expect(expired.ws).toBeLessThanOrEqual(GATE_ALLOW_TTL_SECONDS + REVOCATION_CHECK_SECONDS);
  }, 120_000);

  it('fails closed while the authorizer is down (new credentials: 503 with a JSON-RPC error; known credentials and their open WebSockets keep serving past the allow TTL) and recovers when it returns', async () => {
    const warm = await service.create({ memberId: 'acme' });
    const fresh = await service.create({ memberId: 'acme' });
    secrets.push(warm.secret, fresh.secret);
    const warmHeader = basic({ id: warm.credential.id, secret: warm.secret });
    const freshHeader = basic({ id: fresh.credential.id, secret: fresh.secret });
    expect((await call(warmHeader)).status).toBe(200);
    const before = node.methods.length;
    const expectUnavailable = async () => {
      const r = await call(freshHeader);
      expect([r.status, r.headers.get('retry-after'), wellFormed(r.text)]).toEqual([503, '5', true]);
      expect(JSON.parse(r.text)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32002, message: 'the credential check is unavailable; try again in a few seconds' } });
      expect((await upgradeStatus({ authorization: freshHeader })).status).toBe(503);
      expect((await call(warmHeader)).status).toBe(200);
    };
    // The authorizer function fails.
    authorizerFails = true;
    try {
      await expectUnavailable();
    } finally {
      authorizerFails = false;
    }
    // The Lambda endpoint is gone altogether (connections refused), longer than the gate trusts an
    // allow: an open WebSocket of a known credential stays open through its re-checks, and that
    // credential's HTTP calls keep working from the stale allow.
    const ws = await openWs(warmHeader);
    const wsAnswers: string[] = [];
    ws.on('message', (m) => wsAnswers.push(m.toString()));
    let wsClosed = false;
    ws.on('close', () => (wsClosed = true));
    await lambda.close();
    try {
      await expectUnavailable();
      await new Promise((r) => setTimeout(r, (GATE_ALLOW_TTL_SECONDS + 2) * 1000));
      await expectUnavailable();
      ws.send('{"jsonrpc":"2.0","id":"during-outage","method":"eth_chainId"}');
      for (let i = 0; i < 50 && wsAnswers.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect([wsClosed, wsAnswers.map((a) => JSON.parse(a) as unknown)]).toEqual([false, [{ jsonrpc: '2.0', id: 'during-outage', result: '0x539' }]]);
    } finally {
      lambda = await serveLocalLambda(functions, lambdaPort);
      ws.close();
    }
    // Nothing of the fresh credential reached the node; once the authorizer answers, it works.
    expect(node.methods.length - before).toBe(4); // the warm credential's calls
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await call(freshHeader)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    expect((await upgradeStatus({ authorization: freshHeader })).status).toBe(101);
  }, 60_000);

  it('answers every refusal with a JSON-RPC error body that never contains the credential', async () => {
    const wrong = `Basic ${Buffer.from(`${'bt' + 'a'.repeat(24)}:${'S'.repeat(43)}`).toString('base64')}`;
    const cases: [string, RequestInit, number][] = [
      ['/', { method: 'POST', body: '{}' }, 401],
      ['/', { method: 'POST', headers: { authorization: wrong }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' }, 401],
      ['/', { method: 'GET', headers: { authorization: auth } }, 405],
      ['/admin', { method: 'POST', headers: { authorization: auth }, body: '{}' }, 404],
      ['/', { method: 'POST', headers: { authorization: auth }, body: 'x'.repeat(1024 * 1024 + 1) }, 413],
      ['/', { method: 'POST', headers: { authorization: auth }, body: '{"jsonrpc":' }, 400],
    ];
    for (const [path, init, status] of cases) {
      const res = await fetch(`${gate.url}${path}`, init);
      const text = await res.text();
      expect([res.status, res.headers.get('content-type'), wellFormed(text)]).toEqual([status, 'application/json', true]);
      for (const s of [...secrets, 'S'.repeat(43)]) expect(text).not.toContain(s);
    }
    const logs = gate.output() + authorizerLogs.join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
    // The authorizer's decision lines carry what the AuthorizerDenies metric filter reads.
    expect(authorizerLogs.join('\n')).toMatch(/\{"msg":"authorize","tenant":"acme","environment":"dev","outcome":"revoked"/);
  });

  it('reports /health unhealthy while the client is down and healthy again when it returns (no credential, nothing revealed)', async () => {
    const health = async () => {
      const res = await fetch(`${gate.url}/health`);
      return { status: res.status, text: await res.text() };
    };
    expect(await health()).toEqual({ status: 200, text: 'ok' });
    await ganache.stop();
    let down = { status: 0, text: '' };
    for (let i = 0; i < 40 && down.status !== 503; i++) {
      await new Promise((res) => setTimeout(res, 250));
      down = await health();
    }
    expect(down.status).toBe(503);
    expect(JSON.parse(down.text)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32005, message: 'not ready' } });
    ganache = await startGanacheOn(ganachePort, 1);
    let up = { status: 0, text: '' };
    for (let i = 0; i < 40 && up.status !== 200; i++) {
      await new Promise((res) => setTimeout(res, 250));
      up = await health();
    }
    expect(up).toEqual({ status: 200, text: 'ok' });
    expect(gate.process.exitCode).toBeNull();
  }, 60_000);

  // ADR 10: the compiled gate keeps the Go runtime's monitor out of its deep sleep (GODEBUG
  // schedtrace with the longest period), re-executing itself once at start to set it.
  it.runIf(gateImpl() === 'go')('the compiled gate runs with its runtime setting: re-executed in place (same process id, still serving), GODEBUG schedtrace, no scheduler lines', async () => {
    const environ = readFileSync(`/proc/${gate.process.pid}/environ`, 'utf8').split('\0');
    expect(environ.filter((e) => e.startsWith('GODEBUG='))).toEqual(['GODEBUG=schedtrace=2147483647']);
    expect((await call(undefined)).status).toBe(401);
    // The runtime writes its scheduler line once a period (24.8 days of host uptime).
    const upDays = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) / 86_400;
    const schedLines = gate.output().split('\n').filter((l) => l.startsWith('SCHED'));
    expect(schedLines.length).toBeLessThanOrEqual(upDays >= 24.8 ? 1 : 0);
  });

  it('publishes what it counted when stopped, long before its one-minute interval (SIGTERM: flush, exit 0)', async () => {
    // A gate of its own, in an environment namespace of its own, stopped seconds after it started:
    // whatever reaches CloudWatch was published by the flush on SIGTERM.
    const short = await startGateProcess({
      nodeId: 'validator-1',
      authorizerFunction: 'acme-dev-authorizer',
      lambdaEndpoint: lambda.endpoint,
      upstreamHttp: node.rpcUrl,
      upstreamWs: node.wsUrl,
      extra: { BT_TENANT: 'acme', BT_ENVIRONMENT: 'flush', AWS_ENDPOINT_URL_CLOUDWATCH: moto.endpoint },
    });
    const started = Date.now();
    for (let i = 0; i < 25; i++) expect((await fetch(`${short.url}/`, { method: 'POST', headers: { authorization: auth }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' })).status).toBe(200);
    expect(await short.stop()).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(30_000);
    const cw = new CloudWatchClient(moto.clientConfig);
    const dimensions = [
      { Name: MetricDimensions.TENANT, Value: 'acme' },
      { Name: MetricDimensions.ENVIRONMENT, Value: 'flush' },
      { Name: MetricDimensions.NODE, Value: 'validator-1' },
    ];
    const stat = async (name: string, statistic: 'Sum' | 'SampleCount') => {
      const out = await cw.send(
        new GetMetricStatisticsCommand({ Namespace: 'BlockchainTenancy/acme/flush', MetricName: name, Dimensions: dimensions, StartTime: new Date(Date.now() - 3_600_000), EndTime: new Date(Date.now() + 60_000), Period: 3600, Statistics: [statistic] }),
      );
      return (out.Datapoints ?? []).reduce((a, d) => a + (d[statistic] ?? 0), 0);
    };
    // One authorizer decision for the credential, then 24 answered from the cache.
    expect([await stat(NodeMetrics.GATE_CACHE_MISSES, 'Sum'), await stat(NodeMetrics.GATE_CACHE_HITS, 'Sum')]).toEqual([1, 24]);
    expect(await stat(NodeMetrics.GATE_LATENCY, 'SampleCount')).toBeGreaterThanOrEqual(25);
  }, 60_000);

  it("publishes its latency and decision-cache metrics to the environment's CloudWatch namespace, flushing them when stopped (SIGTERM: exit 0)", async () => {
    const stopped = Date.now();
    const exit = await gate.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopped).toBeLessThan(10_000);
    const cw = new CloudWatchClient(moto.clientConfig);
    const namespace = nodeMetricNamespace('acme', 'dev');
    expect(namespace).toBe('BlockchainTenancy/acme/dev');
    const listed = (await cw.send(new ListMetricsCommand({ Namespace: namespace }))).Metrics ?? [];
    expect([...new Set(listed.map((m) => m.MetricName))].sort()).toEqual([NodeMetrics.GATE_CACHE_HITS, NodeMetrics.GATE_CACHE_MISSES, NodeMetrics.GATE_LATENCY].sort());
    const dimensions = [
      { Name: MetricDimensions.TENANT, Value: 'acme' },
      { Name: MetricDimensions.ENVIRONMENT, Value: 'dev' },
      { Name: MetricDimensions.NODE, Value: 'validator-1' },
    ];
    for (const m of listed) expect([m.MetricName, [...(m.Dimensions ?? [])].sort((a, b) => String(a.Name).localeCompare(String(b.Name)))]).toEqual([m.MetricName, [...dimensions].sort((a, b) => a.Name.localeCompare(b.Name))]);
    const stat = async (name: string, statistic: 'Sum' | 'SampleCount') => {
      const out = await cw.send(
        new GetMetricStatisticsCommand({ Namespace: namespace, MetricName: name, Dimensions: dimensions, StartTime: new Date(Date.now() - 3_600_000), EndTime: new Date(Date.now() + 60_000), Period: 3600, Statistics: [statistic] }),
      );
      return (out.Datapoints ?? []).reduce((a, d) => a + (d[statistic] ?? 0), 0);
    };
    // This file sent thousands of requests with a handful of credentials.
    expect(await stat(NodeMetrics.GATE_CACHE_HITS, 'Sum')).toBeGreaterThan(1000);
    expect(await stat(NodeMetrics.GATE_CACHE_MISSES, 'Sum')).toBeGreaterThan(5);
    expect(await stat(NodeMetrics.GATE_LATENCY, 'SampleCount')).toBeGreaterThan(0);
    expect(gate.output()).not.toMatch(/metrics not published/);
  }, 30_000);
});
