// EC2 and Auto Scaling are loaded only by the node routes (the EC2 client alone takes ~185 ms to
// load): environment and credential calls start without them. `require`, not `import()`: in
// Lambda the SDK comes from NODE_PATH, which ES module resolution ignores.
import type { EC2Client, Instance } from '@aws-sdk/client-ec2';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';

/** The EC2 SDK module, loaded on first use. */
export const ec2Sdk = (): typeof import('@aws-sdk/client-ec2') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2');
/** The Auto Scaling SDK module, loaded on first use. */
export const autoScalingSdk = (): typeof import('@aws-sdk/client-auto-scaling') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@aws-sdk/client-auto-scaling') as typeof import('@aws-sdk/client-auto-scaling');
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ID_PATTERN } from '../../lib/contracts/ids';
import { EnvironmentRegistrationValue, REGISTRATION_PREFIX } from '../../lib/contracts/registration-format';
import { EnvironmentTags } from '../../lib/contracts/tags';
import { IssuerRequest, IssuerResponse } from '../issuer/handler';
import { ApiError, ProxyResult, json } from './api-error';
import { ControlPlaneDeps, handleLifecycle, isLifecycleRoute } from './control-plane/routes';

/** The API Gateway (REST, Lambda proxy) event fields used. */
export interface ProxyEvent {
  readonly httpMethod: string;
  readonly path: string;
  readonly body?: string | null;
  readonly queryStringParameters?: Record<string, string | undefined> | null;
  /** Request headers (any case); the lifecycle routes read `Idempotency-Key`. */
  readonly headers?: Record<string, string | undefined> | null;
}

export type { ProxyResult };

export interface ManagementDeps {
  readonly ssm: SSMClient;
  /** The EC2 client, created on first use by a node route. */
  readonly ec2: () => Promise<EC2Client>;
  /** The Auto Scaling client, created on first use by a node action. */
  readonly autoscaling: () => Promise<AutoScalingClient>;
  /** Calls an environment's issuer (the same code as the application-layer issuer). */
  readonly invokeIssuer: (functionArn: string, request: IssuerRequest) => Promise<IssuerResponse>;
  readonly log?: (entry: Record<string, unknown>) => void;
  /**
   * The control plane (lifecycle routes: create, change, delete environments and nodes). Set
   * when the handler has CONTROL_PLANE_TABLE and EVENT_BUS_NAME.
   * @default - the lifecycle routes answer 404 ControlPlaneDisabled
   */
  readonly controlPlane?: ControlPlaneDeps;
}

const NODE_ACTIONS = ['start', 'stop', 'reboot'] as const;

/**
 * The management API: environments (from their registrations), nodes (EC2, by the environment's
 * tags), node actions, and app credentials (through the environment's own issuer). Errors are
 * 400 with the offending field, 404 for unknown environments / nodes / credentials, 403 for
 * cross-environment attempts; never a stack trace, never a secret except the one-time secret of
 * a create or regenerate answer.
 */
export async function handleManagement(event: ProxyEvent, deps: ManagementDeps): Promise<ProxyResult> {
  try {
    return await route(event, deps);
  } catch (e) {
    if (e instanceof ApiError) return json(e.status, { error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}), ...(e.details ?? {}) } });
    (deps.log ?? ((x) => console.error(JSON.stringify(x))))({ msg: 'management API failed', error: (e as Error).name });
    return json(500, { error: { code: 'Internal', message: 'the request could not be completed; try again' } });
  }
}

