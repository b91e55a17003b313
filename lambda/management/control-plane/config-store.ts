/**
 * The control plane's store: one DynamoDB table (CONTROL_PLANE_TABLE, string keys PK/SK, TTL
 * attribute `expiresAt`) holding the desired config of every environment (every version kept),
 * each environment's lock, its deployments with their status history, and idempotency records.
 * Shared by the management API handler, the recorder and the engine's deploy job (which reads a
 * deployment's config version with {@link ConfigStore.getConfigVersion}).
 *
 * Item layout (docs/adr-0011-control-plane.md):
 *
 * | PK                          | SK                         | what                                              |
 * |-----------------------------|----------------------------|---------------------------------------------------|
 * | `TENANT#<t>`                | `ENV#<e>`                  | environment head: state (active / deleted), configVersion (latest), deployedConfigVersion, cidr, nodeCount, lockDeploymentId + lockedAt + lockExpiresAt (the lock), createdAt, updatedAt, deletedAt, purged |
 * | `TENANT#<t>`                | `QUOTA`                    | the tenant's count of environments that are not deleted (`environments`) |
 * | `ENV#<t>#<e>`               | `CONFIG#<v, 10 digits>`    | config version v: `config` (the EnvironmentConfig as JSON text, exactly tenants.json's environment), deploymentId, createdAt |
 * | `ENV#<t>#<e>`               | `DEPLOYMENT#<deploymentId>`| a deployment: the {@link Deployment} fields, history as a list |
 * | `IDEMPOTENCY#<t>#<e>`       | `KEY#<Idempotency-Key>`    | requestHash, the first answer (status + body), expiresAt (epoch s, 24 h) |
 *
 * Every change that takes the lock is one TransactWriteItems: the head (conditional on no lock and
 * the config version read), the new config version, the deployment, the idempotency record and,
 * for a create, the tenant's count (conditional on the quota). Deployment ids sort by time.
 *
 * A lock expires at `lockExpiresAt` (lockedAt + the engine's whole-execution timeout + a margin;
 * times are written by `Date.toISOString()` only, so they compare as strings). A change that finds
 * an expired lock takes it over in its own transaction, conditional on the same lock still being
 * there and expired, and marks the abandoned deployment failed (the recorder then ignores any
 * late report of it: a failed deployment never changes again).
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { EnvironmentConfig } from '../../../lib/config/tenant-config';
import { ABANDONED_REASON_PREFIX, Deployment, MAX_LOCK_TIMEOUT_SECONDS, DeploymentAction, DeploymentHistoryEntry, DeploymentStatus } from '../../../lib/contracts/control-plane';

/**
 * The DynamoDB document SDK, loaded when a store is made (the management API's other routes start
 * without it; `require` for the reason given in api.ts).
 */
const documentSdk = (): typeof import('@aws-sdk/lib-dynamodb') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb');

/** Idempotency records answer for 24 hours. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/** The head item of an environment. */
export interface EnvironmentHead {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly state: 'active' | 'deleted';
  /** The latest stored (desired) config version. */
  readonly configVersion: number;
  /** The config version of the last successful deployment. */
  readonly deployedConfigVersion?: number;
  readonly cidr: string;
  readonly nodeCount: number;
  /** The running deployment (the environment's lock). */
  readonly lockDeploymentId?: string;
  readonly lockedAt?: string;
  /** When the lock expires (ISO 8601, `toISOString()`); a lock taken before expiry existed has none (see {@link lockExpiry}). */
  readonly lockExpiresAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deletedAt?: string;
  readonly purged?: boolean;
}

/** One stored config version. */
export interface StoredConfig {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly configVersion: number;
  readonly config: EnvironmentConfig;
  readonly deploymentId: string;
  readonly createdAt: string;
}

/** A stored idempotency record. */
export interface IdempotencyRecord {
  readonly requestHash: string;
  readonly status: number;
  readonly body: string;
  readonly expiresAt: number;
}

