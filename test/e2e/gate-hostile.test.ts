import { randomBytes } from 'node:crypto';
import { IncomingMessage, createServer, request } from 'node:http';
import { AddressInfo, Socket, connect } from 'node:net';
import { Duplex } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { GateProcess, startGateProcess } from '../support/gate-process';
import { StubAuthorizer, startStubAuthorizer } from '../support/stub-authorizer';

// Gate contract (README "Testing"): runs against GATE_IMPL=node|go.
// Hostile input against the live gate process: malformed and smuggling HTTP (CL+TE, duplicate
// Content-Length, obs-fold, huge headers, slowloris, slow bodies), hostile JSON-RPC (deep nesting,
// ids above 2^53, mixed batches), and hostile WebSocket traffic on the wire (fragmented frames,
// invalid UTF-8, oversized, binary, unmasked and reserved-bit frames, ping floods, close codes,
// frames sent before the upgrade completes, aborted upgrades, a node that never completes the
// handshake). After each the gate must still be up and serve a well-formed client. The node is
// a small JSON-RPC server on HTTP and WebSocket that answers every call with its raw id bytes and
// records what reached it; production limits and timeouts throughout (30 s bodies, 10 s upgrades).
const GOOD = `Basic ${Buffer.from('btgood:secret').toString('base64')}`;
const BODY_TIMEOUT_S = 30;
const UPGRADE_TIMEOUT_S = 10;
const HEADERS_TIMEOUT_S = 60;
/** The raw id text of a call (the node echoes bytes, never re-encodes). */
const rawId = (call: string) => /"id"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\s]+)/.exec(call)?.[1] ?? 'null';
const callsOf = (text: string): string[] => (text.trim().startsWith('[') ? (text.match(/\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}/g) ?? []) : [text]);
const answer = (text: string): string => {
  const answers = callsOf(text)
    .filter((c) => /"id"/.test(c))
    .map((c) => `{"jsonrpc":"2.0","id":${rawId(c)},"result":"0x1"}`);
  return text.trim().startsWith('[') ? `[${answers.join(',')}]` : answers[0];
};

/** One client-to-server WebSocket frame (RFC 6455 5.2), masked unless `unmasked`. */
function frame(opcode: number, payload: Buffer | string, o: { fin?: boolean; rsv?: number; unmasked?: boolean } = {}): Buffer {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const head = [((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode];
  const mask = o.unmasked ? 0 : 0x80;
  let len: Buffer;
  if (data.length < 126) len = Buffer.from([mask | data.length]);
  else if (data.length < 65536) {
    len = Buffer.alloc(3);
    len[0] = mask | 126;
    len.writeUInt16BE(data.length, 1);
  } else {
    len = Buffer.alloc(9);
    len[0] = mask | 127;
    len.writeBigUInt64BE(BigInt(data.length), 1);
  }
  if (o.unmasked) return Buffer.concat([Buffer.from(head), len, data]);
  const key = randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), len, key, masked]);
}
const closePayload = (code: number, reason = '') => {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
};

/** Server frames parsed from raw bytes (unmasked, as a server sends them). */
function serverFrames(buf: Buffer): { opcode: number; payload: Buffer }[] {
  const out: { opcode: number; payload: Buffer }[] = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    const opcode = buf[i] & 0x0f;
    let len = buf[i + 1] & 0x7f;
    let at = i + 2;
    if (len === 126) {
      if (at + 2 > buf.length) break;
      len = buf.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      if (at + 8 > buf.length) break;
      len = Number(buf.readBigUInt64BE(at));
      at += 8;
    }
    if (at + len > buf.length) break;
    out.push({ opcode, payload: buf.subarray(at, at + len) });
    i = at + len;
  }
  return out;
}

