import { readFileSync } from 'node:fs';
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { describe, expect, it } from 'vitest';
import { withCors } from '../../lambda/management/cors';
import { CONSOLE_WAF_STACK_NAME, ManagementApi, ManagementConsole, ManagementConsoleProps, consoleContentSecurityPolicy, consoleGroupName, parseTenantsConfig } from '../../lib';
import { buildTenantApp, testApp } from '../support/synth';

// The production fixture: management stack in eu-west-1 with the console on a custom domain
// (certificate in us-east-1) behind a web ACL given by ARN; two tenants with equal environment
// ids (acme/prod and initech/prod).
const fixture = JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8'));
const { app } = buildTenantApp(fixture);
const mgmt = Template.fromStack(app.node.findChild('BlockchainManagement') as Stack);
const WEB_ACL = fixture.management.console.webAclArn as string;
type R = { Properties: Record<string, unknown>; DeletionPolicy?: string };
const only = (t: Template, type: string): [string, R] => {
  const entries = Object.entries(t.findResources(type)) as [string, R][];
  expect(entries, type).toHaveLength(1);
  return entries[0];
};
const site = () => fakeSite();
function fakeSite(): s3deploy.ISource {
  return s3deploy.Source.data('index.html', '<!doctype html><title>t</title>');
}
/** A us-east-1 stack with the API and a console (the web ACL is created in it). */
function usEast1(props: Partial<ManagementConsoleProps> = {}): Template {
  const stack = new Stack(testApp(), 'East', { env: { region: 'us-east-1' } });
  const api = new ManagementApi(stack, 'M');
  new ManagementConsole(stack, 'C', { api, tenants: [{ tenantId: 'acme' }], siteSource: site(), ...props });
  return Template.fromStack(stack);
}
const east = usEast1();

