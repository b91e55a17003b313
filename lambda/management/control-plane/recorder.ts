/**
 * The recorder: the Lambda the engine's state machine calls at each step of a deployment
 * (`started` when the build runs, `succeeded` / `failed` when it ends). It moves the deployment to
 * deploying / ready / failed in the control plane's table (a failure's reason is the stack's
 * first *_FAILED event, read with DescribeStackEvents), releases the environment's lock on the
 * terminal phases (a ready delete also marks the environment deleted, its history kept) and puts
 * `Deployment Status Changed` on the bus. Reports of a deployment that is terminal already
 * (retries) change nothing. See docs/adr-0011-control-plane.md.
 */
import { CloudFormationClient, DescribeStackEventsCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CONTROL_PLANE_DETAIL_TYPES, CONTROL_PLANE_ENV, DEPLOYMENT_ID_PATTERN, Deployment, RecorderInput } from '../../../lib/contracts/control-plane';
import { ID_PATTERN } from '../../../lib/contracts/ids';
import { ConfigStore } from './config-store';
import { publish } from './routes';

export interface RecorderDeps {
  readonly store: ConfigStore;
  readonly events: EventBridgeClient;
  readonly eventBusName: string;
  /** A CloudFormation client of the environment's region (undefined: the recorder's own). */
  readonly cloudformation: (region: string | undefined) => CloudFormationClient;
  readonly log?: (entry: Record<string, unknown>) => void;
}

/** The recorder's answer to the state machine. */
export interface RecorderOutput {
  readonly deploymentId: string;
  readonly status: Deployment['status'];
  /** False when the report changed nothing (the deployment was terminal already). */
  readonly recorded: boolean;
  readonly reason?: string;
}

/** The longest reason stored (CloudFormation's own reasons are far shorter). */
const MAX_REASON = 1000;
/** How many nested stacks deep a failure is followed (node groups are one level). */
const MAX_NESTING = 2;

function checkInput(input: RecorderInput): void {
  const bad = (what: string) => {
    throw new Error(`recorder input: ${what}`);
  };
  if (!input || typeof input !== 'object') bad('must be an object');
  if (typeof input.deploymentId !== 'string' || !DEPLOYMENT_ID_PATTERN.test(input.deploymentId)) bad('deploymentId is not a deployment id');
  if (typeof input.tenantId !== 'string' || !ID_PATTERN.test(input.tenantId)) bad('tenantId is not an id');
  if (typeof input.environmentId !== 'string' || !ID_PATTERN.test(input.environmentId)) bad('environmentId is not an id');
  if (!['started', 'succeeded', 'failed'].includes(input.phase)) bad('phase must be started, succeeded or failed');
  if (input.buildId !== undefined && (typeof input.buildId !== 'string' || input.buildId.length > 300)) bad('buildId must be a string');
}

/** Records one report of the engine. */
export async function handleRecorder(input: RecorderInput, deps: RecorderDeps): Promise<RecorderOutput> {
  checkInput(input);
  const { tenantId, environmentId, deploymentId } = input;
  const log = deps.log ?? ((x) => console.log(JSON.stringify(x)));
  const deployment = await deps.store.getDeployment(tenantId, environmentId, deploymentId);
  if (!deployment) throw new Error(`recorder input: deployment ${deploymentId} of ${tenantId}/${environmentId} does not exist`);
  let reason: string | undefined;
  if (input.phase === 'failed' && deployment.status !== 'ready' && deployment.status !== 'failed') {
    reason = await failureReason(deps, deployment, input);
  }
  const status = input.phase === 'started' ? 'deploying' : input.phase === 'succeeded' ? 'ready' : 'failed';
  const out = await deps.store.recordStatus(tenantId, environmentId, deploymentId, status, { ...(input.buildId ? { buildId: input.buildId } : {}), ...(reason !== undefined ? { reason } : {}) });
  if (!out) {
    log({ msg: 'deployment report ignored', deploymentId, phase: input.phase, status: deployment.status });
    return { deploymentId, status: deployment.status, recorded: false };
  }
  await publish({ events: async () => deps.events, eventBusName: deps.eventBusName }, CONTROL_PLANE_DETAIL_TYPES.STATUS_CHANGED, { ...out.deployment, previousStatus: out.previousStatus });
  log({ msg: 'deployment status', tenant: tenantId, environment: environmentId, deploymentId, status, previousStatus: out.previousStatus, ...(reason ? { reason } : {}) });
  return { deploymentId, status, recorded: true, ...(reason !== undefined ? { reason } : {}) };
}

/**
 * Why the deployment failed: the stack's first *_FAILED event since the deployment began (a
 * nested stack's own first failure when that is where it happened), else the build's error.
 */
