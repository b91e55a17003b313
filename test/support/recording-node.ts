/**
 * A recording front for a local node (ganache or geth): HTTP and WebSocket JSON-RPC pass straight
 * through to the node, and every method name that arrives is recorded, including any member whose
 * name is `method` in another capitalization (what Go's case-insensitive decoding would run). It
 * counts open upstream WebSockets. Tests put it where the gate's upstream is, to see exactly what
 * reached the node.
 */
import { Server, createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export interface RecordingNode {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  /** Every method name received, in order. */
  readonly methods: string[];
  /** Messages that reached the node but were not JSON (counted, not expected from the gate). */
  readonly unparsed: () => number;
  readonly openWebSockets: () => number;
  stop(): Promise<void>;
}

function record(text: string, methods: string[]): boolean {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  for (const call of Array.isArray(body) ? body : [body]) {
    if (!call || typeof call !== 'object') continue;
    for (const [k, v] of Object.entries(call as Record<string, unknown>)) if (k.toLowerCase() === 'method') methods.push(typeof v === 'string' ? v : JSON.stringify(v));
  }
  return true;
}

export async function startRecordingNode(target: { rpcUrl: string; wsUrl: string }): Promise<RecordingNode> {
  const methods: string[] = [];
  let unparsed = 0;
  const http = new URL(target.rpcUrl);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!record(body.toString('utf8'), methods)) unparsed++;
      const up = request({ host: http.hostname, port: http.port, path: http.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (r) => {
        res.writeHead(r.statusCode ?? 502, { 'content-type': r.headers['content-type'] ?? 'application/json' });
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      up.end(body);
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (client) => {
    const up = new WebSocket(target.wsUrl);
    const queue: string[] = [];
    up.on('open', () => {
      for (const q of queue.splice(0)) up.send(q);
    });
    client.on('message', (d) => {
      const text = d.toString();
      if (!record(text, methods)) unparsed++;
      if (up.readyState === WebSocket.OPEN) up.send(text);
      else queue.push(text);
    });
    up.on('message', (d) => client.readyState === WebSocket.OPEN && client.send(d.toString()));
    const close = () => {
      up.terminate();
      client.terminate();
    };
    up.on('close', close);
    up.on('error', close);
    client.on('close', close);
    client.on('error', close);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    methods,
    unparsed: () => unparsed,
    openWebSockets: () => wss.clients.size,
    stop: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