describe('console hosting', () => {
  it('serves a private bucket through origin access control only', () => {
    const [oacId, oac] = only(mgmt, 'AWS::CloudFront::OriginAccessControl');
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    const [distId, dist] = only(mgmt, 'AWS::CloudFront::Distribution');
    const config = dist.Properties.DistributionConfig as { Origins: { OriginAccessControlId: unknown; S3OriginConfig: unknown }[] };
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0].OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
    expect(config.Origins[0].S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
    mgmt.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: { LogFilePrefix: 'site/', DestinationBucketName: Match.anyValue() },
    });
    // The site bucket's policy: deny plain HTTP, allow reads to this distribution and nobody else.
    const policies = Object.values(mgmt.findResources('AWS::S3::BucketPolicy')) as R[];
    const sitePolicy = policies.find((p) => JSON.stringify(p.Properties.Bucket).includes('ConsoleSite'))!;
    const statements = (sitePolicy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements.filter((s) => s.Effect === 'Deny')).toEqual([expect.objectContaining({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
    const allows = statements.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Action: 's3:GetObject',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: { StringEquals: { 'AWS:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/', { Ref: distId }]] } } },
      }),
    ]);
  });

  it('speaks TLS 1.2_2021+ on its domain, HTTP/2 and 3, with the SPA fallback, access logs and the given web ACL', () => {
    const [, dist] = only(mgmt, 'AWS::CloudFront::Distribution');
    expect(dist.Properties.DistributionConfig).toMatchObject({
      Aliases: ['console.blockchain.example.com'],
      ViewerCertificate: { AcmCertificateArn: fixture.management.console.certificateArn, MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' },
      HttpVersion: 'http2and3',
      DefaultRootObject: 'index.html',
      CustomErrorResponses: [403, 404].map((ErrorCode) => ({ ErrorCode, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 })),
      Logging: { Prefix: 'cloudfront/' },
      WebACLId: WEB_ACL,
      DefaultCacheBehavior: { ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'] },
    });
    // index.html and config.json are never cached (CachingDisabled).
    const behaviors = (dist.Properties.DistributionConfig as { CacheBehaviors: { PathPattern: string; CachePolicyId: string }[] }).CacheBehaviors;
    expect(behaviors.map((b) => [b.PathPattern, b.CachePolicyId])).toEqual([
      ['/index.html', '4135ea2d-6df8-44a3-9df3-4b5a84be39ad'],
      ['/config.json', '4135ea2d-6df8-44a3-9df3-4b5a84be39ad'],
    ]);
  });

  it('sends the shared security headers: HSTS 2 years with preload, a CSP without inline script, DENY framing', () => {
    const [, policy] = only(mgmt, 'AWS::CloudFront::ResponseHeadersPolicy');
    const config = policy.Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, Record<string, unknown>>; CustomHeadersConfig: { Items: unknown[] } };
    const sec = config.SecurityHeadersConfig;
    expect(sec.StrictTransportSecurity).toEqual({ AccessControlMaxAgeSec: 63_072_000, IncludeSubdomains: true, Preload: true, Override: true });
    expect(sec.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(sec.ContentTypeOptions).toEqual({ Override: true });
    expect(sec.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
    expect(config.CustomHeadersConfig.Items).toEqual(
      expect.arrayContaining([{ Header: 'permissions-policy', Value: expect.stringContaining('camera=()'), Override: true }]),
    );
    const csp = (sec.ContentSecurityPolicy.ContentSecurityPolicy as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    // Exactly the shared module's policy for this API and region (the local test server sends the same).
    const rendered = csp.map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p)}>`)).join('');
    const apiOrigin = `https://<{"Ref":"ManagementApi46D28074"}>.execute-api.eu-west-1.<{"Ref":"AWS::URLSuffix"}>`;
    expect(rendered).toBe(consoleContentSecurityPolicy([apiOrigin, 'https://cognito-idp.eu-west-1.amazonaws.com', 'https://cognito-identity.eu-west-1.amazonaws.com']));
    expect(rendered).toContain("script-src 'self';");
    expect(rendered).not.toContain('unsafe-inline');
    expect(rendered).toContain("frame-ancestors 'none'");
    for (const b of [...((only(mgmt, 'AWS::CloudFront::Distribution')[1].Properties.DistributionConfig as { CacheBehaviors: { ResponseHeadersPolicyId: unknown }[] }).CacheBehaviors)]) {
      expect(b.ResponseHeadersPolicyId).toBeDefined();
    }
  });

  it('creates a CLOUDFRONT web ACL when the stack is in us-east-1, and names it on the distribution', () => {
    const acls = (Object.entries(east.findResources('AWS::WAFv2::WebACL')) as [string, R][]).filter(([, a]) => a.Properties.Scope === 'CLOUDFRONT');
    expect(acls).toHaveLength(1);
    const [aclId, acl] = acls[0];
    const rules = (acl.Properties.Rules as { Name: string }[]).map((r) => r.Name);
    expect(rules).toEqual(['RateLimitPerIp', 'AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesCommonRuleSet']);
    east.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: Match.objectLike({ WebACLId: { 'Fn::GetAtt': [aclId, 'Arn'] } }) });
    // The API keeps its own regional ACL (associated with its stage); CloudFront needs no association.
    const associations = Object.values(east.findResources('AWS::WAFv2::WebACLAssociation')) as R[];
    expect(associations.map((a) => JSON.stringify(a.Properties.ResourceArn))).toEqual([expect.stringContaining('/stages/')]);
    east.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { RedactedFields: [{ SingleHeader: { Name: 'authorization' } }] });
    // No custom domain: no viewer certificate to pin, so no minimumProtocolVersion is written.
    expect(JSON.stringify(only(east, 'AWS::CloudFront::Distribution')[1])).not.toContain('ViewerCertificate');
  });

  it('on a custom domain with a hosted zone: alias A and AAAA records, and a newer TLS policy when asked', () => {
    const stack = new Stack(testApp(), 'Dns', { env: { region: 'us-east-1' } });
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', fixture.management.console.certificateArn);
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' });
    const api = new ManagementApi(stack, 'M');
    new ManagementConsole(stack, 'C', { api, tenants: [{ tenantId: 'acme' }], siteSource: site(), domain: { domainName: 'console.example.com', certificate, hostedZone }, minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2025 });
    const t = Template.fromStack(stack);
    for (const Type of ['A', 'AAAA']) {
      t.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'console.example.com.', Type, HostedZoneId: 'Z0123456789ABCDEFGHIJ', AliasTarget: Match.objectLike({ HostedZoneId: Match.anyValue() }) });
    }
    t.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: Match.objectLike({ ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2025' }) }) });
  });

  it('writes config.json (the COMMON.md shape) and invalidates the entry page and config after deploy', () => {
    const c = (app.node.findChild('BlockchainManagement').node.findChild('Console') as ManagementConsole).runtimeConfig;
    expect(Object.keys(c).sort()).toEqual(['apiEndpoint', 'identityPoolId', 'lifecycle', 'region', 'userPoolClientId', 'userPoolId']);
    expect(c.region).toBe('eu-west-1');
    // The production fixture's management stack has the control plane: the lifecycle pages are on.
    expect(c.lifecycle).toBe(true);
    const stack = app.node.findChild('BlockchainManagement') as Stack;
    expect(stack.resolve(c.apiEndpoint)).toEqual({ 'Fn::Join': ['', ['https://', { Ref: 'ManagementApi46D28074' }, '.execute-api.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: 'ManagementApiDeploymentStagev1BAF2EDBC' }]] });
    const [, deploy] = only(mgmt, 'Custom::CDKBucketDeployment');
    expect(deploy.Properties).toMatchObject({ DistributionPaths: ['/index.html', '/config.json'], Prune: true });
    expect(deploy.Properties.SourceObjectKeys as unknown[]).toHaveLength(2);
    expect(JSON.stringify(deploy.Properties.SourceMarkersConfig ?? deploy.Properties.SourceMarkers)).toBeDefined();
  });

  it('lets the console origin read API answers (CORS) without loosening authorization', () => {
    const methods = Object.values(mgmt.findResources('AWS::ApiGateway::Method')) as R[];
    const options = methods.filter((m) => m.Properties.HttpMethod === 'OPTIONS');
    expect(options.length).toBeGreaterThanOrEqual(7);
    for (const m of options) {
      expect(m.Properties.AuthorizationType).toBe('NONE');
      expect((m.Properties.Integration as { Type: string }).Type).toBe('MOCK');
      expect(JSON.stringify(m.Properties.Integration)).toContain("'https://console.blockchain.example.com'");
    }
    for (const m of methods.filter((x) => x.Properties.HttpMethod !== 'OPTIONS')) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    mgmt.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'DEFAULT_4XX', ResponseParameters: { 'gatewayresponse.header.Access-Control-Allow-Origin': "'https://console.blockchain.example.com'" } });
    mgmt.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { CORS_ALLOW_ORIGIN: 'https://console.blockchain.example.com' } } });
    const answer = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
    expect(withCors(answer, undefined)).toBe(answer);
    expect(withCors(answer, 'https://c.example.com').headers).toEqual({ 'content-type': 'application/json', 'access-control-allow-origin': 'https://c.example.com', vary: 'Origin' });
  });
});

