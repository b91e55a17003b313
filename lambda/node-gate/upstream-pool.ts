import { Socket, connect } from 'node:net';

/**
 * The gate's connections to the client's JSON-RPC on 127.0.0.1: a small pool of persistent raw
 * HTTP/1.1 connections, one request in flight per connection (no pipelining), reused while the
 * upstream keeps them alive. The upstream is our own node's client (geth, Besu, GoQuorum), a
 * trusted HTTP/1.1 server on loopback, so this is a deliberately small client: it sends one kind
 * of request (POST, JSON, Content-Length) and frames answers by Content-Length, chunked transfer
 * coding or connection close. Anything it cannot frame exactly (a malformed status line or header,
 * conflicting lengths, an unknown transfer coding, bytes nobody asked for, the connection closing
 * mid-answer, an answer over the size cap) destroys that connection and fails the request with
 * 502; an answer that takes longer than `timeoutMs` fails with 504. Failed requests are never
 * retried (a JSON-RPC call may not be idempotent).
 */
export interface UpstreamPoolOptions {
  /** Most connections to the upstream; further requests wait in order. @default 64 */
  readonly maxConnections?: number;
  /** Idle connections are closed after this long (below the upstream's own idle timeout). @default 4 s */
  readonly idleMs?: number;
  /** An answer that has not fully arrived after this long fails with 504. @default 120 s */
  readonly timeoutMs?: number;
  /** Largest answer body (bytes); larger ones fail with 502. @default 256 MiB */
  readonly maxResponseBytes?: number;
}

/** A complete upstream answer. */
export interface UpstreamResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** Why a request to the upstream failed, with the status the gate answers. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly status: 502 | 504,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

export type UpstreamCallback = (error: UpstreamError | undefined, response?: UpstreamResponse) => void;

/** What the gate needs from its HTTP client to the node (the pool below; the benchmark also plugs undici's Pool in). */
export interface UpstreamClient {
  /** POSTs a JSON body; the callback gets the complete answer or an {@link UpstreamError}. */
  post(body: Buffer, callback: UpstreamCallback): void;
  /** Closes every connection; requests in flight fail with 502. */
  close(): void;
  /** Connections opened so far. */
  readonly connectionsOpened: number;
}

const MAX_HEAD_BYTES = 16 * 1024;
const MAX_CHUNK_LINE = 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Where a connection is in reading an answer. */
const State = { Idle: 0, Head: 1, Length: 2, ChunkSize: 3, ChunkData: 4, ChunkDataEnd: 5, Trailers: 6, UntilClose: 7 } as const;
type State = (typeof State)[keyof typeof State];

/** Parses a response head (status line and fields, without the blank line). Throws on anything malformed. */
export function parseResponseHead(head: string): { status: number; length: number | undefined; chunked: boolean; keepAlive: boolean } {
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/.exec(lines[0]);
  if (!m) throw new Error('malformed status line');
  const status = Number(m[2]);
  let keepAlive = m[1] === '1';
  let length: number | undefined;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    // No obsolete line folding, no whitespace before the colon, no empty names.
    if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9 || line.charCodeAt(colon - 1) === 32 || line.charCodeAt(colon - 1) === 9) {
      throw new Error('malformed header field');
    }
    const name = line.slice(0, colon).toLowerCase();
    if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') continue;
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) throw new Error('malformed content-length');
      const n = Number(value);
      if (length !== undefined && length !== n) throw new Error('conflicting content-length');
      length = n;
    } else if (name === 'transfer-encoding') {
      if (value.toLowerCase() !== 'chunked' || chunked) throw new Error(`unsupported transfer-encoding ${value}`);
      chunked = true;
    } else {
      const tokens = value.toLowerCase().split(',').map((t) => t.trim());
      if (tokens.includes('close')) keepAlive = false;
      else if (tokens.includes('keep-alive')) keepAlive = true;
    }
  }
  if (chunked && length !== undefined) throw new Error('both content-length and chunked');
  return { status, length, chunked, keepAlive };
}

class Connection {
  readonly socket: Socket;
  state: State = State.Idle;
  callback: UpstreamCallback | undefined;
  startedAt = 0;
  lastUsed = 0;
  private pending: Buffer | undefined;
  private status = 0;
  private keepAlive = true;
  private remaining = 0;
  private body: Buffer[] = [];
  private bodyBytes = 0;
  private closed = false;
  private finished: Buffer | undefined;

