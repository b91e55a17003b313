/**
 * A one-signer Clique network on geth 1.13.15 (scripts/ensure-geth.sh), sealing a block a second,
 * with JSON-RPC over HTTP and WebSocket on 127.0.0.1: the library's own genesis and production
 * client arguments (lib/nodes/client-command.ts: eth,net,web3 APIs; vhosts localhost,127.0.0.1;
 * the signer unlocked), started by lib/local/geth-network.ts (the starter of `blockchain-tenancy
 * local`). Used by the gate benchmark and test/e2e/gate-geth.test.ts as the real client behind the gate.
 */
import { execFileSync } from 'node:child_process';
import { parseEther } from 'ethers';
import { NodeRole } from '../../lib';
import { startGethNetwork } from '../../lib/local/geth-network';
import { gethBinary, gethChain } from './geth';

export interface GethNode {
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly pid: number;
  /** The unlocked signer's address (what a gate bypass would spend from). */
  readonly signer: string;
  readonly version: string;
  stop(): Promise<void>;
}

/**
 * Starts the node. `apis` replaces the production API list (eth,net,web3), e.g. to enumerate
 * every method geth has.
 */
export async function startGethNode(apis?: readonly string[]): Promise<GethNode> {
  const geth = gethBinary();
  const version = /Version: (\S+)/.exec(execFileSync(geth, ['version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const net = await startGethNetwork({
    geth,
    chain: gethChain({ chainId: 424242, blockPeriodSeconds: 1, nodes: [{ id: 'validator-1', member: 'default', role: NodeRole.VALIDATOR }] }),
    // The signer holds ether, so a bypass of the gate would have something to spend.
    fundNodes: parseEther('1000').toString(),
    minHeight: 1,
    startTimeoutMs: 60_000,
    ...(apis ? { apis } : {}),
  });
  const node = net.nodes[0];
  return { rpcUrl: node.rpcUrl, wsUrl: node.wsUrl, pid: node.process.pid, signer: node.address, version, stop: () => net.stop() };
}
