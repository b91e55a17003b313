import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Arn, ArnFormat, Aws, CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { PREBUILT_ASSETS_DIR, prebuiltAssetDir } from '../assets/prebuilt-assets';
import { ConsoleConfig } from '../contracts/console-config';
import { CONSOLE_HSTS_MAX_AGE_SECONDS, consoleConnectSources, consoleSecurityHeaders } from '../contracts/console-headers';
import { ID_HINT, ID_PATTERN } from '../contracts/ids';
import { acknowledgeFinding, acknowledgeRule, skipCheckov } from '../security/acknowledge';
import { acknowledgeDeployTimeFunction } from '../security/deploy-time-function';
import { nagResource } from '../security/nag-ids';
import { managedPolicyGrantee } from '../security/single-policy-role';
import { CLOUDFRONT_WEB_ACL_REGION, ConsoleWebAcl } from './console-web-acl';
import { ManagementApi } from './management-api';

/** Custom domain of the web console (a CloudFront alias). */
export interface ConsoleDomainOptions {
  /** The console's host name, e.g. `console.blockchain.example.com`. */
  readonly domainName: string;
  /** ACM certificate for `domainName`; CloudFront takes certificates from us-east-1 only. */
  readonly certificate: acm.ICertificate;
  /** Public hosted zone of `domainName`: alias A and AAAA records are created in it. @default - no DNS records (point the name at the distribution yourself) */
  readonly hostedZone?: route53.IHostedZone;
}

/** Which sign-in groups to create for one tenant. */
export interface ConsoleTenantAccess {
  /** The tenant id (as in tenants.json). Group `tenant-<tenantId>` manages all its environments. */
  readonly tenantId: string;
  /**
   * Environments that get a group of their own, `tenant-<tenantId>--<environmentId>`, which
   * manages that one environment only.
   * @default - none: only the tenant-wide group
   */
  readonly environmentIds?: readonly string[];
}

/** Props of {@link ManagementConsole}. */
export interface ManagementConsoleProps {
  /** The management API the console calls (SigV4, with the signed-in user's temporary credentials). */
  readonly api: ManagementApi;
  /** The tenants whose admins sign in: one group (and one IAM role) per tenant, and per listed environment. */
  readonly tenants: readonly ConsoleTenantAccess[];
  /** Custom domain. @default - the distribution's *.cloudfront.net name */
  readonly domain?: ConsoleDomainOptions;
  /**
   * ARN of a WAFv2 web ACL with scope CLOUDFRONT (created in us-east-1, e.g. by {@link ConsoleWebAcl}
   * in a us-east-1 stack). Required unless the stack deploys to us-east-1.
   * @default - a {@link ConsoleWebAcl} in this stack, which must then be pinned to us-east-1
   */
  readonly webAclArn?: string;
  /** Let anyone create a user (who lands in no group and so gets no permission until an operator adds one). @default false */
  readonly selfSignUp?: boolean;
  /** How long a sign-in lasts (refresh-token validity): 1 to 24 hours. @default Duration.hours(8) */
  readonly sessionDuration?: Duration;
  /** Minimum password length, 12 to 99 (lower and upper case, digits and symbols are always required). @default 14 */
  readonly minimumPasswordLength?: number;
  /** Bucket for the CloudFront and S3 access logs (needs ACLs enabled, as CloudFront standard logging requires). @default - a bucket of this construct (RETAIN) */
  readonly logBucket?: s3.IBucket;
  /** True when the management API has the control-plane (environment lifecycle) routes: written to config.json. @default - true when `api` has a control plane */
  readonly lifecycle?: boolean;
  /** Requests per 5 minutes per IP before WAF blocks (the web ACL created here only). @default 1000 */
  readonly wafRateLimitPerIp?: number;
  /** The console's files. @default - the prebuilt console asset of this package (dist/assets/console) */
  readonly siteSource?: s3deploy.ISource;
  /** Minimum TLS of viewers (applies with a custom domain; *.cloudfront.net is fixed by CloudFront). @default cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 */
  readonly minimumProtocolVersion?: cloudfront.SecurityPolicyProtocol;
  /** Removal policy of the buckets, user pool and logs. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The group name of a tenant (`tenant-acme`) or of one of its environments (`tenant-acme--prod`). */
export function consoleGroupName(tenantId: string, environmentId?: string): string {
  return environmentId === undefined ? `tenant-${tenantId}` : `tenant-${tenantId}--${environmentId}`;
}

const ALLOWED_PROTOCOLS: readonly string[] = [
  cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
  cloudfront.SecurityPolicyProtocol.TLS_V1_2_2025,
  cloudfront.SecurityPolicyProtocol.TLS_V1_3_2025,
];

/**
 * The web console of the management API: a single-page app on a private S3 bucket behind
 * CloudFront (origin access control, TLS 1.2+, HTTP/2 and 3, strict security headers from
 * lib/contracts/console-headers.ts, WAF, access logs), signed in with a Cognito user pool (MFA
 * with TOTP required, strong passwords, no self sign-up by default) whose groups map, through an
 * identity pool, to IAM roles that have exactly what `ManagementApi.grantManage` and `grantList`
 * give: the browser signs every API call with SigV4, so the API's authorization is the CLI's.
 */
export class ManagementConsole extends Construct {
  /** The console's URL (`https://<domain>`). */
  public readonly url: string;
  public readonly distribution: cloudfront.Distribution;
  public readonly siteBucket: s3.Bucket;
  public readonly logBucket: s3.IBucket;
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  public readonly identityPool: cognito.CfnIdentityPool;
  /** ARN of the CloudFront web ACL in front of the console. */
  public readonly webAclArn: string;
  /** The IAM role of each group, by group name (`tenant-acme`, `tenant-acme--prod`). */
  public readonly groupRoles: Readonly<Record<string, iam.Role>>;
  /** The runtime settings written to `/config.json` (tokens resolved at deploy). */
  public readonly runtimeConfig: ConsoleConfig;