describe('console sign-in', () => {
  it('requires MFA with TOTP only, strong passwords, admin-created users, threat protection, and keeps the pool', () => {
    const [, pool] = only(mgmt, 'AWS::Cognito::UserPool');
    expect(pool.Properties).toMatchObject({
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: { MinimumLength: 14, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true, TemporaryPasswordValidityDays: 3 } },
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      UserPoolTier: 'PLUS',
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      DeletionProtection: 'ACTIVE',
    });
    expect(pool.DeletionPolicy).toBe('Retain');
    const [, client] = only(mgmt, 'AWS::Cognito::UserPoolClient');
    expect(client.Properties).toMatchObject({
      GenerateSecret: false,
      ExplicitAuthFlows: ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      PreventUserExistenceErrors: 'ENABLED',
      EnableTokenRevocation: true,
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
      RefreshTokenValidity: 480,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'minutes' },
    });
    // selfSignUp is a prop; a session may be set from 1 to 24 hours.
    usEast1({ selfSignUp: true, sessionDuration: Duration.hours(12) }).hasResourceProperties('AWS::Cognito::UserPool', { AdminCreateUserConfig: { AllowAdminCreateUserOnly: false } });
  });

  it('gives credentials only to signed-in users, choosing the role from their group token (ambiguous: denied)', () => {
    const [poolId, pool] = only(mgmt, 'AWS::Cognito::IdentityPool');
    expect(pool.Properties).toMatchObject({ AllowUnauthenticatedIdentities: false, AllowClassicFlow: false });
    expect(pool.Properties.CognitoIdentityProviders).toEqual([expect.objectContaining({ ServerSideTokenCheck: true })]);
    const [, attachment] = only(mgmt, 'AWS::Cognito::IdentityPoolRoleAttachment');
    expect(attachment.Properties.IdentityPoolId).toEqual({ Ref: poolId });
    expect(attachment.Properties.Roles).toBeUndefined(); // no default role
    expect(Object.values(attachment.Properties.RoleMappings as object)).toEqual([expect.objectContaining({ Type: 'Token', AmbiguousRoleResolution: 'Deny' })]);
  });

  it('has one group per tenant and per environment, each role trusting only authenticated identities of this pool', () => {
    const groups = Object.values(mgmt.findResources('AWS::Cognito::UserPoolGroup')) as R[];
    expect(groups.map((g) => g.Properties.GroupName).sort()).toEqual(['tenant-acme', 'tenant-acme--prod', 'tenant-acme--staging', 'tenant-initech', 'tenant-initech--grid', 'tenant-initech--prod']);
    expect(consoleGroupName('acme', 'prod')).toBe('tenant-acme--prod');
    const [poolId] = only(mgmt, 'AWS::Cognito::IdentityPool');
    const roles = mgmt.findResources('AWS::IAM::Role');
    for (const g of groups) {
      const roleId = (g.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const trust = (roles[roleId] as R).Properties.AssumeRolePolicyDocument as { Statement: unknown[] };
      expect(trust.Statement).toEqual([
        {
          Action: 'sts:AssumeRoleWithWebIdentity',
          Effect: 'Allow',
          Principal: { Federated: 'cognito-identity.amazonaws.com' },
          Condition: { StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: poolId } }, 'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' } },
        },
      ]);
    }
  });

  it("gives each group's role exactly grantManage for its tenant (and environment) plus grantList, nothing of the other tenant", () => {
    const groups = Object.values(mgmt.findResources('AWS::Cognito::UserPoolGroup')) as R[];
    const roles = mgmt.findResources('AWS::IAM::Role');
    const policies = mgmt.findResources('AWS::IAM::ManagedPolicy');
    const routes = (resource: unknown) => {
      const parts = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      // arn:aws:execute-api:eu-west-1:<account>:<api>/<stage><route>
      expect(parts.slice(0, 6)).toEqual(['arn:aws:execute-api:eu-west-1:', { Ref: 'AWS::AccountId' }, ':', { Ref: 'ManagementApi46D28074' }, '/', { Ref: 'ManagementApiDeploymentStagev1BAF2EDBC' }]);
      return parts.slice(6).join('');
    };
    for (const g of groups) {
      const name = g.Properties.GroupName as string;
      const [, tenant, env = '*'] = /^tenant-([a-z0-9-]+?)(?:--([a-z0-9-]+))?$/.exec(name)!;
      const role = roles[(g.Properties.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]] as R;
      expect(role.Properties.Policies, name).toBeUndefined(); // no inline policy
      const attached = role.Properties.ManagedPolicyArns as { Ref: string }[];
      expect(attached).toHaveLength(1);
      const doc = (policies[attached[0].Ref] as R).Properties.PolicyDocument as { Statement: { Action: string; Effect: string; Resource: unknown[] }[] };
      expect(doc.Statement, name).toHaveLength(1);
      expect(doc.Statement[0].Action).toBe('execute-api:Invoke');
      expect(doc.Statement[0].Effect).toBe('Allow');
      expect(doc.Statement[0].Resource.map(routes), name).toEqual([`/*/environments/${tenant}/${env}`, `/*/environments/${tenant}/${env}/*`, '/GET/environments']);
      const other = tenant === 'acme' ? 'initech' : 'acme';
      expect(JSON.stringify(doc), name).not.toContain(other);
    }
  });
});

