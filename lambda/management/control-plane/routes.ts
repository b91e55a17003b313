/**
 * The lifecycle routes of the management API (the control plane, issue #18): create, change and
 * delete environments and nodes, read their stored config and deployments. Each change is
 * validated with the default app's own parser, checked against the change guard rails and the
 * tenant's quotas, recorded with the environment's lock in one DynamoDB transaction and handed to
 * the engine as a `Deployment Requested` event. See docs/adr-0011-control-plane.md.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ChainNode } from '../../../lib/chain/chain-spec';
import { EnvironmentConfig, environmentStackName } from '../../../lib/config/tenant-config';
import { CONTROL_PLANE_DETAIL_TYPES, CONTROL_PLANE_EVENT_SOURCE, ControlPlaneQuotas, DEPLOYMENT_ID_PATTERN, Deployment, MAX_LOCK_TIMEOUT_SECONDS } from '../../../lib/contracts/control-plane';
import { ID_HINT, ID_PATTERN } from '../../../lib/contracts/ids';
import { ApiError, ProxyResult, json } from '../api-error';
import { ConfigStore, DeploymentConflict, DeploymentRequest, EnvironmentHead, lockExpiry } from './config-store';
import { BodyProblem, explicitNodes, mergePatch, quotaRefusals, refusedChanges, validateEnvironmentBody } from './environment-changes';

/** What the lifecycle routes need (the handler builds it from CONTROL_PLANE_TABLE, EVENT_BUS_NAME, CONTROL_PLANE_QUOTAS). */
export interface ControlPlaneDeps {
  readonly tableName: string;
  readonly eventBusName: string;
  readonly quotas: ControlPlaneQuotas;
  /**
   * Seconds after which an environment's lock expires (CONTROL_PLANE_LOCK_TIMEOUT_SECONDS: the
   * engine's whole-execution timeout plus a margin). @default MAX_LOCK_TIMEOUT_SECONDS
   */
  readonly lockTimeoutSeconds?: number;
  /** The DynamoDB client, created on first use. */
  readonly dynamodb: () => Promise<DynamoDBClient>;
  /** The EventBridge client, created on first use. */
  readonly events: () => Promise<EventBridgeClient>;
  /** The clock (tests). @default - the system clock */
  readonly now?: () => Date;
}

interface LifecycleEvent {
  readonly httpMethod: string;
  readonly path: string;
  readonly body?: string | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  readonly headers?: Record<string, string | undefined> | null;
}

/** Whether `method parts` is a lifecycle route (parts: the decoded path segments). */
export function isLifecycleRoute(method: string, parts: readonly string[]): boolean {
  const [, , , collection] = parts;
  if (parts.length === 3) return method === 'POST' || method === 'PATCH' || method === 'DELETE';
  if (parts.length === 4) return (method === 'GET' && (collection === 'config' || collection === 'deployments')) || (method === 'POST' && collection === 'nodes');
  if (parts.length === 5) return (method === 'GET' && collection === 'deployments') || (method === 'DELETE' && collection === 'nodes');
  return false;
}