  constructor(scope: Construct, id: string, props: ManagementConsoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    validate(stack, props);

    // --- WAF: CloudFront web ACLs exist only in us-east-1 -------------------------------------
    this.webAclArn = props.webAclArn ?? new ConsoleWebAcl(this, 'WebAcl', { removalPolicy, ...(props.wafRateLimitPerIp !== undefined ? { rateLimitPerIp: props.wafRateLimitPerIp } : {}) }).webAclArn;

    // --- Sign-in -----------------------------------------------------------------------------
    const sessionDuration = props.sessionDuration ?? Duration.hours(8);
    this.userPool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: props.selfSignUp ?? false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { sms: false, otp: true },
      passwordPolicy: {
        minLength: props.minimumPasswordLength ?? 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // Threat protection (compromised credentials, risky sign-ins blocked) needs the Plus plan.
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    this.userPoolClient = this.userPool.addClient('Console', {
      generateSecret: false, // a browser cannot keep a secret
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: sessionDuration,
    });
    this.identityPool = new cognito.CfnIdentityPool(this, 'Identities', {
      allowUnauthenticatedIdentities: false,
      allowClassicFlow: false,
      cognitoIdentityProviders: [{ clientId: this.userPoolClient.userPoolClientId, providerName: this.userPool.userPoolProviderName, serverSideTokenCheck: true }],
    });

    const roles: Record<string, iam.Role> = {};
    const groupFor = (tenantId: string, environmentId?: string) => {
      const name = consoleGroupName(tenantId, environmentId);
      const description = `blockchain-tenancy console group ${name}`;
      const policy = new iam.ManagedPolicy(this, `Policy-${name}`, { description });
      const role = new iam.Role(this, `Role-${name}`, {
        description,
        maxSessionDuration: Duration.hours(1),
        managedPolicies: [policy],
        assumedBy: new iam.FederatedPrincipal(
          'cognito-identity.amazonaws.com',
          {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
          },
          'sts:AssumeRoleWithWebIdentity',
        ),
      });
      // The one permission model: exactly what the CLI's operators get, in one managed policy.
      const grantee = managedPolicyGrantee(role, policy);
      const manage = props.api.grantManage(grantee, tenantId, environmentId ?? '*');
      props.api.grantList(grantee);
      for (const resource of manage.principalStatements.flatMap((s) => s.resources).filter((r) => r.includes('*'))) {
        acknowledgeFinding(policy, {
          id: `AwsSolutions-IAM5[Resource::${nagResource(this, resource)}]`,
          reason: `execute-api:Invoke on the management API routes of ${environmentId === undefined ? `every environment of tenant ${tenantId}` : `environment ${tenantId}/${environmentId}`} only (ManagementApi.grantManage, the CLI's grant): any HTTP method, any sub-route.`,
        });
      }
      new cognito.CfnUserPoolGroup(this, `Group-${name}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: name,
        description: environmentId === undefined ? `Manages every environment of tenant ${tenantId}` : `Manages environment ${tenantId}/${environmentId}`,
        roleArn: role.roleArn,
      });
      roles[name] = role;
    };
    for (const tenant of props.tenants) {
      groupFor(tenant.tenantId);
      for (const environmentId of tenant.environmentIds ?? []) groupFor(tenant.tenantId, environmentId);
    }
    this.groupRoles = roles;
    new cognito.CfnIdentityPoolRoleAttachment(this, 'RoleMapping', {
      identityPoolId: this.identityPool.ref,
      // No default role: a user in no group gets no credentials (AmbiguousRoleResolution Deny).
      roleMappings: {
        console: {
          identityProvider: `${this.userPool.userPoolProviderName}:${this.userPoolClient.userPoolClientId}`,
          type: 'Token',
          ambiguousRoleResolution: 'Deny',
        },
      },
    });

    // --- Hosting -----------------------------------------------------------------------------
    if (props.logBucket) {
      this.logBucket = props.logBucket;
    } else {
      const logs = new s3.Bucket(this, 'Logs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        encryption: s3.BucketEncryption.S3_MANAGED,
        versioned: true,
        // CloudFront standard logging writes with an ACL grant to its log-delivery account.
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const selfLogging = "This bucket receives the console's CloudFront and S3 access logs; logging its own access would recurse. CloudTrail data events cover it where required.";
      // cdk-nag sees the S3 log-delivery grant and raises nothing; checkov does not.
      skipCheckov(logs, ['CKV_AWS_18'], selfLogging);
      acknowledgeRule(logs, 'S3DefaultEncryptionKMS', 'CloudFront standard logging delivers to SSE-S3 buckets; a KMS key would need a key policy for the log-delivery service and adds nothing for these access logs.');
      acknowledgeRule(logs, 'S3BucketReplicationEnabled', 'Access logs are kept one year in the region; cross-region replication is an operator choice, not a default.');
      this.logBucket = logs;
    }
    this.siteBucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'site/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy,
    });
    acknowledgeRule(
      this.siteBucket,
      'S3DefaultEncryptionKMS',
      "The console's static files and config.json (ids, no secret) are served to anyone who opens the console; SSE-S3 encrypts them at rest without a KMS key policy for CloudFront.",
    );
    acknowledgeRule(this.siteBucket, 'S3BucketReplicationEnabled', 'Rebuilt from the package on every deploy (BucketDeployment): a replica would hold nothing that cannot be redeployed.');

    const apiOrigin = props.api.api.domainName ? `https://${props.api.api.domainName.domainName}` : `https://${props.api.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    const apiEndpoint = props.api.api.domainName ? apiOrigin : `${apiOrigin}/${props.api.api.deploymentStage.stageName}`;
    const headersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'blockchain-tenancy web console security headers',
      ...responseHeaders(consoleSecurityHeaders(consoleConnectSources(stack.region, apiOrigin))),
    });
    const origin = origins.S3BucketOrigin.withOriginAccessControl(this.siteBucket);
    const noCache: cloudfront.BehaviorOptions = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      responseHeadersPolicy: headersPolicy,
    };
    const minimumProtocolVersion = props.minimumProtocolVersion ?? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'blockchain-tenancy web console',
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED, // hashed file names
        responseHeadersPolicy: headersPolicy,
        compress: true,
      },
      // The entry page and the runtime settings change on every deploy: never cached.
      additionalBehaviors: { '/index.html': noCache, '/config.json': noCache },
      defaultRootObject: 'index.html',
      // SPA routes (/environments/acme/prod) are not objects: S3 answers 403 (no ListBucket), so
      // the app's entry page answers instead and its router shows the page.
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) })),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableIpv6: true,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      webAclId: this.webAclArn,
      // minimumProtocolVersion applies to a custom certificate only (*.cloudfront.net: CloudFront's own policy).
      ...(props.domain ? { domainNames: [props.domain.domainName], certificate: props.domain.certificate, minimumProtocolVersion } : {}),
    });
    acknowledgeFinding(this.distribution, {
      id: 'AwsSolutions-CFR1',
      reason: 'Tenant admins sign in from wherever they work; access is by Cognito sign-in with MFA and IAM, not by country. Add a geo restriction where policy requires one.',
    });
    skipCheckov(this.distribution, ['CKV_AWS_310'], 'One S3 origin holding only the static console, redeployed from the package: an origin group would fail over to a copy of the same files.');
    skipCheckov(this.distribution, ['CKV_AWS_374'], 'Tenant admins sign in from wherever they work; access is by Cognito sign-in with MFA and IAM, not by country.');
    if (!props.domain) {
      const reason =
        'No custom domain: on *.cloudfront.net CloudFront serves its own certificate and fixes the TLS policy itself (TLSv1 minimum); set domain (an ACM certificate in us-east-1) and minimumProtocolVersion applies.';
      acknowledgeFinding(this.distribution, { id: 'AwsSolutions-CFR4', reason });
      skipCheckov(this.distribution, ['CKV_AWS_174', 'CKV2_AWS_42'], reason);
    }
    const domainName = props.domain?.domainName ?? this.distribution.distributionDomainName;
    this.url = `https://${domainName}`;
    if (props.domain?.hostedZone) {
      const target = route53.RecordTarget.fromAlias(new targets.CloudFrontTarget(this.distribution));
      new route53.ARecord(this, 'Alias', { zone: props.domain.hostedZone, recordName: props.domain.domainName, target });
      new route53.AaaaRecord(this, 'AliasIpv6', { zone: props.domain.hostedZone, recordName: props.domain.domainName, target });
    }

    // --- The app and its runtime settings -------------------------------------------------------
    this.runtimeConfig = {
      region: stack.region,
      apiEndpoint,
      userPoolId: this.userPool.userPoolId,
      userPoolClientId: this.userPoolClient.userPoolClientId,
      identityPoolId: this.identityPool.ref,
      lifecycle: props.lifecycle ?? props.api.controlPlane !== undefined,
    };
    const key = new kms.Key(this, 'Key', { enableKeyRotation: true, removalPolicy, description: 'blockchain-tenancy web console deployment logs' });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }),
    );
    const deployLogs = new logs.LogGroup(this, 'DeployLogs', { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
    const deployment = new s3deploy.BucketDeployment(this, 'Deploy', {
      sources: [props.siteSource ?? consoleSiteSource(stack), s3deploy.Source.jsonData('config.json', this.runtimeConfig)],
      destinationBucket: this.siteBucket,
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/config.json'],
      memoryLimit: 512,
      logGroup: deployLogs,
      // Its own role, without the AWS managed AWSLambdaBasicExecutionRole (every log group of the account).
      role: new iam.Role(this, 'DeployRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: 'blockchain-tenancy web console deployment (BucketDeployment)' }),
    });
    confineBucketDeployment(stack, deployment, deployLogs);
    props.api.allowBrowserOrigin(this.url);

    new CfnOutput(this, 'Url', { value: this.url, description: 'The web console' });
    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId, description: 'Cognito user pool of the web console (add users and put them in tenant-<tenant> groups)' });
  }
}