async function failureReason(deps: RecorderDeps, deployment: Deployment, input: RecorderInput): Promise<string> {
  const stored = await deps.store.getConfigVersion(deployment.tenantId, deployment.environmentId, deployment.configVersion);
  const cfn = deps.cloudformation(stored?.config.region);
  const since = new Date(deployment.createdAt);
  let fromStack: string | undefined;
  try {
    fromStack = await firstFailure(cfn, deployment.stackName, since, 0);
  } catch (e) {
    // No stack (the build failed before CloudFormation) or no access: the build's error says why.
    (deps.log ?? ((x) => console.log(JSON.stringify(x))))({ msg: 'stack events not read', stack: deployment.stackName, error: (e as Error).name });
  }
  const reason = fromStack ?? buildError(input) ?? `the deployment failed before CloudFormation reported a failure${input.buildId ? `; see build ${input.buildId}` : ''}`;
  return reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;
}

async function stackEventsSince(cfn: CloudFormationClient, stack: string, since: Date): Promise<StackEvent[]> {
  const out: StackEvent[] = [];
  let token: string | undefined;
  // Newest first: stop at the first page that reaches back before the deployment.
  do {
    const page = await cfn.send(new DescribeStackEventsCommand({ StackName: stack, NextToken: token }));
    const events = page.StackEvents ?? [];
    out.push(...events.filter((e) => !e.Timestamp || e.Timestamp >= since));
    if (events.some((e) => e.Timestamp && e.Timestamp < since)) break;
    token = page.NextToken;
  } while (token);
  return out;
}

const CANCELLED = /cancelled|canceled/i;

async function firstFailure(cfn: CloudFormationClient, stack: string, since: Date, depth: number): Promise<string | undefined> {
  const failed = (await stackEventsSince(cfn, stack, since))
    .filter((e) => e.ResourceStatus?.endsWith('_FAILED') && e.ResourceStatusReason)
    .sort((a, b) => (a.Timestamp?.getTime() ?? 0) - (b.Timestamp?.getTime() ?? 0));
  // The root cause comes first; the cancellations of the resources beside it follow.
  const first = failed.find((e) => !CANCELLED.test(e.ResourceStatusReason!) && e.LogicalResourceId !== e.StackName) ?? failed[0];
  if (!first) return undefined;
  if (first.ResourceType === 'AWS::CloudFormation::Stack' && first.PhysicalResourceId?.startsWith('arn:') && first.LogicalResourceId !== first.StackName && depth < MAX_NESTING) {
    try {
      const nested = await firstFailure(cfn, first.PhysicalResourceId, since, depth + 1);
      if (nested) return nested;
    } catch {
      // the parent's own reason below
    }
  }
  return `${first.StackName ?? stack} ${first.LogicalResourceId} (${first.ResourceType}) ${first.ResourceStatus}: ${first.ResourceStatusReason}`;
}

/** The state machine's error as a reason: the build's failed phase when the cause is a CodeBuild build. */
function buildError(input: RecorderInput): string | undefined {
  const e = input.error;
  if (e === undefined) return undefined;
  if (typeof e === 'string') return e || undefined;
  let phase: string | undefined;
  try {
    const cause = JSON.parse(e.Cause ?? '') as { Build?: { Phases?: { PhaseType?: string; PhaseStatus?: string; Contexts?: { StatusCode?: string; Message?: string }[] }[] } };
    const p = cause.Build?.Phases?.find((x) => x.PhaseStatus && x.PhaseStatus !== 'SUCCEEDED');
    if (p) phase = `build phase ${p.PhaseType} ${p.PhaseStatus}${p.Contexts?.[0]?.Message ? `: ${p.Contexts[0].Message}` : ''}`;
  } catch {
    // not a build: the cause is not stored (it may quote the build's environment)
  }
  return [e.Error, phase].filter(Boolean).join(': ') || undefined;
}

let defaults: RecorderDeps | undefined;

/** Lambda entry (CONTROL_PLANE_TABLE, EVENT_BUS_NAME). */
export const handler = async (input: RecorderInput): Promise<RecorderOutput> => {
  if (!defaults) {
    const table = process.env[CONTROL_PLANE_ENV.TABLE];
    const bus = process.env[CONTROL_PLANE_ENV.EVENT_BUS];
    if (!table || !bus) throw new Error(`the recorder needs ${CONTROL_PLANE_ENV.TABLE} and ${CONTROL_PLANE_ENV.EVENT_BUS}`);
    const clients = new Map<string, CloudFormationClient>();
    defaults = {
      store: new ConfigStore(new DynamoDBClient({}), table),
      events: new EventBridgeClient({}),
      eventBusName: bus,
      cloudformation: (region) => {
        const key = region ?? '';
        if (!clients.has(key)) clients.set(key, new CloudFormationClient(region ? { region } : {}));
        return clients.get(key)!;
      },
    };
  }
  return handleRecorder(input, defaults);
};
