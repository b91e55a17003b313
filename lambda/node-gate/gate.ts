import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { GATE_ALLOW_TTL_SECONDS } from '../../lib/contracts/revocation';
import { RpcPolicy, RpcPolicyOptions } from '../../lib/contracts/rpc-policy';
import { GATE_KEEP_ALIVE_SECONDS } from '../../lib/contracts/ports';
import {
  DEFAULT_MAX_BODY_BYTES,
  GATE_REFUSALS,
  GATE_WWW_AUTHENTICATE,
  GateErrorCodes as ProtocolErrorCodes,
  HEADERS_TIMEOUT_SECONDS,
  HEALTH_CACHE_MS,
  HEALTH_PROBE_TIMEOUT_MS,
  JSON_RPC_MEMBERS,
  MAX_NESTING,
  MAX_PENDING_BATCHES,
  REQUEST_BODY_TIMEOUT_SECONDS,
  UPGRADE_TIMEOUT_SECONDS,
  AUTHORIZE_TIMEOUT_SECONDS,
} from '../../lib/contracts/gate-protocol';
import { AuthorizeFn, DecisionCache, DecisionCacheOptions, Lookup } from './decision-cache';
import { GateMetrics } from './gate-metrics';
import { Span, elements, members, nestingDepth, valueSpan } from './json-text';
import { UpstreamClient, UpstreamError, UpstreamPool, UpstreamPoolOptions, UpstreamResponse } from './upstream-pool';

