import { createServer, request } from 'node:http';
import { AddressInfo, Socket, connect } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Decision } from '../../lambda/node-gate/decision-cache';
import { REQUEST_BODY_TIMEOUT_MS, UPGRADE_TIMEOUT_MS, createGate } from '../../lambda/node-gate/gate';

// Hostile input against the gate in this process (an uncaught throw fails the run): deep nesting,
// huge ids, mixed batches, aborted upgrades, slow bodies and handshakes. The upstream is a small
// JSON-RPC node on HTTP and WebSocket that answers every call with its raw id bytes and counts
// its open WebSockets.
const GOOD = `Basic ${Buffer.from('btgood:secret').toString('base64')}`;
/** The raw id text of a call (the upstream echoes bytes, never re-encodes). */
const rawId = (call: string) => /"id"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\s]+)/.exec(call)?.[1] ?? 'null';
const callsOf = (text: string): string[] => (text.trim().startsWith('[') ? (text.match(/\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}/g) ?? []) : [text]);
const answer = (text: string): string => {
  const answers = callsOf(text).filter((c) => /"id"/.test(c)).map((c) => `{"jsonrpc":"2.0","id":${rawId(c)},"result":"0x1"}`);
  return text.trim().startsWith('[') ? `[${answers.join(',')}]` : answers[0];
};

