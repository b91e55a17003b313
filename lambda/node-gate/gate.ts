import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { RpcPolicyOptions, refusal } from '../../lib/credentials/rpc-policy';
import { GATE_KEEP_ALIVE_SECONDS } from '../../lib/network/ports';
import { AuthorizeFn, DecisionCache, DecisionCacheOptions, Lookup } from './decision-cache';
import { GateMetrics } from './gate-metrics';
import { UpstreamError, UpstreamPool, UpstreamPoolOptions, UpstreamResponse } from './upstream-pool';

export interface GateOptions extends DecisionCacheOptions, RpcPolicyOptions {
  /** This node's id (the authorizer checks the credential's member owns it). */
  readonly nodeId: string;
  /** The client's HTTP JSON-RPC, e.g. http://127.0.0.1:8545. */
  readonly upstreamHttp: string;
  /** The client's WebSocket JSON-RPC, e.g. ws://127.0.0.1:8546. */
  readonly upstreamWs: string;
  readonly authorize: AuthorizeFn;
  /** Largest request body (bytes). @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** How often open WebSockets' credentials are re-checked. @default allowTtlMs (30 s) */
  readonly revalidateMs?: number;
  /** Connections to the client's HTTP JSON-RPC (see UpstreamPoolOptions). */
  readonly upstream?: UpstreamPoolOptions;
  /**
   * How long an idle client connection (the load balancer's) is kept open. It must outlast the
   * load balancer's idle timeout, or the load balancer may send a request on a connection the
   * gate is closing and answer 502 (AWS: "HTTP 502: target closed the connection").
   * @default GATE_KEEP_ALIVE_MS (GATE_KEEP_ALIVE_SECONDS: longer than the longest ALB idle timeout)
   */
  readonly keepAliveTimeoutMs?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
}

interface RpcCall {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

/** Longer than an Application Load Balancer's longest idle timeout (lib/network/ports.ts). */
export const GATE_KEEP_ALIVE_MS = GATE_KEEP_ALIVE_SECONDS * 1000;

/**
 * The members a JSON-RPC 2.0 request may have. Anything else refuses the call: geth and GoQuorum
 * decode requests with Go's encoding/json, which matches member names case-insensitively, so
 * `{"method":"eth_blockNumber","METHOD":"eth_sendTransaction"}` would pass a check of `method`
 * here and run eth_sendTransaction there.
 */
const MEMBERS = new Set(['jsonrpc', 'id', 'method', 'params']);

const JSON_TYPE = { 'content-type': 'application/json' };
const TEXT_TYPE = { 'content-type': 'text/plain' };

/**
 * The node auth gate: the only way into a node's JSON-RPC. HTTP POST and WebSocket pass-through
 * to the client on 127.0.0.1, for credentials the environment's authorizer allows on this node,
 * with a method allowlist applied to every call (batches element by element), body and batch
 * caps, and a health endpoint that needs no credential and reveals nothing.
 */
export function createGate(options: GateOptions): { server: Server; cache: DecisionCache; metrics: GateMetrics; upstream: UpstreamPool; close(): Promise<void> } {
  const cache = new DecisionCache(options.authorize, options);
  const metrics = new GateMetrics();
  const pool = new UpstreamPool(options.upstreamHttp, options.upstream);
  const nodeId = options.nodeId;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const maxBatch = options.maxBatch ?? 100;
  const log = options.log ?? ((e) => console.log(JSON.stringify(e)));
  const rpcPaths = new Set(['/', `/nodes/${nodeId}`, `/nodes/${nodeId}/`]);
  const wsPaths = new Set(['/ws', `/nodes/${nodeId}/ws`]);
  const sockets = new Map<string, Set<{ client: WebSocket; authorization: string; expiresAt?: string }>>();

  /** The answer refusing one call, or undefined when the call may go to the client. */
  const screenCall = (c: RpcCall): object | undefined => {
    if (!c || typeof c !== 'object' || Array.isArray(c)) return { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } };
    for (const k in c) {
      if (!MEMBERS.has(k)) return { jsonrpc: '2.0', id: c.id ?? null, error: { code: -32600, message: 'invalid request: unknown member' } };
    }
    const why = refusal(c.method, options);
    return why ? { jsonrpc: '2.0', id: c.id ?? null, error: { code: -32601, message: why } } : undefined;
  };

