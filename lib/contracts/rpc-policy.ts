/**
 * JSON-RPC method policy of the node gate (pure; the gate and the docs import it). An explicit
 * list of method names, not prefixes: the standard Ethereum execution API a dApp needs to read the
 * chain, send signed transactions, and follow it with filters and subscriptions. Everything else
 * is refused, in particular every method that uses or reveals node-held keys or node state
 * (eth_accounts, eth_coinbase, eth_etherbase, eth_sign*, eth_sendTransaction, eth_resend,
 * eth_pendingTransactions, eth_fillTransaction, eth_mining, eth_hashrate, net_peerCount,
 * personal_*, admin_*, miner_*, debug_*, txpool_*, clique_*, consensus and privacy APIs, rpc_modules).
 */

/** The methods every client gets (the Ethereum execution API's read/write/filter/subscribe set). */
export const STANDARD_METHODS: readonly string[] = [
  'web3_clientVersion',
  'web3_sha3',
  'net_version',
  'net_listening',
  'eth_chainId',
  'eth_syncing',
  'eth_blockNumber',
  'eth_gasPrice',
  'eth_maxPriorityFeePerGas',
  'eth_feeHistory',
  'eth_getBalance',
  'eth_getStorageAt',
  'eth_getTransactionCount',
  'eth_getCode',
  'eth_getProof',
  'eth_call',
  'eth_estimateGas',
  'eth_createAccessList',
  'eth_sendRawTransaction',
  'eth_getBlockByHash',
  'eth_getBlockByNumber',
  'eth_getBlockReceipts',
  'eth_getBlockTransactionCountByHash',
  'eth_getBlockTransactionCountByNumber',
  'eth_getUncleCountByBlockHash',
  'eth_getUncleCountByBlockNumber',
  'eth_getUncleByBlockHashAndIndex',
  'eth_getUncleByBlockNumberAndIndex',
  'eth_getTransactionByHash',
  'eth_getTransactionByBlockHashAndIndex',
  'eth_getTransactionByBlockNumberAndIndex',
  'eth_getTransactionReceipt',
  'eth_getLogs',
  'eth_newFilter',
  'eth_newBlockFilter',
  'eth_newPendingTransactionFilter',
  'eth_getFilterChanges',
  'eth_getFilterLogs',
  'eth_uninstallFilter',
  'eth_subscribe',
  'eth_unsubscribe',
];

/**
 * Standard methods a client does not implement (the gate refuses them with a clear message
 * instead of passing a call the client would reject anyway). GoQuorum 24.4.1 sits on a
 * go-ethereum base older than eth_getBlockReceipts (added in geth 1.13).
 */
export const MISSING_METHODS: Readonly<Record<string, readonly string[]>> = {
  goquorum: ['eth_getBlockReceipts'],
};

/**
 * Methods that can never be allowed, not even by configuration: they sign with or reveal the
 * node's keys, or reveal or change node state. Checked by name and by namespace.
 */
export const NEVER_ALLOWED_METHODS: readonly string[] = [
  'eth_accounts',
  'eth_coinbase',
  'eth_etherbase',
  'eth_sign',
  'eth_signTransaction',
  'eth_signTypedData',
  'eth_signTypedData_v4',
  'eth_sendTransaction',
  'eth_sendTransactionAsync',
  'eth_resend',
  'eth_pendingTransactions',
  'eth_fillTransaction',
  'eth_mining',
  'eth_hashrate',
  'eth_getWork',
  'eth_submitWork',
  'eth_submitHashrate',
  'net_peerCount',
  'rpc_modules',
];
/** Namespaces refused as a whole (administration, debugging, node keys, mining, pool, consensus, privacy). */
export const NEVER_ALLOWED_NAMESPACES: readonly string[] = [
  'admin', 'debug', 'personal', 'miner', 'txpool', 'clique', 'istanbul', 'qbft', 'ibft', 'raft', 'perm', 'plugins', 'engine',
  'les', 'priv', 'eea', 'quorumExtension', 'quorumPermission', 'trace', 'dev', 'evm', 'ganache', 'rpc',
];

export interface RpcPolicyOptions {
  /**
   * The node's client ('besu', 'goquorum', 'geth'): its list of methods. An unknown or missing
   * client gets the standard list. @default the standard list
   */
  readonly client?: string;
  /**
   * Extra allowed method names (exact names; a name that is never allowed stays refused).
   * @default none
   */
  readonly extraAllowedMethods?: readonly string[];
  /** Longest batch. @default 100 */
  readonly maxBatch?: number;
}

/** What an extra allowed method name must look like. */
export const METHOD_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9]*_[a-zA-Z0-9_]+$/;

/** True when no configuration may allow the method. */
export function isNeverAllowed(method: string): boolean {
  if (NEVER_ALLOWED_METHODS.includes(method)) return true;
  const ns = method.slice(0, method.indexOf('_'));
  // Namespaces are matched case-insensitively: some servers route `Admin_x` like `admin_x`.
  const lower = ns.toLowerCase();
  return NEVER_ALLOWED_NAMESPACES.some((n) => n.toLowerCase() === lower);
}

/** The method names the gate passes for a client (sorted). Throws on an extra name that is never allowed. */
export function allowedMethods(options: RpcPolicyOptions = {}): string[] {
  const missing = MISSING_METHODS[options.client ?? ''] ?? [];
  const extra = options.extraAllowedMethods ?? [];
  for (const m of extra) {
    if (!METHOD_NAME_PATTERN.test(m)) {
      throw new Error(`extraAllowedMethods: '${m}' is not a JSON-RPC method name; give exact names such as eth_getHeaderByNumber`);
    }
    if (isNeverAllowed(m)) {
      throw new Error(`extraAllowedMethods: ${m} uses or reveals node keys or node state and can never be allowed; remove it`);
    }
  }
  return [...new Set([...STANDARD_METHODS.filter((m) => !missing.includes(m)), ...extra])].sort();
}

/** A compiled policy: `refusal(method)` is the reason a call is refused, or undefined when it may pass. */
export class RpcPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(options: RpcPolicyOptions = {}) {
    this.allowed = new Set(allowedMethods(options));
  }

  refusal(method: unknown): string | undefined {
    if (typeof method !== 'string') return 'invalid request: method must be a string';
    if (this.allowed.has(method)) return undefined;
    if (method.length > 64 || !/^[\x21-\x7e]+$/.test(method)) return 'method not allowed';
    return `method ${method} is not allowed`;
  }
}

/** Why a call was refused, or undefined when it is allowed (builds the policy: prefer {@link RpcPolicy} on hot paths). */
export function refusal(method: unknown, options: RpcPolicyOptions = {}): string | undefined {
  return new RpcPolicy(options).refusal(method);
}