describe('console props and config validation', () => {
  const api = () => {
    const stack = new Stack(testApp(), 'S', { env: { region: 'eu-west-1' } });
    return { stack, api: new ManagementApi(stack, 'M') };
  };
  it('refuses a stack outside us-east-1 without webAclArn, and an environment-agnostic one, naming the fix', () => {
    const { stack, api: a } = api();
    expect(() => new ManagementConsole(stack, 'C', { api: a, tenants: [{ tenantId: 'acme' }], siteSource: site() })).toThrow(
      /ManagementConsole: webAclArn is not set and the stack deploys to eu-west-1; WAF creates web ACLs for CloudFront only in us-east-1: create one there .* and pass its ARN as webAclArn, or deploy this stack to us-east-1/,
    );
    const agnostic = new Stack(testApp(), 'A');
    expect(() => new ManagementConsole(agnostic, 'C', { api: new ManagementApi(agnostic, 'M'), tenants: [{ tenantId: 'acme' }], siteSource: site() })).toThrow(
      /region is not known at synth \(environment-agnostic stack\).*pin the stack to env.region "us-east-1"/,
    );
  });

  it('refuses a regional web ACL, a certificate outside us-east-1, bad ids, sessions over a day, short passwords, old TLS', () => {
    const cases: [Partial<ManagementConsoleProps>, RegExp][] = [
      [{ webAclArn: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/3f2a1c9e-5b7d-4e8a-9c1f-2d3e4f5a6b7c' }, /webAclArn is "arn:aws:wafv2:eu-west-1.*scope CLOUDFRONT/],
      [{ sessionDuration: Duration.hours(48) }, /sessionDuration is 2 days; use 1 to 24 hours/],
      [{ minimumPasswordLength: 8 }, /minimumPasswordLength is 8; use a whole number from 12 to 99/],
      [{ tenants: [{ tenantId: 'Acme' }] }, /tenants\[0\].tenantId is "Acme"/],
      [{ tenants: [{ tenantId: 'acme', environmentIds: ['prod', 'prod'] }] }, /environmentIds\[1\] "prod" is listed twice/],
      [{ tenants: [] }, /tenants is empty/],
      [{ minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2019 }, /minimumProtocolVersion is TLSv1.2_2019; use TLS_V1_2_2021 or newer/],
    ];
    for (const [props, message] of cases) {
      const { stack, api: a } = api();
      expect(() => new ManagementConsole(stack, 'C', { api: a, tenants: [{ tenantId: 'acme' }], webAclArn: WEB_ACL, siteSource: site(), ...props })).toThrow(message);
    }
    const { stack, api: a } = api();
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:111122223333:certificate/7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f');
    expect(() => new ManagementConsole(stack, 'C', { api: a, tenants: [{ tenantId: 'acme' }], webAclArn: WEB_ACL, siteSource: site(), domain: { domainName: 'console.example.com', certificate } })).toThrow(
      /domain.certificate is in eu-west-1 .*CloudFront takes certificates from us-east-1 only/,
    );
  });

  it('reads management.console from tenants.json with field paths', () => {
    const base = JSON.parse(readFileSync('tenants.json', 'utf8'));
    const bad = { ...base, management: { region: 'eu-west-1', console: { certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f', sessionHours: 30, selfSignup: true, webAclArn: 'arn:aws:wafv2:eu-west-1:1:regional/webacl/x/y' } } };
    let message = '';
    try {
      parseTenantsConfig(bad, 'bad.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('management.console.certificateArn: is in region eu-west-1; CloudFront takes certificates from us-east-1 only');
    expect(message).toContain('management.console.sessionHours: 30 is out of range; use a value from 1 to 24');
    expect(message).toContain('management.console.selfSignup: unknown field; did you mean "selfSignUp"?');
    expect(message).toContain('management.console.webAclArn: "arn:aws:wafv2:eu-west-1:1:regional/webacl/x/y" is not valid; write the ARN of a WAFv2 web ACL with scope CLOUDFRONT');
    expect(message).toContain('management.console: set domainName and certificateArn together');
  });
});

describe('the default app', () => {
  it('turns the console on with the management stack in us-east-1 (tenants.json), creating its web ACL there', () => {
    const { app: d } = buildTenantApp(JSON.parse(readFileSync('tenants.json', 'utf8')));
    const t = Template.fromStack(d.node.findChild('BlockchainManagement') as Stack);
    t.resourceCountIs('AWS::CloudFront::Distribution', 1);
    t.hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
    t.hasOutput('*', { Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsoleDistribution'), 'DomainName'] }]] } });
    expect(d.node.tryFindChild(CONSOLE_WAF_STACK_NAME)).toBeUndefined();
  });

  it('outside us-east-1 without webAclArn: adds the us-east-1 web ACL stack and says how to finish, deploying no console yet', () => {
    const { app: d } = buildTenantApp(JSON.parse(readFileSync('test/fixtures/large-tenants.json', 'utf8')));
    const stack = d.node.findChild('BlockchainManagement') as Stack;
    Template.fromStack(stack).resourceCountIs('AWS::CloudFront::Distribution', 0);
    const waf = d.node.findChild(CONSOLE_WAF_STACK_NAME) as Stack;
    expect(waf.region).toBe('us-east-1');
    Template.fromStack(waf).hasResourceProperties('AWS::WAFv2::WebACL', { Scope: 'CLOUDFRONT' });
    Template.fromStack(waf).hasOutput('WebAclArn', {});
    Annotations.fromStack(stack).hasWarning('/BlockchainManagement', Match.stringLikeRegexp(`Deploy ${CONSOLE_WAF_STACK_NAME} .*set management.console.webAclArn to its WebAclArn output`));
  });
});
