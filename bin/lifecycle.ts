/**
 * The CLI's control-plane logic that needs no network (pure; unit-tested directly): reading and
 * validating config files with the default app's own parser (the same field-path errors the API
 * answers with), JSON Merge Patch (RFC 7396) both ways, the `config import` plan, and the texts of
 * deployments, their transitions and the deployment history. bin/lifecycle-commands.ts runs the
 * commands against the API.
 */
import { readFileSync } from 'node:fs';
import { resolveChainSpec } from '../lib/chain/chain-spec';
import { TenantConfigError } from '../lib/config/config-error';
import { parseTenantsConfig } from '../lib/config/tenant-config';
import { Deployment, DeploymentHistoryEntry, DeploymentStatus, TERMINAL_DEPLOYMENT_STATUSES } from '../lib/contracts/control-plane';

/** A JSON object as read from a file or an answer. */
export type JsonObject = { [key: string]: unknown };

/** The API's deployment record and its parts (lib/contracts/control-plane.ts). */
export type { Deployment, DeploymentStatus, DeploymentHistoryEntry as DeploymentTransition };

/** Terminal statuses: a deployment in one of them changes no more. */
export const TERMINAL: readonly DeploymentStatus[] = TERMINAL_DEPLOYMENT_STATUSES;

/**
 * A problem with a local input (a file, its content, an option value): nothing was sent. The
 * message names the file, the field and the fix; `problems` lists field problems one per entry.
 */
export class LocalInputError extends Error {
  constructor(
    message: string,
    public readonly problems: readonly string[] = [],
  ) {
    super(problems.length ? `${message}:\n${problems.map((p) => `  - ${p}`).join('\n')}` : message);
    this.name = 'LocalInputError';
  }
}

