/**
 * An environment's chain on this machine: one geth 1.13.15 process per node, from this library's
 * own key generation, genesis builder, enode URLs, data layout (gethLayout) and client arguments
 * (clientArguments, re-pointed at a local directory and free loopback ports), prepared the way a
 * node's boot script prepares it (genesis init, node key, static peers in config.toml, the key
 * imported as the sealing account). Runtime code of `blockchain-tenancy local` and of the tests
 * that need a real client (the one network starter both use); lib/index.ts never imports it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ResolvedChainSpec, NodeRole } from '../chain/chain-spec';
import { Genesis, buildGenesis } from '../chain/genesis';
import { enodeUrl, generateNodeKey, nodeIdentity } from '../chain/keys';
import { BlockchainClient } from '../chain/protocols';
import { NODE_DATA_DIR, RpcPorts, clientArguments, gethConfigToml, gethLayout } from '../nodes/client-command';
import { ManagedProcess, ProcessGroup, freePort, tail, waitUntil } from './processes';

const run = promisify(execFile);

export interface LocalGethNetworkOptions {
  /** Path of a geth 1.13.15 binary (scripts/ensure-geth.sh builds one). */
  readonly geth: string;
  /** The chain (client geth, consensus Clique). */
  readonly chain: ResolvedChainSpec;
  /** A directory of its own; each node gets `<dir>/<node id>`. @default - a temporary directory that stop() removes */
  readonly dir?: string;
  /** The group the geth processes join. @default - a group of the network's own, stopped by stop() */
  readonly processes?: ProcessGroup;
  /** Extra genesis balances (address -> wei as decimal or 0x hex). */
  readonly alloc?: Readonly<Record<string, string>>;
  /** Also fund every node's own address with this many wei (decimal or 0x hex). @default - not funded */
  readonly fundNodes?: string;
  /** Node keys by node id (0x + 64 hex). @default - fresh random keys */
  readonly nodeKeys?: Readonly<Record<string, string>>;
  /**
   * Replaces the production API list of HTTP and WebSocket (eth,net,web3), e.g. to enumerate
   * every method geth has. @default - the production list
   */
  readonly apis?: readonly string[];
  /** The block every node must have reached before startGethNetwork resolves. @default 1 */
  readonly minHeight?: number;
  /** How long to wait for each node to answer and reach `minHeight`. @default 90 s */
  readonly startTimeoutMs?: number;
}

/** One running node. */
export interface LocalGethNode {
  readonly id: string;
  readonly member: string;
  readonly role: NodeRole;
  /** The node's address (its Clique signer address when it is a validator). */
  readonly address: string;
  /** JSON-RPC on 127.0.0.1 (what the gate forwards to; never handed to a dApp). */
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly p2pPort: number;
  /** The exact arguments geth was started with. */
  readonly args: readonly string[];
  readonly process: ManagedProcess;
}

/** A running network. */
export interface LocalGethNetwork {
  readonly chain: ResolvedChainSpec;
  /** The genesis every node was initialized with. */
  readonly genesis: Genesis;
  readonly nodes: readonly LocalGethNode[];
  /** The node with this id (throws when there is none). */
  node(id: string): LocalGethNode;
  /** Every node's log tail, for failure messages. */
  logs(): string;
  /** Stops the nodes and removes the directory when the network made it. Idempotent. */
  stop(): Promise<void>;
}

