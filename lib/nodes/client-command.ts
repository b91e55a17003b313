import { ResolvedChainSpec } from '../chain/chain-spec';
import { BlockchainClient, ConsensusProtocol } from '../chain/protocols';

/** Where a node keeps its files inside the container (the EFS access point is mounted there). */
export const NODE_DATA_DIR = '/data';

/** Local JSON-RPC ports (bound to 127.0.0.1 only; the auth gate is the only way in). */
export const RpcPorts = { HTTP: 8545, WS: 8546 } as const;

/**
 * The client's command-line arguments (pure, unit-tested): JSON-RPC HTTP and WS on 127.0.0.1
 * only, p2p on the node's stable address, admin/debug APIs not enabled over RPC.
 */
export function clientArguments(chain: ResolvedChainSpec, peerIp: string, p2pPort: number): string[] {
  const d = NODE_DATA_DIR;
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
      ...(chain.freeGas ? ['--min-gas-price=0'] : []),
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
      ...(chain.consensus === ConsensusProtocol.RAFT ? ['--raft', '--raftport=50400', `--raftblocktime=${chain.blockPeriodSeconds * 1000}`] : ['--mine', '--miner.threads=1']),
      ...(chain.consensus === ConsensusProtocol.CLIQUE ? cliqueSigner : []),
    ];
  }
  // geth 1.13 ignores static-nodes.json: its peers come from config.toml (see gethConfigToml).
  // It also enforces a minimum gas price, so "free gas" there means legacy pricing at its floor.
  return [...common, `--config=${gethLayout(d).config}`, '--http.api=eth,net,web3', '--ws.api=eth,net,web3', '--mine', ...cliqueSigner];
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
