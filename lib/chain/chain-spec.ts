import { ID_PATTERN } from '../contracts/ids';
import { compatibilityOf, SupportLevel } from './compatibility';
import { EVM_VERSIONS, EvmVersion, evmAtLeast, evmCeiling } from './evm-version';
import { BlockchainClient, ConsensusProtocol, isBft } from './protocols';

/** A member (organisation) of an environment. */
export interface ChainMember {
  /** Member id: 2-24 chars of a-z, 0-9 and '-'. */
  readonly id: string;
  /** Display name. @default - the id */
  readonly name?: string;
}

/** A node's role. */
export enum NodeRole {
  /** Takes part in consensus (validator / signer / Raft voter). */
  VALIDATOR = 'validator',
  /** Follows the chain and serves its member's dApps. */
  MEMBER = 'member',
}

/** CPU architecture of a node. */
export enum CpuArchitecture {
  X86_64 = 'x86_64',
  ARM64 = 'arm64',
}

/** One node. */
export interface ChainNode {
  /** Node id, unique in the environment: 2-24 chars of a-z, 0-9 and '-'. */
  readonly id: string;
  /** Id of the member that owns the node. */
  readonly member: string;
  /** Role. */
  readonly role: NodeRole;
  /** EC2 instance type. @default 't4g.medium' (arm64) or 't3.medium' (x86_64) */
  readonly instanceType?: string;
  /** CPU architecture; must match the instance type. @default CpuArchitecture.ARM64 */
  readonly architecture?: CpuArchitecture;
  /**
   * Node group: nodes of one group live in their own nested stack (`Nodes/Group-<group>`), so an
   * environment can grow past CloudFormation's 500-resources-per-stack limit (about 20 nodes
   * per stack). Same id rules as nodes. A node's group is part of its identity: moving an
   * existing node to another group (or into or out of one) replaces its instance and its file
   * system, so choose groups when a node is first deployed.
   * @default - the node lives in the environment's own stack
   */
  readonly group?: string;
}

/** A node with every default applied. */
export interface ResolvedChainNode {
  readonly id: string;
  readonly member: string;
  readonly role: NodeRole;
  readonly instanceType: string;
  readonly architecture: CpuArchitecture;
  /** The node's group, if any (see {@link ChainNode.group}). */
  readonly group?: string;
}

/**
 * An account that holds ether from block 0 (an entry of the genesis `alloc`). Only the address is
 * configured: its key stays with whoever owns the account and never enters a config, a template
 * or a log.
 */
export interface PrefundedAccount {
  /**
   * The account's address: `0x` and 40 hex digits, all lowercase or with a valid EIP-55 checksum
   * (mixed case), e.g. `0xfe3b557e8fb62b89f4916b721be55ceb828dbd73`.
   */
  readonly address: string;
  /**
   * Balance in wei as a string: decimal (`"1000000000000000000000"` is 1000 ether) or `0x` hex.
   * A string, because JSON numbers lose precision above 2^53.
   */
  readonly balance: string;
}

/** The most accounts a genesis takes (the genesis is stored in a secret and passed to CloudFormation). */
export const MAX_PREFUNDED_ACCOUNTS = 100;

/** The chain of one environment. */
export interface ChainSpec {
  /** Client. @default BlockchainClient.BESU */
  readonly client?: BlockchainClient;
  /** Consensus. @default ConsensusProtocol.QBFT */
  readonly consensus?: ConsensusProtocol;
  /** Allow deprecated combinations (they are still warned about). @default false */
  readonly allowDeprecated?: boolean;
  /** Chain id. @default 1337 */
  readonly chainId?: number;
  /** Block period in seconds. @default 2 */
  readonly blockPeriodSeconds?: number;
  /**
   * Free gas, usual for permissioned networks: Besu runs a zero base fee and minimum gas price 0;
   * GoQuorum gas price 0; geth 1.13 a zero base fee with its lowest possible minimum, 1 wei per gas
   * (geth refuses 0), so a 21000-gas transfer costs 21000 wei. See README "Gas and funds".
   * @default true
   */
  readonly freeGas?: boolean;
  /**
   * Hard fork the chain runs from block 0. A fork the client cannot run with the consensus is
   * refused (see README "Clients and consensus"). Fixed at the environment's first deployment.
   * @default - the newest the client runs with the consensus: Cancun (Besu QBFT / IBFT 2.0),
   * London (geth Clique, Besu Clique), Berlin (GoQuorum)
   */
  readonly evmVersion?: EvmVersion;
  /**
   * Accounts funded in the genesis: how dApp developers get ether to pay for transactions (Clique
   * and the BFT protocols pay no block reward). Addresses only, never keys. Part of the genesis,
   * so fixed at the environment's first deployment; fund more accounts from these afterwards.
   * @default - none: nobody holds ether
   */
  readonly prefundedAccounts?: readonly PrefundedAccount[];
  /** Members. @default - one member "default" */
  readonly members?: readonly ChainMember[];
  /** Nodes. @default - 4 validators "validator-1".."validator-4" of the first member */
  readonly nodes?: readonly ChainNode[];
}

