import { Agent, IncomingMessage, Server, ServerResponse, createServer, request } from 'node:http';
import { Duplex } from 'node:stream';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { RpcPolicyOptions, refusal } from '../../lib/credentials/rpc-policy';
import { AuthorizeFn, DecisionCache, DecisionCacheOptions } from './decision-cache';
import { GateMetrics } from './gate-metrics';

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
  readonly log?: (entry: Record<string, unknown>) => void;
}

interface RpcCall {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
}

/**
 * The node auth gate: the only way into a node's JSON-RPC. HTTP POST and WebSocket pass-through
 * to the client on 127.0.0.1, for credentials the environment's authorizer allows on this node,
 * with a method allowlist applied to every call (batches element by element), body and batch
 * caps, and a health endpoint that needs no credential and reveals nothing.
 */
export function createGate(options: GateOptions): { server: Server; cache: DecisionCache; metrics: GateMetrics; close(): Promise<void> } {
  const cache = new DecisionCache(options.authorize, options);
  const metrics = new GateMetrics();
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const maxBatch = options.maxBatch ?? 100;
  const log = options.log ?? ((e) => console.log(JSON.stringify(e)));
  const rpcPaths = new Set(['/', `/nodes/${options.nodeId}`, `/nodes/${options.nodeId}/`]);
  const wsPaths = new Set(['/ws', `/nodes/${options.nodeId}/ws`]);
  const sockets = new Map<string, Set<{ client: WebSocket; authorization: string; expiresAt?: string }>>();

  const refused = (call: RpcCall, message: string) => ({ jsonrpc: '2.0', id: call?.id ?? null, error: { code: -32601, message } });

  /** Splits a request into refused answers and allowed calls (in order). */
  const screen = (body: unknown): { single: boolean; calls: RpcCall[]; answers: (object | undefined)[] } | { error: object } => {
    const single = !Array.isArray(body);
    const calls = (single ? [body] : body) as RpcCall[];
    if (!single && (calls.length === 0 || calls.length > maxBatch)) {
      return { error: { jsonrpc: '2.0', id: null, error: { code: -32600, message: `batch must have 1 to ${maxBatch} calls` } } };
    }
    const answers = calls.map((c) => {
      if (!c || typeof c !== 'object') return { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } };
      const why = refusal(c.method, options);
      return why ? refused(c, why) : undefined;
    });
    return { single, calls, answers };
  };

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.end();
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    res.once('finish', () => metrics.record(Number(process.hrtime.bigint() - started) / 1e6));
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    if (!rpcPaths.has(path)) {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const lookup = await authorizeRequest(req);
    if (lookup !== 'allow') {
      respondRefused(res, lookup);
      req.resume();
      return;
    }
    const raw = await readBody(req, maxBody);
    if (raw === undefined) {
      res.writeHead(413).end();
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
      return;
    }
    const s = screen(body);
    if ('error' in s) {
      json(res, 400, s.error);
      return;
    }
    const forward = s.calls.filter((_, i) => !s.answers[i]);
    if (forward.length === s.calls.length) {
      // Fast path: everything allowed; forward the original bytes and stream the answer back.
      const up = await post(raw);
      res.writeHead(up.status, { 'content-type': 'application/json' }).end(up.body);
      return;
    }
    let upstream: unknown[] = [];
    if (forward.length) {
      const parsed = JSON.parse((await post(JSON.stringify(s.single ? forward[0] : forward))).body.toString('utf8')) as unknown;
      upstream = Array.isArray(parsed) ? parsed : [parsed];
    }
    // Put the client's answers back in request order.
    let u = 0;
    const answers = s.answers.map((a) => a ?? upstream[u++]);
    json(res, 200, s.single ? answers[0] : answers);
  }

  const upstreamUrl = new URL(options.upstreamHttp);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  function post(body: string): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(
        upstreamUrl,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 502, body: Buffer.concat(chunks) }));
          r.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async function authorizeRequest(req: IncomingMessage): Promise<'allow' | 'unauthorized' | 'unavailable'> {
    const authorization = req.headers.authorization;
    if (typeof authorization !== 'string' || authorization.length === 0) return 'unauthorized';
    const lookup = await cache.check(authorization, options.nodeId);
    return lookup.kind === 'allow' ? 'allow' : lookup.kind === 'deny' ? 'unauthorized' : 'unavailable';
  }

  function respondRefused(res: ServerResponse, why: 'unauthorized' | 'unavailable'): void {
    if (why === 'unavailable') res.writeHead(503, { 'retry-after': '5' }).end();
    else res.writeHead(401, { 'www-authenticate': 'Basic realm="blockchain", charset="UTF-8"' }).end();
  }

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
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        agent.destroy();
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

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) {
      req.resume();
      return resolve(undefined);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.destroy();
        resolve(undefined);
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
