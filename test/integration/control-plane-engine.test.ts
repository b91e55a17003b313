import { readFileSync } from 'node:fs';
import { CloudFormationClient, DescribeStackEventsCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { BatchGetBuildsCommand, BatchGetProjectsCommand, CodeBuildClient, CreateProjectCommand, StartBuildCommand } from '@aws-sdk/client-codebuild';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementDeps, ProxyEvent, handleManagement } from '../../lambda/management/api';
import { ConfigStore } from '../../lambda/management/control-plane/config-store';
import { readDeployJobInput } from '../../lambda/management/control-plane/deploy-job/job';
import { handleRecorder, RecorderDeps } from '../../lambda/management/control-plane/recorder';
import { addManagementStack, parseTenantsConfig } from '../../lib';
import { CONTROL_PLANE_EVENT_SOURCE, Deployment, RecorderInput } from '../../lib/contracts/control-plane';
import { createLocalControlPlane, LocalControlPlane } from '../../lib/local/control-plane';
import { AslUnsupported, ExecutionResult, Json, StatesError, TaskResource, runStateMachine } from '../support/asl';
import { MOTO_REGION, MotoServer, freePort, startMoto, motoJson as motoJsonCall } from '../support/moto';
import { testApp } from '../support/synth';
import { FOUR_VALIDATOR_CHAIN, controlPlaneApiDeps } from '../support/control-plane-fixture';

/**
 * The control plane's engine end to end: the REAL state machine definition of the management
 * stack (synthesized from the production fixture, its CloudFormation intrinsics resolved to local
 * names) run by the strict ASL interpreter of test/support/asl.ts, on the REAL event the
 * lifecycle routes put on the bus.
 *
 * Real: the lifecycle routes (handleManagement) on moto's DynamoDB and EventBridge; the
 * `Deployment Requested` event as moto's EventBridge delivers it through a rule with the
 * template's own event pattern (the template's target has no Input/InputPath/InputTransformer:
 * the whole event is the execution input); every `lambda:invoke` task runs the recorder's code
 * (handleRecorder, what its Lambda entry calls) on moto's DynamoDB, EventBridge and
 * CloudFormation; every `codebuild:startBuild.sync` task calls moto's CodeBuild StartBuild (on a
 * project created in moto with the template's environment) and, for a success, BatchGetBuilds
 * (what Step Functions polls); the overrides checked are the request body moto received.
 *
 * Scripted (moto runs no build and its CloudFormation writes no *_FAILED event): the end of the
 * .sync wait. A success answers `{ Build }` (moto's BatchGetBuilds, in Step Functions' PascalCase);
 * a failure throws `States.TaskFailed` with the Cause Step Functions gives, the JSON of
 * `{ Build }` with BuildStatus FAILED and the failed phase's context. A CloudFormation failure's
 * stack events are recorded events served for DescribeStackEvents of that stack only (as in
 * test/integration/control-plane.test.ts); a build that fails before CloudFormation has no stack
 * in moto, and the recorder's real DescribeStackEvents call fails. A transient recorder failure is
 * a real one: its DynamoDB client is pointed at a closed port for one call. The Lambda service
 * itself (its invoke errors, Lambda.ServiceException) is not exercised; time is not spent: Retry
 * waits are recorded, not slept, and a task timeout is scripted as States.Timeout.
 */

type R = { Type: string; Properties: Record<string, unknown> };
type Obj = { [key: string]: Json };
const ACCOUNT = '123456789012';
const RECORDER_ARN = `arn:aws:lambda:${MOTO_REGION}:${ACCOUNT}:function:control-plane-recorder`;
const PROJECT = 'control-plane-deploy-job';
const TABLE = 'blockchain-tenancy-control-plane';

