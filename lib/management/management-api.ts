import { ArnFormat, Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { lambdaCode } from '../assets/bundled-assets';
import { ID_PATTERN } from '../contracts/ids';
import { REGISTRATION_PREFIX } from '../contracts/registration-format';
import { CREDENTIAL_ISSUER_FUNCTION_TAG, EnvironmentTags } from '../contracts/tags';
import { acknowledgeFinding, acknowledgeRule, skipCheckov } from '../security/acknowledge';
import { nagArn } from '../security/nag-ids';
import { RegionalWebAcl } from '../security/web-acl';
import { SinglePolicyRole } from '../security/single-policy-role';
import { ControlPlane, ControlPlaneProps, decryptOwnEnvironment } from './control-plane';
import { callerStatement, nodeActionStatement } from './policies';

/** A PEM truststore in S3 for mutual TLS on the management API's custom domain. */
export interface MtlsTruststore {
  /** Bucket of the truststore. */
  readonly bucket: s3.IBucket;
  /** Object key of the PEM truststore. */
  readonly key: string;
  /** Object version. @default - the latest version */
  readonly version?: string;
}

/** Request headers a browser may send with a SigV4-signed call (CORS preflight). */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'idempotency-key'];

/** Custom domain of the management API. */
export interface ManagementDomainOptions {
  readonly domainName: string;
  readonly certificate: acm.ICertificate;
  /** A PEM truststore in S3: turns on mutual TLS (clients must present a certificate). @default - no mutual TLS */
  readonly mtlsTruststore?: MtlsTruststore;
}

/** Props of {@link ManagementApi}. */
export interface ManagementApiProps {
  /** Custom domain (same TLS policy, STRICT access mode). @default - the execute-api endpoint */
  readonly domain?: ManagementDomainOptions;
  /**
   * TLS policy of the API's default endpoint and of the custom domain: an enhanced regional
   * policy (`SecurityPolicy_...`, not `_EDGE`), always with STRICT endpoint access mode, so a
   * client that cannot negotiate it is refused rather than served with an older policy.
   * @default apigw.SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09 (TLS 1.3, and TLS 1.2 with forward-secret ciphers only)
   */
  readonly securityPolicy?: apigw.SecurityPolicy;
  /** Requests per second (steady) per route. @default 20 */
  readonly rateLimit?: number;
  /** WAF limit per IP per 5 minutes. @default 1000 */
  readonly wafRateLimitPerIp?: number;
  /** Removal policy of the logs and key. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Turns on the control plane (issue #18): a versioned store of every environment's config, the
   * lifecycle routes (create, change, delete environments and nodes; deployments) and the
   * deployment engine (Step Functions + CodeBuild running this library's CDK app). Its
   * `removalPolicy` defaults to this API's.
   * @default - no control plane: the lifecycle routes answer 404 ControlPlaneDisabled
   */
  readonly controlPlane?: ControlPlaneProps;
}

/**
 * The network layer: a REST API (IAM / SigV4 on every method, request validation, access logs,
 * per-route throttling, tracing, WAF) for environments, nodes and app credentials of every
 * environment deployed in this account and region. Deploy it once per account/region.
 */
