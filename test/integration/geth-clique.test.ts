import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BlockchainClient,
  ConsensusProtocol,
  NODE_DATA_DIR,
  NodeRole,
  RpcPorts,
  clientArguments,
  gethConfigToml,
  gethLayout,
  resolveChainSpec,
} from '../../lib';
import { buildGenesis } from '../../lib/chain/genesis';
import { enodeUrl, generateNodeKey, nodeIdentity } from '../../lib/chain/keys';
import { freePort } from '../support/moto';
import { GethProcess, gethBinary, rpc, startGeth } from '../support/geth';

// A real two-signer Clique network on geth 1.13.15 over loopback, from the library's own key
// generation, genesis builder, enode URLs, data layout and client arguments. With two signers,
// Clique lets each seal at most every other block, so the chain only advances if both nodes
// loaded the genesis signers, found each other through the generated static nodes, and seal.
describe('generated Clique genesis on a real geth 1.13.15 network', () => {
  let geth: string;
  const nodes: { dir: string; http: number; proc?: GethProcess }[] = [];

  beforeAll(async () => {
    geth = gethBinary();
    const { resolved } = resolveChainSpec({
      client: BlockchainClient.GETH,
      consensus: ConsensusProtocol.CLIQUE,
      blockPeriodSeconds: 1,
      chainId: 424242,
      nodes: [
        { id: 'signer-1', member: 'default', role: NodeRole.VALIDATOR },
        { id: 'signer-2', member: 'default', role: NodeRole.VALIDATOR },
      ],
    });
    const chain = resolved!;
    const keys = [generateNodeKey(), generateNodeKey()];
    const ids = keys.map(nodeIdentity);
    const p2p = [await freePort(), await freePort()];
    const genesis = buildGenesis({
      client: chain.client,
      consensus: chain.consensus,
      chainId: chain.chainId,
      blockPeriodSeconds: chain.blockPeriodSeconds,
      validators: ids.map((i) => i.address),
      freeGas: chain.freeGas,
    });
    const staticNodes = ids.map((id, i) => enodeUrl(id.enodeId, '127.0.0.1', { port: p2p[i] }));
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), `geth-${i}-`));
      const l = gethLayout(dir);
      writeFileSync(l.genesis, JSON.stringify(genesis));
      execFileSync(geth, ['--datadir', l.datadir, 'init', l.genesis], { stdio: 'ignore' });
      mkdirSync(join(l.datadir, 'geth'), { recursive: true });
      writeFileSync(l.key, keys[i].slice(2), { mode: 0o600 });
      writeFileSync(l.nodeKey, keys[i].slice(2), { mode: 0o600 });
      writeFileSync(l.staticNodes, JSON.stringify(staticNodes));
      writeFileSync(l.config, gethConfigToml(staticNodes));
      writeFileSync(l.password, '');
      execFileSync(geth, ['--datadir', l.datadir, 'account', 'import', '--password', l.password, l.key], { stdio: 'ignore' });
      const http = await freePort();
      const ws = await freePort();
      // The production arguments, re-pointed at this test's directory and free ports.
      const args = clientArguments(chain, '127.0.0.1', p2p[i]).map((a) =>
        a
          .split(NODE_DATA_DIR)
          .join(dir)
          .replace(`--http.port=${RpcPorts.HTTP}`, `--http.port=${http}`)
          .replace(`--ws.port=${RpcPorts.WS}`, `--ws.port=${ws}`)
          .replace('$SIGNER_ADDRESS', ids[i].address),
      );
      nodes.push({ dir, http, proc: startGeth(geth, [...args, '--authrpc.port', String(await freePort()), '--ipcdisable']) });
    }
  }, 600_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.proc?.stop()));
  });

  it('peers through the generated static nodes and seals blocks with both signers', async () => {
    const url = (i: number) => `http://127.0.0.1:${nodes[i].http}`;
    const deadline = Date.now() + 90_000;
    let heights = [0, 0];
    while (Date.now() < deadline) {
      try {
        heights = await Promise.all([0, 1].map(async (i) => parseInt(await rpc<string>(url(i), 'eth_blockNumber'), 16)));
        if (heights.every((h) => h >= 4)) break;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    if (!heights.every((h) => h >= 4)) {
      throw new Error(`chain did not advance (heights ${heights}); node logs:\n${nodes.map((n) => n.proc?.log()).join('\n---\n')}`);
    }
    expect(parseInt(await rpc<string>(url(0), 'net_peerCount'), 16)).toBe(1);
    // Both signers sealed: block 1 and block 2 have different in-turn signers (difficulty 2).
    const [b1, b2] = await Promise.all([1, 2].map((n) => rpc<{ difficulty: string; hash: string }>(url(0), 'eth_getBlockByNumber', [`0x${n}`, false])));
    expect(b1.hash).not.toBe(b2.hash);
    // The same block hash on both nodes: one chain, not two.
    const other = await rpc<{ hash: string }>(url(1), 'eth_getBlockByNumber', ['0x2', false]);
    expect(other.hash).toBe(b2.hash);
  }, 120_000);

  it('serves JSON-RPC on 127.0.0.1 only (as the node flags say)', async () => {
    const ss = execFileSync('ss', ['-ltnH'], { encoding: 'utf8' });
    const listeners = ss.split('\n').filter((l) => l.includes(`:${nodes[0].http} `));
    expect(listeners.length).toBeGreaterThan(0);
    for (const l of listeners) expect(l).toMatch(new RegExp(`127\\.0\\.0\\.1:${nodes[0].http}\\s`));
  });
});