/** A deployment to record (with the lock) in one transaction. */
export interface DeploymentRequest {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly action: DeploymentAction;
  readonly purge?: boolean;
  /** The head's config version that was read (0: none); the write fails if it moved. */
  readonly expectedConfigVersion: number;
  /** The new config (create / update); none for a delete. */
  readonly config?: EnvironmentConfig;
  readonly stackName: string;
  /** For a create: the tenant's environment quota (the count is raised conditionally). */
  readonly maxEnvironments?: number;
  /** Seconds until the lock taken expires (CONTROL_PLANE_LOCK_TIMEOUT_SECONDS). @default MAX_LOCK_TIMEOUT_SECONDS */
  readonly lockTimeoutSeconds?: number;
  /**
   * The expired lock the caller read (see {@link lockExpiry}): taken over, conditional on it still
   * being held by that deployment and expired; the deployment is marked failed (abandoned).
   */
  readonly expiredLock?: { readonly deploymentId: string };
  readonly idempotency?: { readonly key: string; readonly requestHash: string; readonly answer: (d: Deployment) => { status: number; body: string } };
}

/** Why a deployment request was not recorded. */
export type DeploymentConflict =
  | { readonly kind: 'locked'; readonly deploymentId?: string; readonly lockExpiresAt?: string }
  | { readonly kind: 'changed' }
  | { readonly kind: 'quota'; readonly environments: number }
  | { readonly kind: 'idempotent'; readonly record: IdempotencyRecord };

const headKey = (t: string, e: string) => ({ PK: `TENANT#${t}`, SK: `ENV#${e}` });
const quotaKey = (t: string) => ({ PK: `TENANT#${t}`, SK: 'QUOTA' });
const envPk = (t: string, e: string) => `ENV#${t}#${e}`;
const versionKey = (t: string, e: string, v: number) => ({ PK: envPk(t, e), SK: `CONFIG#${String(v).padStart(10, '0')}` });
const deploymentKey = (t: string, e: string, id: string) => ({ PK: envPk(t, e), SK: `DEPLOYMENT#${id}` });
const idempotencyKey = (t: string, e: string, key: string) => ({ PK: `IDEMPOTENCY#${t}#${e}`, SK: `KEY#${key}` });

/**
 * When the head's lock expires (undefined: no lock). A lock written before locks had an expiry has
 * no `lockExpiresAt`: it expires `lockTimeoutSeconds` after `lockedAt`.
 */
export function lockExpiry(head: Pick<EnvironmentHead, 'lockDeploymentId' | 'lockedAt' | 'lockExpiresAt'> | undefined, lockTimeoutSeconds: number): Date | undefined {
  if (!head?.lockDeploymentId) return undefined;
  if (head.lockExpiresAt) return new Date(head.lockExpiresAt);
  const lockedAt = head.lockedAt ? Date.parse(head.lockedAt) : NaN;
  // No readable time at all: treat it as taken at the epoch (long expired) rather than locked forever.
  return new Date((Number.isNaN(lockedAt) ? 0 : lockedAt) + lockTimeoutSeconds * 1000);
}

/** The reason an abandoned deployment is failed with. */
export function abandonedReason(lockTimeoutSeconds: number, expiredAt: Date): string {
  return `${ABANDONED_REASON_PREFIX}the engine did not report within ${Math.round(lockTimeoutSeconds / 60)} minutes (lock expired at ${expiredAt.toISOString()})`;
}

/** A new deployment id (DEPLOYMENT_ID_PATTERN): `d-` + UTC time to the millisecond + 8 random hex digits (sorts by time). */
export function newDeploymentId(now: Date): string {
  return `d-${now.toISOString().replace(/[-:.TZ]/g, '')}-${randomBytes(4).toString('hex')}`;
}


function stripKeys<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const rest: Record<string, unknown> = { ...item };
  delete rest.PK;
  delete rest.SK;
  return rest as T;
}

