import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { lambdaCode } from '../assets/bundled-assets';
import { prebuiltAssetDir } from '../assets/prebuilt-assets';
import { CONTROL_PLANE_DETAIL_TYPES, CONTROL_PLANE_ENV, CONTROL_PLANE_EVENT_SOURCE, CONTROL_PLANE_TABLE_KEYS, ControlPlaneQuotas, DEFAULT_CONTROL_PLANE_QUOTAS, LOCK_EXPIRY_MARGIN_MINUTES } from '../contracts/control-plane';
import { BOOTSTRAP_QUALIFIER_PATTERN, DEFAULT_BOOTSTRAP_QUALIFIER, STORED_CONFIG_KEY_PREFIX } from '../contracts/deploy-job';
import { acknowledgeFinding, acknowledgeRule } from '../security/acknowledge';
import { nagArn } from '../security/nag-ids';
import { SinglePolicyRole } from '../security/single-policy-role';
import { decryptOwnEnvironment } from '../security/lambda-environment-encryption';

// Public since the control plane introduced it (lib/index.ts re-exports this module).
export { decryptOwnEnvironment };

/** Node instance types: what the config schema accepts (lib/chain/chain-spec.ts). */
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/;

/** Props of {@link ControlPlane}. */
export interface ControlPlaneProps {
  /**
   * Environments one tenant may have in the store (the lifecycle routes answer 403 `QuotaExceeded` beyond it).
   * @default 10
   */
  readonly maxEnvironmentsPerTenant?: number;
  /**
   * Nodes one environment may have.
   * @default 20
   */
  readonly maxNodesPerEnvironment?: number;
  /**
   * Node instance types tenants may ask for (exact names, e.g. `t4g.medium`).
   * @default - any type the config schema accepts
   */
  readonly allowedInstanceTypes?: readonly string[];
  /**
   * The CDK bootstrap qualifier of this account and region (`cdk bootstrap --qualifier`): the
   * deploy job may assume only that bootstrap's deploy, file-publishing and lookup roles.
   * @default 'hnb659fds' (the CDK default)
   */
  readonly bootstrapQualifier?: string;
  /**
   * How long one deployment may run before CodeBuild stops it (and it is recorded as failed).
   * A new environment (VPC, EFS, load balancer, nodes) takes about 15-25 minutes.
   * @default Duration.minutes(60)
   */
  readonly buildTimeout?: Duration;
  /**
   * Removal policy of the table, key and logs.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Days to keep the engine's logs (state machine, builds, recorder).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The network layer's control plane (issue #18): a versioned, encrypted store of every
 * environment's desired config, an EventBridge bus, and a deployment engine that runs this
 * library's own CDK app on a stored config in CodeBuild, orchestrated by Step Functions:
 *
 * ```
 * API (POST/PATCH/DELETE) --> table (config version, deployment, lock) --> bus: Deployment Requested
 *   --> rule --> state machine: recorder(started) -> CodeBuild StartBuild.sync (deploy job:
 *       cdk deploy|destroy of exactly that stack through the CDK bootstrap roles) -> recorder(succeeded|failed)
 * ```
 *
 * CloudFormation does the work; the control plane records it. Attach it to a management API with
 * `new ManagementApi(scope, id, { controlPlane: { ... } })`: the API's handler gets the table,
 * the bus and the quotas. See docs/adr-0012-deployment-engine.md.
 */
export class ControlPlane extends Construct {
  /** The store: config versions, deployments, locks and idempotency records. */
  public readonly table: dynamodb.Table;
  /** The bus of lifecycle events (`blockchain-tenancy.control-plane`). */
  public readonly eventBus: events.EventBus;
  /** The key of the table, the builds and the engine's logs. */
  public readonly encryptionKey: kms.Key;
  /** The engine: recorder(started) -> CodeBuild -> recorder(succeeded | failed). */
  public readonly stateMachine: sfn.StateMachine;
  /** The CodeBuild project that runs the deploy job. */
  public readonly deployProject: codebuild.Project;
  /** Records phases of a deployment in the table and releases the environment's lock. */
  public readonly recorder: lambda.IFunction;
  /** The quotas the lifecycle routes enforce. */
  public readonly quotas: ControlPlaneQuotas;
  /** The CDK bootstrap qualifier the deploy job uses. */
  public readonly bootstrapQualifier: string;
  /**
   * How long an environment's lock lasts when the engine never reports (the state machine's
   * whole-execution timeout plus LOCK_EXPIRY_MARGIN_MINUTES): after it, the next change takes the
   * lock over and fails the abandoned deployment.
   */
  public readonly lockTimeout: Duration;

