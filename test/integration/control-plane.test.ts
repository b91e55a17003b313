import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudFormationClient, CreateStackCommand, DescribeStackEventsCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementDeps, ProxyEvent, handleManagement } from '../../lambda/management/api';
import { handleRecorder, RecorderDeps } from '../../lambda/management/control-plane/recorder';
import { EnvironmentConfig, environmentStackName } from '../../lib/config/tenant-config';
import { Deployment, RecorderInput } from '../../lib/contracts/control-plane';
import { createLocalControlPlane, LocalControlPlane } from '../../lib/local/control-plane';
import { serveManagementApi } from '../../lib/local/management-server';
import { MOTO_CREDENTIALS, MOTO_REGION, MotoServer, startMoto } from '../support/moto';
import { BusRecorder, recordBusEvents } from '../support/control-plane-events';
import { FOUR_VALIDATOR_CHAIN, controlPlaneApiDeps } from '../support/control-plane-fixture';

/**
 * The lifecycle routes and the recorder against a real moto server (DynamoDB, EventBridge,
 * CloudFormation, CloudWatch Logs as the bus's rule target). moto's CloudFormation never writes
 * a *_FAILED stack event, so for the failure reasons the recorder's CloudFormation client is
 * moto's with one thin fake on top: DescribeStackEvents of the stacks listed in `recordedEvents`
 * answers those recorded events (shaped as CloudFormation writes them); every other call goes to
 * moto.
 */
