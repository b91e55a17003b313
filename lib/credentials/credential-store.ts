import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_ENVIRONMENT_LIMIT_BYTES, encodeNodeMembers, environmentBytes } from './node-members';
import { argon2LayerCode, lambdaCode } from '../assets/bundled-assets';
import { nagArn } from '../security/nag-ids';
import { acknowledgeFinding, acknowledgeRule } from '../security/acknowledge';
import { SinglePolicyRole } from '../security/single-policy-role';
import { MetricDimensions, NodeMetrics } from '../operations/metric-names';
import { credentialSecretPrefix } from './credential-format';

const AUTHORIZER_DENIES = 'AuthorizerDenies';

/** Props of {@link CredentialStore}. */
export interface CredentialStoreProps {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly vpc: ec2.IVpc;
  /** Subnets of the functions (the environment's private isolated subnets). */
  readonly subnets: ec2.SubnetSelection;
  /** Security group of the functions (443 to the endpoints only). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The environment key: encrypts the credential secrets and the logs. */
  readonly encryptionKey: kms.IKey;
  /** Node id -> owning member: a credential opens only its own member's nodes. */
  readonly nodeMembers: { readonly [nodeId: string]: string };
  /** Lifetime of a credential when the caller gives none (days). @default 90 */
  readonly defaultLifetimeDays?: number;
  /** Longest lifetime a caller may ask for (days). @default 365 */
  readonly maxLifetimeDays?: number;
  /** How long the authorizer caches an allow (seconds). @default 60 */
  readonly allowCacheSeconds?: number;
  /** Log group removal. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The environment's app credentials: one Secrets Manager secret per credential (argon2id hash +
 * metadata) under `blockchain-tenancy/<tenant>/<env>/credentials/`, the issuer function (create,
 * list, describe, revoke, regenerate) and the authorizer function (API Gateway REQUEST contract;
 * the node gates call it too). The authorizer role can only read this environment's credentials.
 */
export class CredentialStore extends Construct {
  public readonly issuer: lambda.IFunction;
  public readonly authorizer: lambda.IFunction;
  /** The secrets prefix of this environment's credentials. */
  public readonly secretPrefix: string;
  private readonly tenantId: string;
  private readonly environmentId: string;