  constructor(
    private readonly pool: UpstreamPool,
    host: string,
    port: number,
  ) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('error', () => this.onClose('upstream connection failed'));
    this.socket.on('close', () => this.onClose('upstream closed the connection'));
  }

  send(request: string, callback: UpstreamCallback, now: number): void {
    this.callback = callback;
    this.startedAt = now;
    this.state = State.Head;
    // One write (one syscall); latin1 maps each byte to one char and back, so it is byte-exact.
    this.socket.write(request, 'latin1');
  }

  /** Fails the request in flight (if any) and closes the connection. */
  fail(message: string, status: 502 | 504 = 502): void {
    const cb = this.callback;
    this.callback = undefined;
    this.finished = undefined;
    this.state = State.Idle;
    this.destroy();
    if (cb) cb(new UpstreamError(message, status));
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.body = [];
    this.socket.destroy();
    this.pool.forget(this);
  }

  private onEnd(): void {
    if (this.state === State.UntilClose) {
      this.finished = Buffer.concat(this.body);
      this.deliver();
      return;
    }
    this.onClose('upstream closed the connection');
  }

  private onClose(message: string): void {
    if (this.callback) this.fail(message);
    else this.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state === State.Idle) {
      // Bytes nobody asked for: the connection is out of step.
      this.destroy();
      return;
    }
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    try {
      while (buf.length > 0 && this.finished === undefined) {
        const used = this.step(buf);
        if (used < 0) {
          this.pending = buf;
          return;
        }
        buf = buf.subarray(used);
      }
    } catch (e) {
      this.fail((e as Error).message);
      return;
    }
    if (this.finished !== undefined) {
      // Bytes after the answer were never asked for: answer, then drop the connection.
      if (buf.length > 0) this.keepAlive = false;
      this.deliver();
    }
  }

  /** Consumes a prefix of `buf`; returns how many bytes, or -1 when more are needed (buf kept whole). */
  private step(buf: Buffer): number {
    switch (this.state) {
      case State.Head: {
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (buf.length > MAX_HEAD_BYTES) throw new Error('upstream response head too large');
          return -1;
        }
        if (end > MAX_HEAD_BYTES) throw new Error('upstream response head too large');
        const head = parseResponseHead(buf.toString('latin1', 0, end));
        if (head.status < 200) {
          if (head.status === 101) throw new Error('unexpected protocol switch');
          return end + 4; // interim answer (1xx): the real one follows
        }
        this.status = head.status;
        this.keepAlive = head.keepAlive;
        this.body = [];
        this.bodyBytes = 0;
        if (head.status === 204 || head.status === 304) {
          this.complete(buf.subarray(0, 0));
        } else if (head.chunked) {
          this.state = State.ChunkSize;
        } else if (head.length !== undefined) {
          if (head.length > this.pool.maxResponseBytes) throw new Error('upstream response too large');
          // Fast path: the whole answer in this buffer.
          if (buf.length >= end + 4 + head.length) {
            this.complete(buf.subarray(end + 4, end + 4 + head.length));
            return end + 4 + head.length;
          }
          this.state = State.Length;
          this.remaining = head.length;
        } else {
          this.keepAlive = false;
          this.state = State.UntilClose;
        }
        return end + 4;
      }
      case State.Length: {
        const n = Math.min(this.remaining, buf.length);
        this.body.push(buf.subarray(0, n));
        this.remaining -= n;
        if (this.remaining === 0) this.complete(Buffer.concat(this.body));
        return n;
      }
      case State.UntilClose: {
        this.take(buf, buf.length);
        return buf.length;
      }
      case State.ChunkSize: {
        const lf = buf.indexOf(10);
        if (lf < 0) {
          if (buf.length > MAX_CHUNK_LINE) throw new Error('chunk size line too long');
          return -1;
        }
        if (lf === 0 || buf[lf - 1] !== 13 || lf > MAX_CHUNK_LINE) throw new Error('malformed chunk size line');
        const line = buf.toString('latin1', 0, lf - 1);
        const semi = line.indexOf(';');
        const hex = (semi < 0 ? line : line.slice(0, semi)).trimEnd();
        if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new Error('malformed chunk size');
        const size = parseInt(hex, 16);
        if (size === 0) this.state = State.Trailers;
        else {
          if (this.bodyBytes + size > this.pool.maxResponseBytes) throw new Error('upstream response too large');
          this.remaining = size;
          this.state = State.ChunkData;
        }
        return lf + 1;
      }
      case State.ChunkData: {
        const n = Math.min(this.remaining, buf.length);
        this.take(buf, n);
        this.remaining -= n;
        if (this.remaining === 0) this.state = State.ChunkDataEnd;
        return n;
      }
      case State.ChunkDataEnd: {
        if (buf.length < 2) return -1;
        if (buf[0] !== 13 || buf[1] !== 10) throw new Error('malformed chunk end');
        this.state = State.ChunkSize;
        return 2;
      }
      case State.Trailers: {
        // Trailer fields (ignored) end with an empty line.
        if (buf.length >= 2 && buf[0] === 13 && buf[1] === 10) {
          this.complete(Buffer.concat(this.body));
          return 2;
        }
        const end = buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (buf.length > MAX_HEAD_BYTES) throw new Error('trailers too large');
          return -1;
        }
        this.complete(Buffer.concat(this.body));
        return end + 4;
      }
      default:
        throw new Error('unexpected upstream bytes');
    }
  }

  private take(buf: Buffer, n: number): void {
    this.bodyBytes += n;
    if (this.bodyBytes > this.pool.maxResponseBytes) throw new Error('upstream response too large');
    this.body.push(buf.subarray(0, n));
  }

  private complete(body: Buffer): void {
    this.finished = body;
  }

  /** Hands the finished answer over, after returning the connection to the pool (or closing it). */
  private deliver(): void {
    const cb = this.callback!;
    const response: UpstreamResponse = { status: this.status, body: this.finished! };
    this.callback = undefined;
    this.finished = undefined;
    this.state = State.Idle;
    this.body = [];
    if (this.keepAlive && !this.closed) this.pool.release(this);
    else this.destroy();
    cb(undefined, response);
  }
}

