import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { allowedMethods, isNeverAllowed } from '../../lib/contracts/rpc-policy';
import { rpc } from '../support/geth';
import { GateProcess, startGateProcess } from '../support/gate-process';
import { GethNode, startGethNode } from '../support/geth-node';
import { StubAuthorizer, startStubAuthorizer } from '../support/stub-authorizer';

// Gate contract (README "Testing"): runs against GATE_IMPL=node|go.
// The gate process's method list (RPC_CLIENT=geth) against what a real geth 1.13.15 exposes, with every API module it has
// switched on: every allowed name exists in geth, and every other geth method is refused by the
// gate. Names are probed with too many arguments, so geth answers "too many arguments" for a
// method it has (-32602) and "does not exist" (-32601) otherwise, and never runs one.
const GOOD = `Basic ${Buffer.from('btgood:secret').toString('base64')}`;
const ALL_APIS = ['eth', 'net', 'web3', 'admin', 'debug', 'personal', 'miner', 'txpool', 'clique'];
const fixture = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'geth-1.13.15-methods.json'), 'utf8')) as { methods: string[] };
const PROBE_PARAMS = Array.from({ length: 12 }, () => ({}));

describe("the gate's method list against geth 1.13.15", () => {
  let geth: GethNode;
  let gate: GateProcess;
  let authorizer: StubAuthorizer;
  let port: number;
  let ws: WebSocket;
  /** A WebSocket through the gate (the screen applies to every WebSocket call too). */
  let gateWs: WebSocket;
  const gatePending = new Map<number, (a: { error?: { code: number; message: string } }) => void>();
  const pending = new Map<number, (a: { error?: { code: number; message: string } }) => void>();
  let nextId = 1;

  beforeAll(async () => {
    geth = await startGethNode(ALL_APIS);
    authorizer = await startStubAuthorizer((a) => ({ allowed: a === GOOD }));
    gate = await startGateProcess({ nodeId: 'validator-1', authorizerFunction: authorizer.functionName, lambdaEndpoint: authorizer.endpoint, upstreamHttp: geth.rpcUrl, upstreamWs: geth.wsUrl, extra: { RPC_CLIENT: 'geth' } });
    port = gate.port;
    ws = new WebSocket(geth.wsUrl);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.on('message', (m) => {
      const a = JSON.parse(m.toString()) as { id: number; error?: { code: number; message: string } };
      pending.get(a.id)?.(a);
      pending.delete(a.id);
    });
    gateWs = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: GOOD } });
    await new Promise((resolve, reject) => {
      gateWs.once('open', resolve);
      gateWs.once('error', reject);
    });
    gateWs.on('message', (m) => {
      const a = JSON.parse(m.toString()) as { id: number; error?: { code: number; message: string } };
      gatePending.get(a.id)?.(a);
      gatePending.delete(a.id);
    });
  }, 600_000);

  afterAll(async () => {
    ws?.close();
    gateWs?.close();
    await gate?.stop();
    await authorizer?.close();
    await geth?.stop();
  });

  /** Whether geth (directly, over WebSocket, where subscriptions exist too) has the method. */
  const exists = (method: string) =>
    new Promise<boolean>((resolve) => {
      const id = nextId++;
      pending.set(id, (a) => resolve(!(a.error?.code === -32601 && /does not exist/.test(a.error.message))));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: PROBE_PARAMS }));
    });
  const viaGate = async (method: string) => {
    const res = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { authorization: GOOD }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: PROBE_PARAMS }) });
    return (await res.json()) as { error?: { code: number; message: string } };
  };
  const viaGateWs = (method: string) =>
    new Promise<{ error?: { code: number; message: string } }>((resolve) => {
      const id = nextId++;
      gatePending.set(id, resolve);
      gateWs.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: PROBE_PARAMS }));
    });

  it('every module geth offers is either the dApp API (eth, net, web3) or refused as a whole', async () => {
    const modules = Object.keys(await rpc<Record<string, string>>(geth.rpcUrl, 'rpc_modules'));
    expect(modules).toEqual(expect.arrayContaining(ALL_APIS));
    expect(modules.filter((m) => !['eth', 'net', 'web3'].includes(m) && !isNeverAllowed(`${m}_anything`))).toEqual([]);
  });

  it('every allowed method exists in geth and passes the gate', async () => {
    const allowed = allowedMethods({ client: 'geth' });
    const missing: string[] = [];
    for (const m of allowed) if (!(await exists(m))) missing.push(m);
    expect(missing).toEqual([]);
    for (const m of allowed) {
      // geth's own answer (too many arguments), not the gate's refusal, over HTTP and WebSocket.
      for (const a of [await viaGate(m), await viaGateWs(m)]) expect([m, a.error?.message ?? '']).not.toEqual([m, `method ${m} is not allowed`]);
    }
  }, 120_000);

  it("every other geth method is refused by the gate (keys, node state, administration, debugging, mining, pool, consensus)", async () => {
    const allowed = new Set(allowedMethods({ client: 'geth' }));
    const notInGeth: string[] = [];
    for (const m of fixture.methods) if (!(await exists(m))) notInGeth.push(m);
    // The fixture lists only methods this binary really has.
    expect(notInGeth).toEqual([]);
    const others = fixture.methods.filter((m) => !allowed.has(m));
    expect(others).toEqual(expect.arrayContaining(['eth_resend', 'eth_pendingTransactions', 'eth_etherbase', 'eth_coinbase', 'eth_accounts', 'eth_sign', 'eth_signTransaction', 'eth_sendTransaction', 'eth_fillTransaction', 'personal_unlockAccount', 'admin_addPeer', 'miner_setEtherbase', 'debug_setHead', 'txpool_content', 'clique_propose']));
    const passed: string[] = [];
    for (const m of others) {
      for (const [how, a] of [['HTTP', await viaGate(m)], ['WebSocket', await viaGateWs(m)]] as const) {
        if (a.error?.code !== -32601 || a.error.message !== `method ${m} is not allowed`) passed.push(`${m} (${how})`);
      }
    }
    expect(passed).toEqual([]);
  }, 120_000);
});