async function route(event: ProxyEvent, deps: ManagementDeps): Promise<ProxyResult> {
  const parts = (event.path ?? '/').split('/').filter(Boolean).map(decodeURIComponent);
  const method = event.httpMethod;
  if (parts[0] !== 'environments') throw new ApiError(404, 'NotFound', `no route ${method} ${event.path}`);
  if (parts.length === 1 && method === 'GET') return json(200, { environments: await listEnvironments(deps) });
  const [, tenantId, environmentId, collection, id, action] = parts;
  checkId('tenant', tenantId);
  checkId('environment', environmentId);
  // The lifecycle routes work on the control plane's store, not on the registration.
  if (isLifecycleRoute(method, parts)) return handleLifecycle(event, parts, deps);
  const env = await getEnvironment(deps, tenantId, environmentId);
  if (parts.length === 3 && method === 'GET') return json(200, { environment: env });
  if (collection === 'nodes') {
    if (parts.length === 4 && method === 'GET') return json(200, { nodes: await listNodes(deps, env) });
    if (parts.length === 6 && method === 'POST' && (NODE_ACTIONS as readonly string[]).includes(action)) {
      return json(202, await nodeAction(deps, env, id, action as (typeof NODE_ACTIONS)[number]));
    }
  }
  if (collection === 'credentials') {
    if (!env.issuerFunctionArn) throw new ApiError(404, 'NotFound', `environment ${tenantId}/${environmentId} has no credential issuer (no nodes)`);
    const issue = async (request: IssuerRequest, okStatus = 200) => {
      const out = await deps.invokeIssuer(env.issuerFunctionArn!, request);
      if (!out.ok) throw new ApiError(out.status, out.status === 404 ? 'NotFound' : out.status === 400 ? 'BadRequest' : 'Internal', out.error.message, out.error.field);
      return json(okStatus, out);
    };
    if (parts.length === 4 && method === 'POST') {
      const body = parseBody(event.body);
      const memberId = body.memberId;
      if (typeof memberId !== 'string' || !Object.values(env.nodes).includes(memberId)) {
        throw new ApiError(400, 'BadRequest', `memberId must be a member of ${tenantId}/${environmentId}: one of ${[...new Set(Object.values(env.nodes))].join(', ')}`, 'memberId');
      }
      for (const key of Object.keys(body)) {
        if (!['memberId', 'lifetimeDays', 'description'].includes(key)) throw new ApiError(400, 'BadRequest', `unknown field ${key}; allowed: memberId, lifetimeDays, description`, key);
      }
      const res = await issue({ action: 'create', memberId, ...(body.lifetimeDays !== undefined ? { lifetimeDays: body.lifetimeDays as number } : {}), ...(body.description !== undefined ? { description: body.description as string } : {}) }, 201);
      return withUrls(res, env, memberId);
    }
    if (parts.length === 4 && method === 'GET') {
      const memberId = event.queryStringParameters?.memberId;
      return issue({ action: 'list', ...(memberId ? { memberId } : {}) });
    }
    if (parts.length === 5 && method === 'GET') return issue({ action: 'describe', id });
    if (parts.length === 5 && method === 'DELETE') return issue({ action: 'revoke', id });
    if (parts.length === 6 && method === 'POST' && action === 'regenerate') {
      const res = await issue({ action: 'regenerate', id });
      const member = (JSON.parse(res.body) as { credential: { memberId: string } }).credential.memberId;
      return withUrls(res, env, member);
    }
  }
  throw new ApiError(404, 'NotFound', `no route ${method} ${event.path}`);
}

function checkId(what: string, value: string | undefined): void {
  if (!value || !ID_PATTERN.test(value)) throw new ApiError(400, 'BadRequest', `${what} id "${String(value ?? '').slice(0, 40)}" is not valid; use 2-24 characters of a-z, 0-9 and "-"`, what);
}

function parseBody(body: string | null | undefined): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body ?? '') as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'BadRequest', 'the body must be a JSON object, e.g. {"memberId":"acme"}', 'body');
}

/** Adds the ready-to-paste URLs of the member's nodes to a create / regenerate answer. */
function withUrls(res: ProxyResult, env: EnvironmentRegistrationValue, memberId: string): ProxyResult {
  const body = JSON.parse(res.body) as { credential: { id: string }; secret: string };
  const nodes = Object.entries(env.nodes).filter(([, m]) => m === memberId).map(([n]) => n);
  const urls = nodes.map((n) => {
    const host = env.domainName ? `${n}.${env.domainName}` : env.loadBalancerDnsName ? `${env.loadBalancerDnsName}/nodes/${n}` : undefined;
    return host ? { node: n, https: `https://${body.credential.id}:${body.secret}@${host}/`, wss: `wss://${body.credential.id}:${body.secret}@${host}/ws` } : { node: n };
  });
  return { ...res, body: JSON.stringify({ ...body, urls }) };
}

async function listEnvironments(deps: ManagementDeps): Promise<EnvironmentRegistrationValue[]> {
  const out: EnvironmentRegistrationValue[] = [];
  let token: string | undefined;
  do {
    const page = await deps.ssm.send(new GetParametersByPathCommand({ Path: REGISTRATION_PREFIX, Recursive: true, NextToken: token }));
    for (const p of page.Parameters ?? []) out.push(JSON.parse(p.Value ?? '{}') as EnvironmentRegistrationValue);
    token = page.NextToken;
  } while (token);
  return out.sort((a, b) => `${a.tenantId}/${a.environmentId}`.localeCompare(`${b.tenantId}/${b.environmentId}`));
}