describe('node gate under hostile input (in-process, echoing upstream)', () => {
  let gate: ReturnType<typeof createGate>;
  let port: number;
  let upstreamPort: number;
  let stallPort: number;
  const upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      received.push(text);
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer(text));
    });
  });
  const wss = new WebSocketServer({ server: upstream });
  const received: string[] = [];
  let authorizerDelayMs = 0;
  let gateWithStall: ReturnType<typeof createGate>;
  let stallGatePort: number;
  const stall = createServer(() => undefined);

  wss.on('connection', (ws) =>
    ws.on('message', (d) => {
      const text = d.toString();
      received.push(text);
      ws.send(answer(text));
    }),
  );

  beforeAll(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamPort = (upstream.address() as AddressInfo).port;
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
    stallPort = (stall.address() as AddressInfo).port;
    const authorize = async (authorization: string): Promise<Decision> => {
      if (authorizerDelayMs) await new Promise((r) => setTimeout(r, authorizerDelayMs));
      return { allowed: authorization === GOOD, expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
    };
    gate = createGate({ nodeId: 'validator-1', upstreamHttp: `http://127.0.0.1:${upstreamPort}`, upstreamWs: `ws://127.0.0.1:${upstreamPort}`, log: () => undefined, authorize });
    await new Promise<void>((r) => gate.server.listen(0, '127.0.0.1', r));
    port = (gate.server.address() as AddressInfo).port;
    // A node whose WebSocket accepts TCP and never answers the handshake.
    gateWithStall = createGate({ nodeId: 'validator-1', upstreamHttp: `http://127.0.0.1:${upstreamPort}`, upstreamWs: `ws://127.0.0.1:${stallPort}`, log: () => undefined, authorize });
    await new Promise<void>((r) => gateWithStall.server.listen(0, '127.0.0.1', r));
    stallGatePort = (gateWithStall.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await gate.close();
    await gateWithStall.close();
    stall.closeAllConnections?.();
    await new Promise((r) => stall.close(r));
    wss.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  beforeEach(() => {
    received.length = 0;
    authorizerDelayMs = 0;
  });

  const post = async (body: string, path = '/') => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { authorization: GOOD, 'content-type': 'application/json' }, body });
    return { status: res.status, text: await res.text() };
  };
  const openWs = async (p = port) => {
    const ws = new WebSocket(`ws://127.0.0.1:${p}/ws`, { headers: { authorization: GOOD } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const messages: string[] = [];
    ws.on('message', (m) => messages.push(m.toString()));
    const next = async (n = 1) => {
      const deadline = Date.now() + 5000;
      while (messages.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return messages.splice(0, n);
    };
    return { ws, next, messages };
  };
  const until = async (cond: () => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return cond();
  };

  it('answers 400 to 5,000-deep nesting in params or id over HTTP, and a JSON-RPC error over WebSocket; the socket stays open', async () => {
    const deepParams = `{"jsonrpc":"2.0","id":1,"method":"eth_call","params":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const deepId = `{"jsonrpc":"2.0","id":${'['.repeat(5000)}${']'.repeat(5000)},"method":"eth_chainId"}`;
    for (const body of [deepParams, deepId, `[${deepParams}]`]) {
      const r = await post(body);
      expect([r.status, JSON.parse(r.text).error]).toEqual([400, { code: -32600, message: 'invalid request: JSON nested deeper than 64 levels' }]);
    }
    const { ws, next } = await openWs();
    ws.send(deepParams);
    ws.send(deepId);
    const [a, b] = await next(2);
    expect(JSON.parse(a).error.code).toBe(-32600);
    expect(JSON.parse(b).error.code).toBe(-32600);
    ws.send('{"jsonrpc":"2.0","id":2,"method":"eth_chainId"}');
    expect(await next()).toEqual(['{"jsonrpc":"2.0","id":2,"result":"0x1"}']);
    ws.close();
    expect(received.some((t) => t.includes('[[[['))).toBe(false);
  });

  it('returns ids above 2^53, 1e400 and long decimals unchanged (refusals, mixed batches, HTTP and WebSocket)', async () => {
    const ids = ['9007199254740993', '1e400', '-0.10000000000000000000001', '123456789012345678901234567890'];
    for (const id of ids) {
      expect((await post(`{"jsonrpc":"2.0","id":${id},"method":"eth_accounts"}`)).text).toBe(`{"jsonrpc":"2.0","id":${id},"error":{"code":-32601,"message":"method eth_accounts is not allowed"}}`);
      expect((await post(`{"jsonrpc":"2.0","id":${id},"method":"eth_chainId"}`)).text).toBe(`{"jsonrpc":"2.0","id":${id},"result":"0x1"}`);
    }
    const batch = `[{"jsonrpc":"2.0","id":${ids[0]},"method":"eth_chainId"},{"jsonrpc":"2.0","id":${ids[1]},"method":"eth_sign","params":[]},{"jsonrpc":"2.0","id":${ids[3]},"method":"eth_blockNumber"}]`;
    const expected = `[{"jsonrpc":"2.0","id":${ids[0]},"result":"0x1"},{"jsonrpc":"2.0","id":${ids[1]},"error":{"code":-32601,"message":"method eth_sign is not allowed"}},{"jsonrpc":"2.0","id":${ids[3]},"result":"0x1"}]`;
    expect((await post(batch)).text).toBe(expected);
    const { ws, next } = await openWs();
    for (const id of ids) {
      ws.send(`{"jsonrpc":"2.0","id":${id},"method":"eth_chainId"}`);
      expect(await next()).toEqual([`{"jsonrpc":"2.0","id":${id},"result":"0x1"}`]);
    }
    ws.send(batch);
    expect(await next()).toEqual([expected]);
    ws.close();
  });

  it('answers a WebSocket batch with refused elements with exactly one array, in request order', async () => {
    const { ws, next, messages } = await openWs();
    ws.send('[{"jsonrpc":"2.0","id":"a","method":"eth_sendTransaction","params":[]},{"jsonrpc":"2.0","id":"b","method":"eth_blockNumber"},{"jsonrpc":"2.0","id":"c","method":"admin_peers"},{"jsonrpc":"2.0","id":"d","method":"net_version"},{"jsonrpc":"2.0","method":"eth_chainId"}]');
    const [only] = await next();
    const parsed = JSON.parse(only) as { id: string; result?: string; error?: { code: number } }[];
    expect(parsed.map((a) => [a.id, a.result ?? a.error?.code])).toEqual([
      ['a', -32601],
      ['b', '0x1'],
      ['c', -32601],
      ['d', '0x1'],
    ]);
    await new Promise((r) => setTimeout(r, 200));
    expect(messages).toEqual([]);
    // All refused: one array; all allowed: the node's own array.
    ws.send('[{"jsonrpc":"2.0","id":1,"method":"eth_accounts"},{"jsonrpc":"2.0","id":2,"method":"eth_coinbase"}]');
    expect(JSON.parse((await next())[0]).map((a: { id: number }) => a.id)).toEqual([1, 2]);
    ws.close();
    // The same over HTTP.
    const r = JSON.parse((await post('[{"jsonrpc":"2.0","id":"a","method":"eth_resend","params":[]},{"jsonrpc":"2.0","id":"b","method":"eth_blockNumber"}]')).text) as { id: string }[];
    expect(r.map((a) => a.id)).toEqual(['a', 'b']);
  });

  it('refuses binary frames, duplicate members, wrong id and params types, and invalid UTF-8 with clear errors', async () => {
    const { ws, next } = await openWs();
    ws.send(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}'), { binary: true });
    expect(JSON.parse((await next())[0]).error.message).toMatch(/binary frames/);
    ws.send('{"jsonrpc":"2.0","id":1,"method":"eth_chainId","method":"eth_sendTransaction"}');
    expect(JSON.parse((await next())[0]).error.message).toBe('invalid request: duplicate member method');
    ws.send('{"jsonrpc":"2.0","id":{"a":1},"method":"eth_chainId"}');
    expect(JSON.parse((await next())[0])).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request: id must be a string, a number or null' } });
    ws.send('{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":"x"}');
    expect(JSON.parse((await next())[0]).error.message).toBe('invalid request: params must be an array or an object');
    ws.send('{"jsonrpc":"2.0","id":1,"\\u006dethod":"eth_accounts"}');
    expect(JSON.parse((await next())[0]).error.message).toBe('method eth_accounts is not allowed');
    ws.close();
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { authorization: GOOD }, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    expect([res.status, ((await res.json()) as { error: { message: string } }).error.message]).toEqual([400, 'parse error: the request is not valid UTF-8']);
    expect(received).toEqual([]);
  });

  it('answers malformed HTTP and oversized headers with JSON-RPC error bodies too', async () => {
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.write(text));
        let out = '';
        s.on('data', (d) => (out += d.toString()));
        s.on('close', () => resolve(out));
        s.on('error', () => resolve(out));
      });
    const malformed = await raw('GARBAGE / HTTP/9.9\r\n\r\n');
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(malformed.slice(malformed.indexOf('\r\n\r\n') + 4)).error.message).toBe('bad request: malformed HTTP');
    const huge = await raw(`POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4)).error.message).toBe('request headers too large');
  });

  it('opens no upstream WebSocket that outlives a failed upgrade (POST /ws, bad key or version, client gone)', async () => {
    // Sockets of earlier tests close first: the baseline is no upstream WebSocket at all.
    expect(await until(() => wss.clients.size === 0)).toBe(true);
    const baseline = 0;
    const upgrade = (lines: string[]) =>
      new Promise<string>((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.write([...lines, `Host: 127.0.0.1:${port}`, `Authorization: ${GOOD}`, '', ''].join('\r\n')));
        let out = '';
        s.on('data', (d) => (out += d.toString()));
        s.on('close', () => resolve(out));
        s.on('error', () => resolve(out));
      });
    const good = ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='];
    const cases = [
      ['POST /ws HTTP/1.1', ...good],
      ['GET /ws HTTP/1.1', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: short'],
      ['GET /ws HTTP/1.1', 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 7', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='],
      ['GET /ws HTTP/1.1', ...good, 'Sec-WebSocket-Protocol: ,,,'],
    ];
    for (let round = 0; round < 25; round++) {
      for (const c of cases) {
        const out = await upgrade(c);
        expect(out).toMatch(/^HTTP\/1\.1 400 /);
      }
    }
    // Client gone while the authorizer decides, and right after the upstream opened.
    authorizerDelayMs = 100;
    for (let i = 0; i < 25; i++) {
      const s: Socket = connect(port, '127.0.0.1', () => s.write([`GET /ws HTTP/1.1`, ...good, `Host: x`, `Authorization: ${GOOD}`, '', ''].join('\r\n')));
      await new Promise((r) => setTimeout(r, i % 2 ? 20 : 110));
      s.destroy();
    }
    expect(await until(() => wss.clients.size === baseline, 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(wss.clients.size).toBe(baseline);
  });

  it.concurrent(`answers 408 to a body shorter than its Content-Length after ${REQUEST_BODY_TIMEOUT_MS / 1000} s, and keeps serving`, async () => {
    const started = Date.now();
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers: { authorization: GOOD, 'content-length': '100', 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"jsonrpc":"2.0"'); // 16 of the 100 bytes, then nothing
    });
    const took = Date.now() - started;
    expect(result.status).toBe(408);
    expect(JSON.parse(result.body).error.message).toBe('request timeout: the body did not arrive within 30 s');
    expect(took).toBeGreaterThanOrEqual(REQUEST_BODY_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(REQUEST_BODY_TIMEOUT_MS + 5_000);
  }, 60_000);

  it.concurrent(`gives up a WebSocket upgrade the node does not complete after ${UPGRADE_TIMEOUT_MS / 1000} s (504) and closes the upstream socket`, async () => {
    const started = Date.now();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${stallGatePort}/ws`, { headers: { authorization: GOOD } });
      ws.on('unexpected-response', (_req, r) => resolve(r.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(-1));
    });
    const took = Date.now() - started;
    expect(status).toBe(504);
    expect(took).toBeGreaterThanOrEqual(UPGRADE_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(UPGRADE_TIMEOUT_MS + 5_000);
    // The stalled upstream connection was closed by the gate.
    let open = -1;
    const closed = await until(() => {
      stall.getConnections((_e, n) => (open = n));
      return open === 0;
    });
    expect(closed).toBe(true);
  }, 60_000);
});