/** Idempotency keys: 1-128 characters of letters, digits and `_ - . :` (a UUID fits). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Serves one lifecycle route (see {@link isLifecycleRoute}). */
export async function handleLifecycle(
  event: LifecycleEvent,
  parts: readonly string[],
  deps: { readonly controlPlane?: ControlPlaneDeps; readonly log?: (entry: Record<string, unknown>) => void },
): Promise<ProxyResult> {
  const cp = deps.controlPlane;
  if (!cp) {
    throw new ApiError(
      404,
      'ControlPlaneDisabled',
      `${event.httpMethod} ${event.path} is a control-plane route and the control plane is not enabled on this management API: enable it on the management stack (README "Control plane"), which gives this handler CONTROL_PLANE_TABLE and EVENT_BUS_NAME`,
    );
  }
  const [, tenantId, environmentId, collection, id] = parts;
  const method = event.httpMethod;
  // The DynamoDB SDK loads with the first store, on the first lifecycle route (not at init).
  const store = new ConfigStore(await cp.dynamodb(), cp.tableName, cp.now);
  const ctx: Ctx = { cp, store, tenantId, environmentId, log: deps.log ?? ((x) => console.log(JSON.stringify(x))) };

  if (method === 'GET') {
    if (collection === 'config') return getConfig(ctx, event.queryStringParameters?.version);
    if (!(await store.getEnvironment(tenantId, environmentId))) throw new ApiError(404, 'NotFound', `environment ${tenantId}/${environmentId} has no deployments; create it with POST /environments/${tenantId}/${environmentId}`);
    if (parts.length === 4) return json(200, { deployments: await store.listDeployments(tenantId, environmentId) });
    if (!id || !DEPLOYMENT_ID_PATTERN.test(id)) throw new ApiError(400, 'BadRequest', `deployment id "${String(id).slice(0, 40)}" is not valid; use an id from GET /environments/${tenantId}/${environmentId}/deployments (d-<time>-<hex>)`, 'deploymentId');
    const d = await store.getDeployment(tenantId, environmentId, id);
    if (!d) throw new ApiError(404, 'NotFound', `deployment ${id} of ${tenantId}/${environmentId} does not exist`);
    return json(200, d);
  }

  // Changes: an idempotent retry answers as the first request did, before anything else (its
  // own deployment may hold the lock by now).
  const idem = await idempotency(ctx, event);
  if (idem && 'replay' in idem) return idem.replay;

  if (parts.length === 3 && method === 'POST') return createEnvironment(ctx, parseJson(event.body), idem);
  if (parts.length === 3 && method === 'PATCH') return patchEnvironment(ctx, parseJson(event.body), idem);
  if (parts.length === 3 && method === 'DELETE') return deleteEnvironment(ctx, event.queryStringParameters ?? {}, idem);
  if (parts.length === 4 && method === 'POST') return addNode(ctx, parseJson(event.body), idem);
  return removeNode(ctx, id, idem);
}

interface Ctx {
  readonly cp: ControlPlaneDeps;
  readonly store: ConfigStore;
  readonly tenantId: string;
  readonly environmentId: string;
  readonly log: (entry: Record<string, unknown>) => void;
}

type Idem = { readonly key: string; readonly requestHash: string };

/** Canonical JSON (keys sorted), so equal bodies hash equal whatever their key order or spacing. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

async function idempotency(ctx: Ctx, event: LifecycleEvent): Promise<Idem | { replay: ProxyResult } | undefined> {
  const headers = event.headers ?? {};
  const name = Object.keys(headers).find((h) => h.toLowerCase() === 'idempotency-key');
  if (name === undefined) return undefined;
  const key = headers[name] ?? '';
  if (!IDEMPOTENCY_KEY.test(key)) throw new ApiError(400, 'BadRequest', 'the Idempotency-Key header must be 1-128 characters of letters, digits and _ - . : (e.g. a UUID)', 'Idempotency-Key');
  let body: unknown = event.body ?? null;
  try {
    const parsed = JSON.parse(event.body ?? 'null') as unknown;
    // Hashed canonically when it is a body the route would read; otherwise as text (refused anyway).
    if (Buffer.byteLength(event.body ?? '') <= MAX_LIFECYCLE_BODY_BYTES && depthOf(parsed, MAX_BODY_DEPTH) <= MAX_BODY_DEPTH) body = parsed;
  } catch {
    // hashed as text; the route refuses it
  }
  const query = Object.entries(event.queryStringParameters ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const requestHash = createHash('sha256').update(canonical([event.httpMethod, event.path, query, body])).digest('hex');
  const record = await ctx.store.getIdempotency(ctx.tenantId, ctx.environmentId, key);
  if (!record) return { key, requestHash };
  return { replay: replay(record, requestHash, key) };
}

function replay(record: { requestHash: string; status: number; body: string }, requestHash: string, key: string): ProxyResult {
  if (record.requestHash !== requestHash) {
    throw new ApiError(422, 'IdempotencyKeyReused', `Idempotency-Key "${key}" was used in the last 24 hours for another request; use a new key for a new request`, 'Idempotency-Key');
  }
  return { ...json(record.status, JSON.parse(record.body)), headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'idempotent-replayed': 'true' } };
}

/** The largest body a lifecycle route reads (an environment of 128 nodes is about 12 KB). */
export const MAX_LIFECYCLE_BODY_BYTES = 128 * 1024;
/** The deepest nesting a body may have (tenants.json's environments nest 5 levels). */
const MAX_BODY_DEPTH = 16;

