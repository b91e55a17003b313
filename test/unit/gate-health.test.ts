import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGate } from '../../lambda/node-gate/gate';
import { gateHealthBlockAge } from '../../lib/nodes/node-services';

// /health needs no credential, reveals nothing, and fails unless the client answers (and, when
// configured, has a recent block while not syncing). The client here is scripted.
describe('gate /health', () => {
  let blockAgeSeconds = 0;
  let syncing: unknown = false;
  let answering = true;
  const upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!answering) {
        res.destroy();
        return;
      }
      const timestamp = `0x${Math.floor(Date.now() / 1000 - blockAgeSeconds).toString(16)}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ jsonrpc: '2.0', id: 1, result: syncing }, { jsonrpc: '2.0', id: 2, result: { number: '0x10', timestamp } }]));
    });
  });
  let gate: ReturnType<typeof createGate>;
  let port: number;

  beforeAll(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const u = (upstream.address() as AddressInfo).port;
    gate = createGate({ nodeId: 'n', upstreamHttp: `http://127.0.0.1:${u}`, upstreamWs: `ws://127.0.0.1:${u}`, healthMaxBlockAgeMs: 300_000, log: () => undefined, authorize: async () => ({ allowed: false }) });
    await new Promise<void>((r) => gate.server.listen(0, '127.0.0.1', r));
    port = (gate.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await gate.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  const health = async () => {
    await new Promise((r) => setTimeout(r, 1_100)); // past the 1 s answer cache
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    return [res.status, await res.text()];
  };

  it('is ok with a recent block, fails on a stale one unless syncing, and while the client does not answer', async () => {
    expect(await health()).toEqual([200, 'ok']);
    blockAgeSeconds = 301;
    expect(await health()).toEqual([503, '{"jsonrpc":"2.0","id":null,"error":{"code":-32005,"message":"not ready"}}']);
    syncing = { currentBlock: '0x10', highestBlock: '0x100' };
    expect(await health()).toEqual([200, 'ok']);
    answering = false;
    expect((await health())[0]).toBe(503);
    answering = true;
    syncing = false;
    blockAgeSeconds = 0;
    expect(await health()).toEqual([200, 'ok']);
  });

  it('derives the block age a node may show from the chain (none for Raft)', () => {
    expect(gateHealthBlockAge({ consensus: 'qbft', blockPeriodSeconds: 2 })).toBe(300);
    expect(gateHealthBlockAge({ consensus: 'clique', blockPeriodSeconds: 15 })).toBe(450);
    expect(gateHealthBlockAge({ consensus: 'raft', blockPeriodSeconds: 1 })).toBeUndefined();
  });
});