describe('control plane: lifecycle routes and recorder against moto', () => {
  let moto: MotoServer;
  let plane: LocalControlPlane;
  let deps: ManagementDeps;
  let recorder: RecorderDeps;
  let clockOffsetMs = 0;
  const logs: Record<string, unknown>[] = [];
  const recordedEvents = new Map<string, StackEvent[]>();
  const LOG_GROUP = '/aws/events/control-plane';

  /** The events the bus delivered (through a real rule to a log group). */
  let bus: BusRecorder;
  const busEvents = () => bus.all();
  const eventsOf = (deploymentId: string) => bus.of(deploymentId);

  const call = async (httpMethod: string, path: string, body?: unknown, opts: { query?: Record<string, string>; headers?: Record<string, string>; deps?: ManagementDeps } = {}) => {
    const res = await handleManagement(
      { httpMethod, path, body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body), queryStringParameters: opts.query ?? null, headers: opts.headers ?? null } as ProxyEvent,
      opts.deps ?? deps,
    );
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any>, headers: res.headers }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const record = (input: Omit<RecorderInput, 'tenantId'> & { tenantId?: string }) => handleRecorder({ tenantId: 'acme', ...input } as RecorderInput, recorder);
  const deployment = async (env: string, id: string) => (await call('GET', `/environments/acme/${env}/deployments/${id}`)).body as Deployment;
  /** Plays the engine to the end: started, then succeeded. */
  const finish = async (env: string, deploymentId: string) => {
    await record({ deploymentId, environmentId: env, phase: 'started', buildId: `deploy:${deploymentId}` });
    await record({ deploymentId, environmentId: env, phase: 'succeeded', buildId: `deploy:${deploymentId}` });
  };

  const dev = {
    cidr: '10.10.0.0/16',
    region: 'us-east-1',
    chain: {
      chainId: 4242,
      members: FOUR_VALIDATOR_CHAIN.members,
      nodes: [...FOUR_VALIDATOR_CHAIN.nodes, { id: 'rpc-1', member: 'globex', role: 'member', instanceType: 't4g.large' }],
    },
  };

  beforeAll(async () => {
    moto = await startMoto();
    plane = await createLocalControlPlane(moto.clientConfig, {
      quotas: { maxEnvironmentsPerTenant: 3, maxNodesPerEnvironment: 7, allowedInstanceTypes: ['t4g.medium', 't4g.large', 'm7g.large'] },
      now: () => new Date(Date.now() + clockOffsetMs),
    });
    // A real rule on the bus delivers every control-plane event to a log group.
    bus = await recordBusEvents(moto.endpoint, plane.deps.eventBusName, LOG_GROUP);
    deps = controlPlaneApiDeps(moto, plane, (e) => logs.push(e));
    const cfn = {
      send: (cmd: unknown) => {
        if (cmd instanceof DescribeStackEventsCommand && recordedEvents.has(cmd.input.StackName!)) return Promise.resolve({ StackEvents: recordedEvents.get(cmd.input.StackName!) });
        return plane.cloudformation.send(cmd as DescribeStackEventsCommand);
      },
    } as unknown as CloudFormationClient;
    recorder = { ...plane.recorder, cloudformation: () => cfn, log: (e) => logs.push(e) };
  });
  afterAll(() => moto?.stop());

  it('answers 404 ControlPlaneDisabled on every lifecycle route without the control plane, and leaves the other routes alone', async () => {
    const off: ManagementDeps = { ...deps, controlPlane: undefined };
    for (const [m, p] of [
      ['POST', '/environments/acme/dev'],
      ['PATCH', '/environments/acme/dev'],
      ['DELETE', '/environments/acme/dev'],
      ['GET', '/environments/acme/dev/config'],
      ['GET', '/environments/acme/dev/deployments'],
      ['GET', '/environments/acme/dev/deployments/d-20260101000000000-00000000'],
      ['POST', '/environments/acme/dev/nodes'],
      ['DELETE', '/environments/acme/dev/nodes/rpc-1'],
    ]) {
      const out = await call(m, p, m === 'GET' || m === 'DELETE' ? undefined : dev, { deps: off });
      expect([m, p, out.status, out.body.error.code]).toEqual([m, p, 404, 'ControlPlaneDisabled']);
      expect(out.body.error.message).toContain('CONTROL_PLANE_TABLE and EVENT_BUS_NAME');
    }
    expect((await call('GET', '/environments', undefined, { deps: off })).status).toBe(200);
  });

  it('creates an environment: 201 queued, config version 1 stored, Deployment Requested on the bus; then queued -> deploying -> ready', async () => {
    const created = await call('POST', '/environments/acme/dev', dev);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ deploymentId: expect.stringMatching(/^d-\d{17}-[0-9a-f]{8}$/), environment: { tenantId: 'acme', environmentId: 'dev' }, configVersion: 1, status: 'queued' });
    const id = created.body.deploymentId as string;
    const config = await call('GET', '/environments/acme/dev/config');
    expect(config).toMatchObject({ status: 200, body: { tenantId: 'acme', environmentId: 'dev', configVersion: 1, config: { id: 'dev', ...dev } } });
    // The deploy job's read: the stored config of the deployment's version.
    expect((await plane.store.getConfigVersion('acme', 'dev', 1))?.config).toEqual({ id: 'dev', ...dev });
    expect(await eventsOf(id)).toEqual([{ type: 'Deployment Requested', detail: expect.objectContaining({ deploymentId: id, action: 'create', status: 'queued', configVersion: 1, stackName: 'AcmeDev' }) }]);
    expect((await plane.store.getEnvironment('acme', 'dev'))?.lockDeploymentId).toBe(id);

    expect(await record({ deploymentId: id, environmentId: 'dev', phase: 'started', buildId: 'deploy:b-1' })).toEqual({ deploymentId: id, status: 'deploying', recorded: true });
    expect(await deployment('dev', id)).toMatchObject({ status: 'deploying', buildId: 'deploy:b-1', history: [{ status: 'queued' }, { status: 'deploying' }] });
    // Step Functions may deliver a report twice: the same step is recorded once.
    expect(await record({ deploymentId: id, environmentId: 'dev', phase: 'started', buildId: 'deploy:b-1' })).toMatchObject({ recorded: false });
    expect(await record({ deploymentId: id, environmentId: 'dev', phase: 'succeeded' })).toMatchObject({ status: 'ready', recorded: true });
    const done = await deployment('dev', id);
    expect(done).toMatchObject({ status: 'ready', action: 'create', stackName: 'AcmeDev', history: [{ status: 'queued' }, { status: 'deploying' }, { status: 'ready' }] });
    expect(done.reason).toBeUndefined();
    const head = await plane.store.getEnvironment('acme', 'dev');
    expect(head).toMatchObject({ state: 'active', configVersion: 1, deployedConfigVersion: 1 });
    expect(head?.lockDeploymentId).toBeUndefined();
    // A retried report changes nothing and sends nothing.
    expect(await record({ deploymentId: id, environmentId: 'dev', phase: 'succeeded' })).toEqual({ deploymentId: id, status: 'ready', recorded: false });
    expect(await record({ deploymentId: id, environmentId: 'dev', phase: 'failed', error: 'late' })).toEqual({ deploymentId: id, status: 'ready', recorded: false });
    const events = await eventsOf(id);
    expect(events.map((e) => [e.type, e.detail.status, e.detail.previousStatus])).toEqual([
      ['Deployment Requested', 'queued', undefined],
      ['Deployment Status Changed', 'deploying', 'queued'],
      ['Deployment Status Changed', 'ready', 'deploying'],
    ]);
    expect(environmentStackName('acme', 'dev')).toBe(done.stackName);
  });

  it('refuses a second create (409 EnvironmentExists) and bad configs (400 with body field paths, every problem listed)', async () => {
    const again = await call('POST', '/environments/acme/dev', dev);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'EnvironmentExists', message: expect.stringContaining('PATCH /environments/acme/dev') } } });
    const bad = await call('POST', '/environments/acme/qa', { cidr: '10.10.4.0/24', flowLogRetentionDays: 2, chain: { nodes: [{ id: 'n-1', member: 'default', role: 'validator' }] }, ingres: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BadRequest');
    expect(bad.body.error.field).toMatch(/^body\./);
    for (const f of ['body.ingres', 'body.flowLogRetentionDays', 'body.chain.nodes', 'body.cidr']) expect(bad.body.error.message).toContain(f);
    expect(bad.body.error.message).toContain("overlaps environment acme/dev's cidr");
    expect(bad.body.error.message).not.toContain('tenants[0]');
    expect((await call('POST', '/environments/acme/qa', '{"cidr":')).body.error).toEqual({ code: 'BadRequest', message: 'the body must be a JSON object', field: 'body' });
    expect((await call('POST', '/environments/acme/qa', { id: 'prod', cidr: '10.30.0.0/16' })).body.error.field).toBe('body.id');
    expect((await call('GET', '/environments/acme/qa/config')).status).toBe(404);
    expect((await call('GET', '/environments/acme/qa/deployments')).status).toBe(404);
  });

  it('patches (202, version 2) with a JSON Merge Patch; refuses guard-rail changes with 422 ChangeRefused and the reason', async () => {
    const patched = await call('PATCH', '/environments/acme/dev', { flowLogRetentionDays: 30, credentials: { maxLifetimeDays: 90 } });
    expect(patched).toMatchObject({ status: 202, body: { configVersion: 2, status: 'queued' } });
    await finish('dev', patched.body.deploymentId);
    expect((await call('GET', '/environments/acme/dev/config')).body).toMatchObject({ configVersion: 2, config: { flowLogRetentionDays: 30, credentials: { maxLifetimeDays: 90 }, chain: dev.chain } });
    // History: version 1 is kept as it was.
    expect((await call('GET', '/environments/acme/dev/config', undefined, { query: { version: '1' } })).body.config).toEqual({ id: 'dev', ...dev });

    const fork = await call('PATCH', '/environments/acme/dev', { chain: { chainId: 1 } });
    expect(fork.status).toBe(400); // a public network's id: the parser refuses it first
    const refused = await call('PATCH', '/environments/acme/dev', { chain: { chainId: 4243 } });
    expect(refused).toMatchObject({ status: 422, body: { error: { code: 'ChangeRefused', field: 'body.chain.chainId', message: expect.stringContaining('would fork the chain') } } });
    const validator = await call('POST', '/environments/acme/dev/nodes', { id: 'validator-5', member: 'acme', role: 'validator' });
    expect(validator).toMatchObject({ status: 422, body: { error: { code: 'ChangeRefused', message: expect.stringContaining('+validator-5') } } });
    const removeValidator = await call('DELETE', '/environments/acme/dev/nodes/validator-1');
    expect(removeValidator.status).toBe(400); // 3 QBFT validators: the parser's rule comes first
    expect(removeValidator.body.error.message).toMatch(/validator/);
    const cidr = await call('PATCH', '/environments/acme/dev', { cidr: '10.11.0.0/16' });
    expect(cidr).toMatchObject({ status: 422, body: { error: { field: 'body.cidr' } } });
    const destroy = await call('PATCH', '/environments/acme/dev', { removalPolicy: 'destroy' });
    expect(destroy.body.error.message).toContain('purge=true&confirm=');
    expect((await plane.store.getEnvironment('acme', 'dev'))).toMatchObject({ configVersion: 2 });
    expect((await plane.store.getEnvironment('acme', 'dev'))?.lockDeploymentId).toBeUndefined();
  });

  it('adds and removes a member node (the node schema, paths from body), within the quotas (403 naming the limit)', async () => {
    const badNode = await call('POST', '/environments/acme/dev/nodes', { id: 'rpc-2', member: 'nobody', role: 'member', instanceType: 'm7g.large' });
    expect(badNode.status).toBe(400);
    expect(badNode.body.error.field).toBe('body.member');
    const typeRefused = await call('POST', '/environments/acme/dev/nodes', { id: 'rpc-2', member: 'acme', role: 'member', instanceType: 'c7g.large' });
    expect(typeRefused).toMatchObject({ status: 403, body: { error: { code: 'QuotaExceeded', message: expect.stringContaining('allowedInstanceTypes is t4g.medium, t4g.large, m7g.large') } } });
    const exists = await call('POST', '/environments/acme/dev/nodes', { id: 'rpc-1', member: 'acme', role: 'member' });
    expect(exists).toMatchObject({ status: 409, body: { error: { code: 'NodeExists', field: 'body.id' } } });

    const added = await call('POST', '/environments/acme/dev/nodes', { id: 'rpc-2', member: 'acme', role: 'member', instanceType: 'm7g.large' });
    expect(added).toMatchObject({ status: 202, body: { configVersion: 3, status: 'queued' } });
    await finish('dev', added.body.deploymentId);
    const added2 = await call('POST', '/environments/acme/dev/nodes', { id: 'rpc-3', member: 'acme', role: 'member' });
    await finish('dev', added2.body.deploymentId);
    const over = await call('POST', '/environments/acme/dev/nodes', { id: 'rpc-4', member: 'acme', role: 'member' });
    expect(over).toMatchObject({ status: 403, body: { error: { code: 'QuotaExceeded', message: expect.stringContaining('8 nodes; the quota maxNodesPerEnvironment is 7') } } });

    const removed = await call('DELETE', '/environments/acme/dev/nodes/rpc-3');
    expect(removed).toMatchObject({ status: 202, body: { configVersion: 5 } });
    await finish('dev', removed.body.deploymentId);
    const nodes = ((await call('GET', '/environments/acme/dev/config')).body.config.chain.nodes as { id: string }[]).map((n) => n.id);
    expect(nodes).toEqual(['validator-1', 'validator-2', 'validator-3', 'validator-4', 'rpc-1', 'rpc-2']);
    expect((await call('DELETE', '/environments/acme/dev/nodes/rpc-9')).status).toBe(404);
    expect((await call('DELETE', '/environments/acme/dev/nodes/Bad_Id')).body.error.field).toBe('node');
  });

  it('runs one deployment per environment: two PATCHes at once give one 202 and one 409 naming it', async () => {
    const [a, b] = await Promise.all([call('PATCH', '/environments/acme/dev', { ecrEndpoints: true }), call('PATCH', '/environments/acme/dev', { flowLogRetentionDays: 60 })]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([202, 409]);
    const [won, lost] = a.status === 202 ? [a, b] : [b, a];
    expect(lost.body.error).toMatchObject({ code: 'DeploymentInProgress', message: expect.stringContaining(won.body.deploymentId) });
    // Later requests too, until the running one ends.
    expect((await call('DELETE', '/environments/acme/dev')).body.error.message).toContain(won.body.deploymentId);
    await finish('dev', won.body.deploymentId);
    const list = (await call('GET', '/environments/acme/dev/deployments')).body.deployments as Deployment[];
    expect(list[0].deploymentId).toBe(won.body.deploymentId); // newest first
    expect(list.map((d) => d.createdAt)).toEqual([...list.map((d) => d.createdAt)].sort().reverse());
    expect(list.every((d) => d.status === 'ready')).toBe(true);
  });

  it('creates concurrently: two POSTs of one new environment give one 201 and one 409 naming it', async () => {
    const body = { cidr: '10.20.0.0/16', chain: { members: [{ id: 'acme' }] } };
    const [a, b] = await Promise.all([call('POST', '/environments/acme/qa', body), call('POST', '/environments/acme/qa', body)]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const [won, lost] = a.status === 201 ? [a, b] : [b, a];
    expect(lost.body.error).toMatchObject({ code: 'DeploymentInProgress', message: expect.stringContaining(won.body.deploymentId) });
    expect((await busEvents()).filter((e) => e.type === 'Deployment Requested' && e.detail.environmentId === 'qa')).toHaveLength(1);
  });

  it('records a failed deployment with the first *_FAILED reason of the stack (a node group\'s nested stack followed) and releases the lock', async () => {
    const [qa] = (await call('GET', '/environments/acme/qa/deployments')).body.deployments as Deployment[];
    await record({ deploymentId: qa.deploymentId, environmentId: 'qa', phase: 'started', buildId: 'deploy:b-qa' });
    const t = (s: number) => new Date(Date.now() + s * 1000);
    const stackId = 'arn:aws:cloudformation:us-east-1:123456789012:stack/AcmeQa/1';
    const nestedId = 'arn:aws:cloudformation:us-east-1:123456789012:stack/AcmeQa-NodesGroupRpcNestedStack-1/2';
    // Newest first, as DescribeStackEvents answers.
    recordedEvents.set('AcmeQa', [
      { StackId: stackId, StackName: 'AcmeQa', EventId: 'e6', LogicalResourceId: 'AcmeQa', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'ROLLBACK_COMPLETE', Timestamp: t(9) },
      { StackId: stackId, StackName: 'AcmeQa', EventId: 'e5', LogicalResourceId: 'AcmeQa', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'ROLLBACK_IN_PROGRESS', ResourceStatusReason: 'The following resource(s) failed to create: [NodesGroupRpcNestedStack]. Rollback requested by user.', Timestamp: t(6) },
      { StackId: stackId, StackName: 'AcmeQa', EventId: 'e4', LogicalResourceId: 'Storage1234', ResourceType: 'AWS::EFS::FileSystem', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'Resource creation cancelled', Timestamp: t(5) },
      { StackId: stackId, StackName: 'AcmeQa', EventId: 'e3', LogicalResourceId: 'NodesGroupRpcNestedStack', PhysicalResourceId: nestedId, ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'Embedded stack ' + nestedId + ' was not successfully created: The following resource(s) failed to create: [rpc1InstanceGroupASG].', Timestamp: t(4) },
      { StackId: stackId, StackName: 'AcmeQa', EventId: 'e1', LogicalResourceId: 'AcmeQa', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'CREATE_IN_PROGRESS', ResourceStatusReason: 'User Initiated', Timestamp: t(1) },
      { StackId: stackId, StackName: 'AcmeQa', EventId: 'e0', LogicalResourceId: 'Old', ResourceType: 'AWS::EC2::VPC', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'a failure of an earlier deployment', Timestamp: new Date(Date.now() - 3600_000) },
    ]);
    recordedEvents.set(nestedId, [
      { StackId: nestedId, StackName: 'AcmeQa-NodesGroupRpcNestedStack-1', EventId: 'n3', LogicalResourceId: 'rpc1Storage', ResourceType: 'AWS::EFS::FileSystem', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: 'Resource creation cancelled', Timestamp: t(3) },
      {
        StackId: nestedId,
        StackName: 'AcmeQa-NodesGroupRpcNestedStack-1',
        EventId: 'n2',
        LogicalResourceId: 'rpc1InstanceGroupASG',
        ResourceType: 'AWS::AutoScaling::AutoScalingGroup',
        ResourceStatus: 'CREATE_FAILED',
        ResourceStatusReason: 'You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the specified instance type belongs to.',
        Timestamp: t(2),
      },
    ]);
    const out = await record({ deploymentId: qa.deploymentId, environmentId: 'qa', phase: 'failed', buildId: 'deploy:b-qa', error: { Error: 'States.TaskFailed', Cause: '{"Build":{"Phases":[]}}' } });
    expect(out).toMatchObject({ status: 'failed', recorded: true });
    const failed = await deployment('qa', qa.deploymentId);
    expect(failed.reason).toBe('AcmeQa-NodesGroupRpcNestedStack-1 rpc1InstanceGroupASG (AWS::AutoScaling::AutoScalingGroup) CREATE_FAILED: You have requested more vCPU capacity than your current vCPU limit of 32 allows for the instance bucket that the specified instance type belongs to.');
    expect(failed.history.map((h) => h.status)).toEqual(['queued', 'deploying', 'failed']);
    expect(failed.history[2].reason).toBe(failed.reason);
    expect((await plane.store.getEnvironment('acme', 'qa'))?.lockDeploymentId).toBeUndefined();
    expect((await eventsOf(qa.deploymentId)).at(-1)).toMatchObject({ type: 'Deployment Status Changed', detail: { status: 'failed', previousStatus: 'deploying', reason: failed.reason } });
    // The stored config stays the desired one: an unchanged PATCH deploys it again.
    const retry = await call('PATCH', '/environments/acme/qa', {});
    expect(retry).toMatchObject({ status: 202, body: { configVersion: 1 } });
    recordedEvents.delete('AcmeQa');
    // No stack at all (moto answers ValidationError) and no cause: a reason that says so.
    await record({ deploymentId: retry.body.deploymentId, environmentId: 'qa', phase: 'failed', buildId: 'deploy:b-2' });
    expect((await deployment('qa', retry.body.deploymentId)).reason).toBe('the deployment failed before CloudFormation reported a failure; see build deploy:b-2');
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'stack events not read', stack: 'AcmeQa' }));
    // A stack without *_FAILED events (moto's own, real) -> the build's failed phase is the reason.
    await plane.cloudformation.send(new CreateStackCommand({ StackName: 'AcmeQa', TemplateBody: JSON.stringify({ Resources: { Topic: { Type: 'AWS::SNS::Topic' } } }) }));
    const again = await call('PATCH', '/environments/acme/qa', {});
    expect((await call('PATCH', '/environments/acme/qa', {})).status).toBe(409);
    const cause = { Build: { Phases: [{ PhaseType: 'INSTALL', PhaseStatus: 'SUCCEEDED' }, { PhaseType: 'BUILD', PhaseStatus: 'FAILED', Contexts: [{ StatusCode: 'COMMAND_EXECUTION_ERROR', Message: 'Error while executing command: npx cdk deploy. Reason: exit status 1' }] }] } };
    await record({ deploymentId: again.body.deploymentId, environmentId: 'qa', phase: 'failed', error: { Error: 'States.TaskFailed', Cause: JSON.stringify(cause) } });
    expect((await deployment('qa', again.body.deploymentId)).reason).toBe('States.TaskFailed: build phase BUILD FAILED: Error while executing command: npx cdk deploy. Reason: exit status 1');
  });

  it('refuses an environment over the tenant quota with 403 naming the limit', async () => {
    const third = await call('POST', '/environments/acme/test', { cidr: '10.30.0.0/16', chain: { members: [{ id: 'acme' }] } });
    expect(third.status).toBe(201);
    await finish('test', third.body.deploymentId);
    const fourth = await call('POST', '/environments/acme/extra', { cidr: '10.40.0.0/16' });
    expect(fourth).toMatchObject({ status: 403, body: { error: { code: 'QuotaExceeded', message: 'tenant acme has 3 environments; the quota maxEnvironmentsPerTenant is 3: delete one or ask the operator to raise the quota' } } });
    // Another tenant has its own quota (and may reuse the CIDRs of acme's environments).
    expect((await call('POST', '/environments/globex/dev', { cidr: '10.10.0.0/16' })).status).toBe(201);
  });

  it('deletes without purge (keeps data per removalPolicy) and with purge (confirm=<env> required); history is kept', async () => {
    const noConfirm = await call('DELETE', '/environments/acme/test', undefined, { query: { purge: 'true' } });
    expect(noConfirm).toMatchObject({ status: 400, body: { error: { field: 'confirm', message: expect.stringContaining('?purge=true&confirm=test') } } });
    expect((await call('DELETE', '/environments/acme/test', undefined, { query: { purge: 'true', confirm: 'dev' } })).status).toBe(400);
    expect((await call('DELETE', '/environments/acme/test', undefined, { query: { purge: 'yes' } })).body.error.field).toBe('purge');

    const keep = await call('DELETE', '/environments/acme/test');
    expect(keep).toMatchObject({ status: 202, body: { status: 'queued' } });
    const kept = await deployment('test', keep.body.deploymentId);
    expect(kept).toMatchObject({ action: 'delete', configVersion: 1 });
    expect(kept.purge).toBeUndefined();
    await finish('test', keep.body.deploymentId);
    expect(await plane.store.getEnvironment('acme', 'test')).toMatchObject({ state: 'deleted', purged: false });
    expect((await call('GET', '/environments/acme/test/config')).body.error.message).toContain('was deleted');
    expect((await call('GET', '/environments/acme/test/config', undefined, { query: { version: '1' } })).status).toBe(200);
    expect((await call('PATCH', '/environments/acme/test', {})).status).toBe(404);
    // The tenant is under its quota again: an environment can be created (and this one re-created).
    const recreated = await call('POST', '/environments/acme/test', { cidr: '10.30.0.0/16', chain: { members: [{ id: 'acme' }] } });
    expect(recreated).toMatchObject({ status: 201, body: { configVersion: 2 } });
    await finish('test', recreated.body.deploymentId);

    const purge = await call('DELETE', '/environments/acme/test', undefined, { query: { purge: 'true', confirm: 'test' } });
    expect(purge.status).toBe(202);
    expect(await deployment('test', purge.body.deploymentId)).toMatchObject({ action: 'delete', purge: true, configVersion: 2 });
    expect((await eventsOf(purge.body.deploymentId))[0].detail).toMatchObject({ action: 'delete', purge: true });
    await finish('test', purge.body.deploymentId);
    expect(await plane.store.getEnvironment('acme', 'test')).toMatchObject({ state: 'deleted', purged: true, configVersion: 2 });
    expect((await call('GET', '/environments/acme/test/deployments')).body.deployments).toHaveLength(4);
  });

  describe('idempotency keys', () => {
    const key = { 'Idempotency-Key': '7d6c3a52-58a4-4bd0-a7b0-2a4b4c0d1e01' };
    it('answers a retry with the first answer (even while its deployment runs), sends one event; another body with the key -> 422', async () => {
      const body = { cidr: '10.50.0.0/16' };
      const first = await call('POST', '/environments/globex/qa', body, { headers: key });
      expect(first.status).toBe(201);
      const retry = await call('POST', '/environments/globex/qa', { ...body }, { headers: { 'idempotency-key': key['Idempotency-Key'] } });
      expect(retry).toMatchObject({ status: 201, body: first.body, headers: { 'idempotent-replayed': 'true' } });
      expect((await busEvents()).filter((e) => e.type === 'Deployment Requested' && e.detail.environmentId === 'qa' && e.detail.tenantId === 'globex')).toHaveLength(1);
      const other = await call('POST', '/environments/globex/qa', { cidr: '10.51.0.0/16' }, { headers: key });
      expect(other).toMatchObject({ status: 422, body: { error: { code: 'IdempotencyKeyReused', field: 'Idempotency-Key' } } });
      expect((await call('POST', '/environments/globex/qa', body, { headers: { 'Idempotency-Key': 'bad key!' } })).body.error.field).toBe('Idempotency-Key');
      await handleRecorder({ tenantId: 'globex', environmentId: 'qa', deploymentId: first.body.deploymentId, phase: 'succeeded' }, recorder);
    });

    it('keeps the answer 24 hours (the production TTL), then the key is free again', async () => {
      const k = { 'Idempotency-Key': 'patch-1' };
      const first = await call('PATCH', '/environments/globex/qa', { flowLogRetentionDays: 30 }, { headers: k });
      expect(first.status).toBe(202);
      await handleRecorder({ tenantId: 'globex', environmentId: 'qa', deploymentId: first.body.deploymentId, phase: 'succeeded' }, recorder);
      clockOffsetMs = 24 * 3600_000 - 60_000;
      expect((await call('PATCH', '/environments/globex/qa', { flowLogRetentionDays: 60 }, { headers: k })).status).toBe(422);
      clockOffsetMs = 24 * 3600_000 + 60_000;
      const later = await call('PATCH', '/environments/globex/qa', { flowLogRetentionDays: 60 }, { headers: k });
      expect(later).toMatchObject({ status: 202, body: { configVersion: 3 } });
      expect(later.body.deploymentId).not.toBe(first.body.deploymentId);
      await handleRecorder({ tenantId: 'globex', environmentId: 'qa', deploymentId: later.body.deploymentId, phase: 'succeeded' }, recorder);
      // The clock stays a day ahead: time never runs backwards for the tests that follow.
    });

    it('two identical requests with one key at once: one deployment, both get its answer', async () => {
      const k = { 'Idempotency-Key': 'same-at-once' };
      const [a, b] = await Promise.all([call('PATCH', '/environments/globex/qa', { ecrEndpoints: true }, { headers: k }), call('PATCH', '/environments/globex/qa', { ecrEndpoints: true }, { headers: k })]);
      expect([a.status, b.status]).toEqual([202, 202]);
      expect(a.body.deploymentId).toBe(b.body.deploymentId);
      expect((await eventsOf(a.body.deploymentId)).filter((e) => e.type === 'Deployment Requested')).toHaveLength(1);
      await handleRecorder({ tenantId: 'globex', environmentId: 'qa', deploymentId: a.body.deploymentId, phase: 'succeeded' }, recorder);
    });
  });

  it('fails the deployment and frees the lock when the event cannot be published (503, nothing deployed)', async () => {
    const broken: ManagementDeps = { ...deps, controlPlane: { ...plane.deps, eventBusName: 'no-such-bus' } };
    const out = await call('PATCH', '/environments/globex/qa', { flowLogRetentionDays: 90 }, { deps: broken, headers: { 'Idempotency-Key': 'unpublished' } });
    expect(out).toMatchObject({ status: 503, body: { error: { code: 'ServiceUnavailable' } } });
    const [latest] = (await call('GET', '/environments/globex/qa/deployments')).body.deployments as Deployment[];
    expect(latest).toMatchObject({ status: 'failed', reason: expect.stringContaining('nothing was deployed') });
    expect((await plane.store.getEnvironment('globex', 'qa'))?.lockDeploymentId).toBeUndefined();
    // The key was forgotten: the retry (bus fixed) goes through.
    expect((await call('PATCH', '/environments/globex/qa', { flowLogRetentionDays: 90 }, { headers: { 'Idempotency-Key': 'unpublished' } })).status).toBe(202);
  });

  it('the local HTTP server passes Idempotency-Key through (SigV4-signed, as the CLI sends it)', async () => {
    const api = await serveManagementApi({ deps, credentials: MOTO_CREDENTIALS, region: MOTO_REGION });
    try {
      const signer = new SignatureV4({ credentials: MOTO_CREDENTIALS, region: MOTO_REGION, service: 'execute-api', sha256: Sha256 });
      const url = new URL(`${api.endpoint}/environments/initech/dev`);
      const send = async (body: string) => {
        const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host, 'content-type': 'application/json', 'idempotency-key': 'http-1' }, body });
        const res = await fetch(url, { method: 'POST', headers: signed.headers, body });
        return { status: res.status, body: (await res.json()) as Record<string, any>, replayed: res.headers.get('idempotent-replayed') }; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
      const a = await send('{"cidr":"10.60.0.0/16"}');
      const b = await send('{ "cidr": "10.60.0.0/16" }');
      expect(a.status).toBe(201);
      expect(b).toEqual({ status: 201, body: a.body, replayed: 'true' });
    } finally {
      await api.close();
    }
  });

  it('refuses a change computed from a config version that moved meanwhile (409 ConcurrentChange, nothing written)', async () => {
    const head = (await plane.store.getEnvironment('acme', 'dev'))!;
    expect(head.lockDeploymentId).toBeUndefined();
    const stale = await plane.store.requestDeployment({ tenantId: 'acme', environmentId: 'dev', action: 'update', expectedConfigVersion: head.configVersion - 1, config: { id: 'dev', ...dev } as EnvironmentConfig, stackName: 'AcmeDev' });
    expect(stale).toEqual({ conflict: { kind: 'changed' } });
    expect(await plane.store.getEnvironment('acme', 'dev')).toEqual(head);
    expect(await plane.store.getConfigVersion('acme', 'dev', head.configVersion + 1)).toBeUndefined();
  });

  it('refuses hostile bodies with 400/413 and names the limit, before anything is stored', async () => {
    const deep = `${'{"chain":'.repeat(1)}${'{"a":'.repeat(100_000)}1${'}'.repeat(100_001)}`;
    for (const [m, p] of [
      ['PATCH', '/environments/acme/dev'],
      ['POST', '/environments/acme/deep'],
      ['POST', '/environments/acme/dev/nodes'],
    ]) {
      const out = await call(m, p, deep, { headers: { 'Idempotency-Key': 'deep-1' } });
      expect([m, out.status, out.body.error.code, out.body.error.message]).toEqual([m, 413, 'PayloadTooLarge', expect.stringContaining('128 KB')]);
      const nested = await call(m, p, `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`, { headers: { 'Idempotency-Key': 'deep-2' } });
      expect([m, nested.status, nested.body.error.message]).toEqual([m, 400, expect.stringContaining('deeper than 16 levels')]);
    }
    expect((await call('POST', '/environments/acme/dev/nodes', '["x"]')).body.error).toMatchObject({ field: 'body' });
    expect((await call('GET', '/environments/acme/deep/config')).status).toBe(404);
    // The refused requests stored no answer under their keys.
    expect(await plane.store.getIdempotency('acme', 'dev', 'deep-1')).toBeUndefined();
  });

  it('never logs a config or a key', () => {
    const text = JSON.stringify(logs);
    expect(text).not.toContain('10.60.0.0');
    expect(text).not.toContain('7d6c3a52');
    expect(logs.filter((l) => l.msg === 'deployment requested').length).toBeGreaterThan(5);
  });
});
