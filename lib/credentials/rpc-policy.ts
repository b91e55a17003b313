/**
 * JSON-RPC method policy of the node gate (pure). Default: only the read/write APIs a dApp needs
 * (eth_, net_, web3_); everything that administers, debugs, signs with node keys or mines is
 * refused (admin_, debug_, personal_, miner_, txpool_, clique_, istanbul_, qbft_, ibft_, raft_,
 * perm_, plugins_, ...), whatever is configured.
 */
export const DEFAULT_ALLOWED_PREFIXES: readonly string[] = ['eth_', 'net_', 'web3_'];
export const ALWAYS_REFUSED_PREFIXES: readonly string[] = [
  'admin_', 'debug_', 'personal_', 'miner_', 'txpool_', 'clique_', 'istanbul_', 'qbft_', 'ibft_', 'raft_', 'perm_', 'plugins_', 'engine_', 'les_',
];
/** eth_ methods that use node-held keys or the node's filesystem are refused too. */
export const REFUSED_METHODS: readonly string[] = ['eth_sign', 'eth_signTransaction', 'eth_sendTransaction', 'eth_accounts', 'eth_coinbase'];

export interface RpcPolicyOptions {
  /** Extra allowed method prefixes (never overrides the always-refused list). @default none */
  readonly extraAllowedPrefixes?: readonly string[];
  /** Longest batch. @default 100 */
  readonly maxBatch?: number;
}

/** Why a call was refused, or undefined when it is allowed. */
export function refusal(method: unknown, options: RpcPolicyOptions = {}): string | undefined {
  if (typeof method !== 'string' || !/^[a-zA-Z0-9_]{1,64}$/.test(method)) return 'invalid method';
  if (ALWAYS_REFUSED_PREFIXES.some((p) => method.startsWith(p)) || REFUSED_METHODS.includes(method)) return `method ${method} is not allowed`;
  const allowed = [...DEFAULT_ALLOWED_PREFIXES, ...(options.extraAllowedPrefixes ?? [])];
  return allowed.some((p) => method.startsWith(p)) ? undefined : `method ${method} is not allowed`;
}
