import { request } from 'node:http';
import { AddressInfo, Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Decision } from '../../lambda/node-gate/decision-cache';
import { GATE_KEEP_ALIVE_MS, createGate } from '../../lambda/node-gate/gate';
import { ALB_MAX_IDLE_TIMEOUT_SECONDS } from '../../lib/contracts/ports';

// The gate's HTTP path against a scripted upstream and a stub authorizer: every status it can
// answer, the method screen, the caps, and what it does when the upstream misbehaves.
const GOOD = `Basic ${Buffer.from('btgood:secret').toString('base64')}`;
const BAD = `Basic ${Buffer.from('btbad:secret').toString('base64')}`;

describe('node gate over HTTP (scripted upstream, stub authorizer)', () => {
  let gate: ReturnType<typeof createGate>;
  let port: number;
  let upstreamPort: number;
  let upstreamServer: ReturnType<typeof createServer>;
  const seen: Buffer[] = [];
  let authorizerCalls = 0;
  let authorizerDown = false;
  let authorizerDelayMs = 0;
  /** How the upstream answers the next request (default: a JSON-RPC result echoing the id). */
  let script: ((req: Buffer, s: Socket) => void) | undefined;

  beforeAll(async () => {
    upstreamServer = createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buf.toString('latin1', 0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const body = buf.subarray(end + 4, end + 4 + length);
        buf = buf.subarray(end + 4 + length);
        seen.push(body);
        if (script) return script(body, s);
        const parsed = JSON.parse(body.toString()) as { id?: unknown; method?: string } | { id?: unknown; method?: string }[];
        const block = () => ({ number: '0x1', timestamp: `0x${Math.floor(Date.now() / 1000).toString(16)}` });
        const answerOf = (c: { id?: unknown; method?: string }) => ({ jsonrpc: '2.0', id: c.id, result: c.method === 'eth_getBlockByNumber' ? block() : c.method === 'eth_syncing' ? false : '0x1' });
        const out = JSON.stringify(Array.isArray(parsed) ? parsed.map(answerOf) : answerOf(parsed));
        s.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(out)}\r\n\r\n${out}`);
      });
    });
    await new Promise<void>((r) => upstreamServer.listen(0, '127.0.0.1', r));
    upstreamPort = (upstreamServer.address() as AddressInfo).port;
    gate = createGate({
      nodeId: 'validator-1',
      upstreamHttp: `http://127.0.0.1:${upstreamPort}`,
      upstreamWs: `ws://127.0.0.1:${upstreamPort}`,
      maxBodyBytes: 4096,
      denyTtlMs: 1,
      upstream: { timeoutMs: 300 },
      log: () => undefined,
      authorize: async (authorization, nodeId): Promise<Decision> => {
        authorizerCalls++;
        if (authorizerDelayMs) await new Promise((r) => setTimeout(r, authorizerDelayMs));
        if (authorizerDown) throw new Error('authorizer unreachable');
        return authorization === GOOD && nodeId === 'validator-1' ? { allowed: true, expiresAt: new Date(Date.now() + 3_600_000).toISOString() } : { allowed: false };
      },
    });
    await new Promise<void>((r) => gate.server.listen(0, '127.0.0.1', r));
    port = (gate.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await gate.close();
    await new Promise((r) => upstreamServer.close(r));
  });

  beforeEach(() => {
    script = undefined;
    seen.length = 0;
    authorizerDown = false;
    authorizerDelayMs = 0;
  });

  const post = async (body: string | Buffer, headers: Record<string, string> = { authorization: GOOD }, path = '/') => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };

  it('keeps an idle load-balancer connection open past Node\'s 5 s default (ALB idle timeout is 60 min)', async () => {
    expect(gate.server.keepAliveTimeout).toBe(GATE_KEEP_ALIVE_MS);
    expect(GATE_KEEP_ALIVE_MS).toBeGreaterThan(ALB_MAX_IDLE_TIMEOUT_SECONDS * 1000);
    const socket = connect(port, '127.0.0.1');
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] });
    const ask = () =>
      new Promise<string>((resolve, reject) => {
        socket.once('data', (d: Buffer) => resolve(d.toString('latin1')));
        socket.once('error', reject);
        socket.write(`POST / HTTP/1.1\r\nHost: gate\r\nAuthorization: ${GOOD}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      });
    expect(await ask()).toMatch(/^HTTP\/1\.1 200/);
    await new Promise((r) => setTimeout(r, 5_500));
    expect(socket.destroyed).toBe(false);
    expect(await ask()).toMatch(/^HTTP\/1\.1 200/);
    socket.destroy();
  });

  it('answers /health without a credential, 404 elsewhere, 405 for other methods (JSON-RPC error bodies)', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/health?x=1`);
    expect([health.status, await health.text()]).toEqual([200, 'ok']);
    seen.length = 0;
    const missing = await post('{}', { authorization: GOOD }, '/admin');
    expect([missing.status, JSON.parse(missing.text).error.message]).toEqual([404, 'not found: JSON-RPC is served by POST on / and by WebSocket on /ws']);
    expect((await post('{}', { authorization: GOOD }, '/admin')).status).toBe(404);
    expect((await post('{}', { authorization: GOOD }, '/nodes/other-node/')).status).toBe(404);
    const get = await fetch(`http://127.0.0.1:${port}/`, { headers: { authorization: GOOD } });
    expect([get.status, get.headers.get('allow'), JSON.parse(await get.text())]).toEqual([405, 'POST', { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'send JSON-RPC as an HTTP POST (or open a WebSocket on /ws)' } }]);
  });

  it('answers 401 without or with a refused credential, 503 while the authorizer is unreachable; nothing reaches the node', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}';
    const none = await post(body, {});
    expect([none.status, none.headers.get('www-authenticate'), JSON.parse(none.text).error.code]).toEqual([401, 'Basic realm="blockchain", charset="UTF-8"', -32001]);
    const bad = await post(body, { authorization: BAD });
    expect([bad.status, JSON.parse(bad.text).error.message]).toEqual([401, expect.stringMatching(/^unauthorized: /)]);
    expect(bad.text).not.toContain('btbad');
    authorizerDown = true;
    const down = await post(body, { authorization: `Basic ${Buffer.from('btnew:secret').toString('base64')}` });
    expect([down.status, down.headers.get('retry-after'), JSON.parse(down.text).error.code]).toEqual([503, '5', -32002]);
    expect(seen).toHaveLength(0);
  });

  it('forwards an allowed call byte for byte at every RPC path and passes the answer back', async () => {
    const body = Buffer.from('{ "jsonrpc": "2.0", "id": 7, "method": "eth_blockNumber", "params": ["\u00e9"] }');
    for (const path of ['/', '/nodes/validator-1', '/nodes/validator-1/?q=1']) {
      const r = await post(body, { authorization: GOOD }, path);
      expect([r.status, r.headers.get('content-type'), r.text]).toEqual([200, 'application/json', '{"jsonrpc":"2.0","id":7,"result":"0x1"}']);
    }
    expect(seen.every((b) => b.equals(body))).toBe(true);
  });

  it('refuses methods outside the allowlist and calls with unknown members (Go decodes member names case-insensitively)', async () => {
    const r = await post('{"jsonrpc":"2.0","id":3,"method":"admin_peers","params":[]}');
    expect(JSON.parse(r.text)).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'method admin_peers is not allowed' } });
    for (const smuggled of ['METHOD', 'Method', 'mEthod', 'extra']) {
      const s = await post(`{"jsonrpc":"2.0","id":4,"method":"eth_blockNumber","${smuggled}":"eth_sendTransaction","params":[]}`);
      expect(JSON.parse(s.text)).toEqual({ jsonrpc: '2.0', id: 4, error: { code: -32600, message: 'invalid request: unknown member' } });
    }
    expect(seen).toHaveLength(0);
    const batch = JSON.parse(
      (
        await post(
          JSON.stringify([
            { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
            { jsonrpc: '2.0', id: 2, method: 'eth_chainId', Method: 'eth_sign' },
            { jsonrpc: '2.0', id: 3, method: 'personal_sign' },
            [],
            { jsonrpc: '2.0', id: 5, method: 'net_version', params: [] },
          ]),
        )
      ).text,
    ) as { id: unknown; result?: unknown; error?: { code: number } }[];
    expect(batch.map((b) => [b.id, b.result ?? b.error?.code])).toEqual([
      [1, '0x1'],
      [2, -32600],
      [3, -32601],
      [null, -32600],
      [5, '0x1'],
    ]);
    // Only the allowed calls went to the node, as the client's bytes, their ids renamed to gate
    // tags (matched back to the client's ids in the answer).
    expect(JSON.parse(seen[0].toString())).toEqual([
      { jsonrpc: '2.0', id: expect.stringMatching(/^gate-[\w-]+\.\d+\.0$/), method: 'eth_chainId' },
      { jsonrpc: '2.0', id: expect.stringMatching(/^gate-[\w-]+\.\d+\.4$/), method: 'net_version', params: [] },
    ]);
  });

  it('answers 400 for unparseable bodies and batches outside 1..100 calls', async () => {
    expect(JSON.parse((await post('{"jsonrpc":')).text).error.code).toBe(-32700);
    expect((await post('[]')).status).toBe(400);
    expect((await post(JSON.stringify(Array.from({ length: 101 }, () => ({ method: 'eth_chainId' }))))).status).toBe(400);
    expect(seen).toHaveLength(0);
  });

  it('answers 413 for a body over the cap, declared or streamed (chunked), and closes that connection', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: ['x'.repeat(5000)] });
    const declared = await post(big);
    expect([declared.status, declared.headers.get('connection')]).toEqual([413, 'close']);
    const chunked = await new Promise<{ status: number; closed: boolean }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { authorization: GOOD, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, closed: res.headers.connection === 'close' }));
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(chunked).toEqual({ status: 413, closed: true });
    expect(seen).toHaveLength(0);
  });

  it('answers 502 without hanging when the node closes mid-answer, 504 when it does not answer, and keeps working', async () => {
    script = (_b, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"jsonrpc":"2.0"');
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).status).toBe(502);
    script = () => undefined;
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).status).toBe(504);
    script = undefined;
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).status).toBe(200);
  });

  it('passes the node status through (e.g. 500) and keeps the upstream connection alive', async () => {
    script = (_b, s) => s.write('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}');
    const opened = gate.upstream.connectionsOpened;
    for (let i = 0; i < 5; i++) expect(await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).toMatchObject({ status: 500, text: '{}' });
    expect(gate.upstream.connectionsOpened - opened).toBeLessThanOrEqual(1);
  });

  it('asks the authorizer once for a burst of requests with the same new credential', async () => {
    const fresh = `Basic ${Buffer.from('btgood:secret').toString('base64')}`; // same as GOOD, but expire it first
    gate.cache['entries'].clear();
    authorizerDelayMs = 50;
    const before = authorizerCalls;
    const results = await Promise.all(Array.from({ length: 12 }, () => post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}', { authorization: fresh })));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(authorizerCalls - before).toBe(1);
  });

  it('keeps a keep-alive client connection for many requests (HTTP/1.1 pipelining is answered in order)', async () => {
    const socket = connect({ host: '127.0.0.1', port });
    const one = (id: number) => {
      const b = `{"jsonrpc":"2.0","id":${id},"method":"eth_blockNumber"}`;
      return `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD}\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n${b}`;
    };
    const received = new Promise<string>((resolve) => {
      let all = '';
      socket.on('data', (d) => {
        all += d.toString();
        if ((all.match(/"result"/g) ?? []).length === 3) resolve(all);
      });
    });
    socket.write(one(1) + one(2) + one(3));
    const all = await received;
    socket.destroy();
    expect([...all.matchAll(/"id":(\d)/g)].map((m) => m[1])).toEqual(['1', '2', '3']);
  });
});
