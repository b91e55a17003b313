import { NodeRole, ResolvedChainSpec } from '../chain/chain-spec';
import { DEFAULT_GAS_LIMIT } from '../chain/protocols';
import { BlockchainClient, ConsensusProtocol } from '../chain/protocols';

/** Where a node keeps its files inside the container (the EFS access point is mounted there). */
export const NODE_DATA_DIR = '/data';

/** Local JSON-RPC ports (bound to 127.0.0.1 only; the auth gate is the only way in). */
export const RpcPorts = { HTTP: 8545, WS: 8546 } as const;

/**
 * The client's command-line arguments (pure, unit-tested): JSON-RPC HTTP and WS on 127.0.0.1
 * only, p2p on the node's stable address, admin/debug APIs not enabled over RPC. Only validators
 * seal: a member node never mines and never unlocks a key.
 */
export function clientArguments(chain: ResolvedChainSpec, peerIp: string, p2pPort: number, role: NodeRole): string[] {
  const d = NODE_DATA_DIR;
  const validator = role === NodeRole.VALIDATOR;
  if (chain.client === BlockchainClient.BESU) {
    return [
      `--data-path=${d}/besu`,
      `--genesis-file=${d}/genesis.json`,
      `--node-private-key-file=${d}/key`,
      `--static-nodes-file=${d}/static-nodes.json`,
      '--discovery-enabled=false',
      `--p2p-host=${peerIp}`,
      '--p2p-interface=0.0.0.0',
      `--p2p-port=${p2pPort}`,
      '--rpc-http-enabled',
      '--rpc-http-host=127.0.0.1',
      `--rpc-http-port=${RpcPorts.HTTP}`,
      `--rpc-http-api=ETH,NET,WEB3,${chain.consensus === ConsensusProtocol.QBFT ? 'QBFT' : 'IBFT'}`,
      '--rpc-ws-enabled',
      '--rpc-ws-host=127.0.0.1',
      `--rpc-ws-port=${RpcPorts.WS}`,
      '--rpc-ws-api=ETH,NET,WEB3',
      '--host-allowlist=localhost,127.0.0.1',
      // Free gas on every node: block building (min-gas-price) and the pool, for transactions from
      // peers too (tx-pool-min-gas-price; Besu would force it down to 0 with a warning anyway).
      ...(chain.freeGas ? ['--min-gas-price=0', '--tx-pool-min-gas-price=0'] : []),
      '--sync-mode=FULL',
    ];
  }
  // GoQuorum and geth share geth's flags.
  const common = [
    `--datadir=${gethLayout(d).datadir}`,
    `--networkid=${chain.chainId}`,
    '--nodiscover',
    `--port=${p2pPort}`,
    `--nat=extip:${peerIp}`,
    '--http',
    '--http.addr=127.0.0.1',
    `--http.port=${RpcPorts.HTTP}`,
    '--http.vhosts=localhost,127.0.0.1',
    '--ws',
    '--ws.addr=127.0.0.1',
    `--ws.port=${RpcPorts.WS}`,
    '--syncmode=full',
  ];
  if (chain.client === BlockchainClient.GOQUORUM) {
    const api = chain.consensus === ConsensusProtocol.RAFT ? 'eth,net,web3,raft' : chain.consensus === ConsensusProtocol.CLIQUE ? 'eth,net,web3,clique' : 'eth,net,web3,istanbul';
    return [
      ...common,
      ...(chain.freeGas ? ['--miner.gasprice=0', '--txpool.pricelimit=0'] : []),
      `--http.api=${api}`,
      '--ws.api=eth,net,web3',
      ...(chain.consensus === ConsensusProtocol.RAFT
        ? ['--raft', '--raftport=50400', `--raftblocktime=${chain.blockPeriodSeconds * 1000}`]
        : validator
          ? ['--mine', '--miner.threads=1']
          : []),
      ...(chain.consensus === ConsensusProtocol.CLIQUE && validator ? cliqueSigner : []),
    ];
  }
  // geth 1.13 ignores static-nodes.json: its peers come from config.toml (see gethConfigToml).
  return [
    ...common,
    `--config=${gethLayout(d).config}`,
    '--http.api=eth,net,web3',
    '--ws.api=eth,net,web3',
    ...gethGasArguments(chain),
    // Signers keep the genesis gas limit (geth's miner would otherwise walk it down to 30M).
    ...(validator ? ['--mine', `--miner.gaslimit=${BigInt(DEFAULT_GAS_LIMIT).toString()}`, ...cliqueSigner] : []),
  ];
}

/**
 * geth 1.13's gas rules, the same on every node so that a transaction one node accepts is one
 * the signers mine:
 * - `--txpool.nolocals`: a transaction sent to a node's own RPC gets no exemption from the price
 *   rules. Without it, a node accepts a "local" transaction below the signers' minimum, gossips
 *   it, and the signers drop it as underpriced: sent to a member node, it is accepted and never
 *   mined.
 * - Free gas: geth cannot run at price 0 (it raises `--miner.gasprice` 0 to 1 gwei and
 *   `--txpool.pricelimit` 0 to 1 wei), so the floor is 1 wei per gas on a zero base fee (the
 *   genesis sets `baseFeePerGas` 0). `--gpo.maxprice=1` makes every node suggest exactly that
 *   (eth_gasPrice and eth_maxPriorityFeePerGas answer 1 wei), which the libraries' default fee
 *   logic then pays.
 */
function gethGasArguments(chain: ResolvedChainSpec): string[] {
  return ['--txpool.nolocals', ...(chain.freeGas ? ['--miner.gasprice=1', '--txpool.pricelimit=1', '--gpo.maxprice=1'] : [])];
}

/**
 * Clique seals with a keystore account: the node key is imported into the keystore at boot
 * (empty password file, keystore on the node's own encrypted storage) and unlocked for sealing.
 * `$SIGNER_ADDRESS` is substituted by the node's start script. `--allow-insecure-unlock` is
 * required by geth whenever HTTP is on, even bound to 127.0.0.1 behind the gate, which refuses
 * personal_* and admin_* methods.
 */
const cliqueSigner = [
  '--unlock=$SIGNER_ADDRESS',
  `--password=${gethLayout(NODE_DATA_DIR).password}`,
  '--allow-insecure-unlock',
  '--miner.etherbase=$SIGNER_ADDRESS',
];

/**
 * Where geth and GoQuorum keep their files under a node data directory (geth reads the node key
 * and static nodes from its instance directory `<datadir>/geth/`). Shared by the node boot script
 * and the tests that run a real geth.
 */
export function gethLayout(dataDir: string) {
  const datadir = `${dataDir}/chain`;
  return {
    datadir,
    nodeKey: `${datadir}/geth/nodekey`,
    staticNodes: `${datadir}/geth/static-nodes.json`,
    config: `${dataDir}/config.toml`,
    keystore: `${datadir}/keystore`,
    genesis: `${dataDir}/genesis.json`,
    key: `${dataDir}/key`,
    password: `${dataDir}/password`,
  };
}

/** geth's config.toml with the static peers (geth 1.13 ignores static-nodes.json). */
export function gethConfigToml(staticNodes: readonly string[]): string {
  return `[Node.P2P]\nStaticNodes = ${JSON.stringify(staticNodes)}\n`;
}
