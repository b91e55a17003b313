import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_EVENT_SOURCE, ControlPlane, ManagementApi, addManagementStack, parseTenantsConfig } from '../../lib';
import { parseLockTimeoutSeconds } from '../../lib/contracts/control-plane';
import { testApp } from '../support/synth';

// The management stack of the production fixture (management.controlPlane set), built with the
// CLI's context, once for the file.
const app = testApp();
const stack = addManagementStack(app, parseTenantsConfig(JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8')), 'production fixture'))!;
const t = Template.fromStack(stack);

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
type R = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
const resources = (tpl: Template, type: string) => tpl.findResources(type) as Record<string, R>;
const only = (tpl: Template, type: string, idPart: string): [string, R] => {
  const found = Object.entries(resources(tpl, type)).filter(([id]) => id.includes(idPart));
  expect(found.map(([id]) => id), `${type} ${idPart}`).toHaveLength(1);
  return found[0];
};
const policyOf = (tpl: Template, identity: string): Statement[] => (only(tpl, 'AWS::IAM::ManagedPolicy', `${identity}Policy`)[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
const actions = (s: Statement) => [s.Action].flat();
const logicalId = (tpl: Template, type: string, idPart: string) => only(tpl, type, idPart)[0];
/** The engine's definition as JSON (the Fn::Join's tokens, ARNs inside strings, read as "ARN"). */
const definitionOf = (tpl: Template, s: Stack): { TimeoutSeconds?: number } => {
  const def = s.resolve(only(tpl, 'AWS::StepFunctions::StateMachine', 'Engine')[1].Properties.DefinitionString) as string | { 'Fn::Join': [string, unknown[]] };
  return JSON.parse(typeof def === 'string' ? def : def['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : 'ARN')).join('')) as { TimeoutSeconds?: number };
};

describe('the control plane in the management stack', () => {
  const tableId = logicalId(t, 'AWS::DynamoDB::Table', 'ControlPlaneTable');
  const keyId = logicalId(t, 'AWS::KMS::Key', 'ControlPlaneKey');
  const busId = logicalId(t, 'AWS::Events::EventBus', 'ControlPlaneBus');

  it('stores configs in a DynamoDB table with PK/SK, point-in-time recovery, its own KMS key, a TTL, on demand, RETAINed and deletion-protected', () => {
    const [, table] = only(t, 'AWS::DynamoDB::Table', 'ControlPlaneTable');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      DeletionProtectionEnabled: true,
    });
    const [, key] = only(t, 'AWS::KMS::Key', 'ControlPlaneKey');
    expect(key.DeletionPolicy).toBe('Retain');
    expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it('starts the engine on Deployment Requested of its own bus only', () => {
    const [, rule] = only(t, 'AWS::Events::Rule', 'OnDeploymentRequested');
    expect(rule.Properties.EventBusName).toEqual({ Ref: busId });
    expect(rule.Properties.EventPattern).toEqual({ source: [CONTROL_PLANE_EVENT_SOURCE], 'detail-type': ['Deployment Requested'] });
    const targets = rule.Properties.Targets as { Arn: unknown; RoleArn: unknown; RetryPolicy: unknown }[];
    expect(targets).toHaveLength(1);
    expect(targets[0].Arn).toEqual({ Ref: logicalId(t, 'AWS::StepFunctions::StateMachine', 'ControlPlaneEngine') });
    expect(targets[0].RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    const trigger = policyOf(t, 'TriggerIdentity');
    expect(trigger.map((s) => [s.Sid, actions(s)])).toEqual([['StartEngine', ['states:StartExecution']]]);
  });

  it('runs a standard state machine with logs (encrypted group) and X-Ray: recorder(started) -> CodeBuild .sync with the deployment as variables -> recorder(succeeded | failed)', () => {
    const [, sm] = only(t, 'AWS::StepFunctions::StateMachine', 'ControlPlaneEngine');
    expect(sm.Properties.StateMachineType).toBe('STANDARD');
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(sm.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    const text = JSON.stringify(Stack.of(stack).resolve(sm.Properties.DefinitionString));
    // The states, by what they do (the definition is a Fn::Join of JSON with ARNs in between).
    expect(text).toContain(':states:::codebuild:startBuild.sync');
    for (const name of ['DEPLOYMENT_ID', 'TENANT_ID', 'ENVIRONMENT_ID', 'CONFIG_VERSION', 'ACTION', 'PURGE']) expect(text).toContain(`\\"Name\\":\\"${name}\\"`);
    expect(text).toContain('\\"Value.$\\":\\"States.Format(\'{}\', $.detail.configVersion)\\"');
    for (const phase of ['started', 'succeeded', 'failed']) expect(text).toContain(`\\"phase\\":\\"${phase}\\"`);
    expect(text).toContain('\\"Catch\\":[{\\"ErrorEquals\\":[\\"States.ALL\\"],\\"ResultPath\\":\\"$.failure\\",\\"Next\\":\\"RecordFailed\\"}]');
    expect(text).toContain('\\"error.$\\":\\"$.failure\\"');
    // A repeated event (EventBridge delivers at least once) stops after the recorder's answer.
    expect(text).toContain('\\"Queued?\\":{\\"Type\\":\\"Choice\\",\\"Choices\\":[{\\"Variable\\":\\"$.started.recorded\\",\\"BooleanEquals\\":false,\\"Next\\":\\"AlreadyHandled\\"}]');
    expect(text).toContain('{\\"ErrorEquals\\":[\\"States.TaskFailed\\"],\\"IntervalSeconds\\":5,\\"MaxAttempts\\":4,\\"BackoffRate\\":2}');
    const [, logGroup] = only(t, 'AWS::Logs::LogGroup', 'ControlPlaneEngineLogs');
    expect(logGroup.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it('builds with CodeBuild: not privileged, small, AL2023 standard 5.0 (Node.js 22), encrypted, its own encrypted log group, a timeout, the deploy job asset as S3 source', () => {
    const [, project] = only(t, 'AWS::CodeBuild::Project', 'ControlPlaneDeployJob');
    expect(project.Properties).toMatchObject({
      Environment: { ComputeType: 'BUILD_GENERAL1_SMALL', Image: 'aws/codebuild/amazonlinux-x86_64-standard:5.0', PrivilegedMode: false, Type: 'LINUX_CONTAINER' },
      EncryptionKey: { 'Fn::GetAtt': [keyId, 'Arn'] },
      LogsConfig: { CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: logicalId(t, 'AWS::Logs::LogGroup', 'ControlPlaneBuildLogs') } } },
      TimeoutInMinutes: 60,
      Source: { Type: 'S3' },
    });
    expect(JSON.stringify(project.Properties.Source)).toMatch(/\/[0-9a-f]{64}\.zip"/);
    const variables = (project.Properties.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] }).EnvironmentVariables;
    expect(variables).toEqual([
      { Name: 'CONTROL_PLANE_TABLE', Type: 'PLAINTEXT', Value: { Ref: tableId } },
      { Name: 'CDK_BOOTSTRAP_QUALIFIER', Type: 'PLAINTEXT', Value: 'hnb659fds' },
    ]);
  });

  it('lets the build assume only the CDK bootstrap roles, read stored configs only, read its own source and write its own logs: nothing broader', () => {
    const [, role] = only(t, 'AWS::IAM::Role', 'BuildIdentityRole');
    expect(role.Properties.AssumeRolePolicyDocument).toMatchObject({ Statement: [{ Principal: { Service: 'codebuild.amazonaws.com' } }] });
    expect(role.Properties.ManagedPolicyArns).toEqual([{ Ref: logicalId(t, 'AWS::IAM::ManagedPolicy', 'BuildIdentityPolicy') }]);
    expect(role.Properties.Policies).toBeUndefined();
    const statements = policyOf(t, 'BuildIdentity');
    expect(statements.map((s) => [s.Sid, actions(s)])).toEqual([
      ['AssumeCdkBootstrapRoles', ['sts:AssumeRole', 'sts:TagSession']],
      ['ReadStoredConfigs', ['dynamodb:GetItem']],
      ['TableKey', ['kms:Decrypt', 'kms:DescribeKey']],
      ['ReadOwnSource', ['s3:GetObject', 's3:GetObjectVersion']],
      ['SourceBucketLocation', ['s3:GetBucketAcl', 's3:GetBucketLocation']],
      ['OwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents']],
    ]);
    const bootstrap = (kind: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, `:role/cdk-hnb659fds-${kind}-role-`, { Ref: 'AWS::AccountId' }, '-eu-west-1']] });
    expect(statements[0].Resource).toEqual([bootstrap('deploy'), bootstrap('file-publishing'), bootstrap('lookup')]);
    expect(statements[1]).toMatchObject({ Resource: { 'Fn::GetAtt': [tableId, 'Arn'] }, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ENV#*'] } } });
    expect(statements[2].Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } });
    // No wildcard resource, no IAM, CloudFormation or write action of its own: CloudFormation works through the bootstrap roles.
    for (const s of statements) {
      expect(JSON.stringify(s.Resource)).not.toMatch(/"\*"/);
      for (const a of actions(s)) expect(a).not.toMatch(/^(iam|cloudformation|ec2|ssm|secretsmanager|lambda):|\*/);
    }
  });

  it('lets the management handler use the table (with its key, through DynamoDB) and put events on its own bus only', () => {
    const statements = policyOf(t, 'HandlerIdentity');
    const puts = statements.filter((s) => actions(s).some((a) => a.startsWith('events:')));
    expect(puts).toEqual([{ Sid: 'ControlPlaneEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [busId, 'Arn'] } }]);
    const store = statements.find((s) => s.Sid === 'ControlPlaneStore')!;
    expect(store.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
    expect(actions(store)).not.toContain('dynamodb:Scan');
    expect(statements.find((s) => s.Sid === 'ControlPlaneKey')!.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } });
    // Every PutEvents of the stack names this bus (the recorder's too).
    for (const policy of Object.values(resources(t, 'AWS::IAM::ManagedPolicy'))) {
      for (const s of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        if (actions(s).includes('events:PutEvents')) expect(s.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
      }
    }
  });

  it('gives the handler the table, the bus and the quotas of tenants.json, encrypted with the API key', () => {
    const [, fn] = only(t, 'AWS::Lambda::Function', 'ManagementHandler');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toEqual({
      CONTROL_PLANE_TABLE: { Ref: tableId },
      EVENT_BUS_NAME: { Ref: busId },
      CONTROL_PLANE_QUOTAS: JSON.stringify({ maxEnvironmentsPerTenant: 5, maxNodesPerEnvironment: 12, allowedInstanceTypes: ['t4g.medium', 't4g.large', 'm7g.large'] }),
      CONTROL_PLANE_LOCK_TIMEOUT_SECONDS: expect.any(String),
      // The fixture's management stack also serves the web console (ManagementApi.allowBrowserOrigin).
      CORS_ALLOW_ORIGIN: expect.anything(),
    });
    expect(fn.Properties.KmsKeyArn).toEqual({ 'Fn::GetAtt': [logicalId(t, 'AWS::KMS::Key', 'ManagementKey'), 'Arn'] });
    // A lock expires only after every execution that could still report has ended: the state
    // machine's whole-execution timeout plus the 15 minute margin.
    const engineTimeout = definitionOf(t, Stack.of(stack)).TimeoutSeconds;
    expect(engineTimeout).toBeTypeOf('number');
    expect(Number(env.CONTROL_PLANE_LOCK_TIMEOUT_SECONDS)).toBe(engineTimeout! + 15 * 60);
    expect(parseLockTimeoutSeconds(env.CONTROL_PLANE_LOCK_TIMEOUT_SECONDS as string)).toBe(Number(env.CONTROL_PLANE_LOCK_TIMEOUT_SECONDS));
  });

  it('wires the recorder like every function of the library: Node.js 24 arm64, one managed policy, its own encrypted log group, tracing', () => {
    const [, fn] = only(t, 'AWS::Lambda::Function', 'ControlPlaneRecorder');
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' }, KmsKeyArn: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    expect((fn.Properties.Environment as { Variables: unknown }).Variables).toEqual({ CONTROL_PLANE_TABLE: { Ref: tableId }, EVENT_BUS_NAME: { Ref: busId } });
    const statements = policyOf(t, 'RecorderIdentity');
    expect(statements.map((s) => s.Sid)).toEqual(['RecordDeployments', 'TableKey', 'DecryptOwnEnvironmentVariables', 'ReadFailedStackEvents', 'PublishStatusChanges', 'OwnLogs', 'Tracing']);
    expect(actions(statements.find((s) => s.Sid === 'ReadFailedStackEvents')!)).toEqual(['cloudformation:DescribeStackEvents', 'cloudformation:DescribeStacks']);
    const engine = policyOf(t, 'EngineIdentity');
    expect(engine.find((s) => s.Sid === 'InvokeRecorder')!.Resource).toEqual({ 'Fn::GetAtt': [logicalId(t, 'AWS::Lambda::Function', 'ControlPlaneRecorder'), 'Arn'] });
    expect(engine.find((s) => s.Sid === 'RunDeployJob')!.Resource).toEqual({ 'Fn::GetAtt': [logicalId(t, 'AWS::CodeBuild::Project', 'ControlPlaneDeployJob'), 'Arn'] });
  });

  it('adds the lifecycle routes, every one IAM-authorized', () => {
    const all = Object.values(resources(t, 'AWS::ApiGateway::Method'));
    // The CORS preflights of the web console (OPTIONS, no authorization, answered by API Gateway's mock integration) aside.
    const methods = all.filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
    for (const m of all.filter((x) => x.Properties.HttpMethod === 'OPTIONS')) expect((m.Properties.Integration as { Type: string }).Type).toBe('MOCK');
    expect(methods).toHaveLength(17);
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    const paths = Object.values(resources(t, 'AWS::ApiGateway::Resource')).map((r) => r.Properties.PathPart);
    expect(paths).toEqual(expect.arrayContaining(['config', 'deployments', '{deploymentId}']));
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'PATCH' });
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'DELETE', RequestParameters: { 'method.request.querystring.purge': false, 'method.request.querystring.confirm': false } });
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', RequestParameters: { 'method.request.header.Idempotency-Key': false } });
  });
});

describe('ControlPlane props', () => {
  const build = (props: ConstructorParameters<typeof ControlPlane>[2]) => {
    const s = new Stack(testApp(), 'S', { env: { region: 'eu-west-1' } });
    new ManagementApi(s, 'M', { controlPlane: props });
    return Template.fromStack(s);
  };

  it('uses the bootstrap qualifier it is given, and the API\'s removal policy unless told', () => {
    const tpl = build({ bootstrapQualifier: 'tenants1', buildTimeout: Duration.minutes(90) });
    expect(JSON.stringify(policyOf(tpl, 'BuildIdentity')[0].Resource)).toContain(':role/cdk-tenants1-deploy-role-');
    tpl.hasResourceProperties('AWS::CodeBuild::Project', { TimeoutInMinutes: 90 });
    // The engine's timeout and the lock's expiry follow the build's: (90 + 90) min, + 15 min.
    expect(definitionOf(tpl, Stack.of(stack)).TimeoutSeconds).toBe(180 * 60);
    expect((only(tpl, 'AWS::Lambda::Function', 'MHandler')[1].Properties.Environment as { Variables: Record<string, string> }).Variables.CONTROL_PLANE_LOCK_TIMEOUT_SECONDS).toBe(String(195 * 60));
    const s = new Stack(testApp(), 'D');
    new ManagementApi(s, 'M', { removalPolicy: RemovalPolicy.DESTROY, controlPlane: {} });
    const d = Template.fromStack(s);
    const [, table] = only(d, 'AWS::DynamoDB::Table', 'ControlPlaneTable');
    expect(table.DeletionPolicy).toBe('Delete');
    expect(table.Properties.DeletionProtectionEnabled).toBe(false);
    expect(JSON.parse((only(d, 'AWS::Lambda::Function', 'MHandler')[1].Properties.Environment as { Variables: { CONTROL_PLANE_QUOTAS: string } }).Variables.CONTROL_PLANE_QUOTAS)).toEqual({ maxEnvironmentsPerTenant: 10, maxNodesPerEnvironment: 20 });
  });

  it('refuses bad quotas, qualifiers and timeouts, naming the prop, the value and the fix', () => {
    const cases: [Parameters<typeof build>[0], string][] = [
      [{ maxEnvironmentsPerTenant: 0 }, 'ControlPlane: maxEnvironmentsPerTenant is 0; use a whole number from 1 to 1000, e.g. 10'],
      [{ maxNodesPerEnvironment: 2.5 }, 'ControlPlane: maxNodesPerEnvironment is 2.5; use a whole number from 1 to 250, e.g. 20'],
      [{ allowedInstanceTypes: [] }, 'ControlPlane: allowedInstanceTypes is empty; list at least one instance type'],
      [{ allowedInstanceTypes: ['t4g.medium', 'large'] }, 'ControlPlane: allowedInstanceTypes has "large"; write EC2 instance type names, e.g. "t4g.medium"'],
      [{ allowedInstanceTypes: ['t4g.medium', 't4g.medium'] }, 'ControlPlane: allowedInstanceTypes lists "t4g.medium" twice'],
      [{ bootstrapQualifier: 'Hnb659fds' }, 'ControlPlane: bootstrapQualifier is "Hnb659fds"; use the qualifier the account was bootstrapped with (1-10 lowercase letters and digits)'],
      [{ buildTimeout: Duration.minutes(5) }, 'ControlPlane: buildTimeout is 5 minutes; use whole minutes from 15'],
      [{ buildTimeout: Duration.hours(9) }, 'ControlPlane: buildTimeout is 9 hours; use whole minutes from 15 (a new environment takes 15-25 minutes) to 480'],
    ];
    for (const [props, message] of cases) expect(() => build(props), message).toThrow(message);
  });

  it('is off unless asked: no table, no bus, no handler environment, no lifecycle routes', () => {
    const s = new Stack(testApp(), 'Off');
    const api = new ManagementApi(s, 'M');
    expect(api.controlPlane).toBeUndefined();
    const off = Template.fromStack(s);
    off.resourceCountIs('AWS::DynamoDB::Table', 0);
    off.resourceCountIs('AWS::Events::EventBus', 0);
    off.resourceCountIs('AWS::ApiGateway::Method', 9);
    off.hasResourceProperties('AWS::Lambda::Function', { Description: 'blockchain-tenancy management API', Environment: Match.absent(), KmsKeyArn: Match.absent() });
  });
});
