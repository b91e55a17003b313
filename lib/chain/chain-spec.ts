import { compatibilityOf, SupportLevel } from './compatibility';
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
  /** Free gas (zero base fee / gas price 0), usual for permissioned networks. @default true */
  readonly freeGas?: boolean;
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
  readonly members: readonly ChainMember[];
  readonly nodes: readonly ResolvedChainNode[];
  /** Warnings to surface at synth (archived clients, deprecated combinations). */
  readonly warnings: readonly string[];
}

/** Minimum validators per consensus family: BFT n >= 3f+1 with f >= 1. */
export function minimumValidators(consensus: ConsensusProtocol): number {
  return isBft(consensus) ? 4 : consensus === ConsensusProtocol.RAFT ? 3 : 1;
}

const ID = /^[a-z][a-z0-9-]{0,22}[a-z0-9]$/;
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
      members,
      nodes: resolvedNodes,
      warnings,
    },
  };
}