/** A chain spec with every default applied. */
export interface ResolvedChainSpec {
  readonly client: BlockchainClient;
  readonly consensus: ConsensusProtocol;
  readonly allowDeprecated: boolean;
  readonly chainId: number;
  readonly blockPeriodSeconds: number;
  readonly freeGas: boolean;
  /** The hard fork from block 0. */
  readonly evmVersion: EvmVersion;
  /** Genesis-funded accounts: checksummed addresses, balances in 0x hex wei. */
  readonly prefundedAccounts: readonly PrefundedAccount[];
  readonly members: readonly ChainMember[];
  readonly nodes: readonly ResolvedChainNode[];
  /** Warnings to surface at synth (archived clients, deprecated combinations). */
  readonly warnings: readonly string[];
}

/** Minimum validators per consensus family: BFT n >= 3f+1 with f >= 1. */
export function minimumValidators(consensus: ConsensusProtocol): number {
  return isBft(consensus) ? 4 : consensus === ConsensusProtocol.RAFT ? 3 : 1;
}

const ID = ID_PATTERN;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/;
/** Graviton families end their generation with "g" (t4g, m7g, c7gn, r8g ...). */
export function isArmInstanceType(instanceType: string): boolean {
  return /^[a-z]+\d+g[a-z]*\./.test(instanceType);
}

/**
 * Applies defaults and validates. Returns problems as `<path>: <what and how to fix>` with paths
 * under `prefix` (e.g. `chain` or `tenants[0].environments[0].chain`); an empty list means valid.
 */
