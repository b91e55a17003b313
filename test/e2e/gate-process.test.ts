import { isUtf8 } from 'node:buffer';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { encodeNodeMembers } from '../../lib/contracts/node-members';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { LocalLambda, serveLocalLambda } from '../../lib/local/local-lambda';
import { AUTHORIZER_ALLOW_TTL_SECONDS, REVOCATION_BOUND_SECONDS } from '../../lib/contracts/revocation';
import { allowedMethods } from '../../lib/contracts/rpc-policy';
import { GateProcess, startGateProcess } from '../support/gate-process';
import { LocalNode, startGanacheOn } from '../support/ganache';
import { HostileCase, hostileCases, prng } from '../support/hostile-json-rpc';
import { MotoServer, envFor, freePort, startMoto } from '../support/moto';
import { RecordingNode, startRecordingNode } from '../support/recording-node';

// The gate as users run it: the esbuild bundle started with `node`, configured by its
// environment, calling the REAL authorizer handler (lambda/authorizer/index.ts: argon2id against
// Secrets Manager on moto) through the AWS SDK's Lambda client, with ganache behind a recording
// front that shows what reached the node. Production cache times and limits throughout.
describe('the node gate process under hostile input, revocation and a dead client', () => {
  let moto: MotoServer;
  let ganache: LocalNode;
  let ganachePort: number;
  let node: RecordingNode;
  let lambda: LocalLambda;
  let gate: GateProcess;
  let service: CredentialService;
  let auth: string;
  const authorizerLogs: string[] = [];
  const secrets: string[] = [];
  const allowed = new Set(allowedMethods());

  beforeAll(async () => {
    moto = await startMoto();
    ganachePort = await freePort();
    ganache = await startGanacheOn(ganachePort, 1);
    node = await startRecordingNode(ganache);
    // The authorizer Lambda's environment as CredentialStore writes it.
    Object.assign(process.env, envFor(moto.endpoint), {
      TENANT_ID: 'acme',
      ENVIRONMENT_ID: 'dev',
      NODE_MEMBERS: encodeNodeMembers({ 'validator-1': 'acme' }),
      ALLOW_TTL_SECONDS: String(AUTHORIZER_ALLOW_TTL_SECONDS),
    });
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void authorizerLogs.push(String(line)));
    const { handler } = await import('../../lambda/authorizer/index');
    lambda = await serveLocalLambda({ 'acme-dev-authorizer': (event) => handler(event as Parameters<typeof handler>[0]) });
    service = new CredentialService({ secretsManager: new SecretsManagerClient(moto.clientConfig), tenantId: 'acme', environmentId: 'dev' });
    const c = await service.create({ memberId: 'acme', description: 'fuzz' });
    secrets.push(c.secret);
    auth = `Basic ${Buffer.from(`${c.credential.id}:${c.secret}`).toString('base64')}`;
    gate = await startGateProcess({ nodeId: 'validator-1', authorizerFunction: 'acme-dev-authorizer', lambdaEndpoint: lambda.endpoint, upstreamHttp: node.rpcUrl, upstreamWs: node.wsUrl });
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

    // WebSocket: text, binary and fragmented frames on a few sockets; a socket the gate or ws
    // closes (invalid UTF-8: 1007, over the cap: 1009) is replaced.
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
    // Frames ws itself must close on (invalid UTF-8 in a text frame: 1007; over 1 MiB: 1009) each
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
    expect(gate.output()).not.toMatch(/uncaught|unhandled/i);
    const ok = await fetch(`${gate.url}/`, { method: 'POST', headers: { authorization: auth }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}' });
    expect(await ok.json()).toEqual({ jsonrpc: '2.0', id: 1, result: '0x539' });
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

  it(`a revoked credential stops working within ${REVOCATION_BOUND_SECONDS} s over HTTP and on an open WebSocket (production cache times)`, async () => {
    const c = await service.create({ memberId: 'acme' });
    secrets.push(c.secret);
    const header = `Basic ${Buffer.from(`${c.credential.id}:${c.secret}`).toString('base64')}`;
    const call = () => fetch(`${gate.url}/`, { method: 'POST', headers: { authorization: header }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}' }).then((res) => res.status);
    expect(await call()).toBe(200); // both caches hold the allow now
    const ws = new WebSocket(`ws://127.0.0.1:${gate.port}/ws`, { headers: { authorization: header } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send('{"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]}');
    const closed = new Promise<{ code: number; at: number }>((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() })));
    // Let the caches age a little, as they would in use, then revoke.
    await new Promise((res) => setTimeout(res, 3_000));
    expect(await call()).toBe(200);
    const revokedAt = Date.now();
    await service.revoke(c.credential.id);
    let httpStoppedAt = 0;
    while (!httpStoppedAt && Date.now() - revokedAt < (REVOCATION_BOUND_SECONDS + 10) * 1000) {
      if ((await call()) === 401) httpStoppedAt = Date.now();
      else await new Promise((res) => setTimeout(res, 250));
    }
    const wsClosed = await Promise.race([closed, new Promise<{ code: number; at: number }>((res) => setTimeout(() => res({ code: -1, at: Date.now() }), (REVOCATION_BOUND_SECONDS + 10) * 1000))]);
    const httpSeconds = (httpStoppedAt - revokedAt) / 1000;
    const wsSeconds = (wsClosed.at - revokedAt) / 1000;
    if (process.env.GATE_TEST_REPORT) console.error(`revocation: HTTP ${httpSeconds} s, WebSocket ${wsSeconds} s`);
    expect(httpStoppedAt).toBeGreaterThan(0);
    expect(httpSeconds).toBeLessThanOrEqual(REVOCATION_BOUND_SECONDS);
    expect(wsClosed.code).toBe(1008);
    expect(wsSeconds).toBeLessThanOrEqual(REVOCATION_BOUND_SECONDS);
  }, 90_000);

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
      expect([res.status, wellFormed(text)]).toEqual([status, true]);
      for (const s of [...secrets, 'S'.repeat(43)]) expect(text).not.toContain(s);
    }
    const logs = gate.output() + authorizerLogs.join('\n');
    for (const s of secrets) expect(logs).not.toContain(s);
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
});
