/**
 * A one-signer Clique network on geth 1.13.15 (scripts/ensure-geth.sh), sealing a block a second,
 * with JSON-RPC over HTTP and WebSocket on 127.0.0.1 and the production flags of
 * lib/nodes/client-command.ts (eth,net,web3 APIs; vhosts localhost,127.0.0.1; the signer unlocked).
 * Started by the shared local-environment module (lib/local/geth-network.ts, what
 * `blockchain-tenancy local` runs). Used by the gate benchmark as the real client behind the gate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { NodeRole, resolveChainSpec } from '../../lib/chain/chain-spec';
import { BlockchainClient, ConsensusProtocol } from '../../lib/chain/protocols';
import { startGethNetwork } from '../../lib/local/geth-network';
import { ProcessGroup } from '../../lib/local/processes';
import { gethBinary } from './geth';

export interface GethNode {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** The unlocked signer's address (what a gate bypass would spend from). */
  readonly signer: string;
  readonly version: string;
  stop(): Promise<void>;
}

export async function startGethNode(): Promise<GethNode> {
  const geth = gethBinary();
  const version = /Version: (\S+)/.exec(execFileSync(geth, ['version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const dir = mkdtempSync(join(tmpdir(), 'bench-geth-'));
  const signer = Wallet.createRandom();
  const { resolved, problems } = resolveChainSpec({
    client: BlockchainClient.GETH,
    consensus: ConsensusProtocol.CLIQUE,
    chainId: 424242,
    blockPeriodSeconds: 1,
    nodes: [{ id: 'validator-1', member: 'default', role: NodeRole.VALIDATOR }],
  });
  if (!resolved) throw new Error(problems.join('\n'));
  const processes = new ProcessGroup();
  try {
    // The library's own Clique genesis (32 zero bytes + the signer + 65 zero bytes), the signer funded.
    const [node] = await startGethNetwork({
      geth,
      chain: resolved,
      dir,
      processes,
      nodeKeys: { 'validator-1': signer.privateKey },
      alloc: { [signer.address]: '0x3635c9adc5dea00000' },
      startTimeoutMs: 60_000,
    });
    return {
      rpcUrl: node.rpcUrl,
      wsUrl: node.wsUrl,
      pid: node.process.pid,
      signer: signer.address,
      version,
      stop: async () => {
        await processes.stopAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await processes.stopAll();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