export function resolveChainSpec(spec: ChainSpec, prefix = 'chain'): { resolved?: ResolvedChainSpec; problems: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const client = spec.client ?? BlockchainClient.BESU;
  const consensus = spec.consensus ?? ConsensusProtocol.QBFT;
  const clients = Object.values(BlockchainClient) as string[];
  const protocols = Object.values(ConsensusProtocol) as string[];
  if (!clients.includes(client)) problems.push(`${prefix}.client: "${client}" is not a client; use one of ${clients.join(', ')}`);
  if (!protocols.includes(consensus)) problems.push(`${prefix}.consensus: "${consensus}" is not a consensus; use one of ${protocols.join(', ')}`);
  if (problems.length) return { problems };

  const row = compatibilityOf(client, consensus);
  if (row.level === SupportLevel.UNSUPPORTED) {
    problems.push(`${prefix}.consensus: ${client} cannot run "${consensus}". ${row.reason}`);
  } else if (row.level === SupportLevel.DEPRECATED) {
    if (spec.allowDeprecated) warnings.push(`${client} + ${consensus} is deprecated: ${row.reason}`);
    else problems.push(`${prefix}.consensus: ${client} + "${consensus}" is deprecated and needs an explicit opt-in (set ${prefix}.allowDeprecated to true). ${row.reason}`);
  } else if (row.level === SupportLevel.SUPPORTED_WITH_WARNING) {
    warnings.push(`${client} + ${consensus}: ${row.reason}`);
  }

  const chainId = spec.chainId ?? 1337;
  if (!Number.isInteger(chainId) || chainId < 1 || chainId > 2 ** 32 - 1 || [1, 3, 4, 5, 11155111, 17000].includes(chainId)) {
    problems.push(`${prefix}.chainId: ${chainId} is not allowed; use a whole number from 1 to 4294967295 that is not a public network's id (e.g. 1337 or a random private id)`);
  }
  const blockPeriodSeconds = spec.blockPeriodSeconds ?? 2;
  if (!Number.isInteger(blockPeriodSeconds) || blockPeriodSeconds < 1 || blockPeriodSeconds > 60) {
    problems.push(`${prefix}.blockPeriodSeconds: ${blockPeriodSeconds} is out of range; use a whole number of seconds from 1 to 60`);
  }

  const ceiling = evmCeiling(client, consensus);
  const evmVersion = spec.evmVersion ?? ceiling.newest;
  if (!(EVM_VERSIONS as readonly string[]).includes(evmVersion)) {
    problems.push(`${prefix}.evmVersion: "${evmVersion}" is not a hard fork; use one of ${EVM_VERSIONS.join(', ')} (up to "${ceiling.newest}" on ${client} + ${consensus}), or leave it out for "${ceiling.newest}"`);
  } else if (!evmAtLeast(ceiling.newest, evmVersion)) {
    problems.push(`${prefix}.evmVersion: ${client} + ${consensus} cannot run "${evmVersion}"; the newest it runs is "${ceiling.newest}": ${ceiling.reason}. Set ${prefix}.evmVersion to "${ceiling.newest}" or leave it out`);
  }
  const prefundedAccounts = checkPrefundedAccounts(spec.prefundedAccounts ?? [], `${prefix}.prefundedAccounts`, problems);

  const members = spec.members ?? [{ id: 'default' }];
  if (members.length === 0) problems.push(`${prefix}.members: is empty; list at least one member, e.g. [{ "id": "acme" }]`);
  const memberIds = new Set<string>();
  members.forEach((m, i) => {
    if (!ID.test(m.id)) problems.push(`${prefix}.members[${i}].id: "${m.id}" is not valid; use 2-24 characters of a-z, 0-9 and "-"`);
    else if (memberIds.has(m.id)) problems.push(`${prefix}.members[${i}].id: duplicate member id "${m.id}"; give each member its own id`);
    memberIds.add(m.id);
  });

  const defaultMember = members[0]?.id ?? 'default';
  const nodes: readonly ChainNode[] =
    spec.nodes ?? [1, 2, 3, 4].map((i) => ({ id: `validator-${i}`, member: defaultMember, role: NodeRole.VALIDATOR }));
  const nodeIds = new Set<string>();
  const resolvedNodes: ResolvedChainNode[] = [];
  nodes.forEach((n, i) => {
    const p = `${prefix}.nodes[${i}]`;
    if (!ID.test(n.id)) problems.push(`${p}.id: "${n.id}" is not valid; use 2-24 characters of a-z, 0-9 and "-"`);
    else if (nodeIds.has(n.id)) problems.push(`${p}.id: duplicate node id "${n.id}"; give each node its own id`);
    nodeIds.add(n.id);
    if (!memberIds.has(n.member)) {
      problems.push(`${p}.member: "${n.member}" is not a member of this environment; add it to ${prefix}.members or use one of ${[...memberIds].join(', ')}`);
    }
    if (!(Object.values(NodeRole) as string[]).includes(n.role)) {
      problems.push(`${p}.role: "${n.role}" is not a role; use "validator" or "member"`);
    }
    const architecture = n.architecture ?? (n.instanceType && !isArmInstanceType(n.instanceType) ? CpuArchitecture.X86_64 : CpuArchitecture.ARM64);
    if (!(Object.values(CpuArchitecture) as string[]).includes(architecture)) {
      problems.push(`${p}.architecture: "${architecture}" is not valid; use "arm64" or "x86_64"`);
    }
    const instanceType = n.instanceType ?? (architecture === CpuArchitecture.ARM64 ? 't4g.medium' : 't3.medium');
    if (!INSTANCE_TYPE.test(instanceType)) {
      problems.push(`${p}.instanceType: "${instanceType}" is not an EC2 instance type; write e.g. "t4g.medium"`);
    } else if ((architecture === CpuArchitecture.ARM64) !== isArmInstanceType(instanceType)) {
      problems.push(
        `${p}.instanceType: "${instanceType}" does not match architecture "${architecture}"; use a Graviton type (e.g. "t4g.medium") for arm64 or an x86 type (e.g. "t3.medium") for x86_64`,
      );
    }
    if (n.group !== undefined && !ID.test(n.group)) {
      problems.push(`${p}.group: "${n.group}" is not valid; use 2-24 characters of a-z, 0-9 and "-" (e.g. "group-1"), or leave it out to keep the node in the environment stack`);
    }
    resolvedNodes.push({ id: n.id, member: n.member, role: n.role, instanceType, architecture, ...(n.group !== undefined ? { group: n.group } : {}) });
  });
  const validators = resolvedNodes.filter((n) => n.role === NodeRole.VALIDATOR).length;
  const min = minimumValidators(consensus);
  if (validators < min) {
    const why = isBft(consensus)
      ? `a BFT network needs n >= 3f+1 validators to tolerate f faults, so at least 4`
      : consensus === ConsensusProtocol.RAFT
        ? 'Raft needs at least 3 voters to survive one failure'
        : 'at least one signer is needed';
    problems.push(`${prefix}.nodes: ${validators} validator(s) for ${consensus}; ${why}. Add validators (role "validator") to ${prefix}.nodes`);
  }
  if (problems.length) return { problems };
  return {
    problems,
    resolved: {
      client,
      consensus,
      allowDeprecated: spec.allowDeprecated ?? false,
      chainId,
      blockPeriodSeconds,
      freeGas: spec.freeGas ?? true,
      evmVersion,
      prefundedAccounts,
      members,
      nodes: resolvedNodes,
      warnings,
    },
  };
}

