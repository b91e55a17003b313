import { request } from 'node:http';
import { AddressInfo, Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GateProcess, startGateProcess } from '../support/gate-process';
import { StubAuthorizer, startStubAuthorizer } from '../support/stub-authorizer';

// Gate contract (README "Testing"): runs against GATE_IMPL=node|go.
// The gate process's HTTP side against a scripted node (a raw TCP server, so it can misbehave)
// and a scripted authorizer behind the Lambda Invoke API: every status it answers, the method
// allowlist of its client (RPC_CLIENT=goquorum plus EXTRA_ALLOWED_METHODS), batches, body limits,
// the credential's expiry as the authorizer reports it, authorizer outage, /health with the
// block-age check, keep-alive and pipelining. Production limits: 1 MiB bodies, 100-call batches.
const GOOD = `Basic ${Buffer.from('btgood:secret').toString('base64')}`;
const BAD = `Basic ${Buffer.from('btbad:secret').toString('base64')}`;
const MAX_BODY = 1024 * 1024;

describe('the gate process over HTTP (scripted node, scripted authorizer)', () => {
  let gate: GateProcess;
  let authorizer: StubAuthorizer;
  let upstreamServer: ReturnType<typeof createServer>;
  const seen: Buffer[] = [];
  let upstreamConnections = 0;
  /** How the node answers the next request (default: a JSON-RPC result echoing the id). */
  let script: ((req: Buffer, s: Socket) => void) | undefined;
  /** The node's chain for eth_syncing / eth_getBlockByNumber (what /health reads). */
  let blockAgeSeconds = 0;
  let syncing: unknown = false;
  let answering = true;
  /** Authorization header -> expiresAt the scripted authorizer reports for it (allowed). */
  const expiring = new Map<string, string>();

  beforeAll(async () => {
    upstreamServer = createServer((s) => {
      upstreamConnections++;
      let buf = Buffer.alloc(0);
      s.on('error', () => undefined);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = Number(/content-length: *(\d+)/i.exec(buf.toString('latin1', 0, end))?.[1] ?? 0);
          if (buf.length < end + 4 + length) return;
          const body = buf.subarray(end + 4, end + 4 + length);
          buf = buf.subarray(end + 4 + length);
          const parsed = JSON.parse(body.toString()) as { id?: unknown; method?: string } | { id?: unknown; method?: string }[];
          const calls = Array.isArray(parsed) ? parsed : [parsed];
          const isHealth = calls.some((c) => c.method === 'eth_syncing');
          if (!isHealth) seen.push(body);
          if (isHealth && !answering) return s.destroy();
          if (!isHealth && script) return script(body, s);
          const block = () => ({ number: '0x10', timestamp: `0x${Math.floor(Date.now() / 1000 - blockAgeSeconds).toString(16)}` });
          const answerOf = (c: { id?: unknown; method?: string }) => ({ jsonrpc: '2.0', id: c.id, result: c.method === 'eth_getBlockByNumber' ? block() : c.method === 'eth_syncing' ? syncing : '0x1' });
          const out = JSON.stringify(Array.isArray(parsed) ? parsed.map(answerOf) : answerOf(parsed));
          s.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(out)}\r\n\r\n${out}`);
        }
      });
    });
    await new Promise<void>((r) => upstreamServer.listen(0, '127.0.0.1', r));
    const upstreamPort = (upstreamServer.address() as AddressInfo).port;
    authorizer = await startStubAuthorizer((authorization, nodeId) => {
      if (nodeId !== 'validator-1') return { allowed: false };
      if (authorization === GOOD) return { allowed: true, expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
      const expiresAt = expiring.get(authorization);
      return expiresAt ? { allowed: true, expiresAt } : { allowed: false };
    });
    gate = await startGateProcess({
      nodeId: 'validator-1',
      authorizerFunction: authorizer.functionName,
      lambdaEndpoint: authorizer.endpoint,
      upstreamHttp: `http://127.0.0.1:${upstreamPort}`,
      upstreamWs: `ws://127.0.0.1:${upstreamPort}`,
      extra: { RPC_CLIENT: 'goquorum', EXTRA_ALLOWED_METHODS: 'eth_getHeaderByNumber, eth_getRawTransactionByHash', HEALTH_MAX_BLOCK_AGE_SECONDS: '300' },
    });
  }, 60_000);

  afterAll(async () => {
    await gate?.stop();
    await authorizer?.close();
    await new Promise((r) => upstreamServer?.close(r));
  });

  beforeEach(() => {
    script = undefined;
    seen.length = 0;
    authorizer.down = false;
    authorizer.delayMs = 0;
  });

  const post = async (body: string | Buffer, headers: Record<string, string> = { authorization: GOOD }, path = '/') => {
    const res = await fetch(`${gate.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const errorOf = (text: string) => (JSON.parse(text) as { error: { code: number; message: string } }).error;

  it("keeps an idle load-balancer connection open past Node's 5 s default (ALB idle timeout is up to 60 min)", async () => {
    const socket = connect(gate.port, '127.0.0.1');
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
    const health = await fetch(`${gate.url}/health?x=1`);
    expect([health.status, await health.text()]).toEqual([200, 'ok']);
    const missing = await post('{}', { authorization: GOOD }, '/admin');
    expect([missing.status, missing.headers.get('content-type'), errorOf(missing.text)]).toEqual([404, 'application/json', { code: -32600, message: 'not found: JSON-RPC is served by POST on / and by WebSocket on /ws' }]);
    expect((await post('{}', { authorization: GOOD }, '/nodes/other-node/')).status).toBe(404);
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const r = await fetch(`${gate.url}/`, { method, headers: { authorization: GOOD } });
      expect([method, r.status, r.headers.get('allow'), JSON.parse(await r.text())]).toEqual([method, 405, 'POST', { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'send JSON-RPC as an HTTP POST (or open a WebSocket on /ws)' } }]);
    }
    expect(seen).toHaveLength(0);
  });

  it('answers 401 without or with a refused credential, 503 while the authorizer fails and serves again when it is back; nothing reaches the node', async () => {
    const body = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}';
    const none = await post(body, {});
    expect([none.status, none.headers.get('www-authenticate'), errorOf(none.text).code]).toEqual([401, 'Basic realm="blockchain", charset="UTF-8"', -32001]);
    const bad = await post(body, { authorization: BAD });
    expect([bad.status, errorOf(bad.text).message]).toEqual([401, expect.stringMatching(/^unauthorized: /)]);
    expect(bad.text).not.toContain('btbad');
    const fresh = `Basic ${Buffer.from('btfresh:secret').toString('base64')}`;
    expiring.set(fresh, new Date(Date.now() + 3_600_000).toISOString());
    authorizer.down = true;
    const down = await post(body, { authorization: fresh });
    expect([down.status, down.headers.get('retry-after'), errorOf(down.text).code]).toEqual([503, '5', -32002]);
    expect(seen).toHaveLength(0);
    authorizer.down = false;
    expect((await post(body, { authorization: fresh })).status).toBe(200);
  });

  it("refuses an allow past the credential's expiry (expiresAt), even when the authorizer still allows it; an unreadable expiry fails closed", async () => {
    const soon = `Basic ${Buffer.from('btsoon:secret').toString('base64')}`;
    expiring.set(soon, new Date(Date.now() + 1_500).toISOString());
    const body = '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}';
    expect((await post(body, { authorization: soon })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_700));
    const after = await post(body, { authorization: soon });
    expect([after.status, errorOf(after.text).code]).toEqual([401, -32001]);
    const past = `Basic ${Buffer.from('btpast:secret').toString('base64')}`;
    expiring.set(past, new Date(Date.now() - 1_000).toISOString());
    expect((await post(body, { authorization: past })).status).toBe(401);
    const unreadable = `Basic ${Buffer.from('btunreadable:secret').toString('base64')}`;
    expiring.set(unreadable, 'tomorrow');
    expect((await post(body, { authorization: unreadable })).status).toBe(401);
    expect(seen).toHaveLength(1);
  });

  it('forwards an allowed call byte for byte at every RPC path and passes the answer back', async () => {
    const body = Buffer.from('{ "jsonrpc": "2.0", "id": 7, "method": "eth_blockNumber", "params": ["\u00e9"] }');
    for (const path of ['/', '/nodes/validator-1', '/nodes/validator-1/?q=1']) {
      const r = await post(body, { authorization: GOOD }, path);
      expect([r.status, r.headers.get('content-type'), r.text]).toEqual([200, 'application/json', '{"jsonrpc":"2.0","id":7,"result":"0x1"}']);
    }
    expect(seen.map((b) => b.equals(body))).toEqual([true, true, true]);
  });

  it("allows exactly its client's method list plus EXTRA_ALLOWED_METHODS, refusing others with the request's id; unknown members refuse the call", async () => {
    // RPC_CLIENT=goquorum: GoQuorum has no eth_getBlockReceipts; the extras pass.
    const receipts = await post('{"jsonrpc":"2.0","id":"r","method":"eth_getBlockReceipts","params":["latest"]}');
    expect(JSON.parse(receipts.text)).toEqual({ jsonrpc: '2.0', id: 'r', error: { code: -32601, message: 'method eth_getBlockReceipts is not allowed' } });
    for (const extra of ['eth_getHeaderByNumber', 'eth_getRawTransactionByHash']) expect(JSON.parse((await post(`{"jsonrpc":"2.0","id":1,"method":"${extra}","params":[]}`)).text)).toEqual({ jsonrpc: '2.0', id: 1, result: '0x1' });
    const r = await post('{"jsonrpc":"2.0","id":3,"method":"admin_peers","params":[]}');
    expect([r.status, JSON.parse(r.text)]).toEqual([200, { jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'method admin_peers is not allowed' } }]);
    seen.length = 0;
    for (const smuggled of ['METHOD', 'Method', 'mEthod', 'extra']) {
      const s = await post(`{"jsonrpc":"2.0","id":4,"method":"eth_blockNumber","${smuggled}":"eth_sendTransaction","params":[]}`);
      expect(JSON.parse(s.text)).toEqual({ jsonrpc: '2.0', id: 4, error: { code: -32600, message: 'invalid request: unknown member' } });
    }
    expect(seen).toHaveLength(0);
  });

  it('answers a mixed batch with one array in request order; only the allowed calls reach the node', async () => {
    const batch = JSON.parse(
      (
        await post(
          JSON.stringify([
            { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
            { jsonrpc: '2.0', id: 2, method: 'eth_chainId', Method: 'eth_sign' },
            { jsonrpc: '2.0', id: 3, method: 'personal_sign' },
            [],
            { jsonrpc: '2.0', id: 5, method: 'net_version', params: [] },
            { jsonrpc: '2.0', id: 'six', method: 'eth_getBlockReceipts', params: ['latest'] },
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
      ['six', -32601],
    ]);
    // Only the allowed calls went to the node (their ids may be the gate's own, matched back).
    expect(seen).toHaveLength(1);
    const forwarded = JSON.parse(seen[0].toString()) as { jsonrpc: string; method: string; params?: unknown; id: unknown }[];
    expect(forwarded.map(({ method, params }) => ({ method, params }))).toEqual([
      { method: 'eth_chainId', params: undefined },
      { method: 'net_version', params: [] },
    ]);
    expect(new Set(forwarded.map((c) => JSON.stringify(c.id))).size).toBe(2);
    // All refused: one array, nothing forwarded; all allowed: the node's own answer.
    seen.length = 0;
    const refusedOnly = JSON.parse((await post('[{"jsonrpc":"2.0","id":1,"method":"eth_accounts"},{"jsonrpc":"2.0","id":2,"method":"eth_coinbase"}]')).text) as { id: number; error: { code: number } }[];
    expect(refusedOnly.map((a) => [a.id, a.error.code])).toEqual([
      [1, -32601],
      [2, -32601],
    ]);
    expect(seen).toHaveLength(0);
    const allowedOnly = '[{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},{"jsonrpc":"2.0","id":2,"method":"eth_blockNumber"}]';
    expect(JSON.parse((await post(allowedOnly)).text)).toEqual([
      { jsonrpc: '2.0', id: 1, result: '0x1' },
      { jsonrpc: '2.0', id: 2, result: '0x1' },
    ]);
    expect(seen.map((b) => b.toString())).toEqual([allowedOnly]);
  });

  it('answers 400 for unparseable bodies and for batches outside 1..100 calls (100 passes)', async () => {
    const parse = await post('{"jsonrpc":');
    expect([parse.status, errorOf(parse.text).code]).toEqual([400, -32700]);
    const empty = await post('[]');
    expect([empty.status, errorOf(empty.text)]).toEqual([400, { code: -32600, message: 'invalid request: a batch must have 1 to 100 calls, this one has 0' }]);
    const over = await post(JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))));
    expect([over.status, errorOf(over.text)]).toEqual([400, { code: -32600, message: 'invalid request: a batch must have 1 to 100 calls, this one has 101' }]);
    expect(seen).toHaveLength(0);
    const hundred = await post(JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))));
    expect([hundred.status, (JSON.parse(hundred.text) as unknown[]).length]).toEqual([200, 100]);
  });

  it(`answers 413 for a body over ${MAX_BODY} bytes, declared or streamed (chunked), and closes that connection; a body of exactly the cap passes`, async () => {
    const sized = (n: number) => {
      const head = '{"jsonrpc":"2.0","id":1,"method":"eth_call","params":["';
      const tail = '"]}';
      return head + 'x'.repeat(n - head.length - tail.length) + tail;
    };
    const declared = await post(sized(MAX_BODY + 1));
    expect([declared.status, declared.headers.get('connection'), errorOf(declared.text).code]).toEqual([413, 'close', -32004]);
    const chunked = await new Promise<{ status: number; closed: boolean; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: gate.port, method: 'POST', path: '/', headers: { authorization: GOOD, 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, closed: res.headers.connection === 'close', body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 11; i++) req.write('x'.repeat(100_000));
      req.end();
    });
    expect([chunked.status, chunked.closed, errorOf(chunked.body).code]).toEqual([413, true, -32004]);
    expect(seen).toHaveLength(0);
    expect((await post(sized(MAX_BODY))).status).toBe(200);
    expect(seen.map((b) => b.length)).toEqual([MAX_BODY]);
  });

  it('answers 502 with a JSON-RPC body, without hanging, when the node closes mid-answer or refuses connections, and keeps working', async () => {
    script = (_b, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"jsonrpc":"2.0"');
    const cut = await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}');
    expect([cut.status, errorOf(cut.text).code]).toEqual([502, -32005]);
    script = (_b, s) => s.destroy();
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).status).toBe(502);
    script = undefined;
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).status).toBe(200);
  });

  it("passes the node's own status through (e.g. 500) and reuses its upstream connection", async () => {
    // Warm one upstream connection, then count new ones.
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).status).toBe(200);
    script = (_b, s) => s.write('HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    const opened = upstreamConnections;
    for (let i = 0; i < 5; i++) expect(await post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).toMatchObject({ status: 500, text: '{}' });
    expect(upstreamConnections - opened).toBeLessThanOrEqual(1);
  });

  it('asks the authorizer once for a burst of concurrent requests with the same new credential', async () => {
    const burst = `Basic ${Buffer.from('btburst:secret').toString('base64')}`;
    expiring.set(burst, new Date(Date.now() + 3_600_000).toISOString());
    authorizer.delayMs = 200;
    const before = authorizer.calls();
    const results = await Promise.all(Array.from({ length: 12 }, () => post('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}', { authorization: burst })));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(authorizer.calls() - before).toBe(1);
  });

  it('answers a request that waits for 100 Continue (as curl sends bodies over 1 KB)', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 'continued', method: 'eth_call', params: [{ data: `0x${'00'.repeat(1024)}` }, 'latest'] });
    const socket = connect({ host: '127.0.0.1', port: gate.port });
    let all = '';
    let sent = false;
    socket.on('data', (d) => {
      all += d.toString();
      // The body goes only after the interim answer, as curl does it.
      if (all.startsWith('HTTP/1.1 100') && !sent) {
        sent = true;
        socket.write(body);
      }
    });
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${GOOD}\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`);
    const deadline = Date.now() + 5000;
    while (!all.includes('"continued"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    expect(all).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(all).toContain('{"jsonrpc":"2.0","id":"continued","result":"0x1"}');
  });

  it('answers pipelined HTTP/1.1 requests on one keep-alive connection in order', async () => {
    const socket = connect({ host: '127.0.0.1', port: gate.port });
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

  it('reports /health ok with a recent block, 503 on a stale one (HEALTH_MAX_BLOCK_AGE_SECONDS) unless syncing, and while the client does not answer', async () => {
    const health = async () => {
      await new Promise((r) => setTimeout(r, 1_100)); // past the 1 s answer cache
      const res = await fetch(`${gate.url}/health`);
      return [res.status, await res.text()];
    };
    try {
      expect(await health()).toEqual([200, 'ok']);
      blockAgeSeconds = 301;
      expect(await health()).toEqual([503, '{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"not ready"}}']);
      blockAgeSeconds = 299;
      expect(await health()).toEqual([200, 'ok']);
      blockAgeSeconds = 301;
      syncing = { currentBlock: '0x10', highestBlock: '0x100' };
      expect(await health()).toEqual([200, 'ok']);
      answering = false;
      expect((await health())[0]).toBe(503);
    } finally {
      answering = true;
      syncing = false;
      blockAgeSeconds = 0;
    }
    expect(await health()).toEqual([200, 'ok']);
    // HEAD too, and never a credential or anything about the node.
    const head = await fetch(`${gate.url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('refuses to start with a configuration it cannot honour: a never-allowed extra method, or no node id (exit code 2, naming it)', async () => {
    const base = { authorizerFunction: authorizer.functionName, lambdaEndpoint: authorizer.endpoint, upstreamHttp: 'http://127.0.0.1:1', upstreamWs: 'ws://127.0.0.1:1' };
    await expect(startGateProcess({ ...base, nodeId: 'validator-1', extra: { EXTRA_ALLOWED_METHODS: 'eth_chainId2,admin_addPeer' } })).rejects.toThrow(/exited during start-up \(2\)[\s\S]*admin_addPeer/);
    await expect(startGateProcess({ ...base, nodeId: '' })).rejects.toThrow(/exited during start-up \(2\)[\s\S]*NODE_ID/);
    expect(gate.process.exitCode).toBeNull();
  });
});
