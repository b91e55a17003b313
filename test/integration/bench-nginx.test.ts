import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ensureNginx, NginxProcess, startNginx } from '../../bench/support/nginx';
import { rawLoad } from '../../bench/support/raw-load';
import { openWsConnections } from '../../bench/support/ws-load';

// The gate benchmark's yardstick (bench/support/nginx.ts) against real nginx: it proxies HTTP over
// reused keep-alive upstream connections and WebSocket on /ws, runs one worker, and stops cleanly.
// Like the benchmark, the test installs nginx from Debian's packages when it is missing (as root),
// and fails with the reason when it cannot.

describe('gate benchmark nginx yardstick', () => {
  let http: Server;
  let wsHttp: Server;
  let nginx: NginxProcess;
  let upstreamConnections = 0;
  const wsPaths: string[] = [];

  beforeAll(async () => {
    http = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":"0x1"}'));
    });
    http.on('connection', () => upstreamConnections++);
    wsHttp = createServer();
    const wss = new WebSocketServer({ server: wsHttp });
    wss.on('connection', (ws, req) => {
      wsPaths.push(req.url ?? '');
      ws.on('message', () => ws.send('{"jsonrpc":"2.0","id":1,"result":"0x2"}'));
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => wsHttp.listen(0, '127.0.0.1', r));
    const binary = ensureNginx();
    if ('unavailable' in binary) throw new Error(`nginx is needed for this test and could not be installed: ${binary.unavailable}`);
    nginx = await startNginx(
      binary,
      { http: `127.0.0.1:${(http.address() as AddressInfo).port}`, ws: `127.0.0.1:${(wsHttp.address() as AddressInfo).port}` },
    );
  });
  afterAll(async () => {
    await nginx?.stop();
    http?.close();
    wsHttp?.close();
  });

  it('runs a master and one worker', () => {
    expect(nginx.pids).toHaveLength(2);
    expect(nginx.version).toMatch(/^\d+\.\d+/);
    expect(nginx.config).toMatch(/worker_processes 1;/);
  });

  it('proxies HTTP over one reused keep-alive upstream connection', async () => {
    const r = await rawLoad({ port: nginx.port, body: '{}', concurrency: 1, durationMs: 300 });
    expect(r.errors).toBe(0);
    expect(r.requests).toBeGreaterThan(10);
    expect(upstreamConnections).toBe(1);
  });

  it('proxies WebSocket messages on /ws to the node endpoint "/"', async () => {
    const c = await openWsConnections({ url: `ws://127.0.0.1:${nginx.port}/ws` }, 2);
    const r = await c.run('{}', 200);
    await c.close();
    expect(r.errors).toBe(0);
    expect(r.requests).toBeGreaterThan(10);
    expect(wsPaths).toEqual(['/', '/']);
  });

  it('stops the master and its worker', async () => {
    const pids = nginx.pids;
    await nginx.stop();
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