/** Reads a JSON file given by `flag` (e.g. `--file`); a missing file or bad JSON names the file and the fix. */
export function readJsonFile(file: string, flag: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): unknown {
  let text: string;
  try {
    text = read(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new LocalInputError(`${flag} ${file}: cannot read it (${code}); give the path of a JSON file`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new LocalInputError(`${flag} ${file}: not valid JSON (${(e as Error).message}); fix the file (a JSON editor or \`node -e 'JSON.parse(require("fs").readFileSync("${file}","utf8"))'\` shows where)`);
  }
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const ENV_PREFIX = 'tenants[0].environments[0]';

/**
 * Validates one environment's config with the default app's parser (parseTenantsConfig), as the
 * API does, and returns its problems with paths relative to the environment (`cidr`,
 * `chain.nodes[2].role`), or [] when it is valid.
 */
export function environmentProblems(tenantId: string, config: unknown): string[] {
  try {
    parseTenantsConfig({ tenants: [{ id: tenantId, environments: [config] }] }, 'environment');
    return [];
  } catch (e) {
    if (!(e instanceof TenantConfigError)) throw e;
    return e.problems.map((p) => (p.startsWith(`${ENV_PREFIX}.`) ? p.slice(ENV_PREFIX.length + 1) : p.startsWith(`${ENV_PREFIX}:`) ? `(top level)${p.slice(ENV_PREFIX.length)}` : p));
  }
}

/**
 * The body of `environments create --file FILE`: one EnvironmentConfig. Its `id`, when given, must
 * be the environment of the command line; the body sent carries it either way. Throws
 * {@link LocalInputError} with every field problem.
 */
export function environmentFromFile(raw: unknown, tenantId: string, environmentId: string, file: string): JsonObject {
  if (!isObject(raw)) {
    throw new LocalInputError(`--file ${file}: must hold one environment's config (a JSON object like {"id": "${environmentId}", "cidr": "10.20.0.0/16"}), got ${Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  if ('tenants' in raw) {
    throw new LocalInputError(`--file ${file}: holds a whole tenants.json; use --from-config ${file} to take ${tenantId}/${environmentId} out of it, or give a file with that one environment's config`);
  }
  if (raw.id !== undefined && raw.id !== environmentId) {
    throw new LocalInputError(`--file ${file}: invalid environment config`, [`id: "${String(raw.id)}" is not the environment of the command line (${tenantId}/${environmentId}); set "id": "${environmentId}" or remove it`]);
  }
  const body = { id: environmentId, ...raw };
  const problems = environmentProblems(tenantId, body);
  if (problems.length) throw new LocalInputError(`--file ${file}: invalid environment config (${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was sent)`, problems);
  return body;
}

/**
 * The body of `environments create --from-config tenants.json`: the environment's entry of the
 * file, exactly as written, after the whole file passed parseTenantsConfig (paths as in the file).
 */
export function environmentFromTenantsFile(raw: unknown, tenantId: string, environmentId: string, file: string): JsonObject {
  try {
    parseTenantsConfig(raw, file);
  } catch (e) {
    if (!(e instanceof TenantConfigError)) throw e;
    throw new LocalInputError(`--from-config ${file}: invalid tenant configuration (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}; nothing was sent)`, e.problems);
  }
  const tenants = (raw as { tenants: JsonObject[] }).tenants;
  const tenant = tenants.find((t) => t.id === tenantId);
  if (!tenant) throw new LocalInputError(`--from-config ${file}: no tenant "${tenantId}"; its tenants are ${tenants.map((t) => String(t.id)).join(', ')}`);
  const envs = tenant.environments as JsonObject[];
  const env = envs.find((e) => e.id === environmentId);
  if (!env) throw new LocalInputError(`--from-config ${file}: tenant ${tenantId} has no environment "${environmentId}"; its environments are ${envs.map((e) => String(e.id)).join(', ')}`);
  return env;
}

/** Applies a JSON Merge Patch (RFC 7396) to `target` (not modified; the result is new). */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** Deep equality of JSON values (object key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The JSON Merge Patch that turns `from` into `to` (both objects): changed keys with their new
 * value (objects recursively, arrays whole), removed keys as null. `{}` when they are equal.
 */
export function mergePatchBetween(from: JsonObject, to: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const k of Object.keys(from)) if (!(k in to)) patch[k] = null;
  for (const [k, v] of Object.entries(to)) {
    const before = from[k];
    if (jsonEqual(before, v)) continue;
    patch[k] = isObject(before) && isObject(v) ? mergePatchBetween(before, v) : v;
  }
  return patch;
}

/** The paths a merge patch changes, e.g. `chain.nodes`, `ingress.allowedCidrs` (sorted). */
export function patchPaths(patch: JsonObject, prefix = ''): string[] {
  return Object.entries(patch)
    .flatMap(([k, v]) => (isObject(v) && Object.keys(v).length ? patchPaths(v, `${prefix}${k}.`) : [`${prefix}${k}${v === null ? ' (removed)' : ''}`]))
    .sort();
}

/**
 * Checks `environments update --file PATCH.json` before anything is sent: a JSON object (`{}`
 * deploys the stored config again) that does not rename the environment; with the stored config, the patched config must pass
 * parseTenantsConfig (problems named by their path in the patched config). Returns the patched config.
 */
export function checkPatch(patch: unknown, tenantId: string, environmentId: string, file: string, stored?: JsonObject): JsonObject | undefined {
  if (!isObject(patch)) {
    throw new LocalInputError(`--file ${file}: must hold a JSON Merge Patch (RFC 7396) of the environment's config: a JSON object such as {"credentials": {"defaultLifetimeDays": 30}} (null removes a field), got ${Array.isArray(patch) ? 'an array' : typeof patch}`);
  }
  if ('id' in patch && patch.id !== environmentId) {
    throw new LocalInputError(`--file ${file}: invalid patch`, [`id: an environment cannot be renamed (the id is part of its stack and resource names); remove "id" from the patch, or create ${tenantId}/${String(patch.id)} and delete ${tenantId}/${environmentId}`]);
  }
  if (!stored) return undefined;
  const next = applyMergePatch(stored, patch) as JsonObject;
  const problems = environmentProblems(tenantId, next);
  if (problems.length) {
    throw new LocalInputError(`--file ${file}: the patched config of ${tenantId}/${environmentId} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}, paths in the patched config; nothing was sent)`, problems);
  }
  return next;
}

/**
 * Checks `nodes add --file node.json` against the environment's stored config: the node added to
 * its nodes (the chain's default nodes when it lists none) must give a valid config. Problems of the
 * new node are named by their path in the node file (`role`, `instanceType`); others (e.g. the
 * validator count) by their path in the environment.
 */
export function checkNode(node: unknown, tenantId: string, environmentId: string, file: string, stored: JsonObject): JsonObject {
  if (!isObject(node)) throw new LocalInputError(`--file ${file}: must hold one node's config, a JSON object such as {"id": "member-3", "member": "acme", "role": "member"}, got ${Array.isArray(node) ? 'an array' : typeof node}`);
  const chain = isObject(stored.chain) ? stored.chain : {};
  let nodes: unknown[];
  if (Array.isArray(chain.nodes)) {
    nodes = chain.nodes;
  } else {
    // The chain's default nodes (4 validators of one member): adding a node lists them explicitly.
    const resolved = resolveChainSpec({ ...(chain as object) }, 'chain');
    nodes = resolved.resolved ? resolved.resolved.nodes.map((n) => ({ id: n.id, member: n.member, role: n.role })) : [];
  }
  if (typeof node.id === 'string' && nodes.some((n) => isObject(n) && n.id === node.id)) {
    throw new LocalInputError(`--file ${file}: invalid node`, [`id: ${tenantId}/${environmentId} already has a node "${node.id}"; give the new node another id`]);
  }
  const index = nodes.length;
  const next = { ...stored, chain: { ...chain, nodes: [...nodes, node] } };
  const prefix = `chain.nodes[${index}]`;
  const problems = environmentProblems(tenantId, next).map((p) => (p.startsWith(`${prefix}.`) ? p.slice(prefix.length + 1) : p.startsWith(`${prefix}:`) ? `(top level)${p.slice(prefix.length)}` : `${p} (in ${tenantId}/${environmentId} with the node added)`));
  if (problems.length) throw new LocalInputError(`--file ${file}: invalid node (${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was sent)`, problems);
  return node;
}

/** One environment's step of `config import`. */
export interface ImportStep {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly action: 'create' | 'update' | 'unchanged';
  /** create: the environment's config; update: the merge patch from the stored config. */
  readonly body?: JsonObject;
  /** update: the paths the patch changes. */
  readonly changes: readonly string[];
}

/** Every environment of a (valid) tenants.json, with its raw entry, in file order. */
export function environmentsOf(raw: unknown): { tenantId: string; environmentId: string; config: JsonObject }[] {
  return (raw as { tenants: { id: string; environments: JsonObject[] }[] }).tenants.flatMap((t) => t.environments.map((e) => ({ tenantId: t.id, environmentId: String(e.id), config: e })));
}

/**
 * The plan of `config import`: per environment of the file, create it (not stored), update it
 * (the merge patch from the stored config to the file's) or leave it unchanged. `stored` maps
 * `tenant/env` to the stored config (absent: not stored). Environments stored but not in the file
 * are left alone: deleting is `environments delete`.
 */
export function planImport(raw: unknown, stored: ReadonlyMap<string, JsonObject>): ImportStep[] {
  return environmentsOf(raw).map(({ tenantId, environmentId, config }) => {
    const current = stored.get(`${tenantId}/${environmentId}`);
    if (!current) return { tenantId, environmentId, action: 'create', body: config, changes: [] };
    const patch = mergePatchBetween(current, config);
    return Object.keys(patch).length ? { tenantId, environmentId, action: 'update', body: patch, changes: patchPaths(patch) } : { tenantId, environmentId, action: 'unchanged', changes: [] };
  });
}

/** The plan as text, one line per environment. */
export function renderPlan(steps: readonly ImportStep[]): string {
  const width = Math.max(...steps.map((s) => `${s.tenantId}/${s.environmentId}`.length), 11);
  const counts = (['create', 'update', 'unchanged'] as const).map((a) => `${steps.filter((s) => s.action === a).length} to ${a === 'unchanged' ? 'leave unchanged' : a}`);
  return [
    ...steps.map((s) => `${`${s.tenantId}/${s.environmentId}`.padEnd(width)}  ${s.action.padEnd(9)}${s.action === 'update' ? `  ${s.changes.join(', ')}` : s.action === 'create' ? '  (not stored yet)' : ''}`.trimEnd()),
    `plan: ${counts.join(', ')}`,
  ].join('\n');
}

/**
 * `config export`: the stored environments back in the tenants.json shape (tenants and their
 * environments sorted by id), validated with parseTenantsConfig.
 */
export function exportTenantsConfig(entries: readonly { tenantId: string; environmentId: string; config: JsonObject }[]): JsonObject {
  const tenants: { id: string; environments: JsonObject[] }[] = [];
  const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  for (const e of [...entries].sort((a, b) => byId(a.tenantId, b.tenantId) || byId(a.environmentId, b.environmentId))) {
    let t = tenants.find((x) => x.id === e.tenantId);
    if (!t) tenants.push((t = { id: e.tenantId, environments: [] }));
    t.environments.push({ id: e.environmentId, ...e.config });
  }
  const out = { tenants };
  try {
    parseTenantsConfig(out, 'the exported config');
  } catch (e) {
    if (!(e instanceof TenantConfigError)) throw e;
    throw new LocalInputError('the stored configs do not form a valid tenants.json together, so nothing was written', e.problems);
  }
  return out;
}

/** `2026-11-29 19:04:05Z` from an ISO time (seconds are enough for deployments). */
export function shortTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** One line of the progress display: a transition with its time (and the reason of a failure). */
export function transitionLine(t: DeploymentHistoryEntry): string {
  return `${shortTime(t.at)}  ${t.status}${t.reason ? `: ${t.reason}` : ''}`;
}

/** A deployment's transitions: its history, or (without one) its current status. */
export function transitionsOf(d: Deployment): readonly DeploymentHistoryEntry[] {
  return d.history?.length ? d.history : [{ status: d.status, at: d.updatedAt, ...(d.reason ? { reason: d.reason } : {}) }];
}

/** The heading of a deployment in the progress display. */
export function deploymentHeading(d: Deployment): string {
  const what = d.action === 'delete' ? (d.purge ? 'delete (purge: data destroyed)' : 'delete (data kept)') : d.action;
  return `deployment ${d.deploymentId}: ${what} ${d.tenantId}/${d.environmentId}${d.configVersion !== undefined ? `, config version ${d.configVersion}` : ''}${d.stackName ? `, stack ${d.stackName}` : ''}`;
}

/** The closing line of a deployment that reached a terminal status. */
export function outcomeLine(d: Deployment): string {
  if (d.status === 'ready') return `${d.tenantId}/${d.environmentId}: ${d.action === 'delete' ? 'deleted' : 'ready'} (deployment ${d.deploymentId})`;
  return `${d.tenantId}/${d.environmentId}: deployment ${d.deploymentId} failed: ${d.reason ?? 'no reason recorded (see the CodeBuild build and the CloudFormation stack events)'}${d.buildId ? ` [build ${d.buildId}]` : ''}`;
}

/** `1m05s` */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The deployment history table (`environments deployments`). */
export function deploymentsTable(deployments: readonly Deployment[]): string {
  const rows = deployments.map((d) => ({
    deploymentId: d.deploymentId,
    action: d.action === 'delete' && d.purge ? 'delete+purge' : d.action,
    status: d.status,
    config: d.configVersion ?? '',
    created: shortTime(d.createdAt),
    updated: shortTime(d.updatedAt),
    reason: d.reason ?? '',
  }));
  const columns = ['deploymentId', 'action', 'status', 'config', 'created', 'updated', 'reason'] as const;
  const cells = rows.map((r) => columns.map((c) => String(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (vals: readonly string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}