export interface GateOptions extends DecisionCacheOptions, RpcPolicyOptions {
  /** This node's id (the authorizer checks the credential's member owns it). */
  readonly nodeId: string;
  /** The client's HTTP JSON-RPC, e.g. http://127.0.0.1:8545. */
  readonly upstreamHttp: string;
  /** The client's WebSocket JSON-RPC, e.g. ws://127.0.0.1:8546. */
  readonly upstreamWs: string;
  readonly authorize: AuthorizeFn;
  /** Largest request body or WebSocket message (bytes). @default 1 MiB */
  readonly maxBodyBytes?: number;
  /**
   * How often open WebSockets' credentials are re-checked (past the gate's cache). Part of the
   * revocation bound (lib/contracts/revocation.ts). @default allowTtlMs (GATE_ALLOW_TTL_SECONDS)
   */
  readonly revalidateMs?: number;
  /** Connections to the client's HTTP JSON-RPC (see UpstreamPoolOptions). */
  readonly upstream?: UpstreamPoolOptions;
  /** Another HTTP client to the node instead of the built-in pool (the benchmark compares undici's). @default an UpstreamPool */
  readonly upstreamClient?: UpstreamClient;
  /**
   * How long an idle client connection (the load balancer's) is kept open. It must outlast the
   * load balancer's idle timeout, or the load balancer may send a request on a connection the
   * gate is closing and answer 502 (AWS: "HTTP 502: target closed the connection").
   * @default GATE_KEEP_ALIVE_MS (GATE_KEEP_ALIVE_SECONDS: longer than the longest ALB idle timeout)
   */
  readonly keepAliveTimeoutMs?: number;
  /** A request body must arrive completely within this time (else 408). @default REQUEST_BODY_TIMEOUT_MS (30 s) */
  readonly bodyTimeoutMs?: number;
  /**
   * A WebSocket upgrade must be authorized and connected to the client within this time (else 504
   * and the socket is closed). @default UPGRADE_TIMEOUT_MS (10 s)
   */
  readonly upgradeTimeoutMs?: number;
  /** One authorizer call may take this long; then it counts as unreachable (503). @default 10 s */
  readonly authorizeTimeoutMs?: number;
  /**
   * `/health` fails when the client's newest block is older than this while it is not syncing
   * (a stalled chain). @default undefined (only "the client answers JSON-RPC" is checked)
   */
  readonly healthMaxBlockAgeMs?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** Longer than an Application Load Balancer's longest idle timeout (lib/contracts/ports.ts). */
export const GATE_KEEP_ALIVE_MS = GATE_KEEP_ALIVE_SECONDS * 1000;
/** A request body must arrive within this time once its headers have. */
export const REQUEST_BODY_TIMEOUT_MS = REQUEST_BODY_TIMEOUT_SECONDS * 1000;
/** A WebSocket upgrade must be authorized and connected within this time. */
export const UPGRADE_TIMEOUT_MS = UPGRADE_TIMEOUT_SECONDS * 1000;
/** JSON nested deeper than this is refused before anything else looks at it. */
export { MAX_NESTING };

/** The members a JSON-RPC 2.0 request may have (lib/contracts/gate-protocol.ts: why). */
const MEMBERS = new Set(JSON_RPC_MEMBERS);

const JSON_TYPE = { 'content-type': 'application/json' };
const TEXT_TYPE = { 'content-type': 'text/plain' };

/** JSON-RPC error codes of the gate's own answers (lib/contracts/gate-protocol.ts). */
export const GateErrorCodes = ProtocolErrorCodes;

/** A JSON-RPC error answer as text; `id` is the client's raw id text (never re-encoded). */
export function errorText(code: number, message: string, id = 'null'): string {
  return `{"jsonrpc":"2.0","id":${id},"error":{"code":${code},"message":${JSON.stringify(message)}}}`;
}

/** The answer for each HTTP status the gate itself gives (messages never contain the request's credential). */
const REFUSALS = GATE_REFUSALS;

function refusalText(status: number, detail?: string): string {
  const [code, message] = REFUSALS[status] ?? [GateErrorCodes.INTERNAL, `HTTP ${status}`];
  return errorText(code, detail ?? message);
}

/** The outcome of screening one JSON-RPC message (an HTTP body or a WebSocket text message). */
type Screened =
  | { readonly kind: 'error'; readonly status: number; readonly text: string }
  | { readonly kind: 'single'; readonly answer?: string }
  | { readonly kind: 'batch'; readonly parts: readonly Part[]; readonly allowed: number };

/** One call of a batch: its raw text and id, and the refusal answer when it may not pass. */
interface Part {
  readonly span: Span;
  /** The raw id text (undefined for a notification). */
  readonly id?: string;
  /** The span of the id value inside the message. */
  readonly idSpan?: Span;
  readonly answer?: string;
}

/**
 * The node auth gate: the only way into a node's JSON-RPC. HTTP POST and WebSocket pass-through
 * to the client on 127.0.0.1, for credentials the environment's authorizer allows on this node,
 * with a method allowlist applied to every call (batches element by element), body, batch and
 * nesting caps, time limits on request bodies and upgrades, and a health endpoint that needs no
 * credential, reveals nothing, and fails while the client does not answer. Every refusal is a
 * JSON-RPC error body; the client's bytes are forwarded and answers spliced without re-encoding.
 */
export function createGate(options: GateOptions): { server: Server; cache: DecisionCache; metrics: GateMetrics; upstream: UpstreamClient; close(): Promise<void> } {
  const authorizeTimeout = options.authorizeTimeoutMs ?? AUTHORIZE_TIMEOUT_SECONDS * 1000;
  const authorize: AuthorizeFn = (authorization, node) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('authorizer timed out')), authorizeTimeout);
      options.authorize(authorization, node).then(
        (d) => {
          clearTimeout(timer);
          resolve(d);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error('authorizer failed'));
        },
      );
    });
  const cache = new DecisionCache(authorize, options);
  const metrics = new GateMetrics();
  const pool: UpstreamClient = options.upstreamClient ?? new UpstreamPool(options.upstreamHttp, options.upstream);
  const policy = new RpcPolicy(options);
  const nodeId = options.nodeId;
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxBatch = options.maxBatch ?? 100;
  const bodyTimeout = options.bodyTimeoutMs ?? REQUEST_BODY_TIMEOUT_MS;
  const upgradeTimeout = options.upgradeTimeoutMs ?? UPGRADE_TIMEOUT_MS;
  const log = options.log ?? ((e) => console.log(JSON.stringify(e)));
  const rpcPaths = new Set(['/', `/nodes/${nodeId}`, `/nodes/${nodeId}/`]);
  const wsPaths = new Set(['/ws', `/nodes/${nodeId}/ws`]);
  const sockets = new Map<string, Set<{ client: WebSocket; authorization: string; expiresAt?: string }>>();
  /** Ids the gate gives forwarded calls of mixed WebSocket batches: unguessable, so a client cannot forge them. */
  const tagPrefix = `gate-${randomBytes(12).toString('base64url')}`;
  let batchCounter = 0;

  /** The refusal of one call (undefined when it may go to the client), its raw id and the id's span. */
  const screenCall = (text: string, span: Span, call: unknown): Part => {
    if (!call || typeof call !== 'object' || Array.isArray(call) || text.charCodeAt(span[0]) !== 123) {
      return { span, id: 'null', answer: errorText(GateErrorCodes.INVALID_REQUEST, 'invalid request: a call must be a JSON object') };
    }
    const seen = new Set<string>();
    let idSpan: Span | undefined;
    let problem: string | undefined;
    for (const m of members(text, span[0])) {
      if (!MEMBERS.has(m.name)) problem ??= 'invalid request: unknown member';
      else if (seen.has(m.name)) problem ??= `invalid request: duplicate member ${m.name}`;
      seen.add(m.name);
      if (m.name === 'id') idSpan = m.value;
    }
    const c = call as { id?: unknown; method?: unknown; params?: unknown };
    const idType = typeof c.id;
    const idOk = idSpan !== undefined && (c.id === null || idType === 'string' || idType === 'number');
    const id = idOk ? text.slice(idSpan![0], idSpan![1]) : idSpan === undefined ? undefined : 'null';
    if (idSpan !== undefined && !idOk) problem ??= 'invalid request: id must be a string, a number or null';
    if (!problem && c.params !== undefined && (c.params === null || typeof c.params !== 'object')) problem = 'invalid request: params must be an array or an object';
    if (problem) return { span, id: id ?? 'null', answer: errorText(GateErrorCodes.INVALID_REQUEST, problem, id ?? 'null') };
    const why = policy.refusal(c.method);
    if (why) return { span, id: id ?? 'null', answer: errorText(GateErrorCodes.METHOD_NOT_ALLOWED, why, id ?? 'null') };
    return id === undefined ? { span } : { span, id, idSpan };
  };

  /** Screens one message; never throws on any input. */
  const screen = (text: string): Screened => {
    if (nestingDepth(text, MAX_NESTING) > MAX_NESTING) {
      return { kind: 'error', status: 400, text: errorText(GateErrorCodes.INVALID_REQUEST, `invalid request: JSON nested deeper than ${MAX_NESTING} levels`) };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { kind: 'error', status: 400, text: errorText(GateErrorCodes.PARSE, 'parse error: the request is not valid JSON') };
    }
    const span = valueSpan(text);
    if (!Array.isArray(body)) {
      const part = screenCall(text, span, body);
      return part.answer ? { kind: 'single', answer: part.answer } : { kind: 'single' };
    }
    if (body.length === 0 || body.length > maxBatch) {
      return { kind: 'error', status: 400, text: errorText(GateErrorCodes.INVALID_REQUEST, `invalid request: a batch must have 1 to ${maxBatch} calls, this one has ${body.length}`) };
    }
    const spans = elements(text, span[0]);
    const parts = spans.map((s, i) => screenCall(text, s, body[i]));
    return { kind: 'batch', parts, allowed: parts.filter((p) => !p.answer).length };
  };

  /**
   * The text of the allowed calls of a mixed batch, each call with an id renamed to a gate tag
   * (so its answer can be matched whatever order or form the client answers in).
   */
  const forwardText = (text: string, parts: readonly Part[], tag: string): string => {
    const out: string[] = [];
    parts.forEach((p, i) => {
      if (p.answer) return;
      if (!p.idSpan) out.push(text.slice(p.span[0], p.span[1]));
      else out.push(text.slice(p.span[0], p.idSpan[0]) + `"${tag}.${i}"` + text.slice(p.idSpan[1], p.span[1]));
    });
    return `[${out.join(',')}]`;
  };

  /** The client's answer elements by the index of the call they answer (for tagged calls). */
  const answersByIndex = (answer: string, tag: string): Map<number, string> | undefined => {
    const byIndex = new Map<number, string>();
    const span = valueSpan(answer);
    if (answer.charCodeAt(span[0]) !== 91) return undefined;
    const spans = elements(answer, span[0]);
    for (const s of spans) {
      if (answer.charCodeAt(s[0]) !== 123) continue;
      const id = members(answer, s[0]).filter((m) => m.name === 'id').pop();
      if (!id) continue;
      const raw = answer.slice(id.value[0], id.value[1]);
      if (!raw.startsWith(`"${tag}.`)) continue;
      const index = Number(raw.slice(tag.length + 2, -1));
      if (Number.isInteger(index)) byIndex.set(index, answer.slice(s[0], id.value[0]) + '\u0000' + answer.slice(id.value[1], s[1]));
    }
    return byIndex;
  };

  /** One array, in request order: refusals, and the client's answers with the client's own ids put back. */
  const mergeBatch = (parts: readonly Part[], byIndex: Map<number, string> | undefined): string => {
    const out: string[] = [];
    parts.forEach((p, i) => {
      if (p.answer) out.push(p.answer);
      else if (p.id !== undefined) {
        const a = byIndex?.get(i);
        out.push(a ? a.replace('\u0000', p.id) : errorText(GateErrorCodes.INTERNAL, "the node's client gave no answer to this call", p.id));
      }
    });
    return `[${out.join(',')}]`;
  };

  /** Sends a response and records its latency. */
  const reply = (res: ServerResponse, started: number, status: number, headers?: Record<string, string>, body?: string | Buffer): void => {
    if (res.headersSent || res.destroyed) {
      res.end();
      return;
    }
    res.writeHead(status, headers).end(body);
    metrics.record(performance.now() - started);
  };
  const replyJson = (res: ServerResponse, started: number, status: number, text: string, extra?: Record<string, string>) => reply(res, started, status, { ...JSON_TYPE, ...extra }, text);
  /** Refuses with the gate's JSON-RPC error body for `status`. */
  const refuse = (res: ServerResponse, started: number, status: number, extra?: Record<string, string>, detail?: string) => replyJson(res, started, status, refusalText(status, detail), extra);
  const failed = (res: ServerResponse, started: number, status = 502) => refuse(res, started, status);
  /** Passes the client's answer on. */
  const passOn = (res: ServerResponse, started: number, error: UpstreamError | undefined, up: UpstreamResponse | undefined): void => {
    if (error || !up) return failed(res, started, error?.status);
    reply(res, started, up.status, JSON_TYPE, up.body);
  };

  // Node answers a missing Host itself with an empty 400; the gate answers it as every refusal.
  // Header and request timeouts are enforced when Node checks connections: every 5 s, not its
  // default 30 s, so a slowloris connection is closed within headersTimeout + 5 s.
  const server = createServer({ requireHostHeader: false, connectionsCheckingInterval: 5_000 }, (req, res) => {
    const started = performance.now();
    try {
      if (missingHost(req)) return drain(req, () => refuse(res, started, 400, { connection: 'close' }, MISSING_HOST));
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) return health(res, started);
      if (!rpcPaths.has(path)) return drain(req, () => refuse(res, started, 404));
      if (req.method !== 'POST') return drain(req, () => refuse(res, started, 405, { allow: 'POST' }));
      const authorization = req.headers.authorization;
      if (typeof authorization !== 'string' || authorization.length === 0) {
        return drain(req, () => refuse(res, started, 401, { 'www-authenticate': GATE_WWW_AUTHENTICATE }));
      }
      // A warm cache answers synchronously; otherwise ask the authorizer (through the cache).
      const hit = cache.cached(authorization, nodeId);
      if (hit) return authorized(req, res, started, hit);
      cache.check(authorization, nodeId).then(
        (lookup) => authorized(req, res, started, lookup),
        () => failed(res, started, 500),
      );
    } catch (e) {
      internalError(res, started, e);
    }
  });

  function internalError(res: ServerResponse, started: number, e: unknown): void {
    log({ level: 'error', msg: 'gate request failed', error: (e as Error)?.name });
    failed(res, started, 500);
  }

  /** Answers a refused request and discards the rest of its body (Node's requestTimeout bounds a slow one). */
  function drain(req: IncomingMessage, answer: () => void): void {
    answer();
    req.resume();
  }

  function authorized(req: IncomingMessage, res: ServerResponse, started: number, lookup: Lookup): void {
    if (lookup.kind !== 'allow') {
      const unavailable = lookup.kind === 'unavailable';
      drain(req, () => (unavailable ? refuse(res, started, 503, { 'retry-after': '5' }) : refuse(res, started, 401, { 'www-authenticate': GATE_WWW_AUTHENTICATE })));
      return;
    }
    readBody(req, maxBody, bodyTimeout, (raw) => {
      try {
        if (raw === 'too-large') return refuse(res, started, 413, { connection: 'close' }, `request too large: the body may have at most ${maxBody} bytes`);
        if (raw === 'timeout') {
          refuse(res, started, 408, { connection: 'close' }, `request timeout: the body did not arrive within ${Math.round(bodyTimeout / 1000)} s`);
          return;
        }
        if (raw === 'aborted') return;
        forwardHttp(res, started, raw);
      } catch (e) {
        internalError(res, started, e);
      }
    });
  }

  function forwardHttp(res: ServerResponse, started: number, raw: Buffer): void {
    if (!isUtf8(raw)) return replyJson(res, started, 400, errorText(GateErrorCodes.PARSE, 'parse error: the request is not valid UTF-8'));
    const text = raw.toString('utf8');
    const s = screen(text);
    if (s.kind === 'error') return replyJson(res, started, s.status, s.text);
    if (s.kind === 'single') {
      // One call: forward the original bytes when allowed, else answer the refusal.
      if (s.answer) return replyJson(res, started, 200, s.answer);
      return pool.post(raw, (error, up) => passOn(res, started, error, up));
    }
    // Everything allowed: forward the original bytes.
    if (s.allowed === s.parts.length) return pool.post(raw, (error, up) => passOn(res, started, error, up));
    if (s.allowed === 0) return replyJson(res, started, 200, mergeBatch(s.parts, undefined));
    const tag = `${tagPrefix}.${++batchCounter}`;
    pool.post(Buffer.from(forwardText(text, s.parts, tag)), (error, up) => {
      try {
        if (error || !up) return failed(res, started, error?.status);
        if (up.status !== 200) return reply(res, started, up.status, JSON_TYPE, up.body);
        const answer = up.body.toString('utf8');
        let byIndex: Map<number, string> | undefined;
        try {
          JSON.parse(answer);
          byIndex = answersByIndex(answer, tag);
        } catch {
          byIndex = undefined;
        }
        replyJson(res, started, 200, mergeBatch(s.parts, byIndex));
      } catch (e) {
        internalError(res, started, e);
      }
    });
  }

  // --- Health: the client must answer (and, when configured, have a recent block) -------------
  let healthState: { at: number; ok: boolean } | undefined;
  let healthWaiters: ((ok: boolean) => void)[] | undefined;
  const HEALTH_PROBE = Buffer.from('[{"jsonrpc":"2.0","id":1,"method":"eth_syncing","params":[]},{"jsonrpc":"2.0","id":2,"method":"eth_getBlockByNumber","params":["latest",false]}]');
  /** One probe at a time; its answer is reused for HEALTH_CACHE_MS (the endpoint needs no credential). */
  function probe(done: (ok: boolean) => void): void {
    if (healthState && Date.now() - healthState.at < HEALTH_CACHE_MS) return done(healthState.ok);
    if (healthWaiters) {
      healthWaiters.push(done);
      return;
    }
    const waiters = [done];
    healthWaiters = waiters;
    let finished = false;
    const finish = (ok: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      healthState = { at: Date.now(), ok };
      healthWaiters = undefined;
      for (const w of waiters) w(ok);
    };
    const timer = setTimeout(() => finish(false), HEALTH_PROBE_TIMEOUT_MS);
    pool.post(HEALTH_PROBE, (error, up) => {
      if (error || !up || up.status !== 200) return finish(false);
      try {
        const answers = JSON.parse(up.body.toString('utf8')) as { id?: number; result?: unknown }[];
        const syncing = answers.find((a) => a.id === 1);
        const block = answers.find((a) => a.id === 2)?.result as { timestamp?: string } | undefined;
        if (!syncing || !('result' in syncing) || !block || typeof block.timestamp !== 'string') return finish(false);
        const max = options.healthMaxBlockAgeMs;
        if (max !== undefined && syncing.result === false && Date.now() - parseInt(block.timestamp, 16) * 1000 > max) return finish(false);
        finish(true);
      } catch {
        finish(false);
      }
    });
  }
  function health(res: ServerResponse, started: number): void {
    probe((ok) => {
      if (ok) reply(res, started, 200, TEXT_TYPE, 'ok');
      else replyJson(res, started, 503, errorText(GateErrorCodes.NODE_UNAVAILABLE, 'not ready'));
    });
  }

  // The load balancer keeps idle connections up to its idle timeout (60 min by default here):
  // the gate must not close them first. Headers must still arrive promptly once a request starts.
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? GATE_KEEP_ALIVE_MS;
  server.headersTimeout = HEADERS_TIMEOUT_SECONDS * 1000;
  // Backstop for refused requests whose bodies are discarded (accepted ones use bodyTimeoutMs).
  server.requestTimeout = Math.max(bodyTimeout * 2, 120_000);
  // Requests Node's parser refuses (malformed, headers too large, headers too slow) get a JSON body too.
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (!socket.writable) socket.destroy();
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') socket.end(rawResponse(408, 'Request Timeout', refusalText(408)));
    else if (err.code === 'HPE_HEADER_OVERFLOW') socket.end(rawResponse(431, 'Request Header Fields Too Large', errorText(GateErrorCodes.TOO_LARGE, 'request headers too large')));
    else socket.end(rawResponse(400, 'Bad Request', refusalText(400, 'bad request: malformed HTTP')));
  });

  // --- WebSocket ------------------------------------------------------------------------------
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody });
  // A handshake ws refuses (e.g. a malformed Sec-WebSocket-Protocol) gets the gate's JSON answer.
  wss.on('wsClientError', (err: Error, socket: Duplex) => reject(socket, 400, 'Bad Request', `bad WebSocket upgrade: ${err.message.slice(0, 80)}`));
  /** Open upstream WebSockets (each belongs to one accepted or pending client). */
  const upstreams = new Set<WebSocket>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    let upstream: WebSocket | undefined;
    let settled = false;
    const fail = (status: number, text: string, detail?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('close', onGone);
      if (upstream) {
        upstreams.delete(upstream);
        upstream.terminate();
      }
      reject(socket, status, text, detail);
    };
    // The client gone, or the handshake failing inside ws (which then destroys the socket):
    // the upstream connection goes with it.
    const onGone = () => fail(499, 'Client Closed Request');
    const timer = setTimeout(() => fail(504, 'Gateway Timeout', `the WebSocket upgrade did not complete within ${Math.round(upgradeTimeout / 1000)} s`), upgradeTimeout);
    socket.once('close', onGone);
    socket.on('error', () => socket.destroy());
    try {
      if (missingHost(req)) return fail(400, 'Bad Request', MISSING_HOST);
      const path = (req.url ?? '/').split('?')[0];
      if (!wsPaths.has(path)) return fail(404, 'Not Found');
      const bad = handshakeProblem(req);
      if (bad) return fail(400, 'Bad Request', `bad WebSocket upgrade: ${bad}`);
      const authorization = req.headers.authorization;
      if (typeof authorization !== 'string' || !authorization) return fail(401, 'Unauthorized');
      cache.check(authorization, nodeId).then(
        (lookup) => {
          if (settled) return;
          if (lookup.kind === 'unavailable') return fail(503, 'Service Unavailable');
          if (lookup.kind !== 'allow') return fail(401, 'Unauthorized');
          const up = new WebSocket(options.upstreamWs, { maxPayload: 256 * 1024 * 1024 });
          upstream = up;
          upstreams.add(up);
          up.once('error', () => fail(502, 'Bad Gateway'));
          up.once('close', () => fail(502, 'Bad Gateway'));
          up.once('open', () => {
            if (settled) return;
            try {
              wss.handleUpgrade(req, socket, head, (client) => {
                if (settled) {
                  client.terminate();
                  return;
                }
                settled = true;
                clearTimeout(timer);
                socket.off('close', onGone);
                up.removeAllListeners('error');
                up.removeAllListeners('close');
                bridge(client, up, lookup.key, authorization, lookup.kind === 'allow' ? lookup.decision.expiresAt : undefined);
              });
            } catch {
              fail(400, 'Bad Request');
            }
          });
        },
        () => fail(500, 'Internal Server Error'),
      );
    } catch {
      fail(500, 'Internal Server Error');
    }
  });

  function bridge(client: WebSocket, upstream: WebSocket, key: string, authorization: string, expiresAt?: string): void {
    const entry = { client, authorization, ...(expiresAt ? { expiresAt } : {}) };
    if (!sockets.has(key)) sockets.set(key, new Set());
    sockets.get(key)!.add(entry);
    /** Mixed batches waiting for the client's answer: tag -> the batch's calls. */
    const pending = new Map<string, readonly Part[]>();
    const cleanup = () => {
      sockets.get(key)?.delete(entry);
      if (sockets.get(key)?.size === 0) sockets.delete(key);
      upstreams.delete(upstream);
      if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING) upstream.close();
      if (client.readyState === WebSocket.OPEN) client.close(1011, "the node's client closed the connection");
      pending.clear();
    };
    const send = (text: string) => {
      if (client.readyState === WebSocket.OPEN) client.send(text);
    };
    client.on('message', (data: RawData, isBinary: boolean) => {
      try {
        if (isBinary) return send(errorText(GateErrorCodes.INVALID_REQUEST, 'invalid request: binary frames are not accepted; send JSON-RPC as text'));
        const text = rawText(data);
        const s = screen(text);
        if (s.kind === 'error') return send(s.text);
        if (s.kind === 'single') {
          if (s.answer) return send(s.answer);
          return upstream.send(text);
        }
        if (s.allowed === s.parts.length) return upstream.send(text);
        const waits = s.parts.some((p) => !p.answer && p.id !== undefined);
        if (s.allowed === 0 || !waits) {
          if (s.allowed) upstream.send(forwardText(text, s.parts, `${tagPrefix}.0`));
          return send(mergeBatch(s.parts, undefined));
        }
        if (pending.size >= MAX_PENDING_BATCHES) {
          return send(errorText(GateErrorCodes.INVALID_REQUEST, `too many batches waiting for answers (at most ${MAX_PENDING_BATCHES}); wait for answers before sending more`));
        }
        const tag = `${tagPrefix}.${++batchCounter}`;
        pending.set(tag, s.parts);
        upstream.send(forwardText(text, s.parts, tag));
      } catch (e) {
        log({ level: 'error', msg: 'gate websocket message failed', error: (e as Error)?.name });
        send(errorText(GateErrorCodes.INTERNAL, 'internal error in the node gate'));
      }
    });
    upstream.on('message', (data: RawData) => {
      try {
        const text = rawText(data);
        if (pending.size > 0 && text.includes(tagPrefix)) {
          const tag = /"(gate-[A-Za-z0-9_-]+\.\d+)\.\d+"/.exec(text)?.[1];
          const parts = tag ? pending.get(tag) : undefined;
          if (tag && parts) {
            pending.delete(tag);
            return send(mergeBatch(parts, answersByIndex(text, tag)));
          }
        }
        send(text);
      } catch (e) {
        log({ level: 'error', msg: 'gate websocket answer failed', error: (e as Error)?.name });
      }
    });
    client.on('close', cleanup);
    upstream.on('close', cleanup);
    client.on('error', cleanup);
    upstream.on('error', cleanup);
  }

  // Re-check the credentials of open WebSockets past the gate's cache: a revoked or expired
  // credential loses its sockets within the revocation bound; an unreachable authorizer keeps
  // cached allows serving.
  const timer = setInterval(() => {
    void revalidate();
  }, options.revalidateMs ?? options.allowTtlMs ?? GATE_ALLOW_TTL_SECONDS * 1000);
  timer.unref();
  async function revalidate(): Promise<void> {
    const work = [...sockets];
    const one = async ([key, set]: [string, Set<{ client: WebSocket; authorization: string; expiresAt?: string }>]) => {
      const first = [...set][0];
      if (!first) return;
      const lookup = await cache.check(first.authorization, nodeId, true);
      const expired = first.expiresAt !== undefined && Date.parse(first.expiresAt) <= Date.now();
      if (lookup.kind === 'deny' || expired) {
        log({ msg: 'closing websockets of a credential that is no longer valid', sockets: set.size });
        for (const s of set) s.client.close(1008, 'credential no longer valid');
        sockets.delete(key);
      }
    };
    // A few at a time, so many credentials are all re-checked well within one interval.
    const lanes = Array.from({ length: Math.min(8, work.length) }, async () => {
      for (let item = work.shift(); item; item = work.shift()) await one(item).catch(() => undefined);
    });
    await Promise.all(lanes);
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
        for (const u of upstreams) u.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

const MISSING_HOST = 'bad request: an HTTP/1.1 request needs a Host header';

/** An HTTP/1.1 request without a Host header (RFC 9112 3.2: answered with 400). */
function missingHost(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 && typeof req.headers.host !== 'string';
}

/** What ws would refuse in an upgrade request (checked before the client's WebSocket is opened). */
function handshakeProblem(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return `method ${String(req.method).slice(0, 16)}; a WebSocket upgrade is a GET`;
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return 'Upgrade must be websocket';
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key)) return 'missing or invalid Sec-WebSocket-Key';
  const version = req.headers['sec-websocket-version'];
  if (version !== '8' && version !== '13') return 'Sec-WebSocket-Version must be 13';
  return undefined;
}