/** A JSON-RPC call over HTTP (throws on a JSON-RPC error). */
export async function jsonRpc<T>(url: string, method: string, params: unknown[] = [], headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/**
 * Starts every node of `chain` and waits until each answers and has reached block `minHeight`
 * (so the signers found each other and seal, and members follow). On failure the nodes started
 * so far are stopped before it throws.
 */
export async function startGethNetwork(opts: LocalGethNetworkOptions): Promise<LocalGethNetwork> {
  const { chain, geth } = opts;
  if (chain.client !== BlockchainClient.GETH) throw new Error(`startGethNetwork: the chain's client is ${chain.client}; only geth runs locally`);
  const processes = opts.processes ?? new ProcessGroup();
  const ownDir = opts.dir === undefined ? mkdtempSync(join(tmpdir(), 'blockchain-tenancy-geth-')) : undefined;
  const root = opts.dir ?? ownDir!;
  const keys = chain.nodes.map((n) => opts.nodeKeys?.[n.id] ?? generateNodeKey());
  const ids = keys.map(nodeIdentity);
  const p2p: number[] = [];
  while (p2p.length < chain.nodes.length) p2p.push(await freePort());
  const genesis = buildGenesis({
    client: chain.client,
    consensus: chain.consensus,
    chainId: chain.chainId,
    blockPeriodSeconds: chain.blockPeriodSeconds,
    validators: chain.nodes.flatMap((n, i) => (n.role === NodeRole.VALIDATOR ? [ids[i].address] : [])),
    freeGas: chain.freeGas,
    evmVersion: chain.evmVersion,
    // The nodes' own addresses when asked, the chain's prefunded accounts (chain.prefundedAccounts), and the local extras.
    alloc: {
      ...(opts.fundNodes !== undefined ? Object.fromEntries(ids.map((id) => [id.address, opts.fundNodes!])) : {}),
      ...Object.fromEntries(chain.prefundedAccounts.map((a) => [a.address, a.balance])),
      ...(opts.alloc ?? {}),
    },
  });
  const staticNodes = ids.map((id, i) => enodeUrl(id.enodeId, '127.0.0.1', { port: p2p[i] }));
  const nodes: LocalGethNode[] = [];
  const logs = () => nodes.map((n) => `--- ${n.id} (${n.role})\n${n.process.log()}`).join('\n');
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(nodes.map((n) => n.process.stop()));
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    })());
  try {
    for (const [i, node] of chain.nodes.entries()) {
      const dir = join(root, node.id);
      const l = gethLayout(dir);
      mkdirSync(join(l.datadir, 'geth'), { recursive: true, mode: 0o700 });
      writeFileSync(l.genesis, JSON.stringify(genesis));
      await run(geth, ['--datadir', l.datadir, 'init', l.genesis]);
      writeFileSync(l.key, keys[i].slice(2), { mode: 0o600 });
      writeFileSync(l.nodeKey, keys[i].slice(2), { mode: 0o600 });
      writeFileSync(l.staticNodes, JSON.stringify(staticNodes));
      writeFileSync(l.config, gethConfigToml(staticNodes));
      if (node.role === NodeRole.VALIDATOR) {
        // Only Clique signers hold an unlocked key (as on AWS: lib/nodes/node-services.ts).
        writeFileSync(l.password, '', { mode: 0o600 });
        await run(geth, ['--datadir', l.datadir, 'account', 'import', '--password', l.password, l.key]);
      }
      const [http, ws, authrpc] = [await freePort(), await freePort(), await freePort()];
      // The production arguments, re-pointed at this node's directory and free loopback ports.
      const args = clientArguments(chain, '127.0.0.1', p2p[i], node.role).map((a) =>
        a
          .split(NODE_DATA_DIR)
          .join(dir)
          .replace(`--http.port=${RpcPorts.HTTP}`, `--http.port=${http}`)
          .replace(`--ws.port=${RpcPorts.WS}`, `--ws.port=${ws}`)
          .split('$SIGNER_ADDRESS')
          .join(ids[i].address)
          .replace(/^--(http|ws)\.api=.*$/, (arg, kind: string) => (opts.apis ? `--${kind}.api=${opts.apis.join(',')}` : arg)),
      );
      const full = [...args, `--authrpc.port=${authrpc}`, '--authrpc.addr=127.0.0.1', '--ipcdisable'];
      const proc = processes.start(`geth ${node.id}`, geth, full, {}, 'SIGINT');
      nodes.push({ id: node.id, member: node.member, role: node.role, address: ids[i].address, rpcUrl: `http://127.0.0.1:${http}`, wsUrl: `ws://127.0.0.1:${ws}`, p2pPort: p2p[i], args: full, process: proc });
    }
    const timeout = opts.startTimeoutMs ?? 90_000;
    const minHeight = opts.minHeight ?? 1;
    for (const n of nodes) {
      await waitUntil(`geth ${n.id} on ${n.rpcUrl}`, async () => typeof (await jsonRpc<string>(n.rpcUrl, 'eth_chainId')) === 'string', timeout, n.process);
    }
    // The chain advances only if the signers found each other through the generated static nodes.
    for (const n of nodes) {
      await waitUntil(`block ${minHeight} on ${n.id}`, async () => parseInt(await jsonRpc<string>(n.rpcUrl, 'eth_blockNumber'), 16) >= minHeight, timeout, n.process);
    }
  } catch (e) {
    // Which node failed is in the message; the others' last lines say whether they peered and sealed.
    const others = nodes.map((n) => `--- ${n.id} (${n.role})\n${tail(n.process.log())}`).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}\nthe nodes' logs end with:\n${others}`);
  }
  return {
    chain,
    genesis,
    nodes,
    node: (id) => {
      const n = nodes.find((x) => x.id === id);
      if (!n) throw new Error(`no node ${id} (nodes: ${nodes.map((x) => x.id).join(', ')})`);
      return n;
    },
    logs,
    stop,
  };
}
