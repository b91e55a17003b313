/**
 * A WebSocket JSON-RPC load client for the gate benchmark, identical for every path it is pointed
 * at (the node directly, nginx, the gate): N WebSocket connections (the ws package, no
 * permessage-deflate), each with one call in flight; the next call is sent when the answer
 * arrives. An answer counts when it carries a JSON-RPC `"result"`; anything else is an error.
 * Connections are opened before the measured window and closed after it, so the window holds only
 * message forwarding.
 */
import { LatencyRecorder } from './latency-recorder';
import { performance } from 'node:perf_hooks';
import WebSocket, { RawData } from 'ws';

export interface WsEndpoint {
  readonly url: string;
  readonly headers?: Record<string, string>;
}

export interface WsLoadResult {
  /** Answers with a result. */
  readonly requests: number;
  /** Answers without a result, plus connections lost during the window. */
  readonly errors: number;
  readonly seconds: number;
  /** Per answered call, ms, in completion order. */
  readonly latenciesMs: Float64Array;
}

const RESULT = Buffer.from('"result"');
const asBuffer = (d: RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));

/** Opens one WebSocket; rejects with the HTTP status when the upgrade is refused. */
export function openWs(e: WsEndpoint, timeoutMs = 10_000): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(e.url, { headers: e.headers ?? {}, perMessageDeflate: false, handshakeTimeout: timeoutMs });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      ws.terminate();
      reject(new Error(`WebSocket upgrade to ${e.url} refused: HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
}

export interface WsConnections {
  /** Sends `body` on every connection, one in flight each, for `durationMs`. */
  run(body: string, durationMs: number): Promise<WsLoadResult>;
  close(): Promise<void>;
}

/** Opens `concurrency` connections to `e`. */
export async function openWsConnections(e: WsEndpoint, concurrency: number): Promise<WsConnections> {
  const sockets = await Promise.all(Array.from({ length: concurrency }, () => openWs(e)));
  return {
    run: (body, durationMs) => runOn(sockets, body, durationMs),
    close: () =>
      Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.once('close', () => resolve());
              ws.close();
              setTimeout(() => (ws.terminate(), resolve()), 2000).unref();
            }),
        ),
      ).then(() => undefined),
  };
}

async function runOn(sockets: readonly WebSocket[], body: string, durationMs: number): Promise<WsLoadResult> {
  const recorder = new LatencyRecorder();
  let errors = 0;
  const started = performance.now();
  const end = started + durationMs;
  const record = (ms: number) => recorder.record(ms);
  const one = (ws: WebSocket) =>
    new Promise<void>((resolve) => {
      let sentAt = 0;
      const finish = () => {
        ws.off('message', onMessage);
        ws.off('close', onClose);
        resolve();
      };
      const send = () => {
        sentAt = performance.now();
        ws.send(body);
      };
      const onMessage = (data: RawData) => {
        const now = performance.now();
        if (asBuffer(data).indexOf(RESULT) >= 0) record(now - sentAt);
        else errors++;
        if (now >= end) finish();
        else send();
      };
      const onClose = () => {
        errors++;
        finish();
      };
      ws.on('message', onMessage);
      ws.once('close', onClose);
      if (ws.readyState !== WebSocket.OPEN) return onClose();
      send();
    });
  await Promise.all(sockets.map(one));
  return { requests: recorder.count, errors, seconds: (performance.now() - started) / 1000, latenciesMs: recorder.samples() };
}

export interface SubscriptionCheck {
  /** newHeads notifications received per path during the window. */
  readonly notifications: Record<string, number>;
  /** Paths whose eth_subscribe failed, with the reason. */
  readonly failed: Record<string, string>;
  /**
   * Per path: how much later than on the reference path (the first one, the node directly) each
   * block's notification arrived, ms (median and max over the blocks both received).
   */
  readonly addedDelayMs: Record<string, { median: number; max: number; blocks: number }>;
}

/**
 * eth_subscribe newHeads on every path at once for `durationMs`: that notifications arrive through
 * each path, and how much later than directly (per block, by hash).
 */
export async function checkNewHeads(paths: Record<string, WsEndpoint>, durationMs: number): Promise<SubscriptionCheck> {
  const arrivals: Record<string, Map<string, number>> = {};
  const failed: Record<string, string> = {};
  const open: WebSocket[] = [];
  await Promise.all(
    Object.entries(paths).map(async ([name, e]) => {
      arrivals[name] = new Map();
      try {
        const ws = await openWs(e);
        open.push(ws);
        ws.on('message', (data: RawData) => {
          const at = performance.now();
          const m = JSON.parse(asBuffer(data).toString('utf8')) as { id?: number; result?: unknown; error?: { message?: string }; method?: string; params?: { result?: { hash?: string } } };
          if (m.id === 1 && m.error) failed[name] = `eth_subscribe: ${m.error.message ?? 'error'}`;
          const hash = m.method === 'eth_subscription' ? m.params?.result?.hash : undefined;
          if (hash) arrivals[name].set(hash, at);
        });
        ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }));
      } catch (err) {
        failed[name] = (err as Error).message;
      }
    }),
  );
  await new Promise((r) => setTimeout(r, durationMs));
  for (const ws of open) ws.terminate();
  const names = Object.keys(paths);
  const reference = arrivals[names[0]];
  const addedDelayMs: SubscriptionCheck['addedDelayMs'] = {};
  for (const name of names.slice(1)) {
    const d = [...arrivals[name]].filter(([h]) => reference.has(h)).map(([h, t]) => t - reference.get(h)!).sort((a, b) => a - b);
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    addedDelayMs[name] = { median: d.length ? r3(d[Math.floor((d.length - 1) / 2)]) : NaN, max: d.length ? r3(d[d.length - 1]) : NaN, blocks: d.length };
  }
  return { notifications: Object.fromEntries(names.map((n) => [n, arrivals[n].size])), failed, addedDelayMs };
}
