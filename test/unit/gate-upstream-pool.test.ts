import { AddressInfo, Server, Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamError, UpstreamPool, UpstreamResponse, parseResponseHead } from '../../lambda/node-gate/upstream-pool';

/**
 * A scripted upstream on 127.0.0.1: `answer` gets each complete request (head + body, framed by
 * Content-Length) and the socket, and writes whatever bytes the test wants back.
 */
interface Fake {
  readonly url: string;
  readonly connections: number;
  readonly requests: Buffer[];
  close(): Promise<void>;
}
const open: (Fake | UpstreamPool)[] = [];

async function fakeUpstream(answer: (request: Buffer, socket: Socket, index: number) => void): Promise<Fake> {
  const requests: Buffer[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buf.toString('latin1', 0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const request = buf.subarray(0, end + 4 + length);
        buf = buf.subarray(end + 4 + length);
        requests.push(request);
        answer(request, socket, requests.length - 1);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const fake: Fake = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    get connections() {
      return connections;
    },
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  open.push(fake);
  return fake;
}

function pool(url: string, options: ConstructorParameters<typeof UpstreamPool>[1] = {}): UpstreamPool {
  const p = new UpstreamPool(url, options);
  open.push(p);
  return p;
}

/** Writes `data` one small piece at a time (each its own TCP write), to exercise incremental framing. */
async function dribble(socket: Socket, data: string | Buffer, size = 3): Promise<void> {
  const b = Buffer.from(data);
  for (let i = 0; i < b.length; i += size) {
    socket.write(b.subarray(i, i + size));
    await new Promise((r) => setTimeout(r, 1));
  }
}

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const BODY = Buffer.from('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}');
const text = (r: UpstreamResponse) => r.body.toString('utf8');
/** Settles within `ms` or fails the test (a hang is a failure). */
const within = <T>(p: Promise<T>, ms = 3000) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);

afterEach(async () => {
  for (const o of open.splice(0)) {
    if (o instanceof UpstreamPool) o.close();
    else await o.close();
  }
});

describe('gate upstream pool: keep-alive connections to the node client', () => {
  it('reuses one keep-alive connection for sequential requests and sends the body byte for byte', async () => {
    const fake = await fakeUpstream((_req, s) => s.write(ok('{"result":"0x1"}')));
    const p = pool(fake.url);
    const odd = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0xa9, 0x22, 0x7d]); // invalid UTF-8 inside
    for (let i = 0; i < 20; i++) expect(text(await within(p.postAsync(i === 5 ? odd : BODY)))).toBe('{"result":"0x1"}');
    expect(fake.connections).toBe(1);
    expect(p.connectionsOpened).toBe(1);
    const head = fake.requests[0].toString('latin1');
    expect(head).toMatch(/^POST \/ HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\nContent-Type: application\/json\r\nContent-Length: 63\r\n\r\n/);
    expect(fake.requests[0].subarray(fake.requests[0].length - BODY.length).equals(BODY)).toBe(true);
    expect(fake.requests[5].subarray(fake.requests[5].length - odd.length).equals(odd)).toBe(true);
  });

  it('frames a Content-Length answer that arrives a few bytes at a time, and passes the status through', async () => {
    const fake = await fakeUpstream((_req, s) => void dribble(s, `HTTP/1.1 500 Internal Server Error\r\ncontent-length: 29\r\nX-Other: a:b\r\n\r\n{"error":"internal", "x": 1}\n`));
    const r = await within(pool(fake.url).postAsync(BODY));
    expect(r.status).toBe(500);
    expect(text(r)).toBe('{"error":"internal", "x": 1}\n');
  });

  it('decodes a chunked answer (chunk extensions, trailers, pieces split anywhere) and keeps the connection', async () => {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\n{"res\r\n0000C\r\nult":"0x2a"}\r\n0\r\nX-Trailer: 1\r\n\r\n';
    const plain = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    const fake = await fakeUpstream((_req, s, i) => void dribble(s, i === 0 ? chunked : plain, i === 0 ? 2 : 100));
    const p = pool(fake.url);
    expect(text(await within(p.postAsync(BODY)))).toBe('{"result":"0x2a"}');
    expect(text(await within(p.postAsync(BODY)))).toBe('abc');
    expect(fake.connections).toBe(1);
  });

  it('reads a close-delimited answer to the end and does not reuse that connection', async () => {
    const fake = await fakeUpstream((_req, s) => s.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{"result":"0x3"}'));
    const p = pool(fake.url);
    expect(text(await within(p.postAsync(BODY)))).toBe('{"result":"0x3"}');
    expect(text(await within(p.postAsync(BODY)))).toBe('{"result":"0x3"}');
    expect(fake.connections).toBe(2);
  });

  it('honours Connection: close and HTTP/1.0 answers (no reuse)', async () => {
    const fake = await fakeUpstream((_req, s, i) =>
      s.write(i === 0 ? 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}' : 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n[]'),
    );
    const p = pool(fake.url);
    expect(text(await within(p.postAsync(BODY)))).toBe('{}');
    expect(text(await within(p.postAsync(BODY)))).toBe('[]');
    expect(fake.connections).toBe(2);
  });

  it('skips an interim 1xx answer and reads 204 without a body', async () => {
    const fake = await fakeUpstream((_req, s, i) => s.write(i === 0 ? 'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n' + ok('{"a":1}') : 'HTTP/1.1 204 No Content\r\n\r\n'));
    const p = pool(fake.url);
    expect(text(await within(p.postAsync(BODY)))).toBe('{"a":1}');
    const r = await within(p.postAsync(BODY));
    expect([r.status, r.body.length]).toEqual([204, 0]);
    expect(fake.connections).toBe(1);
  });

  it('fails with 502 and no hang when the upstream closes mid-answer (Content-Length and chunked), then recovers', async () => {
    const fake = await fakeUpstream((_req, s, i) => {
      if (i === 0) s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial"');
      else if (i === 1) s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"par');
      else if (i === 2) s.destroy(); // before any answer byte
      else s.write(ok('{"result":"fine"}'));
    });
    const p = pool(fake.url);
    for (let i = 0; i < 3; i++) {
      const e = await within(p.postAsync(BODY).then(() => undefined, (err: unknown) => err));
      expect(e).toBeInstanceOf(UpstreamError);
      expect((e as UpstreamError).status).toBe(502);
    }
    expect(text(await within(p.postAsync(BODY)))).toBe('{"result":"fine"}');
    expect(p.size).toBe(1);
  });

  it.each([
    ['a malformed status line', 'HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}'],
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['conflicting Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}'],
    ['a non-numeric Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}'],
    ['Content-Length with chunked', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'],
    ['an unknown transfer coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'],
    ['obsolete line folding', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n X-Folded: yes\r\n\r\n{}'],
    ['whitespace before a colon', 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\n{}'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['a chunk without its CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n'],
    ['a protocol switch', 'HTTP/1.1 101 Switching Protocols\r\n\r\n'],
  ])('answers 502 and drops the connection on %s', async (_what, reply) => {
    const fake = await fakeUpstream((_req, s) => s.write(reply));
    const p = pool(fake.url);
    const e = await within(p.postAsync(BODY).then(() => undefined, (err: unknown) => err));
    expect((e as UpstreamError).status).toBe(502);
    expect(p.size).toBe(0);
  });

  it('answers 502 for an answer over the size cap (declared or chunked) without buffering it', async () => {
    const fake = await fakeUpstream((_req, s, i) =>
      s.write(i === 0 ? 'HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n' : 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + '200\r\n' + 'x'.repeat(512) + '\r\n' + '400\r\n' + 'y'.repeat(1024) + '\r\n'),
    );
    const p = pool(fake.url, { maxResponseBytes: 1024 });
    for (let i = 0; i < 2; i++) {
      const e = await within(p.postAsync(BODY).then(() => undefined, (err: unknown) => err));
      expect((e as UpstreamError).status).toBe(502);
    }
  });

  it('drops the connection when bytes nobody asked for follow an answer (the answer itself is delivered)', async () => {
    const fake = await fakeUpstream((_req, s) => s.write(ok('{"a":1}') + ok('{"b":2}')));
    const p = pool(fake.url);
    expect(text(await within(p.postAsync(BODY)))).toBe('{"a":1}');
    expect(text(await within(p.postAsync(BODY)))).toBe('{"a":1}');
    expect(fake.connections).toBe(2);
  });

  it('answers 504 when the answer takes longer than the timeout', async () => {
    const fake = await fakeUpstream(() => undefined);
    const p = pool(fake.url, { timeoutMs: 200 });
    const e = await within(p.postAsync(BODY).then(() => undefined, (err: unknown) => err));
    expect((e as UpstreamError).status).toBe(504);
    expect(p.size).toBe(0);
  });

  it('answers 502 when nothing listens upstream', async () => {
    const fake = await fakeUpstream(() => undefined);
    const url = fake.url;
    await fake.close();
    const e = await within(pool(url).postAsync(BODY).then(() => undefined, (err: unknown) => err));
    expect((e as UpstreamError).status).toBe(502);
  });

  it('queues beyond maxConnections and serves every request in order of arrival', async () => {
    const fake = await fakeUpstream((req, s) => setTimeout(() => s.write(ok(req.subarray(req.indexOf('\r\n\r\n') + 4).toString())), 5));
    const p = pool(fake.url, { maxConnections: 2 });
    const answers = await within(Promise.all(Array.from({ length: 9 }, (_, i) => p.postAsync(Buffer.from(`{"id":${i}}`)))));
    expect(answers.map(text)).toEqual(Array.from({ length: 9 }, (_, i) => `{"id":${i}}`));
    expect(fake.connections).toBe(2);
  });

  it('closes idle connections and opens a new one when needed; survives the upstream closing an idle one', async () => {
    const fake = await fakeUpstream((_req, s, i) => {
      s.write(ok('{}'));
      if (i === 1) setTimeout(() => s.end(), 5); // the upstream's own idle close
    });
    const p = pool(fake.url, { idleMs: 100 });
    await within(p.postAsync(BODY));
    await new Promise((r) => setTimeout(r, 300));
    expect(p.size).toBe(0);
    await within(p.postAsync(BODY));
    await new Promise((r) => setTimeout(r, 50));
    await within(p.postAsync(BODY));
    expect(fake.connections).toBe(3);
  });

  it('fails requests in flight with 502 when closed', async () => {
    const fake = await fakeUpstream(() => undefined);
    const p = pool(fake.url);
    const pending = p.postAsync(BODY).then(() => undefined, (err: unknown) => err);
    await new Promise((r) => setTimeout(r, 20));
    p.close();
    expect(((await within(pending)) as UpstreamError).status).toBe(502);
  });

  it('parses response heads strictly', () => {
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive')).toEqual({ status: 200, length: 5, chunked: false, keepAlive: true });
    expect(parseResponseHead('HTTP/1.1 200\r\ntransfer-encoding: Chunked')).toEqual({ status: 200, length: undefined, chunked: true, keepAlive: true });
    expect(parseResponseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1').keepAlive).toBe(true);
    expect(parseResponseHead('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5').length).toBe(5);
    expect(() => parseResponseHead('HTTP/2 200 OK')).toThrow();
    expect(() => parseResponseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked')).toThrow();
  });
});