/** The control plane's table (see the item layout above). */
export class ConfigStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly sdk = documentSdk();

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.doc = this.sdk.DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** The environment's head, or undefined when it was never stored. */
  async getEnvironment(tenantId: string, environmentId: string): Promise<EnvironmentHead | undefined> {
    const out = await this.doc.send(new this.sdk.GetCommand({ TableName: this.tableName, Key: headKey(tenantId, environmentId), ConsistentRead: true }));
    return stripKeys<EnvironmentHead>(out.Item);
  }

  /** The tenant's environments (deleted ones included, with state 'deleted'). */
  async listTenantEnvironments(tenantId: string): Promise<EnvironmentHead[]> {
    const out: EnvironmentHead[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new this.sdk.QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :env)',
          ExpressionAttributeValues: { ':pk': `TENANT#${tenantId}`, ':env': 'ENV#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(stripKeys<EnvironmentHead>(item)!);
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** One stored config version (what the deploy job deploys), or undefined. */
  async getConfigVersion(tenantId: string, environmentId: string, configVersion: number): Promise<StoredConfig | undefined> {
    const out = await this.doc.send(new this.sdk.GetCommand({ TableName: this.tableName, Key: versionKey(tenantId, environmentId, configVersion), ConsistentRead: true }));
    const item = stripKeys<Omit<StoredConfig, 'config'> & { config: string }>(out.Item);
    return item ? { ...item, config: JSON.parse(item.config) as EnvironmentConfig } : undefined;
  }

  /** The current (latest) config of an environment that is not deleted, or undefined. */
  async getCurrentConfig(tenantId: string, environmentId: string): Promise<{ head: EnvironmentHead; stored: StoredConfig } | undefined> {
    const head = await this.getEnvironment(tenantId, environmentId);
    if (!head || head.state !== 'active') return undefined;
    const stored = await this.getConfigVersion(tenantId, environmentId, head.configVersion);
    return stored ? { head, stored } : undefined;
  }

  async getDeployment(tenantId: string, environmentId: string, deploymentId: string): Promise<Deployment | undefined> {
    const out = await this.doc.send(new this.sdk.GetCommand({ TableName: this.tableName, Key: deploymentKey(tenantId, environmentId, deploymentId), ConsistentRead: true }));
    return stripKeys<Deployment>(out.Item);
  }

  /** The environment's deployments, newest first (at most `limit`). */
  async listDeployments(tenantId: string, environmentId: string, limit = 100): Promise<Deployment[]> {
    const out: Deployment[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new this.sdk.QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :d)',
          ExpressionAttributeValues: { ':pk': envPk(tenantId, environmentId), ':d': 'DEPLOYMENT#' },
          ScanIndexForward: false,
          Limit: limit - out.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) out.push(stripKeys<Deployment>(item)!);
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  /** A live (not expired) idempotency record, or undefined. */
  async getIdempotency(tenantId: string, environmentId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const out = await this.doc.send(new this.sdk.GetCommand({ TableName: this.tableName, Key: idempotencyKey(tenantId, environmentId, key), ConsistentRead: true }));
    const rec = stripKeys<IdempotencyRecord>(out.Item);
    // DynamoDB's TTL deletes expired items only eventually: expiry is checked here.
    return rec && rec.expiresAt > Math.floor(this.now().getTime() / 1000) ? rec : undefined;
  }

  /** Forgets an idempotency record (when the request it answered could not be carried out). */
  async deleteIdempotency(tenantId: string, environmentId: string, key: string): Promise<void> {
    await this.doc.send(new this.sdk.TransactWriteCommand({ TransactItems: [{ Delete: { TableName: this.tableName, Key: idempotencyKey(tenantId, environmentId, key) } }] }));
  }

  /**
   * Records a queued deployment, takes the environment's lock and (create / update) stores the new
   * config version, all in one transaction. Returns the deployment, or why it was not recorded.
   */
  async requestDeployment(
    req: DeploymentRequest,
  ): Promise<{ deployment: Deployment; abandoned?: { deployment: Deployment; previousStatus: DeploymentStatus } } | { conflict: DeploymentConflict }> {
    const { tenantId: t, environmentId: e } = req;
    const now = this.now();
    const at = now.toISOString();
    const deploymentId = newDeploymentId(now);
    const configVersion = req.config ? req.expectedConfigVersion + 1 : req.expectedConfigVersion;
    const deployment: Deployment = {
      deploymentId,
      tenantId: t,
      environmentId: e,
      action: req.action,
      ...(req.purge ? { purge: true } : {}),
      configVersion,
      status: 'queued',
      createdAt: at,
      updatedAt: at,
      stackName: req.stackName,
      history: [{ status: 'queued', at }],
    };
    const T = this.tableName;
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [];
    const kinds: ('head' | 'version' | 'deployment' | 'abandoned' | 'idempotency' | 'quota')[] = [];
    const config = req.config;
    const lockTimeoutSeconds = req.lockTimeoutSeconds ?? MAX_LOCK_TIMEOUT_SECONDS;
    if (!Number.isInteger(lockTimeoutSeconds) || lockTimeoutSeconds <= 0) throw new Error(`lockTimeoutSeconds must be a positive whole number, got ${lockTimeoutSeconds}`);
    const expiresAt = new Date(now.getTime() + lockTimeoutSeconds * 1000).toISOString();
    const values: Record<string, unknown> = { ':lock': deploymentId, ':at': at, ':exp': expiresAt, ':prev': req.expectedConfigVersion };
    let set = 'lockDeploymentId = :lock, lockedAt = :at, lockExpiresAt = :exp, updatedAt = :at';
    let condition = 'attribute_not_exists(lockDeploymentId) AND ';
    // Taking over an expired lock: only that lock, and only while it is still expired (a lock
    // without lockExpiresAt expires lockTimeoutSeconds after lockedAt).
    let abandoned: { before: Deployment; entry: DeploymentHistoryEntry } | undefined;
    if (req.expiredLock) {
      const staleBefore = new Date(now.getTime() - lockTimeoutSeconds * 1000).toISOString();
      condition = 'lockDeploymentId = :abandoned AND (lockExpiresAt < :at OR (attribute_not_exists(lockExpiresAt) AND (attribute_not_exists(lockedAt) OR lockedAt < :stale))) AND ';
      Object.assign(values, { ':abandoned': req.expiredLock.deploymentId, ':stale': staleBefore });
      const before = await this.getDeployment(t, e, req.expiredLock.deploymentId);
      if (before && (before.status === 'queued' || before.status === 'deploying')) {
        const head = await this.getEnvironment(t, e);
        const expiredAt = lockExpiry(head?.lockDeploymentId === before.deploymentId ? head : { lockDeploymentId: before.deploymentId, lockedAt: before.createdAt }, lockTimeoutSeconds)!;
        abandoned = { before, entry: { status: 'failed', at, reason: abandonedReason(lockTimeoutSeconds, expiredAt) } };
      }
    }
    if (req.action === 'create') {
      set += ', tenantId = :t, environmentId = :e, #state = :active, configVersion = :v, cidr = :cidr, nodeCount = :n, createdAt = :at REMOVE deletedAt, purged, deployedConfigVersion';
      condition += '(attribute_not_exists(PK) OR (#state = :deleted AND configVersion = :prev))';
      Object.assign(values, { ':t': t, ':e': e, ':active': 'active', ':deleted': 'deleted' });
    } else {
      condition += '#state = :active AND configVersion = :prev';
      values[':active'] = 'active';
      if (config) set += ', configVersion = :v, cidr = :cidr, nodeCount = :n';
    }
    if (config) Object.assign(values, { ':v': configVersion, ':cidr': config.cidr, ':n': nodeCountOf(config) });
    items.push({ Update: { TableName: T, Key: headKey(t, e), UpdateExpression: `SET ${set}`, ConditionExpression: condition, ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: values } });
    kinds.push('head');
    if (config) {
      items.push({ Put: { TableName: T, Item: { ...versionKey(t, e, configVersion), tenantId: t, environmentId: e, configVersion, config: JSON.stringify(config), deploymentId, createdAt: at }, ConditionExpression: 'attribute_not_exists(PK)' } });
      kinds.push('version');
    }
    items.push({ Put: { TableName: T, Item: { ...deploymentKey(t, e, deploymentId), ...deployment }, ConditionExpression: 'attribute_not_exists(PK)' } });
    kinds.push('deployment');
    if (abandoned) {
      // Fails the abandoned deployment, conditional on the status that was read (a late report in
      // between cancels the whole transaction: the change is answered 409 ConcurrentChange).
      items.push({
        Update: {
          TableName: T,
          Key: deploymentKey(t, e, abandoned.before.deploymentId),
          UpdateExpression: 'SET #status = :failed, updatedAt = :at, reason = :r, history = list_append(history, :h)',
          ConditionExpression: '#status = :was',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':failed': 'failed', ':at': at, ':r': abandoned.entry.reason, ':h': [abandoned.entry], ':was': abandoned.before.status },
        },
      });
      kinds.push('abandoned');
    }
    if (req.idempotency) {
      const answer = req.idempotency.answer(deployment);
      const nowSec = Math.floor(now.getTime() / 1000);
      items.push({
        Put: {
          TableName: T,
          Item: { ...idempotencyKey(t, e, req.idempotency.key), requestHash: req.idempotency.requestHash, status: answer.status, body: answer.body, createdAt: at, expiresAt: nowSec + IDEMPOTENCY_TTL_SECONDS },
          ConditionExpression: 'attribute_not_exists(PK) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': nowSec },
        },
      });
      kinds.push('idempotency');
    }
    if (req.action === 'create' && req.maxEnvironments !== undefined) {
      items.push({
        Update: {
          TableName: T,
          Key: quotaKey(t),
          UpdateExpression: 'SET environments = if_not_exists(environments, :zero) + :one',
          ConditionExpression: 'attribute_not_exists(environments) OR environments < :max',
          ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':max': req.maxEnvironments },
        },
      });
      kinds.push('quota');
    }
    try {
      // The token makes the SDK's retry of a transaction that committed (e.g. after a 500) a no-op.
      await this.doc.send(new this.sdk.TransactWriteCommand({ TransactItems: items, ClientRequestToken: deploymentId }));
      if (!abandoned) return { deployment };
      const failed = (await this.getDeployment(t, e, abandoned.before.deploymentId))!;
      return { deployment, abandoned: { deployment: failed, previousStatus: abandoned.before.status } };
    } catch (err) {
      if ((err as Error).name !== 'TransactionCanceledException') throw err;
      const reasons = (err as TransactionCanceledException).CancellationReasons ?? [];
      const failed = new Set(kinds.filter((_, i) => reasons[i]?.Code === 'ConditionalCheckFailed'));
      // The same key raced this request: answer as the first one did (or 422 on another body).
      if (req.idempotency && (failed.has('idempotency') || failed.size === 0)) {
        const record = await this.getIdempotency(t, e, req.idempotency.key);
        if (record) return { conflict: { kind: 'idempotent', record } };
      }
      // A transaction in flight on the same items (TransactionConflict) commits or fails in
      // moments: wait for it briefly so that the answer can name the deployment that won.
      // The abandoned deployment moved (a late report) while its lock was being taken over (when
      // the lock itself moved, another change took it over: answered below, naming it).
      if (failed.has('abandoned') && !failed.has('head')) return { conflict: { kind: 'changed' } };
      let head = await this.getEnvironment(t, e);
      for (let i = 0; i < 5 && !head?.lockDeploymentId && reasons.some((r) => r.Code === 'TransactionConflict'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** i));
        head = await this.getEnvironment(t, e);
      }
      if (head?.lockDeploymentId) {
        const expiry = lockExpiry(head, lockTimeoutSeconds);
        return { conflict: { kind: 'locked', deploymentId: head.lockDeploymentId, ...(expiry ? { lockExpiresAt: expiry.toISOString() } : {}) } };
      }
      if (failed.has('quota')) {
        const q = await this.doc.send(new this.sdk.GetCommand({ TableName: T, Key: quotaKey(t), ConsistentRead: true }));
        return { conflict: { kind: 'quota', environments: Number(q.Item?.environments ?? 0) } };
      }
      return { conflict: { kind: 'changed' } };
    }
  }

  /**
   * Moves a deployment to `status` (only from queued or deploying: a terminal deployment never
   * changes again) and appends to its history. Terminal statuses release the environment's lock
   * in the same transaction; a ready delete marks the environment deleted (its history is kept)
   * and lowers the tenant's count. Returns the updated deployment, or undefined when it was
   * terminal already (a retried report).
   */
  async recordStatus(
    tenantId: string,
    environmentId: string,
    deploymentId: string,
    status: DeploymentStatus,
    extra: { buildId?: string; reason?: string } = {},
  ): Promise<{ deployment: Deployment; previousStatus: DeploymentStatus } | undefined> {
    const before = await this.getDeployment(tenantId, environmentId, deploymentId);
    if (!before) throw new Error(`deployment ${deploymentId} of ${tenantId}/${environmentId} is not in the table`);
    if (before.status === 'ready' || before.status === 'failed') return undefined;
    // A repeated report (same status, same build) is not a new step.
    if (before.status === status && (extra.buildId === undefined || extra.buildId === before.buildId)) return undefined;
    const at = this.now().toISOString();
    const entry: DeploymentHistoryEntry = { status, at, ...(extra.reason !== undefined ? { reason: extra.reason } : {}) };
    const T = this.tableName;
    const values: Record<string, unknown> = { ':s': status, ':at': at, ':h': [entry], ':queued': 'queued', ':deploying': 'deploying' };
    let set = '#status = :s, updatedAt = :at, history = list_append(history, :h)';
    if (extra.buildId !== undefined) {
      set += ', buildId = :b';
      values[':b'] = extra.buildId;
    }
    if (extra.reason !== undefined) {
      set += ', reason = :r';
      values[':r'] = extra.reason;
    }
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      {
        Update: {
          TableName: T,
          Key: deploymentKey(tenantId, environmentId, deploymentId),
          UpdateExpression: `SET ${set}`,
          ConditionExpression: '#status IN (:queued, :deploying)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: values,
        },
      },
    ];
    const terminal = status === 'ready' || status === 'failed';
    const head = terminal ? await this.getEnvironment(tenantId, environmentId) : undefined;
    if (terminal && head?.lockDeploymentId === deploymentId) {
      const hv: Record<string, unknown> = { ':id': deploymentId, ':at': at };
      let hset = 'updatedAt = :at';
      if (status === 'ready' && before.action === 'delete') {
        hset += ', #state = :deleted, deletedAt = :at, purged = :purged';
        Object.assign(hv, { ':deleted': 'deleted', ':purged': before.purge === true });
      } else if (status === 'ready') {
        hset += ', deployedConfigVersion = :v';
        hv[':v'] = before.configVersion;
      }
      items.push({
        Update: {
          TableName: T,
          Key: headKey(tenantId, environmentId),
          UpdateExpression: `SET ${hset} REMOVE lockDeploymentId, lockedAt, lockExpiresAt`,
          ConditionExpression: 'lockDeploymentId = :id',
          ...(hset.includes('#state') ? { ExpressionAttributeNames: { '#state': 'state' } } : {}),
          ExpressionAttributeValues: hv,
        },
      });
      if (status === 'ready' && before.action === 'delete') {
        // Unconditional: a count that is off must never keep a finished deployment from being recorded.
        items.push({ Update: { TableName: T, Key: quotaKey(tenantId), UpdateExpression: 'SET environments = if_not_exists(environments, :one) - :one', ExpressionAttributeValues: { ':one': 1 } } });
      }
    }
    try {
      await this.doc.send(new this.sdk.TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if ((err as Error).name === 'TransactionCanceledException') {
        const now = await this.getDeployment(tenantId, environmentId, deploymentId);
        if (now && (now.status === 'ready' || now.status === 'failed')) return undefined; // a concurrent report won
      }
      throw err;
    }
    const deployment = (await this.getDeployment(tenantId, environmentId, deploymentId))!;
    return { deployment, previousStatus: before.status };
  }

  /**
   * Releases the lock held by `deploymentId` (no-op when another deployment or none holds it).
   * Used when a queued deployment could not be handed to the engine.
   */
  async releaseLock(tenantId: string, environmentId: string, deploymentId: string): Promise<void> {
    try {
      await this.doc.send(
        new this.sdk.UpdateCommand({
          TableName: this.tableName,
          Key: headKey(tenantId, environmentId),
          UpdateExpression: 'REMOVE lockDeploymentId, lockedAt, lockExpiresAt',
          ConditionExpression: 'lockDeploymentId = :id',
          ExpressionAttributeValues: { ':id': deploymentId },
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    }
  }
}

/** The number of nodes of a config (the default chain has 4). */
export function nodeCountOf(config: EnvironmentConfig): number {
  return config.chain?.nodes?.length ?? 4;
}
