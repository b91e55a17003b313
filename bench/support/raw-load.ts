/**
 * A cheap HTTP/1.1 load generator, identical for every server it is pointed at: N persistent
 * `net.Socket` connections, each with one request in flight. Requests are pre-serialized once;
 * responses are framed by Content-Length or chunked transfer coding (anything else, e.g. a
 * close-delimited body, fails loudly), must be 200 with a JSON-RPC `"result"`, and each one's
 * latency is recorded. The point is that the client costs little CPU per request, so what is
 * measured is the server, not the client.
 */
import { LatencyRecorder } from './latency-recorder';
import { Socket, connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface RawLoadOptions {
  readonly host?: string;
  readonly port: number;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body: string;
  readonly concurrency: number;
  readonly durationMs: number;
  /** Open-loop pacing: total requests per second across all connections (default: as fast as answered). */
  readonly rate?: number;
}

export interface RawLoadResult {
  /** Successful (200 + result) responses. */
  readonly requests: number;
  /** Responses that were not 200 or had no JSON-RPC result, plus broken connections. */
  readonly errors: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  /** Per successful request, ms, in completion order. */
  readonly latenciesMs: Float64Array;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const RESULT = Buffer.from('"result"');

/** The serialized request (exported for tests). */
export function serializeRequest(o: Pick<RawLoadOptions, 'host' | 'port' | 'path' | 'headers' | 'body'>): Buffer {
  const body = Buffer.from(o.body);
  const lines = [`POST ${o.path ?? '/'} HTTP/1.1`, `Host: ${o.host ?? '127.0.0.1'}:${o.port}`, 'Content-Type: application/json', `Content-Length: ${body.length}`];
  for (const [k, v] of Object.entries(o.headers ?? {})) lines.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}

/**
 * Frames one response at the start of `buf`: its end offset, status and body bounds, or undefined
 * when more bytes are needed. Throws on a response it cannot frame (no Content-Length, not chunked).
 */
export function frameResponse(buf: Buffer): { end: number; status: number; bodyStart: number; chunked: boolean } | undefined {
  const headEnd = buf.indexOf(CRLFCRLF);
  if (headEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headEnd).toLowerCase();
  if (!head.startsWith('http/1.1 ')) throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(head.slice(0, 40))}`);
  const status = Number(head.slice(9, 12));
  const bodyStart = headEnd + 4;
  const cl = /\r\ncontent-length:[ \t]*(\d+)/.exec(head);
  if (cl) {
    const end = bodyStart + Number(cl[1]);
    return buf.length >= end ? { end, status, bodyStart, chunked: false } : undefined;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    let p = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', p, 'latin1');
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', p, lineEnd).split(';')[0], 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        // Trailers (if any) end with an empty line.
        const trailersEnd = buf.indexOf(CRLFCRLF, lineEnd);
        if (buf.length >= lineEnd + 4 && buf[lineEnd + 2] === 13 && buf[lineEnd + 3] === 10) return { end: lineEnd + 4, status, bodyStart, chunked: true };
        return trailersEnd < 0 ? undefined : { end: trailersEnd + 4, status, bodyStart, chunked: true };
      }
      p = lineEnd + 2 + size + 2;
      if (buf.length < p) return undefined;
    }
  }
  throw new Error(`response with neither Content-Length nor chunked coding: ${JSON.stringify(head.slice(0, 200))}`);
}

/** Runs the load for `durationMs` and resolves when every connection has finished its last request. */
export async function rawLoad(o: RawLoadOptions): Promise<RawLoadResult> {
  const request = serializeRequest(o);
  const recorder = new LatencyRecorder();
  let errors = 0;
  const started = performance.now();
  const end = started + o.durationMs;
  let failure: Error | undefined;

  const record = (ms: number) => recorder.record(ms);

  const connection = () =>
    new Promise<void>((resolve) => {
      const socket: Socket = connect({ host: o.host ?? '127.0.0.1', port: o.port, noDelay: true });
      let pending: Buffer | undefined;
      let sentAt = 0;
      let done = false;
      const interval = o.rate ? (o.concurrency * 1000) / o.rate : 0;
      let next = performance.now() + Math.random() * interval;
      const finish = () => {
        if (done) return;
        done = true;
        socket.destroy();
        resolve();
      };
      const send = () => {
        sentAt = performance.now();
        socket.write(request);
      };
      socket.once('connect', () => (interval ? setTimeout(send, Math.max(0, next - performance.now())) : send()));
      socket.on('data', (chunk: Buffer) => {
        pending = pending ? Buffer.concat([pending, chunk]) : chunk;
        let framed;
        try {
          framed = frameResponse(pending);
        } catch (e) {
          failure = e as Error;
          errors++;
          return finish();
        }
        if (!framed) return;
        const now = performance.now();
        const result = pending.indexOf(RESULT, framed.bodyStart);
        if (framed.status === 200 && result >= 0 && result < framed.end) record(now - sentAt);
        else errors++;
        if (framed.end !== pending.length) {
          // One request in flight per connection: anything after the response is a protocol error.
          failure = new Error(`${pending.length - framed.end} unexpected bytes after a response`);
          errors++;
          return finish();
        }
        pending = undefined;
        if (now >= end) finish();
        else if (!interval) send();
        else {
          next += interval;
          if (next <= now) send();
          else setTimeout(send, next - now);
        }
      });
      socket.on('error', () => {
        if (!done) errors++;
        finish();
      });
      socket.on('close', () => {
        if (!done && performance.now() < end) errors++;
        finish();
      });
    });

  await Promise.all(Array.from({ length: o.concurrency }, connection));
  if (failure) throw failure;
  const seconds = (performance.now() - started) / 1000;
  return { requests: recorder.count, errors, seconds, requestsPerSecond: Math.round(recorder.count / seconds), latenciesMs: recorder.samples() };
}