// The management stack of the production fixture, with the CLI's context, once for the file.
const app = testApp();
const stack = addManagementStack(app, parseTenantsConfig(JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8')), 'production fixture'))!;
const template = Template.fromStack(stack);
const one = (type: string, idPart: string): [string, R] => {
  const found = Object.entries(template.findResources(type) as Record<string, R>).filter(([id]) => id.includes(idPart));
  if (found.length !== 1) throw new Error(`${type} ${idPart}: ${found.length} found`);
  return found[0];
};
const [recorderId] = one('AWS::Lambda::Function', 'ControlPlaneRecorder');
const [projectId, project] = one('AWS::CodeBuild::Project', 'ControlPlaneDeployJob');
const [tableId] = one('AWS::DynamoDB::Table', 'ControlPlaneTable');
const [, engine] = one('AWS::StepFunctions::StateMachine', 'ControlPlaneEngine');
const [, rule] = one('AWS::Events::Rule', 'ControlPlaneOnDeploymentRequested');

/** The template's intrinsics with local names; anything else is an error. */
function resolve(v: unknown): Json {
  if (Array.isArray(v)) return v.map(resolve);
  if (v === null || typeof v !== 'object') return v as Json;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === 'Fn::Join') {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(resolve(p))).join(sep);
  }
  if (keys.length === 1 && keys[0] === 'Ref') {
    const names: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': MOTO_REGION, 'AWS::AccountId': ACCOUNT, [projectId]: PROJECT, [tableId]: TABLE };
    const name = names[o.Ref as string];
    if (name === undefined) throw new Error(`resolve: no local name for Ref ${String(o.Ref)}`);
    return name;
  }
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const [id, attr] = o['Fn::GetAtt'] as [string, string];
    if (id === recorderId && attr === 'Arn') return RECORDER_ARN;
    throw new Error(`resolve: no local value for Fn::GetAtt ${id}.${attr}`);
  }
  if (keys.some((k) => k.startsWith('Fn::'))) throw new Error(`resolve: ${keys.join(', ')} is not resolved here`);
  return Object.fromEntries(keys.map((k) => [k, resolve(o[k])]));
}

const definition = JSON.parse(resolve(engine.Properties.DefinitionString) as string) as Json;

