import { execFileSync } from 'node:child_process';
import { JsonRpcProvider, Wallet, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRole } from '../../lib';
import { LocalGethNetwork, startGethNetwork } from '../../lib/local/geth-network';
import { gethBinary, gethChain, rpc } from '../support/geth';

// A real Clique network on geth 1.13.15 over loopback, from the library's own key generation,
// genesis builder, enode URLs, data layout and client arguments: two signers and one member node.
// With two signers, Clique lets each seal at most every other block, so the chain only advances if
// both signers loaded the genesis signers, found each other through the generated static nodes,
// and seal; the member only follows.
describe('generated Clique genesis on a real geth 1.13.15 network', () => {
  let net: LocalGethNetwork;
  const funder = Wallet.createRandom(); // the key stays in this test; the config gets the address

  beforeAll(async () => {
    net = await startGethNetwork({
      geth: gethBinary(),
      chain: gethChain({
        blockPeriodSeconds: 1,
        chainId: 424242,
        prefundedAccounts: [{ address: funder.address, balance: parseEther('1000').toString() }],
        members: [{ id: 'acme' }, { id: 'globex' }],
        nodes: [
          { id: 'signer-1', member: 'acme', role: NodeRole.VALIDATOR },
          { id: 'signer-2', member: 'acme', role: NodeRole.VALIDATOR },
          { id: 'globex-1', member: 'globex', role: NodeRole.MEMBER },
        ],
      }),
      minHeight: 4,
    });
  }, 600_000);

  afterAll(async () => {
    await net?.stop();
  });

  it('peers through the generated static nodes and seals blocks with both signers; the member follows', async () => {
    const [s1, s2, member] = net.nodes;
    expect(parseInt(await rpc<string>(s1.rpcUrl, 'net_peerCount'), 16)).toBe(2);
    // Both signers sealed: blocks 1 and 2 were sealed by different signers (Clique's in-turn rule).
    const [b1, b2] = await Promise.all([1, 2].map((n) => rpc<{ hash: string; miner: string }>(s1.rpcUrl, 'eth_getBlockByNumber', [`0x${n}`, false])));
    expect(b1.hash).not.toBe(b2.hash);
    // The same block hash on every node: one chain, not two.
    for (const n of [s2, member]) expect((await rpc<{ hash: string }>(n.rpcUrl, 'eth_getBlockByNumber', ['0x2', false])).hash).toBe(b2.hash);
  }, 120_000);

  it('runs London rules from block 0 with a zero base fee (free gas)', async () => {
    const block = await rpc<{ baseFeePerGas?: string }>(net.nodes[0].rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
    expect(block.baseFeePerGas).toBe('0x0');
    expect(net.genesis.config).toMatchObject({ londonBlock: 0 });
    expect(net.genesis.config).not.toHaveProperty('shanghaiTime');
    // Every node suggests the 1 wei floor geth can run (it refuses 0).
    for (const n of net.nodes) {
      expect(await rpc<string>(n.rpcUrl, 'eth_gasPrice')).toBe('0x1');
      expect(await rpc<string>(n.rpcUrl, 'eth_maxPriorityFeePerGas')).toBe('0x1');
      const history = await rpc<{ baseFeePerGas: string[] }>(n.rpcUrl, 'eth_feeHistory', ['0x4', 'latest', [50]]);
      expect(new Set(history.baseFeePerGas)).toEqual(new Set(['0x0']));
    }
  });

  it('only signers seal and unlock a key; the member node never logs "unauthorized signer"', () => {
    const member = net.node('globex-1');
    expect(member.args.filter((a) => a === '--mine' || /^--(unlock|password|allow-insecure-unlock|miner\.etherbase)\b/.test(a))).toEqual([]);
    for (const id of ['signer-1', 'signer-2']) expect(net.node(id).args).toEqual(expect.arrayContaining(['--mine', `--unlock=${net.node(id).address}`]));
    expect(member.process.log()).not.toMatch(/unauthorized signer/i);
    expect(net.logs()).not.toMatch(/unauthorized signer/i);
  });

  it('mines a transaction sent to the member node, and refuses at once what the signers would drop', async () => {
    // Before the fix, the member accepted a 0-priced transaction as "local" (exempt from its own
    // price rules), gossiped it, and the signers dropped it as underpriced: accepted, never mined.
    // Now every node applies the same floor (1 wei, --txpool.nolocals), so accepted means mined.
    const member = new JsonRpcProvider(net.node('globex-1').rpcUrl, undefined, { pollingInterval: 250 });
    const wallet = funder.connect(member);
    const to = Wallet.createRandom().address;
    await expect(wallet.sendTransaction({ to, value: 1n, type: 0, gasPrice: 0n })).rejects.toThrow(/underpriced/);
    const tx = await wallet.sendTransaction({ to, value: 1n }); // ethers' defaults: 1 wei per gas, as the node suggests
    const receipt = await tx.wait(1, 30_000);
    expect(receipt?.status).toBe(1);
    expect(tx.gasPrice).toBe(1n);
    expect(BigInt(await rpc<string>(net.node('signer-2').rpcUrl, 'eth_getBalance', [to, 'latest']))).toBe(1n);
    member.destroy();
  }, 60_000);

  it('serves JSON-RPC on 127.0.0.1 only (as the node flags say)', async () => {
    const port = new URL(net.nodes[0].rpcUrl).port;
    const ss = execFileSync('ss', ['-ltnH'], { encoding: 'utf8' });
    const listeners = ss.split('\n').filter((l) => l.includes(`:${port} `));
    expect(listeners.length).toBeGreaterThan(0);
    for (const l of listeners) expect(l).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}\\s`));
  });
});
