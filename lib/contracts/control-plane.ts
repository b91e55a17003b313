/**
 * The control plane's contract (pure; shared by the management API handler, the recorder Lambda,
 * the engine's constructs and deploy job, the CLI and the console): the table's key schema, the
 * handler's environment variables, the quotas, the deployment record and the events.
 * See docs/adr-0011-control-plane.md.
 */

/** The control-plane table's key schema (DynamoDB single table; string keys). */
export const CONTROL_PLANE_TABLE_KEYS = {
  partitionKey: 'PK',
  sortKey: 'SK',
  /** Epoch seconds; idempotency records carry it (DynamoDB TTL deletes them some time after). */
  timeToLiveAttribute: 'expiresAt',
} as const;

/** Environment variables of the management API handler and the recorder. */
export const CONTROL_PLANE_ENV = {
  /** The DynamoDB table name; without it (and EVENT_BUS_NAME) the lifecycle routes answer 404. */
  TABLE: 'CONTROL_PLANE_TABLE',
  /** The EventBridge bus the deployment events go to. */
  EVENT_BUS: 'EVENT_BUS_NAME',
  /** JSON {@link ControlPlaneQuotas}. @default - {@link DEFAULT_CONTROL_PLANE_QUOTAS} */
  QUOTAS: 'CONTROL_PLANE_QUOTAS',
  /**
   * Whole seconds after which an environment's lock expires and the next change may take it over
   * (failing the abandoned deployment): the engine's whole-execution timeout plus
   * {@link LOCK_EXPIRY_MARGIN_MINUTES}, set by the ControlPlane construct from the same Duration as
   * the state machine's timeout. @default - {@link MAX_LOCK_TIMEOUT_SECONDS} (the longest any engine can run)
   */
  LOCK_TIMEOUT: 'CONTROL_PLANE_LOCK_TIMEOUT_SECONDS',
} as const;

/** Minutes a lock outlives the engine's whole-execution timeout (so that no execution that could still report is overtaken). */
export const LOCK_EXPIRY_MARGIN_MINUTES = 15;
/** The shortest lock timeout accepted: a deployment of a new environment takes 15-25 minutes. */
export const MIN_LOCK_TIMEOUT_SECONDS = 30 * 60;
/**
 * The longest lock timeout accepted, and the one used when the variable is unset: the longest
 * engine the construct can build (buildTimeout 480 min + 90 min) plus the margin.
 */
export const MAX_LOCK_TIMEOUT_SECONDS = (480 + 90 + LOCK_EXPIRY_MARGIN_MINUTES) * 60;

/**
 * Reads CONTROL_PLANE_LOCK_TIMEOUT_SECONDS. Throws an Error naming the variable and the fix when it
 * is not a whole number of seconds in range: a lock that expires too soon would let a second
 * deployment overtake a running one.
 */
export function parseLockTimeoutSeconds(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return MAX_LOCK_TIMEOUT_SECONDS;
  const v = /^\d{1,9}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(v) || v < MIN_LOCK_TIMEOUT_SECONDS || v > MAX_LOCK_TIMEOUT_SECONDS) {
    throw new Error(
      `${CONTROL_PLANE_ENV.LOCK_TIMEOUT} is ${JSON.stringify(text.slice(0, 40))}; set it to whole seconds from ${MIN_LOCK_TIMEOUT_SECONDS} to ${MAX_LOCK_TIMEOUT_SECONDS}: the engine's timeout plus ${LOCK_EXPIRY_MARGIN_MINUTES} minutes (the ControlPlane construct sets it)`,
    );
  }
  return v;
}

/** The `source` of every control-plane event. */
export const CONTROL_PLANE_EVENT_SOURCE = 'blockchain-tenancy.control-plane';

/** The `detail-type`s of the control-plane events. */
export const CONTROL_PLANE_DETAIL_TYPES = {
  /** A deployment was queued (detail: the {@link Deployment}); the engine starts on it. */
  REQUESTED: 'Deployment Requested',
  /** A deployment changed status (detail: the {@link Deployment} and `previousStatus`). */
  STATUS_CHANGED: 'Deployment Status Changed',
} as const;

/** Per-tenant quotas of the lifecycle routes (refused with 403 `QuotaExceeded`). */
export interface ControlPlaneQuotas {
  /** Environments a tenant may have (not counting deleted ones). */
  readonly maxEnvironmentsPerTenant: number;
  /** Nodes an environment may have. */
  readonly maxNodesPerEnvironment: number;
  /**
   * EC2 instance types a node may be given (checked for nodes that are added or change type).
   * @default - any instance type
   */
  readonly allowedInstanceTypes?: readonly string[];
}