/**
 * aws-cdk-lib's BucketDeployment function (one per stack and memory size): its role (ours, not
 * the default with the AWS managed AWSLambdaBasicExecutionRole, which writes to every log group of
 * the account) writes to its own encrypted log group only; the findings that remain are acknowledged on that function and its policy, with reasons.
 */
function confineBucketDeployment(stack: Stack, deployment: s3deploy.BucketDeployment, logGroup: logs.ILogGroup): void {
  const fn = stack.node.children.find((c): c is lambda.Function => c instanceof lambda.Function && c.node.id.startsWith('Custom::CDKBucketDeployment'));
  const role = deployment.handlerRole;
  if (!fn || !(role instanceof iam.Role)) throw new Error('ManagementConsole: aws-cdk-lib BucketDeployment changed shape (function or role not found); update confineBucketDeployment');
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`] }));
  acknowledgeDeployTimeFunction(fn, 'aws-cdk-lib BucketDeployment: copies the console files and config.json into the site bucket');
  acknowledgeFinding(fn, { id: 'AwsSolutions-L1', reason: "aws-cdk-lib's BucketDeployment pins the Python runtime of its handler (with the AWS CLI layer it ships); it moves with aws-cdk-lib releases." });
  skipCheckov(fn, ['CKV_AWS_173'], 'One environment variable, AWS_CA_BUNDLE (a file path, not a secret), set by aws-cdk-lib.');
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  const why = 'aws-cdk-lib BucketDeployment: reads the CDK asset (console files) and syncs it into the console site bucket (list, copy, delete pruned files, abort multipart uploads)';
  for (const id of ['Action::s3:Abort*', 'Action::s3:DeleteObject*', 'Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*']) acknowledgeFinding(policy, { id: `AwsSolutions-IAM5[${id}]`, reason: `${why}; CDK's grantRead/grantReadWrite action groups.` });
  const site = nagResource(stack, deployment.deployedBucket.arnForObjects('*'));
  const statements = (stack.resolve((policy as iam.Policy).document.toJSON()) as { Statement: { Resource: unknown }[] }).Statement;
  const resources = new Set(statements.flatMap((st) => [st.Resource].flat()).map((r) => nagResource(stack, r as string)).filter((r) => r.includes('*')));
  for (const resource of resources) {
    const reason =
      resource === '*'
        ? 'cloudfront:CreateInvalidation and GetInvalidation: the handler invalidates /index.html and /config.json after each deploy; aws-cdk-lib grants them on *.'
        : resource === site
          ? `${why}: every object of the site bucket.`
          : `${why}: the objects of the CDK asset bucket, where cdk deploy uploads the console files.`;
    acknowledgeFinding(policy, { id: `AwsSolutions-IAM5[Resource::${resource}]`, reason });
  }
  skipCheckov(policy, ['CKV_AWS_111'], 'cloudfront:CreateInvalidation on * (aws-cdk-lib BucketDeployment): invalidations take no resource-level constraint in this grant; the handler invalidates only /index.html and /config.json of this distribution.');
  acknowledgeRule(policy, 'IAMNoInlinePolicy', "aws-cdk-lib's BucketDeployment writes its grants (asset read, site bucket write, invalidation) into its role's default policy; that role serves this deployment only.");
}