const MAX_WEI = 2n ** 256n - 1n;

/**
 * Validates genesis-funded accounts and returns them normalized (checksummed address, 0x hex
 * balance). A value that could be a key is never repeated in a message.
 */
export function checkPrefundedAccounts(accounts: readonly PrefundedAccount[], path: string, problems: string[]): PrefundedAccount[] {
  const out: PrefundedAccount[] = [];
  if (!Array.isArray(accounts)) {
    problems.push(`${path}: must be a list of { "address": "0x...", "balance": "<wei>" }`);
    return out;
  }
  if (accounts.length > MAX_PREFUNDED_ACCOUNTS) {
    problems.push(`${path}: ${accounts.length} accounts; the genesis takes at most ${MAX_PREFUNDED_ACCOUNTS}. Fund a few accounts here and send ether to the others once the chain runs`);
  }
  const seen = new Map<string, number>();
  accounts.forEach((account, i) => {
    const p = `${path}[${i}]`;
    const address: unknown = account?.address;
    const balance: unknown = account?.balance;
    let checksummed: string | undefined;
    if (typeof address !== 'string') {
      problems.push(`${p}.address: must be a string, e.g. "0xfe3b557e8fb62b89f4916b721be55ceb828dbd73"`);
    } else if (/^(0x)?[0-9a-fA-F]{64}$/.test(address)) {
      problems.push(`${p}.address: this looks like a private key (64 hex digits), not an address; put the account's address here (0x and 40 hex digits) and keep the key out of the config`);
    } else if (!/^0x[0-9a-fA-F]{40}$/.test(address)) {
      const shown = address.length <= 42 ? `"${address}"` : `a ${address.length}-character value`;
      problems.push(`${p}.address: ${shown} is not an address; write 0x followed by 40 hex digits, e.g. "0xfe3b557e8fb62b89f4916b721be55ceb828dbd73"`);
    } else {
      checksummed = eip55Checksum(address);
      if (/[a-f]/.test(address.slice(2)) && /[A-F]/.test(address.slice(2)) && checksummed !== address) {
        checksummed = undefined;
        problems.push(`${p}.address: "${address}" has a wrong EIP-55 checksum (mixed case that does not match, often a typo); copy the address again or write it all lowercase`);
      }
      if (checksummed && /^0x0{40}$/.test(address)) {
        problems.push(`${p}.address: the zero address has no key, so its ether could never be spent; give an address you hold the key of`);
        checksummed = undefined;
      }
      const key = address.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) problems.push(`${p}.address: ${address} is also ${path}[${first}]; list each account once with its total balance`);
      else seen.set(key, i);
    }
    let wei: bigint | undefined;
    if (typeof balance !== 'string') {
      problems.push(`${p}.balance: must be a string of wei, e.g. "1000000000000000000000" (1000 ether); a JSON number loses precision`);
    } else if (!/^(0x[0-9a-fA-F]{1,64}|[0-9]{1,78})$/.test(balance)) {
      problems.push(`${p}.balance: "${balance.slice(0, 80)}" is not a whole number of wei; write decimal digits (e.g. "1000000000000000000000" for 1000 ether) or 0x hex, with no units or decimal point`);
    } else {
      wei = BigInt(balance);
      if (wei === 0n) problems.push(`${p}.balance: is 0; give the account a balance in wei, e.g. "1000000000000000000000" (1000 ether), or remove the entry`);
      else if (wei > MAX_WEI) problems.push(`${p}.balance: is larger than 2^256-1 wei; give a smaller balance`);
    }
    if (checksummed && wei !== undefined && wei > 0n && wei <= MAX_WEI) out.push({ address: checksummed, balance: '0x' + wei.toString(16) });
  });
  return out;
}

/**
 * The EIP-55 mixed-case form of an address (0x + 40 hex digits). keccak-256 comes from
 * @noble/hashes, loaded only here, so importing the library loads no hashing code.
 */
export function eip55Checksum(address: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { keccak_256 } = require('@noble/hashes/sha3') as typeof import('@noble/hashes/sha3');
  const hex = address.slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(hex));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 ? hex[i].toUpperCase() : hex[i];
  }
  return out;
}