/** See {@link UpstreamPoolOptions}. */
export class UpstreamPool implements UpstreamClient {
  readonly maxResponseBytes: number;
  private readonly host: string;
  private readonly port: number;
  private readonly prefix: string;
  private readonly max: number;
  private readonly idleMs: number;
  private readonly timeoutMs: number;
  private readonly all = new Set<Connection>();
  private readonly idle: Connection[] = [];
  private readonly queue: { request: string; callback: UpstreamCallback }[] = [];
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Connections opened so far (keep-alive reuse shows as requests >> connections). */
  connectionsOpened = 0;

  constructor(url: string, options: UpstreamPoolOptions = {}) {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error(`upstream must be http:, got ${u.protocol}`);
    this.host = u.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(u.port || 80);
    this.prefix = `POST ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: `;
    this.max = options.maxConnections ?? 64;
    this.idleMs = options.idleMs ?? 4000;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 256 * 1024 * 1024;
    this.timer = setInterval(() => this.sweep(), Math.max(10, Math.min(1000, this.idleMs / 2, this.timeoutMs / 2)));
    this.timer.unref();
  }

  /** Open connections (busy + idle). */
  get size(): number {
    return this.all.size;
  }

  /** POSTs a JSON body; the callback gets the complete answer or an {@link UpstreamError}. */
  post(body: Buffer, callback: UpstreamCallback): void {
    if (this.closed) {
      callback(new UpstreamError('upstream pool closed', 502));
      return;
    }
    const request = `${this.prefix}${body.length}\r\n\r\n${body.toString('latin1')}`;
    const conn = this.idle.pop();
    if (conn) conn.send(request, callback, Date.now());
    else if (this.all.size < this.max) this.open().send(request, callback, Date.now());
    else this.queue.push({ request, callback });
  }

  /** {@link post} as a promise (rejects with an {@link UpstreamError}). */
  postAsync(body: Buffer): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => this.post(body, (e, r) => (e ? reject(e) : resolve(r!))));
  }

  /** Closes every connection; requests in flight or waiting fail with 502. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const c of [...this.all]) c.fail('upstream pool closed');
    for (const q of this.queue.splice(0)) q.callback(new UpstreamError('upstream pool closed', 502));
  }

  private open(): Connection {
    const conn = new Connection(this, this.host, this.port);
    this.all.add(conn);
    this.connectionsOpened++;
    return conn;
  }

  /** A connection finished its answer and may carry another request. */
  release(conn: Connection): void {
    const next = this.queue.shift();
    if (next) {
      conn.send(next.request, next.callback, Date.now());
      return;
    }
    conn.lastUsed = Date.now();
    this.idle.push(conn);
  }

  /** A connection is gone. */
  forget(conn: Connection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (!this.closed && this.queue.length && this.all.size < this.max) {
      const next = this.queue.shift()!;
      this.open().send(next.request, next.callback, Date.now());
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const c of [...this.all]) {
      if (c.callback && now - c.startedAt > this.timeoutMs) c.fail('upstream timed out', 504);
      else if (!c.callback && now - c.lastUsed > this.idleMs) c.destroy();
    }
  }
}