/** The quotas when CONTROL_PLANE_QUOTAS is not set. */
export const DEFAULT_CONTROL_PLANE_QUOTAS: ControlPlaneQuotas = { maxEnvironmentsPerTenant: 10, maxNodesPerEnvironment: 20 };

/**
 * Reads CONTROL_PLANE_QUOTAS (JSON). Throws an Error naming the field and the fix when it is not
 * valid: a misconfigured handler must fail loudly, not run without limits.
 */
export function parseControlPlaneQuotas(text: string | undefined): ControlPlaneQuotas {
  if (text === undefined || text.trim() === '') return DEFAULT_CONTROL_PLANE_QUOTAS;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${CONTROL_PLANE_ENV.QUOTAS} is not JSON; set it to e.g. {"maxEnvironmentsPerTenant":10,"maxNodesPerEnvironment":20}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${CONTROL_PLANE_ENV.QUOTAS} must be a JSON object`);
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['maxEnvironmentsPerTenant', 'maxNodesPerEnvironment', 'allowedInstanceTypes'].includes(key)) {
      throw new Error(`${CONTROL_PLANE_ENV.QUOTAS}.${key} is not a quota; use maxEnvironmentsPerTenant, maxNodesPerEnvironment, allowedInstanceTypes`);
    }
  }
  const count = (key: 'maxEnvironmentsPerTenant' | 'maxNodesPerEnvironment'): number => {
    const v = o[key] ?? DEFAULT_CONTROL_PLANE_QUOTAS[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 10_000) throw new Error(`${CONTROL_PLANE_ENV.QUOTAS}.${key} must be a whole number from 1 to 10000, got ${JSON.stringify(v)}`);
    return v;
  };
  const types = o.allowedInstanceTypes;
  if (types !== undefined && (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string' && /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/.test(t)))) {
    throw new Error(`${CONTROL_PLANE_ENV.QUOTAS}.allowedInstanceTypes must be a non-empty list of EC2 instance types, e.g. ["t4g.medium","m7g.large"]`);
  }
  return { maxEnvironmentsPerTenant: count('maxEnvironmentsPerTenant'), maxNodesPerEnvironment: count('maxNodesPerEnvironment'), ...(types ? { allowedInstanceTypes: types as string[] } : {}) };
}

/** What a deployment does to the environment's stack. */
export type DeploymentAction = 'create' | 'update' | 'delete';
/** A deployment's status: queued (recorded, event sent), deploying (the build runs), ready, failed. */
export type DeploymentStatus = 'queued' | 'deploying' | 'ready' | 'failed';
/** The statuses after which nothing changes and the environment's lock is released. */
export const TERMINAL_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ['ready', 'failed'];

/** Deployment ids: `d-` + UTC time to the millisecond (17 digits) + 8 random hex digits; they sort by time. */
export const DEPLOYMENT_ID_PATTERN = /^d-\d{17}-[0-9a-f]{8}$/;

/** The start of the reason of a deployment failed because its lock expired (the engine never reported). */
export const ABANDONED_REASON_PREFIX = 'abandoned: ';

/** One entry of a deployment's status history. */
export interface DeploymentHistoryEntry {
  readonly status: DeploymentStatus;
  /** ISO 8601 time. */
  readonly at: string;
  readonly reason?: string;
}

/** A deployment of one environment (the API's answer and the events' detail). */
export interface Deployment {
  readonly deploymentId: string;
  readonly tenantId: string;
  readonly environmentId: string;
  readonly action: DeploymentAction;
  /** A delete that destroys the environment's data (`?purge=true&confirm=<env>`). */
  readonly purge?: boolean;
  /** The stored config version it deploys (for a delete: the version being deleted). */
  readonly configVersion: number;
  readonly status: DeploymentStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The CodeBuild build id, once the engine started it. */
  readonly buildId?: string;
  /** The environment's CloudFormation stack (see environmentStackName). */
  readonly stackName: string;
  /**
   * Why it failed: the first *_FAILED ResourceStatusReason of the stack, or the build's error, or
   * (the engine never reported and the lock expired) {@link ABANDONED_REASON_PREFIX}...
   */
  readonly reason?: string;
  readonly history: readonly DeploymentHistoryEntry[];
}

/** The recorder Lambda's input (sent by the engine's state machine). */
export interface RecorderInput {
  readonly deploymentId: string;
  readonly tenantId: string;
  readonly environmentId: string;
  readonly phase: 'started' | 'succeeded' | 'failed';
  readonly buildId?: string;
  /** The state machine's error: a string, or Step Functions' `{ Error, Cause }`. */
  readonly error?: string | { readonly Error?: string; readonly Cause?: string };
}