describe('the gate process under hostile HTTP, JSON-RPC and WebSocket input', () => {
  let gate: GateProcess;
  let authorizer: StubAuthorizer;
  /** When set, the node accepts WebSocket upgrades' TCP and never answers the handshake. */
  let stallUpgrades = false;
  const stalled = new Set<Duplex>();
  const received: string[] = [];
  const upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      if (!text.includes('eth_syncing')) received.push(text);
      res.writeHead(200, { 'content-type': 'application/json' }).end(text.includes('eth_syncing') ? '[{"jsonrpc":"2.0","id":1,"result":false},{"jsonrpc":"2.0","id":2,"result":{"timestamp":"0x1"}}]' : answer(text));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  upstream.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (stallUpgrades) {
      stalled.add(socket);
      // (an HTTP server's sockets allow half-open: the gate's FIN arrives as 'end')
      socket.on('end', () => socket.destroy());
      socket.on('close', () => stalled.delete(socket));
      socket.on('error', () => undefined);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws) =>
    ws.on('message', (d) => {
      const text = d.toString();
      received.push(text);
      const a = answer(text);
      if (a) ws.send(a);
    }),
  );

  beforeAll(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamPort = (upstream.address() as AddressInfo).port;
    authorizer = await startStubAuthorizer((authorization) => ({ allowed: authorization === GOOD, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }));
    gate = await startGateProcess({
      nodeId: 'validator-1',
      authorizerFunction: authorizer.functionName,
      lambdaEndpoint: authorizer.endpoint,
      upstreamHttp: `http://127.0.0.1:${upstreamPort}`,
      upstreamWs: `ws://127.0.0.1:${upstreamPort}`,
    });
  }, 60_000);

  afterAll(async () => {
    await gate?.stop();
    await authorizer?.close();
    for (const s of stalled) s.destroy();
    wss.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  beforeEach(() => {
    authorizer.delayMs = 0;
  });

  const post = async (body: string | Buffer, path = '/') => {
    const res = await fetch(`${gate.url}${path}`, { method: 'POST', headers: { authorization: GOOD, 'content-type': 'application/json' }, body });
    return { status: res.status, text: await res.text() };
  };
  const openWs = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gate.port}/ws`, { headers: { authorization: GOOD } });
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
  /** Writes raw bytes on a new connection; resolves with everything the gate sent until it closed (or `ms` passed). */
  const raw = (bytes: string | Buffer, ms = 5000) =>
    new Promise<{ text: string; bytes: Buffer; closed: boolean }>((resolve) => {
      const chunks: Buffer[] = [];
      const s = connect(gate.port, '127.0.0.1', () => s.write(bytes));
      const done = (closed: boolean) => {
        clearTimeout(timer);
        const all = Buffer.concat(chunks);
        resolve({ text: all.toString('latin1'), bytes: all, closed });
        s.destroy();
      };
      const timer = setTimeout(() => done(false), ms);
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('close', () => done(true));
      s.on('error', () => undefined);
    });
  /** Status line and JSON-RPC body of each HTTP response in `text`. */
  const responses = (text: string) =>
    [...text.matchAll(/HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/g)].map((m) => {
      const start = (m.index ?? 0) + m[0].length;
      if (/transfer-encoding: *chunked/i.test(m[2])) {
        let body = '';
        for (let at = start; ; ) {
          const eol = text.indexOf('\r\n', at);
          const size = parseInt(text.slice(at, eol), 16);
          if (!(size > 0)) break;
          body += text.slice(eol + 2, eol + 2 + size);
          at = eol + 2 + size + 2;
        }
        return { status: Number(m[1]), body };
      }
      const length = Number(/content-length: *(\d+)/i.exec(m[2])?.[1] ?? 0);
      return { status: Number(m[1]), body: text.slice(start, start + length) };
    });
  /** A well-formed client is still served, over HTTP and WebSocket. */
  const stillServes = async () => {
    expect(gate.process.exitCode).toBeNull();
    expect(await post('{"jsonrpc":"2.0","id":42,"method":"eth_chainId"}')).toEqual({ status: 200, text: '{"jsonrpc":"2.0","id":42,"result":"0x1"}' });
    const { ws, next } = await openWs();
    ws.send('{"jsonrpc":"2.0","id":43,"method":"eth_chainId"}');
    expect(await next()).toEqual(['{"jsonrpc":"2.0","id":43,"result":"0x1"}']);
    ws.close();
  };
  const call = (id: string) => `{"jsonrpc":"2.0","id":"${id}","method":"eth_chainId"}`;
  const httpPost = (body: string, extraHeaders: string[] = []) => [`POST / HTTP/1.1`, `Host: gate`, `Authorization: ${GOOD}`, 'Content-Type: application/json', ...extraHeaders, '', body].join('\r\n');

  it('answers malformed HTTP, a missing Host and oversized headers with a JSON-RPC error body and closes; keeps serving', async () => {
    for (const garbage of ['GARBAGE / HTTP/9.9\r\n\r\n', '\u0000\u0001\u0002\r\n\r\n', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello', `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`]) {
      const r = await raw(garbage);
      const [first, ...rest] = responses(r.text);
      expect([JSON.stringify(garbage).slice(0, 40), first?.status, r.closed, rest.length]).toEqual([JSON.stringify(garbage).slice(0, 40), 400, true, 0]);
      expect(JSON.parse(first.body).error.code).toBe(-32600);
    }
    const noHost = await raw(`POST / HTTP/1.1\r\nAuthorization: ${GOOD}\r\nContent-Length: 2\r\n\r\n{}`);
    expect(responses(noHost.text).map((x) => [x.status, JSON.parse(x.body || 'null')?.error?.code])).toEqual([[400, -32600]]);
    const huge = await raw(`POST / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    expect(responses(huge.text).map((x) => [x.status, JSON.parse(x.body).error.message])).toEqual([[431, 'request headers too large']]);
    const manyHeaders = await raw(`POST / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`);
    expect(responses(manyHeaders.text).map((x) => x.status)).toEqual([431]);
    expect(received).toEqual([]);
    await stillServes();
  });

  it('does not let a second request be smuggled past a body boundary (CL+TE, duplicate Content-Length, obs-fold): one 400, then the connection closes', async () => {
    received.length = 0;
    const smuggled = httpPost(call('smuggled'), [`Content-Length: ${call('smuggled').length}`]);
    const attempts = [
      // Content-Length and Transfer-Encoding: whichever wins, the first request is refused and the connection must close (RFC 9112 6.1).
      httpPost(`0\r\n\r\n${smuggled}`, ['Content-Length: 5', 'Transfer-Encoding: chunked']),
      httpPost(`0\r\n\r\n${smuggled}`, ['Transfer-Encoding: chunked', 'Content-Length: 5']),
      // Two different lengths.
      httpPost(`${call('a')}${smuggled}`, [`Content-Length: ${call('a').length}`, `Content-Length: ${call('a').length + smuggled.length}`]),
      // A folded Content-Length (obs-fold): invalid whether the fold is refused or joined.
      httpPost(`${call('a')}${smuggled}`, [`Content-Length: ${call('a').length}`, ` ${smuggled.length}`]),
      // Transfer-Encoding the gate does not understand.
      httpPost(`${call('a')}${smuggled}`, ['Transfer-Encoding: chunked, identity', `Content-Length: ${call('a').length}`]),
    ];
    for (const attempt of attempts) {
      const r = await raw(attempt);
      const got = responses(r.text);
      expect([attempt.slice(attempt.indexOf('Content-Type'), attempt.indexOf('Content-Type') + 120), got.map((x) => x.status), r.closed]).toEqual([
        attempt.slice(attempt.indexOf('Content-Type'), attempt.indexOf('Content-Type') + 120),
        [400],
        true,
      ]);
      expect(JSON.parse(got[0].body).jsonrpc).toBe('2.0');
    }
    expect(received.filter((t) => t.includes('smuggled'))).toEqual([]);
    // Bare LF line endings: refused, or read as the same one request; never two.
    const bare = await raw(`POST / HTTP/1.1\nHost: x\nAuthorization: ${GOOD}\nContent-Length: ${call('lf').length}\n\n${call('lf')}`);
    expect(responses(bare.text).length).toBeLessThanOrEqual(1);
    await stillServes();
  });

  it.concurrent(`stays responsive under slowloris (headers dribbled on many connections), and closes them within its ${HEADERS_TIMEOUT_S} s header limit`, async () => {
    const sockets: Socket[] = [];
    const closedAt: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 200; i++) {
      const s = connect(gate.port, '127.0.0.1', () => s.write(`POST / HTTP/1.1\r\nHost: x\r\n`));
      s.on('error', () => undefined);
      s.on('data', () => undefined); // read the gate's 408, so its close arrives
      s.on('close', () => closedAt.push(Date.now()));
      sockets.push(s);
    }
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(`X-${Math.random().toString(36).slice(2, 6)}: a\r\n`);
    }, 2000);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      await stillServes();
      expect(await until(() => closedAt.length === sockets.length, (HEADERS_TIMEOUT_S + 15) * 1000)).toBe(true);
      // Never before the limit; within it and one connection check (5 s) after.
      expect(Math.min(...closedAt) - started).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_S * 1000 - 1000);
      expect(Math.max(...closedAt) - started).toBeLessThanOrEqual((HEADERS_TIMEOUT_S + 10) * 1000);
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    }
    await stillServes();
  }, (HEADERS_TIMEOUT_S + 60) * 1000);

  it.concurrent(`answers 408 to a body shorter than its Content-Length after ${BODY_TIMEOUT_S} s, and keeps serving`, async () => {
    const started = Date.now();
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gate.port, method: 'POST', path: '/', headers: { authorization: GOOD, 'content-length': '100', 'content-type': 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write('{"jsonrpc":"2.0"'); // 16 of the 100 bytes, then nothing
    });
    const took = Date.now() - started;
    expect(result.status).toBe(408);
    expect(JSON.parse(result.body).error).toEqual({ code: -32003, message: `request timeout: the body did not arrive within ${BODY_TIMEOUT_S} s` });
    expect(took).toBeGreaterThanOrEqual(BODY_TIMEOUT_S * 1000 - 50);
    expect(took).toBeLessThan(BODY_TIMEOUT_S * 1000 + 5_000);
    await stillServes();
  }, 60_000);

  it('answers 400 to 5,000-deep nesting in params or id over HTTP, and a JSON-RPC error over WebSocket; the socket stays open', async () => {
    received.length = 0;
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

  it('answers a WebSocket batch with refused elements with exactly one array, in request order (and an empty or oversized batch with one error)', async () => {
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
    ws.send('[{"jsonrpc":"2.0","id":1,"method":"eth_accounts"},{"jsonrpc":"2.0","id":2,"method":"eth_coinbase"}]');
    expect(JSON.parse((await next())[0]).map((a: { id: number }) => a.id)).toEqual([1, 2]);
    ws.send('[]');
    expect(JSON.parse((await next())[0]).error).toEqual({ code: -32600, message: 'invalid request: a batch must have 1 to 100 calls, this one has 0' });
    ws.send(JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))));
    expect(JSON.parse((await next())[0]).error.code).toBe(-32600);
    ws.close();
    const r = JSON.parse((await post('[{"jsonrpc":"2.0","id":"a","method":"eth_resend","params":[]},{"jsonrpc":"2.0","id":"b","method":"eth_blockNumber"}]')).text) as { id: string }[];
    expect(r.map((a) => a.id)).toEqual(['a', 'b']);
  });

  it('refuses binary frames, duplicate members, wrong id and params types, and non-UTF-8 bodies with clear errors', async () => {
    received.length = 0;
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
    const res = await fetch(`${gate.url}/`, { method: 'POST', headers: { authorization: GOOD }, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    expect([res.status, ((await res.json()) as { error: { message: string } }).error.message]).toEqual([400, 'parse error: the request is not valid UTF-8']);
    expect(received).toEqual([]);
  });

  /** Opens a WebSocket by hand on a raw socket; resolves once the gate answered the upgrade. */
  const rawWs = async (early: Buffer = Buffer.alloc(0)) => {
    const s = connect(gate.port, '127.0.0.1');
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let closed = false;
    s.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
    s.on('close', () => (closed = true));
    await new Promise((r) => s.once('connect', r));
    s.write(Buffer.concat([Buffer.from(['GET /ws HTTP/1.1', 'Host: gate', `Authorization: ${GOOD}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, '', ''].join('\r\n')), early]));
    await until(() => buf.includes('\r\n\r\n') || closed);
    const headEnd = buf.indexOf('\r\n\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buf.toString('latin1'))?.[1] ?? 0);
    const frames = () => serverFrames(buf.subarray(headEnd + 4));
    return { s, status, frames, closed: () => closed };
  };
  /** The close code of the gate's close frame (or undefined). */
  const closeCode = (frames: { opcode: number; payload: Buffer }[]) => {
    const c = frames.find((f) => f.opcode === 0x8);
    return c && c.payload.length >= 2 ? c.payload.readUInt16BE(0) : c ? 1005 : undefined;
  };

  it('closes a WebSocket on protocol violations on the wire (1002 unmasked, reserved bits, bad continuation, long control frame; 1007 invalid UTF-8; 1009 oversized) and keeps serving', async () => {
    const cases: [string, Buffer, number | number[]][] = [
      ['unmasked frame', frame(0x1, call('u'), { unmasked: true }), 1002],
      ['reserved bits', frame(0x1, call('r'), { rsv: 0b100 }), 1002],
      ['continuation without a start', frame(0x0, call('c')), 1002],
      ['unknown opcode', frame(0x3, call('o')), 1002],
      ['control frame over 125 bytes', frame(0x9, 'p'.repeat(126)), 1002],
      ['fragmented control frame', frame(0x9, 'p', { fin: false }), 1002],
      ['invalid UTF-8 text', frame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 1007],
      ['invalid UTF-8 across fragments', Buffer.concat([frame(0x1, Buffer.from([0x7b, 0x22, 0xe2]), { fin: false }), frame(0x0, Buffer.from([0x28, 0xa1, 0x22, 0x7d]))]), 1007],
      ['text over 1 MiB', frame(0x1, Buffer.alloc(1024 * 1024 + 1, 0x20)), 1009],
      ['fragments adding up to over 1 MiB', Buffer.concat([frame(0x1, Buffer.alloc(600_000, 0x20), { fin: false }), frame(0x0, Buffer.alloc(600_000, 0x20))]), 1009],
      ['close with an invalid code', frame(0x8, closePayload(999)), 1002],
      ['close with a reserved code', frame(0x8, closePayload(1005)), 1002],
      // (RFC 6455 fails the connection; implementations answer it as invalid data or a protocol error)
      ['close with invalid UTF-8 reason', frame(0x8, Buffer.concat([closePayload(1000), Buffer.from([0xff])])), [1007, 1002]],
    ];
    received.length = 0;
    for (const [name, bytes, code] of cases) {
      const w = await rawWs();
      expect([name, w.status]).toEqual([name, 101]);
      w.s.write(bytes);
      await until(() => w.closed() || closeCode(w.frames()) !== undefined);
      const got = closeCode(w.frames());
      expect([name, Array.isArray(code) && got !== undefined && code.includes(got) ? code : got]).toEqual([name, code]);
      w.s.destroy();
    }
    // A normal close is echoed with the same code.
    const normal = await rawWs();
    normal.s.write(frame(0x8, closePayload(1000, 'bye')));
    await until(() => closeCode(normal.frames()) !== undefined);
    expect(closeCode(normal.frames())).toBe(1000);
    normal.s.destroy();
    expect(received.filter((t) => /"id":"[urco]"/.test(t))).toEqual([]);
    await stillServes();
  });

  it('reassembles fragmented text frames (with pings between them), answers a ping flood with pongs, and keeps answering calls', async () => {
    const w = await rawWs();
    const text = call('fragmented');
    w.s.write(Buffer.concat([frame(0x1, text.slice(0, 10), { fin: false }), frame(0x9, 'between'), frame(0x0, text.slice(10, 20), { fin: false }), frame(0x0, text.slice(20))]));
    await until(() => w.frames().some((f) => f.opcode === 0x1));
    expect(w.frames().filter((f) => f.opcode === 0x1).map((f) => f.payload.toString())).toEqual(['{"jsonrpc":"2.0","id":"fragmented","result":"0x1"}']);
    expect(w.frames().filter((f) => f.opcode === 0xa).map((f) => f.payload.toString())).toEqual(['between']);
    // Pings one by one keep the socket and get their pongs; a burst of 5,000 in one write may get
    // the flooding socket closed, but never the gate: the call after it is answered or the socket closed.
    for (let i = 0; i < 50; i++) w.s.write(frame(0x9, `p${i}`));
    expect(await until(() => w.frames().filter((f) => f.opcode === 0xa).length === 51)).toBe(true);
    w.s.write(Buffer.concat([...Array.from({ length: 5000 }, (_, i) => frame(0x9, String(i))), frame(0x1, call('after-pings'))]));
    expect(await until(() => w.closed() || w.frames().some((f) => f.opcode === 0x1 && f.payload.toString().includes('after-pings')), 10_000)).toBe(true);
    w.s.destroy();
    await stillServes();
  });

  it('never lets a frame sent before the upgrade completes past the method screen', async () => {
    received.length = 0;
    authorizerDelayMs(200);
    const early = Buffer.concat([frame(0x1, '{"jsonrpc":"2.0","id":"early","method":"eth_accounts"}'), frame(0x1, call('early-ok'))]);
    const w = await rawWs(early);
    expect([101, 400].includes(w.status) || w.closed()).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    if (w.status === 101 && !w.closed()) {
      // Read as the socket's first frames: screened like any other.
      const answers = w.frames().filter((f) => f.opcode === 0x1).map((f) => JSON.parse(f.payload.toString()) as { id: string; error?: { code: number } });
      expect(answers.find((a) => a.id === 'early')?.error?.code).toBe(-32601);
    }
    w.s.destroy();
    expect(received.filter((t) => t.includes('eth_accounts'))).toEqual([]);
    await stillServes();
  });

  it('opens no upstream WebSocket that outlives a failed upgrade (POST /ws, bad key or version, client gone)', async () => {
    // Sockets of earlier tests close first: the baseline is no upstream WebSocket at all.
    expect(await until(() => wss.clients.size === 0)).toBe(true);
    const upgrade = (lines: string[]) => raw([...lines, `Host: 127.0.0.1:${gate.port}`, `Authorization: ${GOOD}`, '', ''].join('\r\n')).then((r) => r.text);
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
        expect(JSON.parse(responses(out)[0].body).jsonrpc).toBe('2.0');
      }
    }
    // Client gone while the authorizer decides, and right after the upstream opened.
    authorizerDelayMs(100);
    for (let i = 0; i < 25; i++) {
      const s: Socket = connect(gate.port, '127.0.0.1', () => s.write([`GET /ws HTTP/1.1`, ...good, `Host: x`, `Authorization: ${GOOD}`, '', ''].join('\r\n')));
      s.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, i % 2 ? 20 : 110));
      s.destroy();
    }
    expect(await until(() => wss.clients.size === 0, 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(wss.clients.size).toBe(0);
    await stillServes();
  });

  it(`gives up a WebSocket upgrade the node does not complete after ${UPGRADE_TIMEOUT_S} s (504) and closes the upstream socket`, async () => {
    stallUpgrades = true;
    try {
      const started = Date.now();
      const status = await new Promise<{ status: number; body: string }>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${gate.port}/ws`, { headers: { authorization: GOOD } });
        ws.on('unexpected-response', (_req, r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        ws.on('open', () => resolve({ status: 101, body: '' }));
        ws.on('error', () => resolve({ status: -1, body: '' }));
      });
      const took = Date.now() - started;
      expect(status.status).toBe(504);
      expect(JSON.parse(status.body).jsonrpc).toBe('2.0');
      expect(took).toBeGreaterThanOrEqual(UPGRADE_TIMEOUT_S * 1000 - 50);
      expect(took).toBeLessThan(UPGRADE_TIMEOUT_S * 1000 + 5_000);
      // The stalled upstream connection was closed by the gate.
      expect(await until(() => stalled.size === 0)).toBe(true);
    } finally {
      stallUpgrades = false;
    }
    await stillServes();
  }, 60_000);

  it("serves WebSocket JSON-RPC on /ws and on the node's own path, and refuses other paths with a JSON-RPC 404", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gate.port}/nodes/validator-1/ws`, { headers: { authorization: GOOD } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const answered = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
    ws.send(call('node-path'));
    expect(await answered).toBe('{"jsonrpc":"2.0","id":"node-path","result":"0x1"}');
    ws.close();
    for (const path of ['/nodes/other-node/ws', '/ws/extra', '/socket']) {
      const status = await new Promise<{ status: number; body: string }>((resolve) => {
        const other = new WebSocket(`ws://127.0.0.1:${gate.port}${path}`, { headers: { authorization: GOOD } });
        other.on('unexpected-response', (_req, r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        });
        other.on('open', () => resolve({ status: 101, body: '' }));
        other.on('error', () => resolve({ status: -1, body: '' }));
      });
      expect([path, status.status, JSON.parse(status.body || 'null')?.jsonrpc]).toEqual([path, 404, '2.0']);
    }
  });

  it('is still the same process, and logged nothing that escaped a request path', async () => {
    expect(gate.process.exitCode).toBeNull();
    expect(gate.output()).not.toMatch(/uncaught|unhandled|panic/i);
    await stillServes();
  });

  function authorizerDelayMs(ms: number): void {
    authorizer.delayMs = ms;
  }
});
