import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { frameResponse, rawLoad, serializeRequest } from '../../bench/support/raw-load';

// The gate benchmark's load client (bench/support/raw-load.ts): its framing decides what counts
// as a completed request, so it is tested like the gate's own.
describe('gate benchmark load client', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');

  it('frames Content-Length and chunked answers, waits for missing bytes, refuses what it cannot frame', () => {
    const cl = 'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"a":1}';
    expect(frameResponse(b(cl))).toEqual({ end: cl.length, status: 200, bodyStart: cl.length - 7, chunked: false });
    expect(frameResponse(b(cl.slice(0, -1)))).toBeUndefined();
    expect(frameResponse(b('HTTP/1.1 200 OK\r\nContent-Le'))).toBeUndefined();
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\n{"a\r\n4\r\n":1}\r\n0\r\n\r\n';
    expect(frameResponse(b(chunked))?.end).toBe(chunked.length);
    expect(frameResponse(b(chunked.slice(0, -2)))).toBeUndefined();
    const trailers = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-T: 1\r\n\r\n';
    expect(frameResponse(b(trailers))?.end).toBe(trailers.length);
    expect(() => frameResponse(b('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{}'))).toThrow(/neither Content-Length nor chunked/);
    expect(() => frameResponse(b('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}'))).toThrow(/not an HTTP\/1.1/);
  });

  it('serializes one request with its credential header and counts only 200 answers with a result', async () => {
    expect(serializeRequest({ port: 8545, body: '{}', headers: { authorization: 'Basic x' } }).toString()).toBe(
      'POST / HTTP/1.1\r\nHost: 127.0.0.1:8545\r\nContent-Type: application/json\r\nContent-Length: 2\r\nauthorization: Basic x\r\n\r\n{}',
    );
    let n = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        n++;
        if (n % 3 === 0) res.writeHead(401).end();
        else if (n % 3 === 1) res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":"0x1"}');
        else res.writeHead(200).end('{"jsonrpc":"2.0","id":1,"error":{"code":-32601}}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const r = await rawLoad({ port: (server.address() as AddressInfo).port, body: '{}', concurrency: 1, durationMs: 200 });
    server.close();
    expect(r.requests + r.errors).toBe(n);
    expect(r.requests).toBe(Math.ceil(n / 3));
    expect(r.latenciesMs.length).toBe(r.requests);
  });
});
