import { ArnFormat, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_ENVIRONMENT_LIMIT_BYTES, encodeNodeMembers, environmentBytes } from '../contracts/node-members';
import { argon2LayerCode, lambdaCode } from '../assets/bundled-assets';
import { nagArn } from '../security/nag-ids';
import { acknowledgeFinding, acknowledgeRule } from '../security/acknowledge';
import { SinglePolicyRole } from '../security/single-policy-role';
import { MetricDimensions, nodeMetricNamespace } from '../contracts/metric-names';
import { CREDENTIAL_ISSUER_FUNCTION_TAG, EnvironmentTags } from '../contracts/tags';
import { acknowledgeLambdaVpcAccess, lambdaVpcAccessStatements } from '../security/lambda-vpc-access';
import { decryptOwnEnvironment } from '../security/lambda-environment-encryption';
import { credentialSecretPrefix } from '../contracts/credential-format';
import { AUTHORIZER_ALLOW_TTL_SECONDS, REVOCATION_BOUND_SECONDS } from '../contracts/revocation';

const AUTHORIZER_DENIES = 'AuthorizerDenies';

/** Default reserved concurrency of an environment's authorizer. */
export const DEFAULT_AUTHORIZER_RESERVED_CONCURRENCY = 10;

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
  /**
   * How long the authorizer caches an allow (seconds): 0 to AUTHORIZER_ALLOW_TTL_SECONDS, so a revoked
   * credential stops working within REVOCATION_BOUND_SECONDS (lib/contracts/revocation.ts).
   * @default AUTHORIZER_ALLOW_TTL_SECONDS (14)
   */
  readonly allowCacheSeconds?: number;
  /**
   * Reserved concurrency of the authorizer: the most authorizations this environment can run at
   * once, and a share of the account's Lambda concurrency no other environment can take from it.
   * Tenants share accounts, so without it one environment's authorizer could use every unreserved
   * execution of the account and starve the others. When the authorizer is throttled, the node
   * gate still answers from its decision cache; a request that needs a new decision is refused
   * (fail closed: HTTP 503 with Retry-After, never an allow) and the client retries. Each
   * environment's reservation comes out of the account's concurrency limit (1000 by default, of
   * which Lambda keeps 100 unreserved): raise the limit before deploying many environments.
   * @default 10
   */
  readonly authorizerReservedConcurrency?: number;
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
    const ttl = props.allowCacheSeconds;
    if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 0 && ttl <= AUTHORIZER_ALLOW_TTL_SECONDS)) {
      throw new Error(
        `CredentialStore (${props.tenantId}/${props.environmentId}): allowCacheSeconds is ${ttl}; a revoked credential must stop working within ${REVOCATION_BOUND_SECONDS} s, ` +
          `which leaves the authorizer's cache at most ${AUTHORIZER_ALLOW_TTL_SECONDS} s: give a whole number from 0 to ${AUTHORIZER_ALLOW_TTL_SECONDS}, or leave it unset`,
      );
    }
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

    const authorizerEnvironment = { NODE_MEMBERS: encodeNodeMembers(props.nodeMembers), ALLOW_TTL_SECONDS: String(props.allowCacheSeconds ?? AUTHORIZER_ALLOW_TTL_SECONDS) };
    const bytes = environmentBytes({ ...environment, ...authorizerEnvironment });
    if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
      throw new Error(
        `CredentialStore (${props.tenantId}/${props.environmentId}): nodeMembers: the authorizer learns which member owns each node from its environment variables, ` +
          `and ${Object.keys(props.nodeMembers).length} nodes make them ${bytes} bytes (Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}); use shorter node and member ids, or fewer nodes in one environment`,
      );
    }
    const reserved = props.authorizerReservedConcurrency ?? DEFAULT_AUTHORIZER_RESERVED_CONCURRENCY;
    if (!Number.isInteger(reserved) || reserved < 1 || reserved > 900) {
      throw new Error(
        `CredentialStore (${props.tenantId}/${props.environmentId}): authorizerReservedConcurrency is ${reserved}; use a whole number from 1 to 900 ` +
          `(the default account limit is 1000 and Lambda keeps 100 unreserved), e.g. ${DEFAULT_AUTHORIZER_RESERVED_CONCURRENCY}`,
      );
    }
    const vpcAccess = { vpc: props.vpc, subnets: props.vpc.selectSubnets(props.subnets).subnets, securityGroups: [props.securityGroup] };
    const make = (name: 'Issuer' | 'Authorizer', asset: 'issuer' | 'authorizer', statements: iam.PolicyStatement[], env: Record<string, string>) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        encryptionKey: props.encryptionKey,
        retention: logs.RetentionDays.ONE_YEAR,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      const identity = new SinglePolicyRole(this, `${name}Identity`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${name} of the app credentials of ${props.tenantId}/${props.environmentId}`,
        statements: [
          ...statements,
          ...lambdaVpcAccessStatements(this, vpcAccess),
          decryptOwnEnvironment(props.encryptionKey),
          new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`] })],
      });
      acknowledgeLambdaVpcAccess(identity.policy);
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
        ...(name === 'Authorizer' ? { reservedConcurrentExecutions: reserved } : {}),
        description: `${name} of the app credentials of ${props.tenantId}/${props.environmentId}`,
      });
      acknowledgeRule(fn, 'LambdaDLQ', 'Invoked synchronously (gate, API Gateway, management API): the caller receives every failure; a DLQ would never be read.', ['CKV_AWS_116']);
      return { fn, logGroup, identity };
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
      metricNamespace: nodeMetricNamespace(props.tenantId, props.environmentId),
      metricName: AUTHORIZER_DENIES,
      filterPattern: logs.FilterPattern.all(logs.FilterPattern.stringValue('$.msg', '=', 'authorize'), logs.FilterPattern.stringValue('$.outcome', '!=', 'allowed')),
      metricValue: '1',
      dimensions: { [MetricDimensions.TENANT]: '$.tenant', [MetricDimensions.ENVIRONMENT]: '$.environment' },
    });
    this.tenantId = props.tenantId;
    this.environmentId = props.environmentId;
    const issuer = make(
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
    );
    this.issuer = issuer.fn;
    // The management API may invoke functions with this tag only (not authorizers, not NodeKeys).
    Tags.of(issuer.fn).add(EnvironmentTags.FUNCTION, CREDENTIAL_ISSUER_FUNCTION_TAG);
    acknowledgeRule(
      issuer.fn,
      'LambdaConcurrency',
      "Called by the management API (credential routes throttled per route by API Gateway and per IP by WAF) or by operators allowed lambda:InvokeFunction, never by the data path; a reservation would take a fixed share of the account's concurrency that every tenant's environments share.",
      ['CKV_AWS_115'],
    );
    for (const { identity, what } of [
      { identity: issuer.identity, what: 'secretsmanager:ListSecrets (the issuer filters by this environment prefix and can read only that prefix) and' },
      { identity: authorizer.identity, what: '' },
    ]) {
      acknowledgeFinding(identity.policy, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: `${what} ec2:DescribeNetworkInterfaces / DescribeSubnets (Lambda-in-VPC) support no resource-level permissions; they only read.`.trim(),
      });
    }
  }

  /** Lets a principal call the authorizer (e.g. a node gate). Statement for a managed policy. */
  public invokeAuthorizerStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({ sid: 'InvokeEnvironmentAuthorizer', actions: ['lambda:InvokeFunction'], resources: [this.authorizer.functionArn] });
  }

  /** Denied authorizations (wrong, unknown, expired, revoked credentials; other members). */
  public metricAuthorizerDenies(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: nodeMetricNamespace(this.tenantId, this.environmentId),
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