  /** Splits a request into refused answers and allowed calls (in order). */
  const screen = (body: unknown): { single: boolean; calls: RpcCall[]; answers: (object | undefined)[] } | { error: object } => {
    const single = !Array.isArray(body);
    const calls = (single ? [body] : body) as RpcCall[];
    if (!single && (calls.length === 0 || calls.length > maxBatch)) {
      return { error: { jsonrpc: '2.0', id: null, error: { code: -32600, message: `batch must have 1 to ${maxBatch} calls` } } };
    }
    return { single, calls, answers: calls.map(screenCall) };
  };

  /** Sends a response and records its latency. */
  const reply = (res: ServerResponse, started: number, status: number, headers?: Record<string, string>, body?: string | Buffer): void => {
    res.writeHead(status, headers).end(body);
    metrics.record(performance.now() - started);
  };
  /** Passes the client's answer on. */
  const passOn = (res: ServerResponse, started: number, error: UpstreamError | undefined, up: UpstreamResponse | undefined): void => {
    if (error || !up) return failed(res, started, error?.status);
    reply(res, started, up.status, JSON_TYPE, up.body);
  };
  const replyJson = (res: ServerResponse, started: number, status: number, body: unknown) => reply(res, started, status, JSON_TYPE, JSON.stringify(body));
  const refuse = (res: ServerResponse, started: number, why: 'unauthorized' | 'unavailable') => {
    if (why === 'unavailable') reply(res, started, 503, { 'retry-after': '5' });
    else reply(res, started, 401, { 'www-authenticate': 'Basic realm="blockchain", charset="UTF-8"' });
  };
  const failed = (res: ServerResponse, started: number, status = 502) => {
    if (!res.headersSent) reply(res, started, status);
    else res.end();
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      if (req.method === 'GET' && path === '/health') return reply(res, started, 200, TEXT_TYPE, 'ok');
      if (!rpcPaths.has(path)) return reply(res, started, 404);
      if (req.method !== 'POST') return reply(res, started, 405, { allow: 'POST' });
      const authorization = req.headers.authorization;
      if (typeof authorization !== 'string' || authorization.length === 0) {
        refuse(res, started, 'unauthorized');
        req.resume();
        return;
      }
      // A warm cache answers synchronously; otherwise ask the authorizer (through the cache).
      const hit = cache.cached(authorization, nodeId);
      if (hit) return authorized(req, res, started, hit);
      cache.check(authorization, nodeId).then(
        (lookup) => authorized(req, res, started, lookup),
        () => failed(res, started),
      );
    } catch {
      failed(res, started);
    }
  });

  function authorized(req: IncomingMessage, res: ServerResponse, started: number, lookup: Lookup): void {
    if (lookup.kind !== 'allow') {
      refuse(res, started, lookup.kind === 'deny' ? 'unauthorized' : 'unavailable');
      req.resume();
      return;
    }
    readBody(req, maxBody, (raw) => {
      try {
        if (raw === undefined) {
          // Over the cap: answer and close the connection rather than read the rest.
          return reply(res, started, 413, { connection: 'close' });
        }
        forwardHttp(res, started, raw);
      } catch {
        failed(res, started);
      }
    });
  }

  function forwardHttp(res: ServerResponse, started: number, raw: Buffer): void {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return replyJson(res, started, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    }
    if (!Array.isArray(body)) {
      // One call: forward the original bytes when allowed, else answer the refusal.
      const answer = screenCall(body as RpcCall);
      if (answer) return replyJson(res, started, 200, answer);
      return pool.post(raw, (error, up) => passOn(res, started, error, up));
    }
    const s = screen(body);
    if ('error' in s) return replyJson(res, started, 400, s.error);
    const forward = s.calls.filter((_, i) => !s.answers[i]);
    if (forward.length === s.calls.length) {
      // Everything allowed: forward the original bytes.
      return pool.post(raw, (error, up) => passOn(res, started, error, up));
    }
    const merge = (upstreamAnswers: unknown[]) => {
      // Put the client's answers back in request order.
      let u = 0;
      replyJson(res, started, 200, s.answers.map((a) => a ?? upstreamAnswers[u++]));
    };
    if (!forward.length) return merge([]);
    pool.post(Buffer.from(JSON.stringify(forward)), (error: UpstreamError | undefined, up?: UpstreamResponse) => {
      if (error) return failed(res, started, error.status);
      let parsed: unknown;
      try {
        parsed = JSON.parse(up!.body.toString('utf8'));
      } catch {
        return failed(res, started);
      }
      merge(Array.isArray(parsed) ? parsed : [parsed]);
    });
  }

  // The load balancer keeps idle connections up to its idle timeout (60 min by default here):
  // the gate must not close them first. Headers must still arrive promptly once a request starts.
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? GATE_KEEP_ALIVE_MS;
  server.headersTimeout = 60_000;

  // --- WebSocket ------------------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (!wsPaths.has(path)) return reject(socket, 404, 'Not Found');
      const authorization = req.headers.authorization;
      if (typeof authorization !== 'string' || !authorization) return reject(socket, 401, 'Unauthorized');
      const lookup = await cache.check(authorization, options.nodeId);
      if (lookup.kind === 'unavailable') return reject(socket, 503, 'Service Unavailable');
      if (lookup.kind !== 'allow') return reject(socket, 401, 'Unauthorized');
      const upstream = new WebSocket(options.upstreamWs);
      upstream.once('error', () => reject(socket, 502, 'Bad Gateway'));
      upstream.once('open', () => {
        wss.handleUpgrade(req, socket, head, (client) => bridge(client, upstream, lookup.key, authorization, lookup.decision.expiresAt));
      });
    })().catch(() => reject(socket, 500, 'Internal Server Error'));
  });

  function bridge(client: WebSocket, upstream: WebSocket, key: string, authorization: string, expiresAt?: string): void {
    const entry = { client, authorization, ...(expiresAt ? { expiresAt } : {}) };
    if (!sockets.has(key)) sockets.set(key, new Set());
    sockets.get(key)!.add(entry);
    const cleanup = () => {
      sockets.get(key)?.delete(entry);
      if (sockets.get(key)?.size === 0) sockets.delete(key);
      if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING) upstream.close();
      if (client.readyState === WebSocket.OPEN) client.close();
    };
    client.on('message', (data: RawData) => {
      let body: unknown;
      try {
        body = JSON.parse(data.toString());
      } catch {
        client.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }));
        return;
      }
      const s = screen(body);
      if ('error' in s) {
        client.send(JSON.stringify(s.error));
        return;
      }
      const forward = s.calls.filter((_, i) => !s.answers[i]);
      const refusedAnswers = s.answers.filter((a) => a);
      if (refusedAnswers.length) client.send(JSON.stringify(s.single ? refusedAnswers[0] : refusedAnswers));
      if (forward.length) upstream.send(JSON.stringify(s.single ? forward[0] : forward));
    });
    upstream.on('message', (data: RawData) => {
      if (client.readyState === WebSocket.OPEN) client.send(data.toString());
    });
    client.on('close', cleanup);
    upstream.on('close', cleanup);
    client.on('error', cleanup);
    upstream.on('error', cleanup);
  }

  // Re-check the credentials of open WebSockets: a revoked or expired credential loses its
  // sockets within one interval; an unreachable authorizer keeps cached allows serving.
  const timer = setInterval(() => {
    void revalidate();
  }, options.revalidateMs ?? options.allowTtlMs ?? 30_000);
  timer.unref();
  async function revalidate(): Promise<void> {
    for (const [key, set] of [...sockets]) {
      const first = [...set][0];
      if (!first) continue;
      const lookup = await cache.check(first.authorization, options.nodeId, true);
      const expired = first.expiresAt !== undefined && Date.parse(first.expiresAt) <= Date.now();
      if (lookup.kind === 'deny' || expired) {
        log({ msg: 'closing websockets of a credential that is no longer valid', sockets: set.size });
        for (const s of set) s.client.close(1008, 'credential no longer valid');
        sockets.delete(key);
      }
    }
  }

  return {
    server,
    cache,
    metrics,
    upstream: pool,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        pool.close();
        for (const set of sockets.values()) for (const s of set) s.client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

function reject(socket: Duplex, status: number, text: string): void {
  if (!socket.writable) return;
  const extra = status === 401 ? 'WWW-Authenticate: Basic realm="blockchain"\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Reads a request body up to `max` bytes; `done(undefined)` when it is (or is declared) larger.
 * Node's parser never delivers more than a declared Content-Length, so only chunked bodies can
 * grow past a declared size.
 */
function readBody(req: IncomingMessage, max: number, done: (body: Buffer | undefined) => void): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return done(undefined);
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  let over = false;
  req.on('data', (c: Buffer) => {
    if (over) return;
    size += c.length;
    if (size > max) {
      over = true;
      first = undefined;
      chunks = undefined;
      done(undefined);
    } else if (first === undefined) first = c;
    else (chunks ??= [first]).push(c);
  });
  req.on('end', () => {
    if (!over) done(chunks ? Buffer.concat(chunks) : (first ?? Buffer.alloc(0)));
  });
  req.on('error', () => {
    if (!over) {
      over = true;
      req.socket.destroy();
    }
  });
}
