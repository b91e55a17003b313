/**
 * Pure rules of the lifecycle routes: validating a request body as a tenants.json environment
 * (the default app's own parser), JSON Merge Patch (RFC 7396), the change guard rails and the
 * quotas. No AWS calls: unit tests hit these directly.
 */
import { ChainNode, ChainSpec, NodeRole, resolveChainSpec, ResolvedChainSpec } from '../../../lib/chain/chain-spec';
import { cidrsOverlap, parseIpv4Cidr } from '../../../lib/config/cidr';
import { TenantConfigError } from '../../../lib/config/config-error';
import { EnvironmentConfig, parseTenantsConfig } from '../../../lib/config/tenant-config';
import { ControlPlaneQuotas } from '../../../lib/contracts/control-plane';

/** One problem of a request body: the field path (from `body`) and what is wrong and how to fix it. */
export interface BodyProblem {
  readonly field: string;
  readonly message: string;
}

/** What the parser calls the environment when it is wrapped as a one-tenant config. */
const WRAPPED = 'tenants[0].environments[0]';

/** Rewrites a parser path (or a message quoting one) to point into the request body. */
function toBodyPath(text: string, bodyPath: string): string {
  return text.split(WRAPPED).join(bodyPath);
}

/**
 * Validates `raw` (a request body) as environment `environmentId` of tenant `tenantId`, with
 * exactly the rules of tenants.json (parseTenantsConfig): the environment is wrapped as a
 * one-tenant config and every problem's path is rewritten to start at `bodyPath` (e.g.
 * `body.chain.nodes[2].instanceType`). `id` may be left out; when given it must equal the
 * environment id of the path. The CIDR must not overlap the tenant's other environments
 * (`others`), as parseTenantsConfig requires across one config's environments.
 */
export function validateEnvironmentBody(
  tenantId: string,
  environmentId: string,
  raw: unknown,
  others: readonly { readonly environmentId: string; readonly cidr: string }[],
  bodyPath = 'body',
): { config: EnvironmentConfig } | { problems: BodyProblem[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { problems: [{ field: bodyPath, message: 'must be a JSON object: an environment of tenants.json, e.g. {"cidr":"10.20.0.0/16"}' }] };
  }
  const body = raw as Record<string, unknown>;
  if (body.id !== undefined && body.id !== environmentId) {
    return { problems: [{ field: `${bodyPath}.id`, message: `is ${JSON.stringify(body.id)} but the path names environment "${environmentId}"; leave id out or set it to "${environmentId}"` }] };
  }
  const candidate = { ...body, id: environmentId };
  // Checked even when the parser finds other problems, so one answer lists every problem.
  const overlaps: BodyProblem[] = [];
  const mine = typeof body.cidr === 'string' ? parseIpv4Cidr(body.cidr) : 'not a string';
  if (typeof mine !== 'string' && mine.prefix >= 16 && mine.prefix <= 24) {
    for (const other of others) {
      if (other.environmentId === environmentId) continue;
      const theirs = parseIpv4Cidr(other.cidr);
      if (typeof theirs !== 'string' && cidrsOverlap(mine, theirs)) {
        overlaps.push({
          field: `${bodyPath}.cidr`,
          message: `"${String(body.cidr)}" overlaps environment ${tenantId}/${other.environmentId}'s cidr "${other.cidr}"; give every environment its own non-overlapping block, e.g. the next free /16`,
        });
      }
    }
  }
  try {
    const config = parseTenantsConfig({ tenants: [{ id: tenantId, environments: [candidate] }] }, 'request body').tenants[0].environments[0];
    return overlaps.length ? { problems: overlaps } : { config };
  } catch (e) {
    if (!(e instanceof TenantConfigError)) throw e;
    return {
      problems: [
        ...e.problems.map((p) => {
          const at = p.indexOf(': ');
          const path = p.slice(0, at);
          return { field: path.startsWith(WRAPPED) ? bodyPath + path.slice(WRAPPED.length) : bodyPath, message: toBodyPath(p.slice(at + 2), bodyPath) };
        }),
        ...overlaps,
      ],
    };
  }
}

/** JSON Merge Patch (RFC 7396): objects merge, `null` removes a member, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * The chain's nodes as stored, with the default nodes written out when the config has none
 * (so that a node can be added to or removed from a default chain).
 */
export function explicitNodes(chain: ChainSpec | undefined): ChainNode[] {
  if (chain?.nodes) return [...chain.nodes];
  const resolved = resolveChainSpec(chain ?? {}).resolved;
  return (resolved?.nodes ?? []).map((n) => ({ id: n.id, member: n.member, role: n.role }));
}