  constructor(scope: Construct, id: string, props: ControlPlaneProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.quotas = validateQuotas(props);
    const qualifier = props.bootstrapQualifier ?? DEFAULT_BOOTSTRAP_QUALIFIER;
    if (!BOOTSTRAP_QUALIFIER_PATTERN.test(qualifier)) {
      throw new Error(`ControlPlane: bootstrapQualifier is "${qualifier}"; use the qualifier the account was bootstrapped with (1-10 lowercase letters and digits), e.g. "${DEFAULT_BOOTSTRAP_QUALIFIER}" (cdk bootstrap's default)`);
    }
    this.bootstrapQualifier = qualifier;
    const buildTimeout = props.buildTimeout ?? Duration.minutes(60);
    const buildMinutes = buildTimeout.toMinutes();
    if (!Number.isInteger(buildMinutes) || buildMinutes < 15 || buildMinutes > 480) {
      throw new Error(`ControlPlane: buildTimeout is ${buildTimeout.toHumanString()}; use whole minutes from 15 (a new environment takes 15-25 minutes) to 480 (CodeBuild's limit), e.g. Duration.minutes(60)`);
    }
    // The engine's whole-execution timeout, and the lock's expiry derived from it: a lock expires
    // only after every execution that could still report has ended.
    const engineTimeout = buildTimeout.plus(Duration.minutes(90));
    this.lockTimeout = engineTimeout.plus(Duration.minutes(LOCK_EXPIRY_MARGIN_MINUTES));
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;

    this.encryptionKey = new kms.Key(this, 'Key', { enableKeyRotation: true, removalPolicy, description: 'blockchain-tenancy control plane: stored configs, deployments, builds and engine logs' });
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }),
    );
    const key = this.encryptionKey;
    const logGroup = (name: string) => new logs.LogGroup(this, name, { encryptionKey: key, retention, removalPolicy });

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: CONTROL_PLANE_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: CONTROL_PLANE_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: CONTROL_PLANE_TABLE_KEYS.timeToLiveAttribute,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    acknowledgeRule(
      this.table,
      'DynamoDBInBackupPlan',
      'Point-in-time recovery (35 days, continuous) is on and the table is RETAINed with deletion protection; its content (configs, deployment records) is small and every deployed environment is also described by its CloudFormation stack.',
    );
    this.eventBus = new events.EventBus(this, 'Bus', { description: 'blockchain-tenancy control plane: lifecycle events of environment deployments' });

    // The recorder: the API's own runtime (cp-api) wired here, same recipe as every function of
    // the library: one managed policy, its own encrypted log group, Node.js 24 on arm64, tracing.
    const recorderLogs = logGroup('RecorderLogs');
    const stackArns = stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: '*' });
    const recorderIdentity = new SinglePolicyRole(this, 'RecorderIdentity', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'blockchain-tenancy control plane: deployment recorder',
      statements: [
        tableStatement('RecordDeployments', this.table, [...TABLE_READ, ...TABLE_WRITE]),
        keyViaDynamoDb('TableKey', key, true),
        decryptOwnEnvironment(key),
        new iam.PolicyStatement({ sid: 'ReadFailedStackEvents', actions: ['cloudformation:DescribeStackEvents', 'cloudformation:DescribeStacks'], resources: [stackArns] }),
        new iam.PolicyStatement({ sid: 'PublishStatusChanges', actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] }),
        new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [recorderLogs.logGroupArn, `${recorderLogs.logGroupArn}:*`] }),
        new iam.PolicyStatement({ sid: 'Tracing', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
      ],
    });
    acknowledgeFinding(recorderIdentity.policy, { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray writes support no resource-level permissions.' });
    acknowledgeFinding(recorderIdentity.policy, {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'cloudformation', 'stack/*')}]`,
      reason: "Environment stacks are named per tenant and environment when they are requested (any id); the recorder only describes a failed stack's events to record the CloudFormation reason.",
    });
    acknowledgeFinding(recorderIdentity.policy, {
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(recorderLogs.node.defaultChild as logs.CfnLogGroup)}.Arn>:*]`,
      reason: "Log streams of the recorder's own log group.",
    });
    const recorder = new lambda.Function(this, 'Recorder', {
      code: lambdaCode('recorder'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      role: recorderIdentity.role.withoutPolicyUpdates(),
      logGroup: recorderLogs,
      tracing: lambda.Tracing.ACTIVE,
      environment: { [CONTROL_PLANE_ENV.TABLE]: this.table.tableName, [CONTROL_PLANE_ENV.EVENT_BUS]: this.eventBus.eventBusName },
      environmentEncryption: key,
      description: 'blockchain-tenancy control plane: records deployment phases',
    });
    acknowledgeRule(recorder, 'LambdaDLQ', 'Invoked synchronously by the engine (Step Functions), which retries it and receives every failure; a DLQ would never be read.', ['CKV_AWS_116']);
    acknowledgeRule(recorder, 'LambdaConcurrency', 'Invoked twice per deployment by the engine, and deployments are one at a time per environment; a reservation would come out of the account pool every tenant shares.', ['CKV_AWS_115']);
    acknowledgeRule(recorder, 'LambdaInsideVPC', 'The management stack has no VPC: the recorder calls regional AWS APIs only (DynamoDB, CloudFormation, EventBridge).', ['CKV_AWS_117']);
    this.recorder = recorder;

    // The deploy job: this library's CDK app (the default app's code) run by CodeBuild on one
    // stored config version. Its role may assume only the CDK bootstrap roles: CloudFormation
    // (through the deploy role's execution role) does the work.
    const source = new s3assets.Asset(this, 'DeployJobSource', { path: prebuiltAssetDir('deploy-job') });
    const buildLogs = logGroup('BuildLogs');
    const bootstrapRole = (kind: string) => `arn:${Aws.PARTITION}:iam::${stack.account}:role/cdk-${qualifier}-${kind}-role-${stack.account}-${stack.region}`;
    const buildIdentity = new SinglePolicyRole(this, 'BuildIdentity', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: 'blockchain-tenancy control plane: deploy job (assumes the CDK bootstrap roles only)',
      statements: [
        new iam.PolicyStatement({
          sid: 'AssumeCdkBootstrapRoles',
          actions: ['sts:AssumeRole', 'sts:TagSession'],
          resources: ['deploy', 'file-publishing', 'lookup'].map(bootstrapRole),
        }),
        tableStatement('ReadStoredConfigs', this.table, ['dynamodb:GetItem'], {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${STORED_CONFIG_KEY_PREFIX}*`] },
        }),
        keyViaDynamoDb('TableKey', key, false),
        new iam.PolicyStatement({ sid: 'ReadOwnSource', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [source.bucket.arnForObjects(source.s3ObjectKey)] }),
        new iam.PolicyStatement({ sid: 'SourceBucketLocation', actions: ['s3:GetBucketAcl', 's3:GetBucketLocation'], resources: [source.bucket.bucketArn] }),
        new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [buildLogs.logGroupArn, `${buildLogs.logGroupArn}:*`] }),
      ],
    });
    acknowledgeFinding(buildIdentity.policy, {
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(buildLogs.node.defaultChild as logs.CfnLogGroup)}.Arn>:*]`,
      reason: "Log streams of the deploy job's own log group.",
    });
    this.deployProject = new codebuild.Project(this, 'DeployJob', {
      description: 'blockchain-tenancy control plane: cdk deploy / destroy of one tenant environment from its stored config',
      source: codebuild.Source.s3({ bucket: source.bucket, path: source.s3ObjectKey }),
      role: buildIdentity.role.withoutPolicyUpdates(),
      encryptionKey: key,
      timeout: buildTimeout,
      queuedTimeout: Duration.hours(1),
      environment: {
        buildImage: codebuild.LinuxBuildImage.AMAZON_LINUX_2023_5,
        computeType: codebuild.ComputeType.SMALL,
        privileged: false,
        environmentVariables: {
          CONTROL_PLANE_TABLE: { value: this.table.tableName },
          CDK_BOOTSTRAP_QUALIFIER: { value: qualifier },
        },
      },
      logging: { cloudWatch: { logGroup: buildLogs } },
      // The buildspec ships in the source asset (deploy-job/buildspec.yml), next to the code it runs.
    });
    acknowledgeRule(
      this.deployProject,
      'CodeBuildProjectSourceRepoUrl',
      "The source is an S3 object (the deploy job's asset in the CDK bootstrap bucket) read with the build's own IAM role: there is no repository URL and no credential to protect with OAuth.",
    );

    // The engine.
    const detail = (field: string) => sfn.JsonPath.stringAt(`$.detail.${field}`);
    const record = (id: string, phase: 'started' | 'succeeded' | 'failed', extra: Record<string, unknown> = {}) => {
      const task = new tasks.LambdaInvoke(this, id, {
        lambdaFunction: recorder,
        payload: sfn.TaskInput.fromObject({
          deploymentId: detail('deploymentId'),
          tenantId: detail('tenantId'),
          environmentId: detail('environmentId'),
          phase,
          ...extra,
        }),
        resultSelector: { recorded: sfn.JsonPath.stringAt('$.Payload.recorded') },
        resultPath: phase === 'started' ? '$.started' : sfn.JsonPath.DISCARD,
        retryOnServiceExceptions: true,
      });
      // A report that cannot be written (throttling, a transient DynamoDB error) is retried: a lost
      // 'succeeded' or 'failed' would leave the environment locked. Repeats are harmless: the
      // recorder ignores a transition the deployment has already made.
      task.addRetry({ errors: ['States.TaskFailed'], maxAttempts: 4, interval: Duration.seconds(5), backoffRate: 2 });
      return task;
    };
    const started = record('RecordStarted', 'started');
    // The recorder moves a queued deployment to deploying and answers recorded: false for any
    // other (EventBridge delivers at least once: a second execution for one deployment stops here).
    const build = new tasks.CodeBuildStartBuild(this, 'RunDeployJob', {
      project: this.deployProject,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      environmentVariablesOverride: {
        DEPLOYMENT_ID: { value: detail('deploymentId') },
        TENANT_ID: { value: detail('tenantId') },
        ENVIRONMENT_ID: { value: detail('environmentId') },
        CONFIG_VERSION: { value: sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.detail.configVersion')) },
        ACTION: { value: detail('action') },
        PURGE: { value: sfn.JsonPath.stringAt('$.purge') },
      },
      resultSelector: { buildId: sfn.JsonPath.stringAt('$.Build.Id') },
      resultPath: '$.build',
      taskTimeout: sfn.Timeout.duration(buildTimeout.plus(Duration.minutes(70))),
    });
    const succeeded = record('RecordSucceeded', 'succeeded', { buildId: sfn.JsonPath.stringAt('$.build.buildId') });
    // The caught error object as a whole ({ Error, Cause }): a missing Cause must not break the report.
    const failed = record('RecordFailed', 'failed', { error: sfn.JsonPath.objectAt('$.failure') });
    build.addCatch(failed.next(new sfn.Fail(this, 'DeploymentFailed', { errorPath: '$.failure.Error', causePath: '$.failure.Cause' })), { errors: ['States.ALL'], resultPath: '$.failure' });
    // `purge` is optional in the Deployment (only a purging delete has it): default it to false
    // before the build reads it. A Choice rule on a path the input lacks fails the execution
    // (States.Runtime), so the first rule checks that it is there (rules are tried in order).
    const keepData = new sfn.Pass(this, 'KeepData', { result: sfn.Result.fromString('false'), resultPath: '$.purge' }).next(build);
    const purge = new sfn.Choice(this, 'Purge?')
      .when(sfn.Condition.isNotPresent('$.detail.purge'), keepData)
      .when(sfn.Condition.booleanEquals('$.detail.purge', true), new sfn.Pass(this, 'PurgeRequested', { result: sfn.Result.fromString('true'), resultPath: '$.purge' }).next(build))
      .otherwise(keepData);
    build.next(succeeded);

    const engineLogs = logGroup('EngineLogs');
    const engineIdentity = new SinglePolicyRole(this, 'EngineIdentity', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'blockchain-tenancy control plane: deployment engine (Step Functions)',
      statements: [
        new iam.PolicyStatement({ sid: 'InvokeRecorder', actions: ['lambda:InvokeFunction'], resources: [recorder.functionArn] }),
        new iam.PolicyStatement({ sid: 'RunDeployJob', actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:BatchGetBuilds'], resources: [this.deployProject.projectArn] }),
        new iam.PolicyStatement({
          // The managed rule Step Functions creates to learn when a .sync build ends.
          sid: 'SyncBuildCompletionRule',
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventForCodeBuildStartBuildRule' })],
        }),
        new iam.PolicyStatement({
          sid: 'LogDelivery',
          actions: [
            'logs:CreateLogDelivery',
            'logs:GetLogDelivery',
            'logs:UpdateLogDelivery',
            'logs:DeleteLogDelivery',
            'logs:ListLogDeliveries',
            'logs:PutResourcePolicy',
            'logs:DescribeResourcePolicies',
            'logs:DescribeLogGroups',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({ sid: 'Tracing', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], resources: ['*'] }),
      ],
    });
    acknowledgeFinding(engineIdentity.policy, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: "Step Functions' vended log delivery (CreateLogDelivery and the rest) and X-Ray writes support no resource-level permissions.",
    });
    this.stateMachine = new sfn.StateMachine(this, 'Engine', {
      comment: 'blockchain-tenancy control plane: one deployment of one tenant environment',
      definitionBody: sfn.DefinitionBody.fromChainable(
        started.next(
          new sfn.Choice(this, 'Queued?')
            .when(sfn.Condition.booleanEquals('$.started.recorded', false), new sfn.Succeed(this, 'AlreadyHandled', { comment: 'A repeated Deployment Requested event: the deployment is no longer queued' }))
            .otherwise(purge),
        ),
      ),
      stateMachineType: sfn.StateMachineType.STANDARD,
      role: engineIdentity.role.withoutPolicyUpdates(),
      logs: { destination: engineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      timeout: engineTimeout,
    });

    // Deployment Requested -> the engine. EventBridge retries a failed StartExecution for 24 h.
    const triggerIdentity = new SinglePolicyRole(this, 'TriggerIdentity', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
      description: 'blockchain-tenancy control plane: starts the engine on Deployment Requested',
      statements: [new iam.PolicyStatement({ sid: 'StartEngine', actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] })],
    });
    new events.Rule(this, 'OnDeploymentRequested', {
      eventBus: this.eventBus,
      description: 'Starts the deployment engine for each requested deployment',
      eventPattern: { source: [CONTROL_PLANE_EVENT_SOURCE], detailType: [CONTROL_PLANE_DETAIL_TYPES.REQUESTED] },
      targets: [new targets.SfnStateMachine(this.stateMachine, { role: triggerIdentity.role.withoutPolicyUpdates(), retryAttempts: 185, maxEventAge: Duration.hours(24) })],
    });
  }

  /**
   * The statements the management API's handler needs for the lifecycle routes: read and write
   * the table (with its key, through DynamoDB only) and put events on this bus only.
   */
  public handlerStatements(): iam.PolicyStatement[] {
    return [
      tableStatement('ControlPlaneStore', this.table, [...TABLE_READ, ...TABLE_WRITE]),
      keyViaDynamoDb('ControlPlaneKey', this.encryptionKey, true),
      new iam.PolicyStatement({ sid: 'ControlPlaneEvents', actions: ['events:PutEvents'], resources: [this.eventBus.eventBusArn] }),
    ];
  }

  /** The management API handler's environment: table, bus, quotas and the lock timeout. */
  public handlerEnvironment(): Record<string, string> {
    return {
      [CONTROL_PLANE_ENV.TABLE]: this.table.tableName,
      [CONTROL_PLANE_ENV.EVENT_BUS]: this.eventBus.eventBusName,
      [CONTROL_PLANE_ENV.QUOTAS]: JSON.stringify(this.quotas),
      [CONTROL_PLANE_ENV.LOCK_TIMEOUT]: String(this.lockTimeout.toSeconds()),
    };
  }

  /** Lets a principal read and write the store (e.g. an operator's import job). */
  public grantReadWriteData(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadWriteData(grantee);
  }

  /** Lets a principal put events on the control-plane bus. */
  public grantPutEvents(grantee: iam.IGrantable): iam.Grant {
    return this.eventBus.grantPutEventsTo(grantee);
  }
}

const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

function tableStatement(sid: string, table: dynamodb.ITable, actions: readonly string[], conditions?: Record<string, Record<string, unknown>>): iam.PolicyStatement {
  return new iam.PolicyStatement({ sid, actions: [...actions], resources: [table.tableArn], ...(conditions ? { conditions } : {}) });
}

function keyViaDynamoDb(sid: string, key: kms.IKey, write: boolean): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: write ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'] : ['kms:Decrypt', 'kms:DescribeKey'],
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(key).region}.amazonaws.com` } },
  });
}

function validateQuotas(props: ControlPlaneProps): ControlPlaneQuotas {
  const whole = (name: string, value: number, max: number, example: number) => {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new Error(`ControlPlane: ${name} is ${value}; use a whole number from 1 to ${max}, e.g. ${example}`);
    }
    return value;
  };
  const maxEnvironmentsPerTenant = whole('maxEnvironmentsPerTenant', props.maxEnvironmentsPerTenant ?? DEFAULT_CONTROL_PLANE_QUOTAS.maxEnvironmentsPerTenant, 1000, 10);
  // 250 nodes: a VPC /24 environment cannot hold more node interfaces, and quorum traffic grows with n^2 long before.
  const maxNodesPerEnvironment = whole('maxNodesPerEnvironment', props.maxNodesPerEnvironment ?? DEFAULT_CONTROL_PLANE_QUOTAS.maxNodesPerEnvironment, 250, 20);
  const types = props.allowedInstanceTypes;
  if (types !== undefined) {
    if (types.length === 0) throw new Error('ControlPlane: allowedInstanceTypes is empty; list at least one instance type (e.g. ["t4g.medium"]), or leave it out to allow any');
    const bad = types.filter((t) => !INSTANCE_TYPE.test(t));
    if (bad.length) throw new Error(`ControlPlane: allowedInstanceTypes has ${bad.map((t) => JSON.stringify(t)).join(', ')}; write EC2 instance type names, e.g. "t4g.medium" or "m7g.large"`);
    const dup = types.filter((t, i) => types.indexOf(t) !== i);
    if (dup.length) throw new Error(`ControlPlane: allowedInstanceTypes lists ${JSON.stringify(dup[0])} twice; list each type once`);
  }
  return { maxEnvironmentsPerTenant, maxNodesPerEnvironment, ...(types ? { allowedInstanceTypes: [...types] } : {}) };
}