  constructor(scope: Construct, id: string, props: CredentialStoreProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.secretPrefix = credentialSecretPrefix(props.tenantId, props.environmentId);
    const secrets = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${this.secretPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const layer = new lambda.LayerVersion(this, 'Argon2', {
      code: argon2LayerCode(),
      compatibleRuntimes: [lambda.Runtime.NODEJS_24_X, lambda.Runtime.NODEJS_22_X],
      compatibleArchitectures: [lambda.Architecture.ARM_64, lambda.Architecture.X86_64],
      description: 'argon2 (native, linux glibc prebuilds)',
    });
    const viaSecretsManager = { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } };
    const environment = { TENANT_ID: props.tenantId, ENVIRONMENT_ID: props.environmentId };

    const authorizerEnvironment = { NODE_MEMBERS: encodeNodeMembers(props.nodeMembers), ALLOW_TTL_SECONDS: String(props.allowCacheSeconds ?? 60) };
    const bytes = environmentBytes({ ...environment, ...authorizerEnvironment });
    if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
      throw new Error(
        `CredentialStore (${props.tenantId}/${props.environmentId}): nodeMembers: the authorizer learns which member owns each node from its environment variables, ` +
          `and ${Object.keys(props.nodeMembers).length} nodes make them ${bytes} bytes (Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}); use shorter node and member ids, or fewer nodes in one environment`,
      );
    }
    const make = (name: 'Issuer' | 'Authorizer', asset: 'issuer' | 'authorizer', statements: iam.PolicyStatement[], env: Record<string, string>) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        encryptionKey: props.encryptionKey,
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      const identity = new SinglePolicyRole(this, `${name}Identity`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${name} of the app credentials of ${props.tenantId}/${props.environmentId}`,
        awsManagedPolicies: ['service-role/AWSLambdaVPCAccessExecutionRole'],
        statements: [
          ...statements,
          new iam.PolicyStatement({ sid: 'DecryptOwnEnvironmentVariables', actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn], conditions: { StringEquals: { 'kms:EncryptionContext:aws:lambda:FunctionArn': stack.formatArn({ service: 'lambda', resource: 'function', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } } }),
          new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`] })],
      });
      acknowledgeFinding(identity.role, {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'A function in the VPC needs to manage its network interfaces; AWS maintains this minimal policy.',
      });
      acknowledgeFinding(identity.policy, {
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'secretsmanager', `secret:${this.secretPrefix}*`)}]`,
        reason: "One secret per credential with a random ARN suffix, created at run time: the wildcard is this environment's credential prefix only.",
      });
      acknowledgeFinding(identity.policy, {
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup)}.Arn>:*]`,
        reason: "Log streams of the function's own log group.",
      });
      const fn = new lambda.Function(this, name, {
        code: lambdaCode(asset),
        handler: 'index.handler',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 512,
        timeout: Duration.seconds(10),
        role: identity.role,
        logGroup,
        layers: [layer],
        vpc: props.vpc,
        vpcSubnets: props.subnets,
        securityGroups: [props.securityGroup],
        environment: { ...environment, ...env },
        environmentEncryption: props.encryptionKey,
        description: `${name} of the app credentials of ${props.tenantId}/${props.environmentId}`,
      });
      acknowledgeRule(fn, 'LambdaDLQ', 'Invoked synchronously (gate, API Gateway, management API): the caller receives every failure; a DLQ would never be read.', ['CKV_AWS_116']);
      acknowledgeRule(
        fn,
        'LambdaConcurrency',
        'Reserved concurrency would be taken from the account pool of every tenant stack; throttling is done by WAF rate rules and the gate cache instead.',
        ['CKV_AWS_115'],
      );
      return { fn, logGroup };
    };

    const authorizer = make(
      'Authorizer',
      'authorizer',
      [
        new iam.PolicyStatement({ sid: 'ReadOwnEnvironmentCredentials', actions: ['secretsmanager:GetSecretValue'], resources: [secrets] }),
        new iam.PolicyStatement({ sid: 'DecryptViaSecretsManager', actions: ['kms:Decrypt'], resources: [props.encryptionKey.keyArn], conditions: viaSecretsManager }),
      ],
      authorizerEnvironment,
    );
    this.authorizer = authorizer.fn;
    // Denied decisions as a metric, from the authorizer's decision log lines (no secrets in them).
    new logs.MetricFilter(this, 'AuthorizerDenies', {
      logGroup: authorizer.logGroup,
      metricNamespace: NodeMetrics.NAMESPACE,
      metricName: AUTHORIZER_DENIES,
      filterPattern: logs.FilterPattern.all(logs.FilterPattern.stringValue('$.msg', '=', 'authorize'), logs.FilterPattern.stringValue('$.outcome', '!=', 'allowed')),
      metricValue: '1',
      dimensions: { [MetricDimensions.TENANT]: '$.tenant', [MetricDimensions.ENVIRONMENT]: '$.environment' },
    });
    this.tenantId = props.tenantId;
    this.environmentId = props.environmentId;
    this.issuer = make(
      'Issuer',
      'issuer',
      [
        new iam.PolicyStatement({
          sid: 'ManageOwnEnvironmentCredentials',
          actions: ['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:TagResource'],
          resources: [secrets],
        }),
        new iam.PolicyStatement({ sid: 'ListCredentials', actions: ['secretsmanager:ListSecrets'], resources: ['*'] }),
        new iam.PolicyStatement({ sid: 'EncryptViaSecretsManager', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.encryptionKey.keyArn], conditions: viaSecretsManager }),
      ],
      {
        KMS_KEY_ID: props.encryptionKey.keyArn,
        DEFAULT_LIFETIME_DAYS: String(props.defaultLifetimeDays ?? 90),
        MAX_LIFETIME_DAYS: String(props.maxLifetimeDays ?? 365),
      },
    ).fn;
    acknowledgeFinding(this.node.findChild('IssuerIdentity'), {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'secretsmanager:ListSecrets supports no resource-level permissions; the issuer filters by this environment prefix and can read only that prefix.',
    });
  }

  /** Lets a principal call the authorizer (e.g. a node gate). Statement for a managed policy. */
  public invokeAuthorizerStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({ sid: 'InvokeEnvironmentAuthorizer', actions: ['lambda:InvokeFunction'], resources: [this.authorizer.functionArn] });
  }

  /** Denied authorizations (wrong, unknown, expired, revoked credentials; other members). */
  public metricAuthorizerDenies(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: NodeMetrics.NAMESPACE,
      metricName: AUTHORIZER_DENIES,
      dimensionsMap: { [MetricDimensions.TENANT]: this.tenantId, [MetricDimensions.ENVIRONMENT]: this.environmentId },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Authorizer errors (fail-closed decisions that could not be made). */
  public metricAuthorizerErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.authorizer.metricErrors(props);
  }
}
