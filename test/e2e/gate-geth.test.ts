import { JsonRpcProvider } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GateProcess, startGateProcess } from '../support/gate-process';
import { GethNode, startGethNode } from '../support/geth-node';
import { StubAuthorizer, startStubAuthorizer } from '../support/stub-authorizer';

// Gate contract (README "Testing"): runs against GATE_IMPL=node|go.
// The gate process in front of a real client, geth 1.13.15 (Go net/http; one-signer Clique with
// the signer unlocked, as the production flags have it), with a scripted authorizer.
const GOOD = `Basic ${Buffer.from('btgood:secret').toString('base64')}`;

describe('node gate in front of geth 1.13.15', () => {
  let geth: GethNode;
  let gate: GateProcess;
  let authorizer: StubAuthorizer;
  let port: number;

  beforeAll(async () => {
    geth = await startGethNode();
    authorizer = await startStubAuthorizer((authorization) => ({ allowed: authorization === GOOD }));
    gate = await startGateProcess({ nodeId: 'validator-1', authorizerFunction: authorizer.functionName, lambdaEndpoint: authorizer.endpoint, upstreamHttp: geth.rpcUrl, upstreamWs: geth.wsUrl, extra: { RPC_CLIENT: 'geth' } });
    port = gate.port;
  }, 600_000);

  afterAll(async () => {
    await gate?.stop();
    await authorizer?.close();
    await geth?.stop();
  });

  const call = async (url: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'accept-encoding': 'identity', ...headers }, body });
    return JSON.parse(await res.text()) as unknown;
  };

  it('serves ethers through the gate', async () => {
    const provider = new JsonRpcProvider(`http://btgood:secret@127.0.0.1:${port}/`, undefined, { staticNetwork: true });
    expect(await provider.getBlockNumber()).toBeGreaterThanOrEqual(1);
    expect(Number((await provider.getNetwork()).chainId)).toBe(424242);
    provider.destroy();
  });

  it('frames geth answers of every size, including chunked ones (a 100-call batch)', async () => {
    const batch = Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_getBlockByNumber', params: ['0x0', true] }));
    const direct = (await call(geth.rpcUrl, JSON.stringify(batch))) as { id: number; result: unknown }[];
    const viaGate = (await call(`http://127.0.0.1:${port}/`, JSON.stringify(batch), { authorization: GOOD })) as { id: number; result: unknown }[];
    expect(JSON.stringify(direct).length).toBeGreaterThan(50_000);
    expect(viaGate).toEqual(direct);
  });

  it('refuses a call that smuggles a second method under another capitalization, which geth would run', async () => {
    // geth decodes member names case-insensitively (Go encoding/json), the last one wins:
    const smuggled = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', METHOD: 'eth_accounts', params: [] });
    expect(await call(geth.rpcUrl, smuggled)).toEqual({ jsonrpc: '2.0', id: 1, result: [geth.signer.toLowerCase()] });
    // The gate refuses it (and eth_accounts itself):
    expect(await call(`http://127.0.0.1:${port}/`, smuggled, { authorization: GOOD })).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'invalid request: unknown member' } });
    const send = JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId', Method: 'eth_sendTransaction', params: [{ from: geth.signer, to: '0x000000000000000000000000000000000000dEaD', value: '0x1' }] },
      { jsonrpc: '2.0', id: 2, method: 'eth_getTransactionCount', params: [geth.signer, 'pending'] },
    ]);
    const [first, second] = (await call(`http://127.0.0.1:${port}/`, send, { authorization: GOOD })) as { error?: { code: number }; result?: string }[];
    expect(first.error?.code).toBe(-32600);
    expect(second.result).toBe('0x0'); // nothing was sent from the node's unlocked signer
  });
});