/** The prebuilt console (dist/assets/console). Its contents matter only when assets are bundled. */
function consoleSiteSource(stack: Stack): s3deploy.ISource {
  // Template tests and `cdk ls` skip asset bundling: no file of the asset is read then.
  if (!stack.bundlingRequired && !existsSync(path.join(PREBUILT_ASSETS_DIR, 'console', 'index.html'))) {
    return s3deploy.Source.data('index.html', '<!doctype html><title>blockchain-tenancy console (not built)</title>');
  }
  return s3deploy.Source.asset(prebuiltAssetDir('console'));
}

/** CloudFront's response headers policy for the shared header set (every header mapped, none dropped). */
function responseHeaders(headers: Record<string, string>): Pick<cloudfront.ResponseHeadersPolicyProps, 'securityHeadersBehavior' | 'customHeadersBehavior'> {
  const rest = { ...headers };
  const take = (name: string): string => {
    const value = rest[name];
    if (value === undefined) throw new Error(`ManagementConsole: the console's security headers (lib/contracts/console-headers.ts) lack ${name}`);
    delete rest[name];
    return value;
  };
  const hsts = /^max-age=(\d+)(; includeSubDomains)?(; preload)?$/.exec(take('strict-transport-security'));
  if (!hsts || Number(hsts[1]) !== CONSOLE_HSTS_MAX_AGE_SECONDS) throw new Error('ManagementConsole: strict-transport-security of the console headers is not in the form CloudFront can send');
  const frame = take('x-frame-options');
  const referrer = take('referrer-policy');
  if (!Object.values(cloudfront.HeadersReferrerPolicy).includes(referrer as cloudfront.HeadersReferrerPolicy)) throw new Error(`ManagementConsole: referrer-policy "${referrer}" is not one CloudFront can send`);
  if (take('x-content-type-options') !== 'nosniff') throw new Error('ManagementConsole: x-content-type-options must be nosniff');
  return {
    securityHeadersBehavior: {
      contentSecurityPolicy: { contentSecurityPolicy: take('content-security-policy'), override: true },
      strictTransportSecurity: { accessControlMaxAge: Duration.seconds(Number(hsts[1])), includeSubdomains: hsts[2] !== undefined, preload: hsts[3] !== undefined, override: true },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: frame === 'DENY' ? cloudfront.HeadersFrameOption.DENY : cloudfront.HeadersFrameOption.SAMEORIGIN, override: true },
      referrerPolicy: { referrerPolicy: referrer as cloudfront.HeadersReferrerPolicy, override: true },
    },
    customHeadersBehavior: { customHeaders: Object.entries(rest).map(([header, value]) => ({ header, value, override: true })) },
  };
}