/** How deep `value` nests (iterative: a hostile body cannot exhaust the stack). */
function depthOf(value: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    max = Math.max(max, d);
    if (max > limit) return max;
    if (v !== null && typeof v === 'object') for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

function parseJson(body: string | null | undefined): Record<string, unknown> {
  if (Buffer.byteLength(body ?? '') > MAX_LIFECYCLE_BODY_BYTES) {
    throw new ApiError(413, 'PayloadTooLarge', `the body is larger than ${MAX_LIFECYCLE_BODY_BYTES / 1024} KB; an environment's config is far smaller: send only the environment (or the patch)`, 'body');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '') as unknown;
  } catch {
    // refused below
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApiError(400, 'BadRequest', 'the body must be a JSON object', 'body');
  if (depthOf(parsed, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) throw new ApiError(400, 'BadRequest', `the body nests deeper than ${MAX_BODY_DEPTH} levels; an environment's config nests at most 5`, 'body');
  return parsed as Record<string, unknown>;
}

function badConfig(problems: readonly BodyProblem[]): never {
  throw new ApiError(400, 'BadRequest', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems[0].field);
}

const envName = (ctx: Ctx) => `${ctx.tenantId}/${ctx.environmentId}`;

const lockTimeout = (ctx: Ctx) => ctx.cp.lockTimeoutSeconds ?? MAX_LOCK_TIMEOUT_SECONDS;

function inProgress(ctx: Ctx, deploymentId: string | undefined, lockExpiresAt: string | undefined): never {
  throw new ApiError(
    409,
    'DeploymentInProgress',
    `deployment ${deploymentId ?? '(unknown)'} of ${envName(ctx)} is running; one deployment runs per environment at a time: wait for it (GET /environments/${envName(ctx)}/deployments/${deploymentId ?? ''}) and retry${
      lockExpiresAt ? `; if the engine never reports, its lock expires at ${lockExpiresAt} and the next change fails it as abandoned` : ''
    }`,
    undefined,
    { ...(deploymentId ? { deploymentId } : {}), ...(lockExpiresAt ? { lockExpiresAt } : {}) },
  );
}

/**
 * The head's lock: 409 while it is held and not expired; an expired lock is returned, for the
 * change to take over (the abandoned deployment is failed in the same transaction).
 */
function checkLock(ctx: Ctx, head: EnvironmentHead | undefined): { deploymentId: string } | undefined {
  if (!head?.lockDeploymentId) return undefined;
  const expiry = lockExpiry(head, lockTimeout(ctx))!;
  if (expiry.getTime() > (ctx.cp.now ?? (() => new Date()))().getTime()) inProgress(ctx, head.lockDeploymentId, expiry.toISOString());
  return { deploymentId: head.lockDeploymentId };
}

async function getConfig(ctx: Ctx, version: string | undefined): Promise<ProxyResult> {
  const head = await ctx.store.getEnvironment(ctx.tenantId, ctx.environmentId);
  if (!head || (head.state !== 'active' && version === undefined)) {
    throw new ApiError(404, 'NotFound', head ? `environment ${envName(ctx)} was deleted at ${head.deletedAt}; its config versions are kept (GET .../config?version=N)` : `environment ${envName(ctx)} has no stored config; create it with POST /environments/${envName(ctx)}`);
  }
  let v = head.configVersion;
  if (version !== undefined) {
    v = Number(version);
    if (!/^\d{1,10}$/.test(version) || v < 1 || v > head.configVersion) throw new ApiError(400, 'BadRequest', `version must be a config version from 1 to ${head.configVersion}`, 'version');
  }
  const stored = await ctx.store.getConfigVersion(ctx.tenantId, ctx.environmentId, v);
  if (!stored) throw new ApiError(404, 'NotFound', `config version ${v} of ${envName(ctx)} is not stored`);
  return json(200, { tenantId: ctx.tenantId, environmentId: ctx.environmentId, configVersion: stored.configVersion, config: stored.config });
}

/** The tenant's other environments that are not deleted (for the CIDR check). */
async function otherEnvironments(ctx: Ctx) {
  return (await ctx.store.listTenantEnvironments(ctx.tenantId)).filter((h) => h.state === 'active' && h.environmentId !== ctx.environmentId);
}

function checkQuotas(ctx: Ctx, before: EnvironmentConfig | undefined, after: EnvironmentConfig, bodyPath = 'body'): void {
  const refused = quotaRefusals(before, after, ctx.cp.quotas, bodyPath);
  if (refused.length) throw new ApiError(403, 'QuotaExceeded', refused.map((r) => r.message).join('; '), refused[0].field);
}

function checkChange(before: EnvironmentConfig, after: EnvironmentConfig): void {
  const reasons = refusedChanges(before, after);
  if (reasons.length) throw new ApiError(422, 'ChangeRefused', reasons.join('; '), `body.${reasons[0].slice(0, reasons[0].indexOf(':'))}`);
}

async function createEnvironment(ctx: Ctx, body: Record<string, unknown>, idem: Idem | undefined): Promise<ProxyResult> {
  const head = await ctx.store.getEnvironment(ctx.tenantId, ctx.environmentId);
  const expiredLock = checkLock(ctx, head);
  if (head?.state === 'active') {
    throw new ApiError(409, 'EnvironmentExists', `environment ${envName(ctx)} exists (config version ${head.configVersion}); change it with PATCH /environments/${envName(ctx)}`);
  }
  const others = await otherEnvironments(ctx);
  const checked = validateEnvironmentBody(ctx.tenantId, ctx.environmentId, body, others);
  if ('problems' in checked) badConfig(checked.problems);
  const max = ctx.cp.quotas.maxEnvironmentsPerTenant;
  if (others.length >= max) throw quotaEnvironments(ctx, others.length);
  checkQuotas(ctx, undefined, checked.config);
  const deployment = await request(ctx, idem, { action: 'create', expectedConfigVersion: head?.configVersion ?? 0, config: checked.config, maxEnvironments: max, expiredLock }, (d) => ({
    status: 201,
    body: { deploymentId: d.deploymentId, environment: { tenantId: ctx.tenantId, environmentId: ctx.environmentId }, configVersion: d.configVersion, status: d.status },
  }));
  return deployment;
}

function quotaEnvironments(ctx: Ctx, count: number): ApiError {
  return new ApiError(403, 'QuotaExceeded', `tenant ${ctx.tenantId} has ${count} environments; the quota maxEnvironmentsPerTenant is ${ctx.cp.quotas.maxEnvironmentsPerTenant}: delete one or ask the operator to raise the quota`);
}

/** The current config (404 when there is none) and the lock check (409). */
async function current(ctx: Ctx) {
  const cur = await ctx.store.getCurrentConfig(ctx.tenantId, ctx.environmentId);
  if (!cur) {
    throw new ApiError(404, 'NotFound', `environment ${envName(ctx)} has no stored config; create it with POST /environments/${envName(ctx)} (an environment deployed from tenants.json is imported the same way)`);
  }
  const expiredLock = checkLock(ctx, cur.head);
  return { ...cur, expiredLock };
}

/** Validates, guards and records a change of the stored config (PATCH and the node routes). */
async function change(ctx: Ctx, idem: Idem | undefined, cur: Awaited<ReturnType<typeof current>>, candidate: unknown, rewrite: (p: BodyProblem) => BodyProblem = (p) => p): Promise<ProxyResult> {
  const checked = validateEnvironmentBody(ctx.tenantId, ctx.environmentId, candidate, await otherEnvironments(ctx));
  if ('problems' in checked) badConfig(checked.problems.map(rewrite));
  checkChange(cur.stored.config, checked.config);
  checkQuotas(ctx, cur.stored.config, checked.config);
  const unchanged = JSON.stringify(checked.config) === JSON.stringify(cur.stored.config);
  // An unchanged config deploys the stored version again (e.g. after a failed deployment).
  return request(ctx, idem, { action: 'update', expectedConfigVersion: cur.head.configVersion, expiredLock: cur.expiredLock, ...(unchanged ? {} : { config: checked.config }) }, (d) => ({
    status: 202,
    body: { deploymentId: d.deploymentId, configVersion: d.configVersion, status: d.status },
  }));
}

async function patchEnvironment(ctx: Ctx, body: Record<string, unknown>, idem: Idem | undefined): Promise<ProxyResult> {
  const cur = await current(ctx);
  if (body.id !== undefined && body.id !== null && body.id !== ctx.environmentId) {
    throw new ApiError(400, 'BadRequest', `body.id: is ${JSON.stringify(body.id)} but the path names environment "${ctx.environmentId}"; an environment's id cannot change`, 'body.id');
  }
  return change(ctx, idem, cur, { ...(mergePatch(cur.stored.config, body) as Record<string, unknown>), id: ctx.environmentId });
}

async function addNode(ctx: Ctx, body: Record<string, unknown>, idem: Idem | undefined): Promise<ProxyResult> {
  const cur = await current(ctx);
  const nodes = explicitNodes(cur.stored.config.chain);
  if (typeof body.id === 'string' && nodes.some((n) => n.id === body.id)) {
    throw new ApiError(409, 'NodeExists', `node "${body.id}" exists in ${envName(ctx)}; give the new node another id`, 'body.id');
  }
  const at = `body.chain.nodes[${nodes.length}]`;
  const rewrite = (p: BodyProblem): BodyProblem => ({ field: p.field.startsWith(at) ? `body${p.field.slice(at.length)}` : p.field, message: p.message.split(at).join('body') });
  return change(ctx, idem, cur, { ...cur.stored.config, chain: { ...(cur.stored.config.chain ?? {}), nodes: [...nodes, body as unknown as ChainNode] } }, rewrite);
}

async function removeNode(ctx: Ctx, nodeId: string | undefined, idem: Idem | undefined): Promise<ProxyResult> {
  if (!nodeId || !ID_PATTERN.test(nodeId)) throw new ApiError(400, 'BadRequest', `node id "${String(nodeId ?? '').slice(0, 40)}" is not valid; ${ID_HINT}`, 'node');
  const cur = await current(ctx);
  const nodes = explicitNodes(cur.stored.config.chain);
  if (!nodes.some((n) => n.id === nodeId)) throw new ApiError(404, 'NotFound', `node ${nodeId} is not in ${envName(ctx)}'s config; its nodes are ${nodes.map((n) => n.id).join(', ')}`);
  return change(ctx, idem, cur, { ...cur.stored.config, chain: { ...(cur.stored.config.chain ?? {}), nodes: nodes.filter((n) => n.id !== nodeId) } });
}

async function deleteEnvironment(ctx: Ctx, query: Record<string, string | undefined>, idem: Idem | undefined): Promise<ProxyResult> {
  for (const key of Object.keys(query)) {
    if (key !== 'purge' && key !== 'confirm') throw new ApiError(400, 'BadRequest', `unknown parameter ${key}; allowed: purge, confirm`, key);
  }
  const purgeText = query.purge;
  if (purgeText !== undefined && purgeText !== 'true' && purgeText !== 'false') throw new ApiError(400, 'BadRequest', `purge must be true or false, got "${purgeText.slice(0, 20)}"`, 'purge');
  const purge = purgeText === 'true';
  if (purge && query.confirm !== ctx.environmentId) {
    throw new ApiError(400, 'BadRequest', `purge=true destroys the environment's data (file systems, keys, logs, secrets); repeat the environment's id to confirm: ?purge=true&confirm=${ctx.environmentId}`, 'confirm');
  }
  if (!purge && query.confirm !== undefined) throw new ApiError(400, 'BadRequest', 'confirm is only used with purge=true; leave it out to delete and keep the data per removalPolicy', 'confirm');
  const cur = await current(ctx);
  return request(ctx, idem, { action: 'delete', purge, expectedConfigVersion: cur.head.configVersion, expiredLock: cur.expiredLock }, (d) => ({ status: 202, body: { deploymentId: d.deploymentId, status: d.status } }));
}

/** Records the deployment (with the lock) and hands it to the engine; answers the conflicts. */
async function request(
  ctx: Ctx,
  idem: Idem | undefined,
  req: Omit<DeploymentRequest, 'tenantId' | 'environmentId' | 'stackName' | 'idempotency' | 'lockTimeoutSeconds'>,
  answer: (d: Deployment) => { status: number; body: unknown },
): Promise<ProxyResult> {
  const out = await ctx.store.requestDeployment({
    ...req,
    tenantId: ctx.tenantId,
    environmentId: ctx.environmentId,
    stackName: environmentStackName(ctx.tenantId, ctx.environmentId),
    lockTimeoutSeconds: lockTimeout(ctx),
    ...(idem ? { idempotency: { ...idem, answer: (d: Deployment) => ({ status: answer(d).status, body: JSON.stringify(answer(d).body) }) } } : {}),
  });
  if ('conflict' in out) return conflict(ctx, out.conflict, idem);
  const { deployment } = out;
  if (out.abandoned) {
    // The abandoned deployment was failed with the lock's takeover: tell the bus, as the recorder would have.
    const a = out.abandoned.deployment;
    ctx.log({ msg: 'deployment abandoned', tenant: ctx.tenantId, environment: ctx.environmentId, deploymentId: a.deploymentId, previousStatus: out.abandoned.previousStatus, reason: a.reason, takenOverBy: deployment.deploymentId });
    try {
      await publish(ctx.cp, CONTROL_PLANE_DETAIL_TYPES.STATUS_CHANGED, { ...a, previousStatus: out.abandoned.previousStatus });
    } catch (e) {
      // Recorded in the table either way; the new deployment goes ahead.
      ctx.log({ msg: 'abandoned deployment event not published', deploymentId: a.deploymentId, error: (e as Error).name });
    }
  }
  try {
    await publish(ctx.cp, CONTROL_PLANE_DETAIL_TYPES.REQUESTED, deployment);
  } catch (e) {
    // Nothing will run it: fail it (which releases the lock) and forget the idempotency key,
    // so that a retry starts afresh.
    ctx.log({ msg: 'deployment request not published', deploymentId: deployment.deploymentId, error: (e as Error).name });
    await ctx.store.recordStatus(ctx.tenantId, ctx.environmentId, deployment.deploymentId, 'failed', { reason: 'the deployment request could not be sent to the event bus; nothing was deployed' });
    if (idem) await ctx.store.deleteIdempotency(ctx.tenantId, ctx.environmentId, idem.key);
    throw new ApiError(503, 'ServiceUnavailable', `deployment ${deployment.deploymentId} could not be handed to the deployment engine (EventBridge); nothing was deployed: retry`);
  }
  ctx.log({ msg: 'deployment requested', tenant: ctx.tenantId, environment: ctx.environmentId, deploymentId: deployment.deploymentId, action: deployment.action, configVersion: deployment.configVersion, ...(deployment.purge ? { purge: true } : {}) });
  const a = answer(deployment);
  return json(a.status, a.body);
}

function conflict(ctx: Ctx, c: DeploymentConflict, idem: Idem | undefined): ProxyResult {
  switch (c.kind) {
    case 'idempotent':
      return replay(c.record, idem!.requestHash, idem!.key);
    case 'locked':
      return inProgress(ctx, c.deploymentId, c.lockExpiresAt);
    case 'quota':
      throw quotaEnvironments(ctx, c.environments);
    case 'changed':
      throw new ApiError(409, 'ConcurrentChange', `environment ${envName(ctx)} changed while this request was checked; read it again (GET /environments/${envName(ctx)}/config) and retry`);
  }
}

/** Puts one control-plane event on the bus; throws when it was not accepted. */
export async function publish(cp: Pick<ControlPlaneDeps, 'events' | 'eventBusName'>, detailType: string, detail: object): Promise<void> {
  const { PutEventsCommand } = eventBridgeSdk();
  const out = await (await cp.events()).send(new PutEventsCommand({ Entries: [{ EventBusName: cp.eventBusName, Source: CONTROL_PLANE_EVENT_SOURCE, DetailType: detailType, Detail: JSON.stringify(detail) }] }));
  if ((out.FailedEntryCount ?? 0) > 0) throw Object.assign(new Error(`PutEvents refused the event: ${out.Entries?.[0]?.ErrorCode ?? 'unknown'}`), { name: 'PutEventsFailed' });
}

/** The EventBridge SDK module, loaded on first use (see api.ts for why `require`). */
export const eventBridgeSdk = (): typeof import('@aws-sdk/client-eventbridge') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@aws-sdk/client-eventbridge') as typeof import('@aws-sdk/client-eventbridge');