async function getEnvironment(deps: ManagementDeps, tenantId: string, environmentId: string): Promise<EnvironmentRegistrationValue> {
  try {
    const out = await deps.ssm.send(new GetParameterCommand({ Name: `${REGISTRATION_PREFIX}${tenantId}/${environmentId}` }));
    return JSON.parse(out.Parameter?.Value ?? '{}') as EnvironmentRegistrationValue;
  } catch (e) {
    if ((e as Error).name === 'ParameterNotFound') throw new ApiError(404, 'NotFound', `environment ${tenantId}/${environmentId} is not registered (deploy it with cdk deploy)`);
    throw e;
  }
}

const tag = (i: Instance, key: string) => i.Tags?.find((t) => t.Key === key)?.Value;

async function instancesWhere(deps: ManagementDeps, filters: { Name: string; Values: string[] }[]): Promise<Instance[]> {
  const out: Instance[] = [];
  const { DescribeInstancesCommand } = ec2Sdk();
  const ec2 = await deps.ec2();
  let token: string | undefined;
  do {
    const page = await ec2.send(new DescribeInstancesCommand({ Filters: [...filters, { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] }], NextToken: token }));
    for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

async function listNodes(deps: ManagementDeps, env: EnvironmentRegistrationValue) {
  const instances = await instancesWhere(deps, [
    { Name: `tag:${EnvironmentTags.TENANT}`, Values: [env.tenantId] },
    { Name: `tag:${EnvironmentTags.ENVIRONMENT}`, Values: [env.environmentId] },
  ]);
  return Object.entries(env.nodes).map(([nodeId, memberId]) => {
    const i = instances.find((x) => tag(x, EnvironmentTags.NODE) === nodeId);
    const host = env.domainName ? `${nodeId}.${env.domainName}` : env.loadBalancerDnsName ? `${env.loadBalancerDnsName}/nodes/${nodeId}` : undefined;
    return {
      nodeId,
      memberId,
      state: i?.State?.Name ?? 'no-instance',
      ...(i ? { instanceId: i.InstanceId, privateIp: i.PrivateIpAddress, instanceType: i.InstanceType, launchTime: i.LaunchTime?.toISOString() } : {}),
      ...(host ? { endpoints: { https: `https://${host}/`, wss: `wss://${host}/ws` } } : {}),
    };
  });
}

async function nodeAction(deps: ManagementDeps, env: EnvironmentRegistrationValue, nodeId: string, action: (typeof NODE_ACTIONS)[number]) {
  checkId('node', nodeId);
  const tagged = await instancesWhere(deps, [{ Name: `tag:${EnvironmentTags.NODE}`, Values: [nodeId] }]);
  const mine = tagged.filter((i) => tag(i, EnvironmentTags.TENANT) === env.tenantId && tag(i, EnvironmentTags.ENVIRONMENT) === env.environmentId);
  if (mine.length === 0) {
    if (tagged.length > 0) throw new ApiError(403, 'Forbidden', `node ${nodeId} does not belong to ${env.tenantId}/${env.environmentId}`, 'node');
    throw new ApiError(404, 'NotFound', `node ${nodeId} has no instance in ${env.tenantId}/${env.environmentId}`);
  }
  const ids = mine.map((i) => i.InstanceId!);
  const group = tag(mine[0], 'aws:autoscaling:groupName');
  // A stopped instance would look unhealthy to its Auto Scaling group and be replaced: suspend
  // the replacement while it is stopped, resume it when it starts again.
  const processes = ['HealthCheck', 'ReplaceUnhealthy'];
  const { RebootInstancesCommand, StartInstancesCommand, StopInstancesCommand } = ec2Sdk();
  const { ResumeProcessesCommand, SuspendProcessesCommand } = autoScalingSdk();
  const ec2 = await deps.ec2();
  if (action === 'stop') {
    if (group) await (await deps.autoscaling()).send(new SuspendProcessesCommand({ AutoScalingGroupName: group, ScalingProcesses: processes }));
    await ec2.send(new StopInstancesCommand({ InstanceIds: ids }));
  } else if (action === 'start') {
    await ec2.send(new StartInstancesCommand({ InstanceIds: ids }));
    if (group) await (await deps.autoscaling()).send(new ResumeProcessesCommand({ AutoScalingGroupName: group, ScalingProcesses: processes }));
  } else {
    await ec2.send(new RebootInstancesCommand({ InstanceIds: ids }));
  }
  (deps.log ?? ((x) => console.log(JSON.stringify(x))))({ msg: 'node action', action, node: nodeId, tenant: env.tenantId, environment: env.environmentId, instances: ids });
  return { nodeId, action, instanceIds: ids };
}
