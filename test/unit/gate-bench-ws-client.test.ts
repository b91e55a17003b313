import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { checkNewHeads, openWsConnections } from '../../bench/support/ws-load';

// The gate benchmark's WebSocket load client (bench/support/ws-load.ts): what it counts as an
// answered call decides the messages/s of every path, so it is tested against a real server.

/** A WebSocket JSON-RPC server; `answer` gets each message and the socket; upgrades without `authorization: ok` are refused with 401. */
async function wsServer(answer: (text: string, send: (s: string) => void) => void): Promise<{ url: string; received: () => number; server: Server }> {
  let received = 0;
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    if (req.headers.authorization !== 'ok') {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) =>
      ws.on('message', (d) => {
        received++;
        answer(d.toString(), (s) => ws.send(s));
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, received: () => received, server };
}

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

describe('gate benchmark WebSocket load client', () => {
  it('keeps one call in flight per connection and counts only answers with a result', async () => {
    let n = 0;
    const s = await wsServer((_text, send) => {
      n++;
      send(n % 3 === 0 ? '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no"}}' : '{"jsonrpc":"2.0","id":1,"result":"0x1"}');
    });
    servers.push(s.server);
    const c = await openWsConnections({ url: s.url, headers: { authorization: 'ok' } }, 3);
    const r = await c.run('{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}', 200);
    await c.close();
    expect(r.requests + r.errors).toBe(s.received());
    expect(r.errors).toBe(Math.floor(s.received() / 3));
    expect(r.requests).toBeGreaterThan(0);
    expect(r.latenciesMs.length).toBe(r.requests);
  });

  it('fails clearly when the upgrade is refused', async () => {
    const s = await wsServer(() => undefined);
    servers.push(s.server);
    await expect(openWsConnections({ url: s.url }, 1)).rejects.toThrow(/refused: HTTP 401/);
  });

  it('checks newHeads on every path: notifications counted by block hash, later arrivals measured against the first path, failures named', async () => {
    const notify = (delayMs: number) => (text: string, send: (s: string) => void) => {
      if (!text.includes('eth_subscribe')) return;
      send('{"jsonrpc":"2.0","id":1,"result":"0xabc"}');
      for (const [i, hash] of ['0x01', '0x02'].entries()) {
        setTimeout(() => send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: '0xabc', result: { hash } } })), 20 + i * 50 + delayMs);
      }
    };
    const direct = await wsServer(notify(0));
    const slow = await wsServer(notify(30));
    const refused = await wsServer(notify(0));
    servers.push(direct.server, slow.server, refused.server);
    const r = await checkNewHeads({ direct: { url: direct.url, headers: { authorization: 'ok' } }, slow: { url: slow.url, headers: { authorization: 'ok' } }, refused: { url: refused.url } }, 300);
    expect(r.notifications).toEqual({ direct: 2, slow: 2, refused: 0 });
    expect(r.failed).toEqual({ refused: expect.stringMatching(/HTTP 401/) });
    expect(r.addedDelayMs.slow.blocks).toBe(2);
    expect(r.addedDelayMs.slow.median).toBeGreaterThanOrEqual(20);
    expect(r.addedDelayMs.refused.blocks).toBe(0);
  });
});
