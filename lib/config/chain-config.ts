import { ChainMember, ChainNode, ChainSpec, CpuArchitecture, NodeRole, PrefundedAccount, resolveChainSpec } from '../chain/chain-spec';
import { EVM_VERSIONS } from '../chain/evm-version';
import { BlockchainClient, ConsensusProtocol } from '../chain/protocols';
import { FieldReader, join } from './field-reader';

const CHAIN_FIELDS = ['client', 'consensus', 'allowDeprecated', 'chainId', 'blockPeriodSeconds', 'freeGas', 'evmVersion', 'prefundedAccounts', 'members', 'nodes'];

/**
 * Reads an environment's `chain` section (see README "Config reference") and validates it with
 * the same rules as the constructs (compatibility matrix, BFT size, ids, members). Problems are
 * recorded on `r` with full paths.
 */
export function readChainConfig(r: FieldReader, path: string, value: unknown): ChainSpec | undefined {
  const obj = r.object(path, value, CHAIN_FIELDS);
  if (!obj) return undefined;
  const before = r.problems.length;
  const spec: { -readonly [K in keyof ChainSpec]: ChainSpec[K] } = {};
  if (obj.client !== undefined) spec.client = r.oneOf(join(path, 'client'), obj.client, Object.values(BlockchainClient));
  if (obj.consensus !== undefined) spec.consensus = r.oneOf(join(path, 'consensus'), obj.consensus, Object.values(ConsensusProtocol));
  if (obj.allowDeprecated !== undefined) spec.allowDeprecated = r.boolean(join(path, 'allowDeprecated'), obj.allowDeprecated);
  if (obj.chainId !== undefined) spec.chainId = r.integer(join(path, 'chainId'), obj.chainId, { min: 1, max: 4294967295 });
  if (obj.blockPeriodSeconds !== undefined) spec.blockPeriodSeconds = r.integer(join(path, 'blockPeriodSeconds'), obj.blockPeriodSeconds, { min: 1, max: 60 });
  if (obj.freeGas !== undefined) spec.freeGas = r.boolean(join(path, 'freeGas'), obj.freeGas);
  if (obj.evmVersion !== undefined) spec.evmVersion = r.oneOf(join(path, 'evmVersion'), obj.evmVersion, EVM_VERSIONS);
  if (obj.prefundedAccounts !== undefined) {
    // Shapes here; addresses and balances are checked by resolveChainSpec (the constructs' rules).
    const accounts: PrefundedAccount[] = [];
    r.array(join(path, 'prefundedAccounts'), obj.prefundedAccounts)?.forEach((a, i) => {
      const o = r.object(join(join(path, 'prefundedAccounts'), i), a, ['address', 'balance']);
      if (o) accounts.push({ address: o.address as string, balance: o.balance as string });
    });
    spec.prefundedAccounts = accounts;
  }
  if (obj.members !== undefined) {
    const members: ChainMember[] = [];
    r.array(join(path, 'members'), obj.members, { min: 1 })?.forEach((m, i) => {
      const p = join(join(path, 'members'), i);
      const o = r.object(p, m, ['id', 'name']);
      if (!o) return;
      const id = r.string(join(p, 'id'), o.id);
      const name = o.name === undefined ? undefined : r.string(join(p, 'name'), o.name);
      if (id !== undefined) members.push({ id, ...(name !== undefined ? { name } : {}) });
    });
    spec.members = members;
  }
  if (obj.nodes !== undefined) {
    const nodes: ChainNode[] = [];
    r.array(join(path, 'nodes'), obj.nodes, { min: 1, max: 128 })?.forEach((n, i) => {
      const p = join(join(path, 'nodes'), i);
      const o = r.object(p, n, ['id', 'member', 'role', 'instanceType', 'architecture', 'group']);
      if (!o) return;
      const id = r.string(join(p, 'id'), o.id);
      const member = r.string(join(p, 'member'), o.member);
      const role = r.oneOf(join(p, 'role'), o.role, Object.values(NodeRole));
      const instanceType = o.instanceType === undefined ? undefined : r.string(join(p, 'instanceType'), o.instanceType);
      const architecture = o.architecture === undefined ? undefined : r.oneOf(join(p, 'architecture'), o.architecture, Object.values(CpuArchitecture));
      const group = o.group === undefined ? undefined : r.string(join(p, 'group'), o.group);
      if (id === undefined || member === undefined || role === undefined) return;
      nodes.push({ id, member, role, ...(instanceType ? { instanceType } : {}), ...(architecture ? { architecture } : {}), ...(group !== undefined ? { group } : {}) });
    });
    spec.nodes = nodes;
  }
  if (r.problems.length > before) return undefined;
  const { problems } = resolveChainSpec(spec, path);
  problems.forEach((p) => {
    const at = p.indexOf(': ');
    r.fail(p.slice(0, at), p.slice(at + 2));
  });
  return problems.length ? undefined : spec;
}