function validate(stack: Stack, props: ManagementConsoleProps): void {
  const fail = (message: string): never => {
    throw new Error(`ManagementConsole: ${message}`);
  };
  if (props.webAclArn === undefined) {
    if (Token.isUnresolved(stack.region)) {
      fail(
        `webAclArn is not set and the stack's region is not known at synth (environment-agnostic stack); WAF creates web ACLs for CloudFront only in ${CLOUDFRONT_WEB_ACL_REGION}: ` +
          `pin the stack to env.region "${CLOUDFRONT_WEB_ACL_REGION}" (the web ACL is created here), or pass webAclArn (a ConsoleWebAcl in a stack pinned to ${CLOUDFRONT_WEB_ACL_REGION})`,
      );
    } else if (stack.region !== CLOUDFRONT_WEB_ACL_REGION) {
      fail(
        `webAclArn is not set and the stack deploys to ${stack.region}; WAF creates web ACLs for CloudFront only in ${CLOUDFRONT_WEB_ACL_REGION}: ` +
          `create one there (ConsoleWebAcl in a stack pinned to ${CLOUDFRONT_WEB_ACL_REGION}; the default app's BlockchainConsoleWaf) and pass its ARN as webAclArn, or deploy this stack to ${CLOUDFRONT_WEB_ACL_REGION}`,
      );
    }
  } else if (!Token.isUnresolved(props.webAclArn)) {
    const ok = /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[A-Za-z0-9_-]{1,128}\/[0-9a-f-]{36}$/.test(props.webAclArn);
    if (!ok) fail(`webAclArn is "${props.webAclArn}"; give the ARN of a WAFv2 web ACL with scope CLOUDFRONT, e.g. arn:aws:wafv2:us-east-1:111122223333:global/webacl/blockchain-console/<id> (CloudFront web ACLs live in us-east-1 under global/)`);
  }
  if (props.domain) {
    const arn = props.domain.certificate.certificateArn;
    const certRegion = Token.isUnresolved(arn) ? undefined : Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).region;
    if (certRegion !== undefined && certRegion !== CLOUDFRONT_WEB_ACL_REGION) {
      fail(`domain.certificate is in ${certRegion} (${arn}); CloudFront takes certificates from us-east-1 only: request or import the certificate for ${props.domain.domainName} in us-east-1`);
    }
    if (!Token.isUnresolved(props.domain.domainName) && !/^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(props.domain.domainName)) {
      fail(`domain.domainName is "${props.domain.domainName}"; write a lowercase DNS name, e.g. console.blockchain.example.com`);
    }
  }
  if (props.tenants.length === 0) fail('tenants is empty; list the tenants whose admins sign in (each gets a group tenant-<tenantId>)');
  const seen = new Set<string>();
  props.tenants.forEach((t, i) => {
    if (!ID_PATTERN.test(t.tenantId)) fail(`tenants[${i}].tenantId is "${t.tenantId}"; ${ID_HINT}`);
    if (seen.has(t.tenantId)) fail(`tenants[${i}].tenantId "${t.tenantId}" is listed twice; list each tenant once (its environmentIds together)`);
    seen.add(t.tenantId);
    const envs = new Set<string>();
    (t.environmentIds ?? []).forEach((e, j) => {
      if (!ID_PATTERN.test(e)) fail(`tenants[${i}].environmentIds[${j}] is "${e}"; ${ID_HINT}`);
      if (envs.has(e)) fail(`tenants[${i}].environmentIds[${j}] "${e}" is listed twice; list each environment once`);
      envs.add(e);
    });
  });
  const minutes = props.sessionDuration?.toMinutes() ?? 480;
  if (minutes < 60 || minutes > 24 * 60) fail(`sessionDuration is ${props.sessionDuration?.toHumanString()}; use 1 to 24 hours (Duration.hours(8) is the default): a console session that outlives a working day should sign in again`);
  const min = props.minimumPasswordLength ?? 14;
  if (!Number.isInteger(min) || min < 12 || min > 99) fail(`minimumPasswordLength is ${min}; use a whole number from 12 to 99`);
  const protocol = props.minimumProtocolVersion ?? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021;
  if (!ALLOWED_PROTOCOLS.includes(protocol)) fail(`minimumProtocolVersion is ${protocol}; use TLS_V1_2_2021 or newer (${ALLOWED_PROTOCOLS.join(', ')})`);
}