function resolved(config: EnvironmentConfig): ResolvedChainSpec {
  const r = resolveChainSpec(config.chain ?? {});
  if (!r.resolved) throw new Error('a validated config has a resolvable chain'); // validated before
  return r.resolved;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Why changing `before` into `after` is refused, one reason per change (empty: allowed). Refused:
 * what would fork the chain (client, consensus, chain id, genesis contents, the validator set:
 * change validators with the consensus protocol's voting API, not the config), replace a node's
 * file system (its group), replace the network (cidr, zones) or move the environment (account,
 * region), or let a plain DELETE destroy data (removalPolicy to `destroy`). Allowed: adding and
 * removing member (non-validator) nodes, instance types and architectures, members, ingress,
 * credential lifetimes, flow-log retention, ECR endpoints.
 */
export function refusedChanges(before: EnvironmentConfig, after: EnvironmentConfig): string[] {
  const reasons: string[] = [];
  const a = resolved(before);
  const b = resolved(after);
  const fork = (field: string, was: unknown, now: unknown, what: string) => {
    if (!same(was, now)) reasons.push(`chain.${field}: changing ${JSON.stringify(was)} to ${JSON.stringify(now)} ${what}; create a new environment for a new chain`);
  };
  fork('client', a.client, b.client, 'would start the nodes on another client: the nodes\' data is not portable between clients');
  fork('consensus', a.consensus, b.consensus, 'would fork the chain (the consensus is fixed in its genesis)');
  fork('chainId', a.chainId, b.chainId, 'would fork the chain (the chain id is fixed in its genesis)');
  fork('evmVersion', a.evmVersion, b.evmVersion, 'would fork the chain (the hard fork is fixed in its genesis)');
  fork('blockPeriodSeconds', a.blockPeriodSeconds, b.blockPeriodSeconds, 'would fork the chain (the block period is in its genesis)');
  fork('freeGas', a.freeGas, b.freeGas, 'would fork the chain (the base fee is in its genesis)');
  fork('prefundedAccounts', a.prefundedAccounts, b.prefundedAccounts, 'would fork the chain (the funded accounts are its genesis allocation); fund accounts with transactions instead');
  const validators = (s: ResolvedChainSpec) => s.nodes.filter((n) => n.role === NodeRole.VALIDATOR).map((n) => n.id).sort();
  const va = validators(a);
  const vb = validators(b);
  if (!same(va, vb)) {
    const added = vb.filter((v) => !va.includes(v));
    const removed = va.filter((v) => !vb.includes(v));
    reasons.push(
      `chain.nodes: the validator set would change (${[...added.map((v) => `+${v}`), ...removed.map((v) => `-${v}`)].join(', ')}); the validators are in the chain's genesis and change only by the consensus protocol's vote (e.g. qbft_proposeValidatorVote, clique_propose), so add or remove member nodes here and vote validators in or out on the chain`,
    );
  }
  for (const n of b.nodes) {
    const old = a.nodes.find((x) => x.id === n.id);
    if (old && old.group !== n.group) {
      reasons.push(`chain.nodes: moving node "${n.id}" from ${old.group === undefined ? 'the environment stack' : `group "${old.group}"`} to ${n.group === undefined ? 'the environment stack' : `group "${n.group}"`} would replace its file system (a node's group is part of its identity); keep its group`);
    }
  }
  const move = (field: 'cidr' | 'account' | 'region', what: string) => {
    if (!same(before[field], after[field])) reasons.push(`${field}: changing ${JSON.stringify(before[field] ?? null)} to ${JSON.stringify(after[field] ?? null)} ${what}`);
  };
  move('cidr', "would replace the environment's VPC and with it every node's instance, address and mount targets; create a new environment instead");
  move('account', 'would deploy a new environment in another account and orphan this one; create a new environment instead');
  move('region', 'would deploy a new environment in another region and orphan this one; create a new environment instead');
  if (!same(before.availabilityZones ?? null, after.availabilityZones ?? null)) {
    reasons.push("availabilityZones: changing the zones would replace the environment's subnets and with them every node's instance, address and mount targets; create a new environment instead");
  }
  if ((before.removalPolicy ?? 'retain') === 'retain' && after.removalPolicy === 'destroy') {
    reasons.push('removalPolicy: changing "retain" to "destroy" would let a plain DELETE destroy the environment\'s data; to destroy it, delete the environment with ?purge=true&confirm=<environment id>');
  }
  return reasons;
}

/** A quota refusal: the limit's name and value, and the message. */
export interface QuotaRefusal {
  readonly limit: string;
  readonly field?: string;
  readonly message: string;
}

/**
 * The quota refusals of a new config (`before`: the stored one, none for a create). Instance types
 * are checked for nodes that are new or change type, so that narrowing the list later does not
 * lock existing environments out of every change.
 */
export function quotaRefusals(before: EnvironmentConfig | undefined, after: EnvironmentConfig, quotas: ControlPlaneQuotas, bodyPath = 'body'): QuotaRefusal[] {
  const out: QuotaRefusal[] = [];
  const b = resolved(after);
  if (b.nodes.length > quotas.maxNodesPerEnvironment) {
    out.push({ limit: 'maxNodesPerEnvironment', field: `${bodyPath}.chain.nodes`, message: `the environment would have ${b.nodes.length} nodes; the quota maxNodesPerEnvironment is ${quotas.maxNodesPerEnvironment}: remove nodes or ask the operator to raise the quota` });
  }
  const allowed = quotas.allowedInstanceTypes;
  if (allowed) {
    const a = before ? resolved(before) : undefined;
    b.nodes.forEach((n, i) => {
      const old = a?.nodes.find((x) => x.id === n.id);
      if (old?.instanceType === n.instanceType || allowed.includes(n.instanceType)) return;
      out.push({
        limit: 'allowedInstanceTypes',
        field: after.chain?.nodes ? `${bodyPath}.chain.nodes[${i}].instanceType` : `${bodyPath}.chain.nodes`,
        message: `node "${n.id}" would run on ${n.instanceType}; the quota allowedInstanceTypes is ${allowed.join(', ')}: pick one of those`,
      });
    });
  }
  return out;
}
