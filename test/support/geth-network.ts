/**
 * A real multi-node geth 1.13.15 Clique network over loopback, built from the library's own chain
 * spec resolution, key generation, genesis builder, enode URLs, data layout and client arguments
 * (the production arguments, re-pointed at a temporary directory and free ports). Signers and
 * member nodes get exactly what lib/nodes/client-command.ts gives them, and the boot script's
 * steps: `geth init`, node key, static peers in config.toml, and (signers only) the key imported
 * as the sealing account.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlockchainClient,
  ChainSpec,
  ConsensusProtocol,
  NODE_DATA_DIR,
  NodeRole,
  ResolvedChainSpec,
  RpcPorts,
  clientArguments,
  gethConfigToml,
  gethLayout,
  resolveChainSpec,
} from '../../lib';
import { buildGenesis } from '../../lib/chain/genesis';
import { enodeUrl, generateNodeKey, nodeIdentity } from '../../lib/chain/keys';
import { GethProcess, gethBinary, rpc, startGeth } from './geth';
import { freePort } from './moto';

/** One running node of the network. */
export interface GethNetworkNode {
  readonly id: string;
  readonly role: NodeRole;
  /** The node's address (its key is the node key; signers seal with it). */
  readonly address: string;
  readonly rpcUrl: string;
  readonly wsUrl: string;
  /** The exact arguments geth was started with. */
  readonly args: readonly string[];
  readonly process: GethProcess;
}

/** A running network. */
export interface GethNetwork {
  readonly chain: ResolvedChainSpec;
  readonly genesis: Record<string, unknown>;
  readonly nodes: readonly GethNetworkNode[];
  node(id: string): GethNetworkNode;
  /** Every node's log tail, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts every node of a geth + Clique chain spec and waits until all of them see block
 * `minHeight` (so signers seal and members follow). Throws with the nodes' logs otherwise.
 */
export async function startGethNetwork(
  spec: ChainSpec,
  opts: {
    minHeight?: number;
    timeoutMs?: number;
    /** Also fund every node's own address with this many wei. */
    fundNodes?: string;
    /** Replaces the production API list of HTTP and WebSocket (eth,net,web3), e.g. to enumerate every method geth has. */
    apis?: readonly string[];
  } = {},
): Promise<GethNetwork> {
  const { resolved, problems } = resolveChainSpec({ client: BlockchainClient.GETH, consensus: ConsensusProtocol.CLIQUE, ...spec });
  if (!resolved) throw new Error(`chain spec refused: ${problems.join('; ')}`);
  const chain = resolved;
  const geth = gethBinary();
  const keys = chain.nodes.map(() => generateNodeKey());
  const ids = keys.map(nodeIdentity);
  const p2p = await Promise.all(chain.nodes.map(() => freePort()));
  const genesis = buildGenesis({
    client: chain.client,
    consensus: chain.consensus,
    chainId: chain.chainId,
    blockPeriodSeconds: chain.blockPeriodSeconds,
    validators: ids.filter((_, i) => chain.nodes[i].role === NodeRole.VALIDATOR).map((i) => i.address),
    freeGas: chain.freeGas,
    evmVersion: chain.evmVersion,
    alloc: {
      ...(opts.fundNodes ? Object.fromEntries(ids.map((i) => [i.address, opts.fundNodes!])) : {}),
      ...Object.fromEntries(chain.prefundedAccounts.map((a) => [a.address, a.balance])),
    },
  });
  const staticNodes = ids.map((id, i) => enodeUrl(id.enodeId, '127.0.0.1', { port: p2p[i] }));
  const dirs: string[] = [];
  const nodes: GethNetworkNode[] = [];
  const stopAll = async () => {
    await Promise.all(nodes.map((n) => n.process.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < chain.nodes.length; i++) {
      const node = chain.nodes[i];
      const dir = mkdtempSync(join(tmpdir(), `geth-${node.id}-`));
      dirs.push(dir);
      const l = gethLayout(dir);
      writeFileSync(l.genesis, JSON.stringify(genesis));
      execFileSync(geth, ['--datadir', l.datadir, 'init', l.genesis], { stdio: 'ignore' });
      mkdirSync(join(l.datadir, 'geth'), { recursive: true });
      writeFileSync(l.key, keys[i].slice(2), { mode: 0o600 });
      writeFileSync(l.nodeKey, keys[i].slice(2), { mode: 0o600 });
      writeFileSync(l.staticNodes, JSON.stringify(staticNodes));
      writeFileSync(l.config, gethConfigToml(staticNodes));
      if (node.role === NodeRole.VALIDATOR) {
        writeFileSync(l.password, '');
        execFileSync(geth, ['--datadir', l.datadir, 'account', 'import', '--password', l.password, l.key], { stdio: 'ignore' });
      }
      const http = await freePort();
      const ws = await freePort();
      const args = clientArguments(chain, '127.0.0.1', p2p[i], node.role).map((a) =>
        a
          .split(NODE_DATA_DIR)
          .join(dir)
          .replace(`--http.port=${RpcPorts.HTTP}`, `--http.port=${http}`)
          .replace(`--ws.port=${RpcPorts.WS}`, `--ws.port=${ws}`)
          .replace('$SIGNER_ADDRESS', ids[i].address)
          .replace(/^--(http|ws)\.api=.*$/, (arg, kind: string) => (opts.apis ? `--${kind}.api=${opts.apis.join(',')}` : arg)),
      );
      const full = [...args, '--authrpc.port', String(await freePort()), '--ipcdisable'];
      nodes.push({
        id: node.id,
        role: node.role,
        address: ids[i].address,
        rpcUrl: `http://127.0.0.1:${http}`,
        wsUrl: `ws://127.0.0.1:${ws}`,
        args: full,
        process: startGeth(geth, full),
      });
    }
    const logs = () => nodes.map((n) => `--- ${n.id} (${n.role})\n${n.process.log()}`).join('\n');
    const minHeight = opts.minHeight ?? 2;
    const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
    let heights: number[] = [];
    for (;;) {
      heights = await Promise.all(nodes.map((n) => rpc<string>(n.rpcUrl, 'eth_blockNumber').then((h) => parseInt(h, 16), () => -1)));
      if (heights.every((h) => h >= minHeight)) break;
      if (Date.now() > deadline || nodes.some((n) => n.process.process.exitCode !== null)) {
        throw new Error(`the network did not reach block ${minHeight} (heights ${heights.join(', ')}):\n${logs()}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return {
      chain,
      genesis,
      nodes,
      node: (id) => {
        const n = nodes.find((x) => x.id === id);
        if (!n) throw new Error(`no node ${id}`);
        return n;
      },
      logs,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