describe('control plane engine: the synthesized state machine run end to end against moto', () => {
  let moto: MotoServer;
  let plane: LocalControlPlane;
  let deps: ManagementDeps;
  let recorder: RecorderDeps;
  let codebuild: CodeBuildClient;
  /** Calls of the recorder's DynamoDB client still to send to a closed port. */
  let dynamoOutage = 0;
  const recordedEvents = new Map<string, StackEvent[]>();
  /** The request bodies moto's CodeBuild received for StartBuild. */
  const startBuilds: { environmentVariablesOverride: { name: string; value: string; type: string }[]; projectName: string }[] = [];
  /** How each next .sync build ends (shifted per build). */
  const buildOutcomes: ({ status: 'SUCCEEDED' } | { status: 'FAILED'; phase: string; message: string } | { status: 'TASK_TIMED_OUT' })[] = [];
  /** The TimeoutSeconds each .sync task was given. */
  const taskTimeouts: (number | undefined)[] = [];
  /** Runs while a build is "running" (a duplicate event arriving meanwhile). */
  let duringBuild: (() => Promise<void>) | undefined;
  const recorderCalls: RecorderInput[] = [];
  const logs: Record<string, unknown>[] = [];

  const motoJson = (service: string, target: string, body: unknown) => motoJsonCall(moto.endpoint, service, target, body);
  type BusEvent = { 'detail-type': string; source: string; detail: Deployment & { previousStatus?: string } } & Obj;
  const delivered = async (logGroupName: string): Promise<BusEvent[]> => {
    const out = (await motoJson('logs', 'Logs_20140328.FilterLogEvents', { logGroupName })) as { events?: { message: string }[] };
    return (out.events ?? []).map((e) => JSON.parse(e.message) as BusEvent);
  };
  const statusChanges = async (deploymentId: string) =>
    (await delivered('/test/all')).filter((e) => e.detail.deploymentId === deploymentId && e['detail-type'] === 'Deployment Status Changed').map((e) => `${e.detail.previousStatus}->${e.detail.status}`);

  /** The execution input: the event the template's rule delivered, through the target's input settings. */
  const executionInput = async (deploymentId: string): Promise<Json> => {
    const target = (rule.Properties.Targets as Record<string, unknown>[])[0];
    for (const k of ['Input', 'InputTransformer']) if (k in target) throw new Error(`the rule's target has ${k}: apply it here before running the engine`);
    const events = (await delivered('/test/engine-trigger')).filter((e) => e.detail.deploymentId === deploymentId);
    expect(events.map((e) => e['detail-type'])).toEqual(['Deployment Requested']);
    const event = events[0] as Json;
    if (!('InputPath' in target)) return event;
    const path = String(target.InputPath);
    return path === '$' ? event : (path.slice(2).split('.').reduce<Json>((o, k) => (o as Obj)[k], event) as Json);
  };

  const call = async (httpMethod: string, path: string, body?: unknown, query?: Record<string, string>) => {
    const res = await handleManagement({ httpMethod, path, body: body === undefined ? null : JSON.stringify(body), queryStringParameters: query ?? null, headers: null } as ProxyEvent, deps);
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const deployment = async (env: string, id: string) => (await call('GET', `/environments/acme/${env}/deployments/${id}`)).body as Deployment;

  const lambdaInvoke: TaskResource = async ({ parameters }) => {
    const p = parameters as Obj;
    const extra = Object.keys(p).filter((k) => k !== 'FunctionName' && k !== 'Payload');
    if (extra.length) throw new Error(`lambda:invoke with ${extra.join(', ')}: not interpreted`);
    expect(p.FunctionName).toBe(RECORDER_ARN);
    const payload = JSON.parse(JSON.stringify(p.Payload)) as RecorderInput;
    recorderCalls.push(payload);
    try {
      const out = await handleRecorder(payload, recorder);
      return { ExecutedVersion: '$LATEST', Payload: JSON.parse(JSON.stringify(out)) as Json, StatusCode: 200 };
    } catch (e) {
      // A function error: Step Functions' error is the function's errorType (Node: the error's name).
      const err = e as Error;
      throw new StatesError(err.name, JSON.stringify({ errorType: err.name, errorMessage: err.message, trace: [] }));
    }
  };

  const pascal = (v: unknown): Json => {
    if (v instanceof Date) return v.getTime() / 1000;
    if (Array.isArray(v)) return v.map(pascal);
    if (v === null || typeof v !== 'object') return (v ?? null) as Json;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0].toUpperCase() + k.slice(1), pascal(x)]));
  };

  const codebuildSync: TaskResource = async ({ parameters, timeoutSeconds }) => {
    taskTimeouts.push(timeoutSeconds);
    const p = parameters as Obj;
    const extra = Object.keys(p).filter((k) => k !== 'ProjectName' && k !== 'EnvironmentVariablesOverride');
    if (extra.length) throw new Error(`codebuild:startBuild.sync with ${extra.join(', ')}: not interpreted`);
    const overrides = (p.EnvironmentVariablesOverride as Obj[]).map((v) => {
      if (Object.keys(v).some((k) => !['Name', 'Value', 'Type'].includes(k))) throw new Error(`an override with ${Object.keys(v).join(', ')}: not interpreted`);
      return { name: v.Name as string, value: v.Value as string, type: v.Type as 'PLAINTEXT' };
    });
    const started = await codebuild.send(new StartBuildCommand({ projectName: p.ProjectName as string, environmentVariablesOverride: overrides }));
    const buildId = started.build!.id!;
    await duringBuild?.();
    const outcome = buildOutcomes.shift();
    if (!outcome) throw new Error('no scripted build outcome left');
    // The task's TimeoutSeconds passed while the build ran (a build stuck in its queue, say).
    if (outcome.status === 'TASK_TIMED_OUT') throw new StatesError('States.Timeout', '');
    // Step Functions polls the build to its end (BatchGetBuilds); moto's answers SUCCEEDED.
    const done = (await codebuild.send(new BatchGetBuildsCommand({ ids: [buildId] }))).builds![0];
    const build = pascal(done) as Obj;
    if (outcome.status === 'SUCCEEDED') return { Build: build };
    const phases = (build.Phases as Obj[]).map((ph): Obj =>
      ph.PhaseType === outcome.phase ? { ...ph, PhaseStatus: 'FAILED', Contexts: [{ StatusCode: 'COMMAND_EXECUTION_ERROR', Message: outcome.message }] } : ph,
    );
    const failedAt = phases.findIndex((ph) => ph.PhaseType === outcome.phase);
    throw new StatesError('States.TaskFailed', JSON.stringify({ Build: { ...build, BuildStatus: 'FAILED', Phases: phases.slice(0, failedAt + 1) } }));
  };

  const run = (input: Json): Promise<ExecutionResult> =>
    runStateMachine(definition, input, { 'arn:aws:states:::lambda:invoke': lambdaInvoke, 'arn:aws:states:::codebuild:startBuild.sync': codebuildSync });

  const dev = {
    cidr: '10.10.0.0/16',
    region: 'us-east-1',
    chain: {
      chainId: 4242,
      ...FOUR_VALIDATOR_CHAIN,
    },
  };

  beforeAll(async () => {
    moto = await startMoto();
    plane = await createLocalControlPlane(moto.clientConfig, { tableName: TABLE });
    // The template's rule (its own event pattern) delivers to a log group: what the engine would get.
    for (const [name, pattern] of [
      ['engine-trigger', resolve(rule.Properties.EventPattern)],
      ['all', { source: [CONTROL_PLANE_EVENT_SOURCE] }],
    ] as const) {
      await motoJson('logs', 'Logs_20140328.CreateLogGroup', { logGroupName: `/test/${name}` });
      await motoJson('events', 'AWSEvents.PutRule', { Name: name, EventBusName: plane.deps.eventBusName, EventPattern: JSON.stringify(pattern) });
      await motoJson('events', 'AWSEvents.PutTargets', { Rule: name, EventBusName: plane.deps.eventBusName, Targets: [{ Id: 'log', Arn: `arn:aws:logs:${MOTO_REGION}:${ACCOUNT}:log-group:/test/${name}` }] });
    }
    deps = controlPlaneApiDeps(moto, plane, (e) => logs.push(e));
    // The recorder's own DynamoDB client (as in its Lambda: SDK default retries); while
    // `dynamoOutage` > 0, a call goes to a closed port.
    const deadPort = await freePort();
    const recorderDynamo = new DynamoDBClient({ ...moto.clientConfig, maxAttempts: undefined });
    recorderDynamo.middlewareStack.add(
      (next) => async (args) => {
        if (dynamoOutage > 0) {
          dynamoOutage--;
          (args.request as { port?: number }).port = deadPort;
        }
        return next(args);
      },
      { step: 'build', name: 'dynamoOutage' },
    );
    const cfn = {
      send: (cmd: unknown) => {
        if (cmd instanceof DescribeStackEventsCommand && recordedEvents.has(cmd.input.StackName!)) return Promise.resolve({ StackEvents: recordedEvents.get(cmd.input.StackName!) });
        return plane.cloudformation.send(cmd as DescribeStackEventsCommand);
      },
    } as unknown as CloudFormationClient;
    recorder = { ...plane.recorder, store: new ConfigStore(recorderDynamo, TABLE), cloudformation: () => cfn, log: (e) => logs.push(e) };

    codebuild = new CodeBuildClient(moto.clientConfig);
    codebuild.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'StartBuildCommand') {
          const body = (args.request as { body: string | Uint8Array }).body;
          startBuilds.push(JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body)) as (typeof startBuilds)[number]);
        }
        return next(args);
      },
      { step: 'build', name: 'recordStartBuild', priority: 'low' },
    );
    // The deploy job's project as the template creates it (environment and its variables).
    const env = resolve(project.Properties.Environment) as Obj;
    await codebuild.send(
      new CreateProjectCommand({
        name: PROJECT,
        source: { type: 'S3', location: 'cdk-assets/deploy-job.zip' },
        artifacts: { type: 'NO_ARTIFACTS' },
        serviceRole: `arn:aws:iam::${ACCOUNT}:role/deploy-job`,
        timeoutInMinutes: project.Properties.TimeoutInMinutes as number,
        environment: {
          type: env.Type as 'LINUX_CONTAINER',
          image: env.Image as string,
          computeType: env.ComputeType as 'BUILD_GENERAL1_SMALL',
          privilegedMode: env.PrivilegedMode as boolean,
          environmentVariables: (env.EnvironmentVariables as Obj[]).map((v) => ({ name: v.Name as string, value: v.Value as string, type: v.Type as 'PLAINTEXT' })),
        },
      }),
    );
  }, 120_000);
  afterAll(() => moto?.stop());

  /** The deploy job's input from a StartBuild moto received: the project's variables, then the overrides (CodeBuild's order). */
  const jobInput = async (i: number) => {
    const projectEnv = (await codebuild.send(new BatchGetProjectsCommand({ names: [PROJECT] }))).projects![0].environment!.environmentVariables!;
    const env: Record<string, string> = {};
    for (const v of [...projectEnv, ...startBuilds[i].environmentVariablesOverride]) env[v.name!] = v.value!;
    return { env, input: readDeployJobInput(env) };
  };

  it('the definition uses only what the interpreter implements, and the rule delivers the whole event', () => {
    const target = (rule.Properties.Targets as Record<string, unknown>[])[0];
    expect(Object.keys(target).sort()).toEqual(['Arn', 'Id', 'RetryPolicy', 'RoleArn']);
    expect(Object.keys((definition as Obj).States as Obj).sort()).toEqual(
      ['AlreadyHandled', 'DeploymentFailed', 'KeepData', 'Purge?', 'PurgeRequested', 'Queued?', 'RecordFailed', 'RecordStarted', 'RecordSucceeded', 'RunDeployJob'].sort(),
    );
  });

  let createdId = '';
  /** The update queued on `test` after its failed create (the lock was released). */
  let queuedTestId = '';
  let createInput: Json;

  it('(a) create: POST -> Deployment Requested -> started, the deploy job, succeeded: ready, lock released, status events', async () => {
    const created = await call('POST', '/environments/acme/dev', dev);
    expect(created.status).toBe(201);
    createdId = created.body.deploymentId as string;
    createInput = await executionInput(createdId);
    expect(createInput).toMatchObject({ source: CONTROL_PLANE_EVENT_SOURCE, 'detail-type': 'Deployment Requested', detail: { deploymentId: createdId, action: 'create', configVersion: 1, status: 'queued' } });
    expect((createInput as Obj).detail).not.toHaveProperty('purge');

    buildOutcomes.push({ status: 'SUCCEEDED' });
    const out = await run(createInput);
    expect(out).toMatchObject({ status: 'SUCCEEDED' });
    expect(out.path).toEqual(['RecordStarted', 'Queued?', 'Purge?', 'KeepData', 'RunDeployJob', 'RecordSucceeded']);
    expect(out.waits).toEqual([]);
    const buildId = ((out.output as Obj).build as Obj).buildId as string;
    expect(buildId).toMatch(new RegExp(`^${PROJECT}:[0-9a-f-]{36}$`));
    expect(out.output).toMatchObject({ started: { recorded: true }, purge: 'false' });
    expect(recorderCalls.map((c) => c.phase)).toEqual(['started', 'succeeded']);
    expect(recorderCalls[1]).toEqual({ deploymentId: createdId, tenantId: 'acme', environmentId: 'dev', phase: 'succeeded', buildId });

    expect(await deployment('dev', createdId)).toMatchObject({ status: 'ready', buildId });
    expect(await statusChanges(createdId)).toEqual(['queued->deploying', 'deploying->ready']);
    const head = await plane.store.getEnvironment('acme', 'dev');
    expect(head).toMatchObject({ state: 'active', deployedConfigVersion: 1 });
    expect(head).not.toHaveProperty('lockDeploymentId');
    expect(head).not.toHaveProperty('lockExpiresAt');
    const { env, input } = await jobInput(0);
    expect(startBuilds[0].projectName).toBe(PROJECT);
    expect(input).toMatchObject({ deploymentId: createdId, tenantId: 'acme', environmentId: 'dev', configVersion: 1, action: 'create', purge: false, tableName: TABLE, bootstrapQualifier: 'hnb659fds' });
    expect(env).toMatchObject({ CONFIG_VERSION: '1', PURGE: 'false' });
  });

  it('(d) a repeated Deployment Requested (at-least-once delivery) stops at AlreadyHandled: no build, no event', async () => {
    const builds = startBuilds.length;
    const out = await run(createInput);
    expect(out).toMatchObject({ status: 'SUCCEEDED', output: { started: { recorded: false } } });
    expect(out.path).toEqual(['RecordStarted', 'Queued?', 'AlreadyHandled']);
    expect(startBuilds).toHaveLength(builds);
    expect(await deployment('dev', createdId)).toMatchObject({ status: 'ready' });
    expect(await statusChanges(createdId)).toEqual(['queued->deploying', 'deploying->ready']);
  });

  it('(c) the recorder fails transiently (DynamoDB unreachable): the Retry policy (States.TaskFailed, 5 s) runs it again, and it succeeds', async () => {
    const patched = await call('PATCH', '/environments/acme/dev', { ...dev, chain: { ...dev.chain, nodes: [...dev.chain.nodes, { id: 'rpc-1', member: 'globex', role: 'member' }] } });
    expect(patched.status).toBe(202);
    const id = patched.body.deploymentId as string;
    const input = await executionInput(id);
    dynamoOutage = 1;
    buildOutcomes.push({ status: 'SUCCEEDED' });
    const out = await run(input);
    expect(dynamoOutage).toBe(0);
    expect(out.status).toBe('SUCCEEDED');
    expect(out.path).toEqual(['RecordStarted', 'RecordStarted', 'Queued?', 'Purge?', 'KeepData', 'RunDeployJob', 'RecordSucceeded']);
    expect(out.history.filter((h) => h.error || h.retryAfterSeconds)).toEqual([
      { state: 'RecordStarted', type: 'Task', error: 'Error' },
      { state: 'RecordStarted', type: 'Task', retryAfterSeconds: 5 },
    ]);
    expect(await deployment('dev', id)).toMatchObject({ status: 'ready', action: 'update', configVersion: 2 });
    expect(await statusChanges(id)).toEqual(['queued->deploying', 'deploying->ready']);
    expect((await jobInput(startBuilds.length - 1)).input).toMatchObject({ deploymentId: id, action: 'update', configVersion: 2, purge: false });
  });

  it('(c) a recorder that keeps failing: 4 retries (5, 10, 20, 40 s), then the execution fails uncaught and the deployment stays queued', async () => {
    const created = await call('POST', '/environments/acme/stage', { ...dev, cidr: '10.30.0.0/16' });
    expect(created.status).toBe(201);
    const id = created.body.deploymentId as string;
    const input = await executionInput(id);
    const builds = startBuilds.length;
    dynamoOutage = 5;
    const out = await run(input);
    expect(dynamoOutage).toBe(0);
    expect(out).toMatchObject({ status: 'FAILED', error: 'Error' });
    expect(out.waits).toEqual([5, 10, 20, 40]);
    expect(out.path).toEqual(Array(5).fill('RecordStarted'));
    expect(startBuilds).toHaveLength(builds);
    expect(await deployment('stage', id)).toMatchObject({ status: 'queued' });
    expect(await statusChanges(id)).toEqual([]);
    // The same event again (a redrive) starts it: nothing was half-recorded.
    buildOutcomes.push({ status: 'SUCCEEDED' });
    expect((await run(input)).status).toBe('SUCCEEDED');
    expect(await deployment('stage', id)).toMatchObject({ status: 'ready' });
  });

  it('the interpreter refuses what it does not implement', async () => {
    const pass = { Type: 'Pass', End: true };
    const refused = async (def: Json) => expect(runStateMachine(def, {}, {})).rejects.toThrow(AslUnsupported);
    await refused({ StartAt: 'A', States: { A: { Type: 'Wait', Seconds: 1, End: true } } });
    await refused({ StartAt: 'A', States: { A: { ...pass, InputPath: '$.x' } } });
    await refused({ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', HeartbeatSeconds: 5, End: true } } });
    await refused({ StartAt: 'A', States: { A: { Type: 'Choice', Choices: [{ Variable: '$.x', StringEquals: 'y', Next: 'B' }], Default: 'B' }, B: pass } });
    await refused({ StartAt: 'A', QueryLanguage: 'JSONata', States: { A: pass } });
    await refused({ StartAt: 'A', States: { A: { ...pass, Result: 1, ResultPath: '$.a[0]' } } });
    await expect(runStateMachine({ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'r', Parameters: { 'x.$': 'States.StringToJson($.a)' }, End: true } } }, { a: '1' }, { r: async () => 1 })).rejects.toThrow(AslUnsupported);
    await expect(runStateMachine({ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'r', Retry: [{ ErrorEquals: ['States.ALL'], JitterStrategy: 'FULL' }], End: true } } }, {}, { r: async () => 1 })).rejects.toThrow(AslUnsupported);
  });

  it('(b) the build fails in CloudFormation: failed with the stack\'s reason, lock released, the execution fails with the build error', async () => {
    const patched = await call('PATCH', '/environments/acme/dev', { ...dev, chain: { ...dev.chain, nodes: [...dev.chain.nodes, { id: 'rpc-1', member: 'globex', role: 'member', instanceType: 't4g.large' }] } });
    expect(patched.status).toBe(202);
    const id = patched.body.deploymentId as string;
    const { stackName } = await deployment('dev', id);
    const at = (s: number) => new Date(Date.now() + s * 1000);
    const stackId = `arn:aws:cloudformation:us-east-1:${ACCOUNT}:stack/${stackName}/1`;
    recordedEvents.set(stackName, [
      { StackId: stackId, StackName: stackName, EventId: 'e3', LogicalResourceId: stackName, ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'UPDATE_ROLLBACK_IN_PROGRESS', ResourceStatusReason: 'The following resource(s) failed to update: [rpc1Instance].', Timestamp: at(3) },
      { StackId: stackId, StackName: stackName, EventId: 'e2', LogicalResourceId: 'rpc1Instance', ResourceType: 'AWS::EC2::Instance', ResourceStatus: 'UPDATE_FAILED', ResourceStatusReason: 'We currently do not have sufficient t4g.large capacity in the Availability Zone you requested (us-east-1a).', Timestamp: at(2) },
      { StackId: stackId, StackName: stackName, EventId: 'e1', LogicalResourceId: stackName, ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'UPDATE_IN_PROGRESS', ResourceStatusReason: 'User Initiated', Timestamp: at(1) },
    ]);
    buildOutcomes.push({ status: 'FAILED', phase: 'BUILD', message: 'Error while executing command: node deploy-job/index.js. Reason: exit status 1' });
    const out = await run(await executionInput(id));
    expect(out).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(JSON.parse(out.cause!)).toMatchObject({ Build: { BuildStatus: 'FAILED', ProjectName: PROJECT } });
    expect(out.path).toEqual(['RecordStarted', 'Queued?', 'Purge?', 'KeepData', 'RunDeployJob', 'RecordFailed', 'DeploymentFailed']);
    expect(await deployment('dev', id)).toMatchObject({
      status: 'failed',
      reason: `${stackName} rpc1Instance (AWS::EC2::Instance) UPDATE_FAILED: We currently do not have sufficient t4g.large capacity in the Availability Zone you requested (us-east-1a).`,
    });
    expect(await statusChanges(id)).toEqual(['queued->deploying', 'deploying->failed']);
    expect(await plane.store.getEnvironment('acme', 'dev')).not.toHaveProperty('lockDeploymentId');
  });

  it('(b) the build fails before CloudFormation (no stack in moto): failed with the build phase\'s error, lock released', async () => {
    const created = await call('POST', '/environments/acme/test', { ...dev, cidr: '10.20.0.0/16' });
    expect(created.status).toBe(201);
    const id = created.body.deploymentId as string;
    buildOutcomes.push({ status: 'FAILED', phase: 'INSTALL', message: 'Error while executing command: npm ci. Reason: exit status 1' });
    const out = await run(await executionInput(id));
    expect(out).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(await deployment('test', id)).toMatchObject({ status: 'failed', reason: 'States.TaskFailed: build phase INSTALL FAILED: Error while executing command: npm ci. Reason: exit status 1' });
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'stack events not read' }));
    expect(await statusChanges(id)).toEqual(['queued->deploying', 'deploying->failed']);
    // The lock is released: the environment takes the next deployment.
    const next = await call('PATCH', '/environments/acme/test', { ...dev, cidr: '10.20.0.0/16' });
    expect(next.status).toBe(202);
    queuedTestId = next.body.deploymentId as string;
  });

  it('(b) the deploy job outlives its task timeout: States.Timeout is caught, failed with it, lock released', async () => {
    const id = queuedTestId;
    expect(await deployment('test', id)).toMatchObject({ status: 'queued', action: 'update' });
    const before = taskTimeouts.length;
    buildOutcomes.push({ status: 'TASK_TIMED_OUT' });
    const out = await run(await executionInput(id));
    // 60 min of build timeout + 70 min for the queue and the end of the build (the construct's default).
    expect(taskTimeouts.slice(before)).toEqual([7800]);
    expect(out).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(out.path.slice(-3)).toEqual(['RunDeployJob', 'RecordFailed', 'DeploymentFailed']);
    expect(await deployment('test', id)).toMatchObject({ status: 'failed', reason: 'States.Timeout' });
    expect(await statusChanges(id)).toEqual(['queued->deploying', 'deploying->failed']);
  });

  it('(e) a delete with purge: PURGE=true reaches the deploy job, the environment is deleted and purged', async () => {
    const removed = await call('DELETE', '/environments/acme/dev', undefined, { purge: 'true', confirm: 'dev' });
    expect(removed.status).toBe(202);
    const id = removed.body.deploymentId as string;
    const input = await executionInput(id);
    expect((input as Obj).detail).toMatchObject({ action: 'delete', purge: true });
    // A duplicate of the event arrives while the build runs: its execution stops at AlreadyHandled.
    let duplicate: ExecutionResult | undefined;
    duringBuild = async () => {
      duringBuild = undefined;
      duplicate = await run(input);
    };
    buildOutcomes.push({ status: 'SUCCEEDED' });
    const builds = startBuilds.length;
    const out = await run(input);
    expect(out.path).toEqual(['RecordStarted', 'Queued?', 'Purge?', 'PurgeRequested', 'RunDeployJob', 'RecordSucceeded']);
    expect(duplicate?.path).toEqual(['RecordStarted', 'Queued?', 'AlreadyHandled']);
    expect(startBuilds).toHaveLength(builds + 1);
    const { env, input: job } = await jobInput(builds);
    expect(env.PURGE).toBe('true');
    expect(job).toMatchObject({ deploymentId: id, tenantId: 'acme', environmentId: 'dev', action: 'delete', purge: true, configVersion: 3 });
    expect(await deployment('dev', id)).toMatchObject({ status: 'ready', action: 'delete', purge: true });
    expect(await statusChanges(id)).toEqual(['queued->deploying', 'deploying->ready']);
    const head = await plane.store.getEnvironment('acme', 'dev');
    expect(head).toMatchObject({ state: 'deleted', purged: true });
  });
});