export class ManagementApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly handler: lambda.IFunction;
  public readonly webAcl: wafv2.CfnWebACL;
  /** The control plane, when `controlPlane` is set. */
  public readonly controlPlane?: ControlPlane;
  private browserOrigin?: string;

  constructor(scope: Construct, id: string, props: ManagementApiProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const rate = props.rateLimit ?? 20;
    const securityPolicy = props.securityPolicy ?? apigw.SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09;
    if (!securityPolicy.startsWith('SecurityPolicy_') || securityPolicy.endsWith('_EDGE')) {
      throw new Error(
        `ManagementApi: securityPolicy is ${securityPolicy}; use an enhanced regional policy, e.g. apigw.SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09 or TLS13_1_3_2025_09 (legacy TLS_1_0 / TLS_1_2 and edge policies are refused)`,
      );
    }
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, removalPolicy, description: 'blockchain-tenancy management API logs' });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }),
    );
    const logGroup = (name: string) => new logs.LogGroup(this, name, { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR, removalPolicy });

    const fnLogs = logGroup('HandlerLogs');
    const identity = new SinglePolicyRole(this, 'HandlerIdentity', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'blockchain-tenancy management API',
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadRegistrations',
          actions: ['ssm:GetParameter', 'ssm:GetParametersByPath'],
          resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${REGISTRATION_PREFIX.slice(1)}*` })],
        }),
        new iam.PolicyStatement({ sid: 'DescribeInstances', actions: ['ec2:DescribeInstances'], resources: ['*'] }),
        nodeActionStatement(stack.region, stack.account, stack.partition),
        new iam.PolicyStatement({
          sid: 'SuspendReplacementOfStoppedNodes',
          actions: ['autoscaling:SuspendProcesses', 'autoscaling:ResumeProcesses'],
          resources: [stack.formatArn({ service: 'autoscaling', resource: 'autoScalingGroup', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
          conditions: {
            StringLike: {
              [`aws:ResourceTag/${EnvironmentTags.NODE}`]: '?*',
              [`aws:ResourceTag/${EnvironmentTags.ENVIRONMENT}`]: '?*',
              [`aws:ResourceTag/${EnvironmentTags.TENANT}`]: '?*',
            },
          },
        }),
        new iam.PolicyStatement({
          // Credential issuers only: authorizers, NodeKeys and every other function lack the tag.
          sid: 'CallEnvironmentIssuers',
          actions: ['lambda:InvokeFunction'],
          resources: [stack.formatArn({ service: 'lambda', resource: 'function', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
          conditions: {
            StringEquals: { [`aws:ResourceTag/${EnvironmentTags.FUNCTION}`]: CREDENTIAL_ISSUER_FUNCTION_TAG },
            StringLike: { [`aws:ResourceTag/${EnvironmentTags.ENVIRONMENT}`]: '?*', [`aws:ResourceTag/${EnvironmentTags.TENANT}`]: '?*' },
          },
        }),
        new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [fnLogs.logGroupArn, `${fnLogs.logGroupArn}:*`] }),
        new iam.PolicyStatement({ sid: 'Tracing', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
      ],
    });
    for (const [resource, reason] of [
      ['*', 'ec2:DescribeInstances and X-Ray writes support no resource-level permissions.'],
      [nagArn(stack, 'ssm', `parameter${REGISTRATION_PREFIX}*`), 'Environments register under this prefix when deployed; the API reads registrations only.'],
      [
        nagArn(stack, 'ec2', 'instance/*'),
        "Start/stop/reboot of this account's and region's instances, bound by condition to instances tagged as blockchain-tenancy nodes (tenant, environment, node); the code also checks tenant and environment tags against the route.",
      ],
      [
        nagArn(stack, 'autoscaling', 'autoScalingGroup:*'),
        "Suspend/resume replacement of this account's and region's Auto Scaling groups, bound by condition to groups tagged as blockchain-tenancy nodes (tenant, environment, node).",
      ],
      [
        nagArn(stack, 'lambda', 'function:*'),
        'Issuer functions are created per environment; invocation is bound by condition to functions tagged as credential issuers (blockchain-tenancy:function) of a tenant environment.',
      ],
      [`<${stack.getLogicalId(fnLogs.node.defaultChild as logs.CfnLogGroup)}.Arn>:*`, "Log streams of the function's own log group."],
    ] as const) {
      acknowledgeFinding(identity.policy, { id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
    }
    const fn = new lambda.Function(this, 'Handler', {
      code: lambdaCode('management'),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(29),
      // Immutable: every permission is in the one managed policy above (no inline default policy).
      role: identity.role.withoutPolicyUpdates(),
      logGroup: fnLogs,
      tracing: lambda.Tracing.ACTIVE,
      description: 'blockchain-tenancy management API',
      // The control plane's table and bus names and quotas are its only environment variables.
      ...(props.controlPlane ? { environmentEncryption: key } : {}),
    });
    if (props.controlPlane) {
      const controlPlane = new ControlPlane(this, 'ControlPlane', { removalPolicy, ...props.controlPlane });
      identity.policy.addStatements(...controlPlane.handlerStatements(), decryptOwnEnvironment(key));
      for (const [name, value] of Object.entries(controlPlane.handlerEnvironment())) fn.addEnvironment(name, value);
      this.controlPlane = controlPlane;
    }
    acknowledgeRule(fn, 'LambdaDLQ', 'Invoked synchronously by API Gateway, which returns every failure to the caller; a DLQ would never be read.', ['CKV_AWS_116']);
    acknowledgeRule(fn, 'LambdaConcurrency', 'Throttled per route by API Gateway and per IP by WAF; reserved concurrency would come out of the account pool.', ['CKV_AWS_115']);
    acknowledgeRule(fn, 'LambdaInsideVPC', 'The management API spans every environment (each its own isolated VPC) and calls regional AWS APIs only; it has no VPC of its own to live in.', ['CKV_AWS_117']);
    this.handler = fn;

    const accessLogs = logGroup('AccessLogs');
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'blockchain-tenancy management API (IAM-authorized)',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: removalPolicy,
      disableExecuteApiEndpoint: props.domain !== undefined,
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // bodies carry one-time secrets: never log them
        tracingEnabled: true,
        throttlingRateLimit: rate,
        throttlingBurstLimit: rate * 2,
        methodOptions: {
          '/environments/{tenant}/{environment}/credentials/POST': { throttlingRateLimit: Math.max(1, Math.floor(rate / 4)), throttlingBurstLimit: Math.max(2, Math.floor(rate / 2)) },
          '/environments/{tenant}/{environment}/nodes/{node}/{action}/POST': { throttlingRateLimit: Math.max(1, Math.floor(rate / 4)), throttlingBurstLimit: Math.max(2, Math.floor(rate / 2)) },
        },
      },
      ...(props.domain
        ? {
            domainName: {
              domainName: props.domain.domainName,
              certificate: props.domain.certificate,
              securityPolicy,
              endpointAccessMode: apigw.EndpointAccessMode.STRICT,
              endpointType: apigw.EndpointType.REGIONAL,
              ...(props.domain.mtlsTruststore ? { mtls: props.domain.mtlsTruststore } : {}),
            },
          }
        : {}),
    });
    // The RestApi L2 does not expose these yet: the default execute-api endpoint gets the same
    // enhanced policy, STRICT (asserted in test/template/management.test.ts).
    const cfnApi = this.api.node.defaultChild as apigw.CfnRestApi;
    cfnApi.securityPolicy = securityPolicy;
    cfnApi.endpointAccessMode = apigw.EndpointAccessMode.STRICT;
    const cwRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cwRole) {
      acknowledgeFinding(cwRole, {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'API Gateway execution logging needs the account-level role with this AWS-maintained policy.',
      });
    }
    const stage = this.api.deploymentStage;
    // No checkov equivalent: CKV_AWS_120 (caching) belongs to the next rule, with its own reason.
    acknowledgeRule(stage, 'APIGWSSLEnabled', 'The backend is a Lambda proxy integration, not an HTTP endpoint: there is no backend TLS connection to authenticate with a client certificate.');
    acknowledgeRule(stage, 'APIGWCacheEnabledAndEncrypted', 'Management responses are per caller and change on every action (and may carry a one-time secret): they must never be cached.', ['CKV_AWS_120']);
    // AwsSolutions-APIG3 (no WAF) is not raised: cdk-nag sees the web ACL association below.

    const integration = new apigw.LambdaIntegration(fn, { proxy: true });
    const validator = this.api.addRequestValidator('Validator', { validateRequestBody: true, validateRequestParameters: true });
    const createModel = this.api.addModel('CreateCredential', {
      contentType: 'application/json',
      schema: {
        schema: apigw.JsonSchemaVersion.DRAFT4,
        type: apigw.JsonSchemaType.OBJECT,
        required: ['memberId'],
        additionalProperties: false,
        properties: {
          memberId: { type: apigw.JsonSchemaType.STRING, pattern: ID_PATTERN.source },
          lifetimeDays: { type: apigw.JsonSchemaType.INTEGER, minimum: 1, maximum: 3650 },
          description: { type: apigw.JsonSchemaType.STRING, maxLength: 256 },
        },
      },
    });
    const opts = (extra: Partial<apigw.MethodOptions> = {}): apigw.MethodOptions => ({ requestValidator: validator, ...extra });
    const envs = this.api.root.addResource('environments');
    envs.addMethod('GET', integration, opts());
    const env = envs.addResource('{tenant}').addResource('{environment}');
    env.addMethod('GET', integration, opts());
    const nodes = env.addResource('nodes');
    nodes.addMethod('GET', integration, opts());
    const nodeResource = nodes.addResource('{node}');
    nodeResource.addResource('{action}').addMethod('POST', integration, opts());
    const creds = env.addResource('credentials');
    creds.addMethod('GET', integration, opts({ requestParameters: { 'method.request.querystring.memberId': false } }));
    creds.addMethod('POST', integration, opts({ requestModels: { 'application/json': createModel } }));
    const cred = creds.addResource('{id}');
    cred.addMethod('GET', integration, opts());
    cred.addMethod('DELETE', integration, opts());
    cred.addResource('regenerate').addMethod('POST', integration, opts());
    if (this.controlPlane) {
      // The lifecycle routes (the handler validates bodies with the config parser: field-path 400s).
      env.addMethod('POST', integration, opts({ requestParameters: { 'method.request.header.Idempotency-Key': false } }));
      env.addMethod('PATCH', integration, opts());
      env.addMethod('DELETE', integration, opts({ requestParameters: { 'method.request.querystring.purge': false, 'method.request.querystring.confirm': false } }));
      env.addResource('config').addMethod('GET', integration, opts({ requestParameters: { 'method.request.querystring.version': false } }));
      nodes.addMethod('POST', integration, opts());
      nodeResource.addMethod('DELETE', integration, opts());
      const deployments = env.addResource('deployments');
      deployments.addMethod('GET', integration, opts());
      deployments.addResource('{deploymentId}').addMethod('GET', integration, opts());
    }
    for (const m of this.api.methods) {
      acknowledgeFinding(m, { id: 'AwsSolutions-COG4', reason: 'Every method uses IAM (SigV4) authorization: callers are IAM principals, scoped per environment route (callerStatement).' });
    }

    this.webAcl = new RegionalWebAcl(this, 'Waf', {
      name: 'blockchain-management',
      description: 'blockchain-tenancy management API',
      resourceArn: `arn:${Aws.PARTITION}:apigateway:${stack.region}::/restapis/${this.api.restApiId}/stages/${stage.stageName}`,
      rateLimitPerIp: props.wafRateLimitPerIp ?? 1000,
      encryptionKey: key,
      removalPolicy,
    }).webAcl;
  }

  /** Lets a principal manage one environment (or every environment of a tenant with `*`). */
  public grantManage(grantee: iam.IGrantable, tenantId: string, environmentId = '*'): iam.Grant {
    const base = Stack.of(this).formatArn({ service: 'execute-api', resource: this.api.restApiId });
    return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns: callerStatement(base, this.api.deploymentStage.stageName, tenantId, environmentId).resources });
  }

  /**
   * Lets a browser app served from `origin` (e.g. the web console's CloudFront URL) call the API:
   * a CORS preflight (OPTIONS, no authorization: browsers send it without credentials; a mock
   * integration answers with headers only) on every resource that exists now, CORS headers on API
   * Gateway's own errors (an IAM denial must reach the app as the 403 it is), and the origin for
   * the handler's answers (environment CORS_ALLOW_ORIGIN). Every other method keeps IAM (SigV4)
   * authorization: CORS only lets the browser read answers, it grants nothing. Call it after the
   * last route is added. Once per API.
   */
  public allowBrowserOrigin(origin: string): void {
    if (this.browserOrigin !== undefined) throw new Error(`ManagementApi: allowBrowserOrigin was called twice (${this.browserOrigin}); one browser origin per API (the web console)`);
    this.browserOrigin = origin;
    const visit = (resource: apigw.IResource) => {
      resource.addCorsPreflight({
        allowOrigins: [origin],
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
        allowHeaders: CORS_REQUEST_HEADERS,
        maxAge: Duration.hours(1),
      });
      for (const child of resource.node.children) if (child instanceof apigw.Resource) visit(child);
    };
    for (const child of this.api.root.node.children) if (child instanceof apigw.Resource) visit(child);
    for (const [id, type] of [['Default4xx', apigw.ResponseType.DEFAULT_4XX], ['Default5xx', apigw.ResponseType.DEFAULT_5XX]] as const) {
      this.api.addGatewayResponse(id, { type, responseHeaders: { 'Access-Control-Allow-Origin': `'${origin}'`, Vary: "'Origin'" } });
    }
    if (this.handler instanceof lambda.Function) {
      this.handler.addEnvironment('CORS_ALLOW_ORIGIN', origin);
      skipCheckov(this.handler, ['CKV_AWS_173'], "One environment variable, CORS_ALLOW_ORIGIN: the web console's public URL, not a secret.");
    }
  }

  /** Lets a principal list environments (GET /environments). */
  public grantList(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['execute-api:Invoke'], resourceArns: [this.api.arnForExecuteApi('GET', '/environments', this.api.deploymentStage.stageName)] });
  }
}