function rawResponse(status: number, text: string, body: string): string {
  const extra = status === 401 ? `WWW-Authenticate: ${GATE_WWW_AUTHENTICATE}\r\n` : '';
  return `HTTP/1.1 ${status} ${text}\r\n${extra}Content-Type: application/json\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function reject(socket: Duplex, status: number, text: string, detail?: string): void {
  if (!socket.writable || status === 499) {
    socket.destroy();
    return;
  }
  socket.end(rawResponse(status, text, refusalText(status, detail)));
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

type BodyOutcome = Buffer | 'too-large' | 'timeout' | 'aborted';

/**
 * Reads a request body up to `max` bytes within `timeoutMs`; 'too-large' when it is (or is
 * declared) larger, 'timeout' when it does not arrive in time (a body shorter than its
 * Content-Length), 'aborted' when the client goes away. Node's parser never delivers more than a
 * declared Content-Length, so only chunked bodies can grow past a declared size.
 */
function readBody(req: IncomingMessage, max: number, timeoutMs: number, done: (body: BodyOutcome) => void): void {
  let finished = false;
  const finish = (outcome: BodyOutcome) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done(outcome);
  };
  const timer = setTimeout(() => finish('timeout'), timeoutMs);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) return finish('too-large');
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  req.on('data', (c: Buffer) => {
    if (finished) return;
    size += c.length;
    if (size > max) {
      first = undefined;
      chunks = undefined;
      finish('too-large');
    } else if (first === undefined) first = c;
    else (chunks ??= [first]).push(c);
  });
  req.on('end', () => finish(chunks ? Buffer.concat(chunks) : (first ?? Buffer.alloc(0))));
  req.on('aborted', () => finish('aborted'));
  req.on('error', () => {
    finish('aborted');
    req.socket.destroy();
  });
}
