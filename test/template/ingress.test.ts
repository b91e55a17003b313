import { readFileSync } from 'node:fs';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2targets from 'aws-cdk-lib/aws-elasticloadbalancingv2-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { ALB_MAX_IDLE_TIMEOUT_SECONDS, AUTHORIZER_ALLOW_TTL_SECONDS, CredentialStore, EnvironmentIngress, GATE_KEEP_ALIVE_SECONDS } from '../../lib';
import { buildTenantApp, testApp } from '../support/synth';

const { stacks } = buildTenantApp(JSON.parse(readFileSync('test/fixtures/large-tenants.json', 'utf8')));
const prod = Template.fromStack(stacks.find((s) => s.stackName === 'AcmeProd')!);
const qa = Template.fromStack(stacks.find((s) => s.stackName === 'InitechQa')!);
const dev = Template.fromStack(stacks.find((s) => s.stackName === 'AcmeDev')!);
type R = { Properties: Record<string, unknown> };
const all = (t: Template, type: string) => Object.values(t.findResources(type)) as R[];

describe('the internet-facing load balancer', () => {
  it('is internet-facing, drops invalid headers, strictest desync, long idle timeout, access logs, deletion protection as configured', () => {
    const attrs = (t: Template) =>
      Object.fromEntries((all(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0].Properties.LoadBalancerAttributes as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]));
    prod.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing', Type: 'application' });
    expect(attrs(prod)).toMatchObject({
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'routing.http.desync_mitigation_mode': 'strictest',
      'idle_timeout.timeout_seconds': '3600',
      'deletion_protection.enabled': 'true',
      'access_logs.s3.enabled': 'true',
    });
    expect(attrs(qa)['deletion_protection.enabled']).toBe('false');
  });

  it('serves HTTPS only with the TLS 1.3/1.2 policy (not the 2016-08 default); port 80 only redirects; unknown requests get a bare 404', () => {
    prod.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b' }],
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
    });
    prod.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
    });
    prod.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
  });

  it('routes each node by its host name (with a domain) or by path (without) to its own gate target group, one rule per node', () => {
    const rules = all(prod, 'AWS::ElasticLoadBalancingV2::ListenerRule').map((r) => JSON.stringify(r.Properties.Conditions));
    for (const node of ['validator-1', 'validator-2', 'validator-3', 'validator-4', 'globex-rpc']) {
      expect(rules).toContain(JSON.stringify([{ Field: 'host-header', HostHeaderConfig: { Values: [`${node}.prod.acme.example.com`] } }]));
    }
    // An ALB takes 100 rules by default: one per node, not two.
    expect(rules).toHaveLength(5);
    prod.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 5);
    prod.allResourcesProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 8080, Protocol: 'HTTP', HealthCheckPath: '/health', Matcher: { HttpCode: '200' } });
    prod.resourceCountIs('AWS::Route53::RecordSet', 5);
    // Without a domain: path routing only.
    const qaRules = all(qa, 'AWS::ElasticLoadBalancingV2::ListenerRule').map((r) => JSON.stringify(r.Properties.Conditions));
    expect(qaRules.length).toBeGreaterThan(0);
    expect(qaRules.every((c) => c.includes('path-pattern') && c.includes('/nodes/'))).toBe(true);
    // Nodes behind a load balancer are replaced when their gate fails its health check.
    prod.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', { HealthCheckType: 'ELB', HealthCheckGracePeriod: 600 });
  });

  it('writes access logs to a private, TLS-only, encrypted bucket with lifecycle', () => {
    prod.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365, Status: 'Enabled' })] },
    });
    prod.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('the WAF web ACL', () => {
  const acl = all(prod, 'AWS::WAFv2::WebACL')[0].Properties as { Rules: { Name: string; Statement: Record<string, unknown>; OverrideAction?: unknown; Action?: unknown }[]; Scope: string };

  it('is regional and associated with the load balancer', () => {
    expect(acl.Scope).toBe('REGIONAL');
    const assoc = all(prod, 'AWS::WAFv2::WebACLAssociation')[0].Properties;
    expect(JSON.stringify(assoc.ResourceArn)).toContain('LoadBalancer');
  });

  it('has rate limits per IP and per credential, IP reputation, known bad inputs and the common rules with the body-size rule counted', () => {
    expect(acl.Rules.map((r) => r.Name)).toEqual([
      'RateLimitPerIp',
      'RateLimitPerCredential',
      'AWSManagedRulesAmazonIpReputationList',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'AWSManagedRulesCommonRuleSet',
    ]);
    expect(acl.Rules[0].Statement).toEqual({ RateBasedStatement: { AggregateKeyType: 'IP', Limit: 1000, EvaluationWindowSec: 300 } });
    expect(acl.Rules[1].Statement).toMatchObject({
      RateBasedStatement: { AggregateKeyType: 'CUSTOM_KEYS', Limit: 6000, CustomKeys: [{ Header: { Name: 'authorization' } }] },
    });
    expect(acl.Rules[4].Statement).toMatchObject({
      ManagedRuleGroupStatement: { Name: 'AWSManagedRulesCommonRuleSet', RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }] },
    });
  });

  it('logs to an encrypted aws-waf-logs- group and redacts the Authorization header', () => {
    prod.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { RedactedFields: [{ SingleHeader: { Name: 'authorization' } }] });
    prod.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: 'aws-waf-logs-blockchain-acme-prod', KmsKeyId: Match.anyValue() });
  });
});

describe('app credentials and the authorizer', () => {
  const fns = all(prod, 'AWS::Lambda::Function').filter((f) => JSON.stringify(f.Properties.Environment ?? {}).includes('TENANT_ID'));
  const authorizer = fns.find((f) => JSON.stringify(f.Properties.Environment).includes('NODE_MEMBERS'))!;
  const issuer = fns.find((f) => JSON.stringify(f.Properties.Environment).includes('MAX_LIFETIME_DAYS'))!;

  it('run on a current Node.js runtime, in the private subnets, with the functions group and the argon2 layer', () => {
    for (const f of [authorizer, issuer]) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] });
      expect((f.Properties.Layers as unknown[]).length).toBe(1);
      expect(JSON.stringify(f.Properties.VpcConfig)).toContain('SecurityGroupsFunctions');
    }
    expect((authorizer.Properties.Environment as { Variables: Record<string, string> }).Variables).toMatchObject({
      TENANT_ID: 'acme',
      ENVIRONMENT_ID: 'prod',
      NODE_MEMBERS: JSON.stringify({ acme: ['validator-1', 'validator-2'], globex: ['validator-3', 'validator-4', 'globex-rpc'] }),
      // Derived from the revocation bound (lib/contracts/revocation.ts): 30 - 2 - 14 s.
      ALLOW_TTL_SECONDS: String(AUTHORIZER_ALLOW_TTL_SECONDS),
    });
    expect(AUTHORIZER_ALLOW_TTL_SECONDS).toBe(14);
    expect((issuer.Properties.Environment as { Variables: Record<string, string> }).Variables).toMatchObject({ DEFAULT_LIFETIME_DAYS: '30', MAX_LIFETIME_DAYS: '90' });
  });

  it('refuses an authorizer cache that would stretch the revocation bound, naming the prop and the fix', () => {
    const stack = new Stack(testApp(), 'Ttl');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'p', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const props = { tenantId: 'acme', environmentId: 'dev', vpc, subnets: { subnets: vpc.isolatedSubnets }, securityGroup: new ec2.SecurityGroup(stack, 'Sg', { vpc }), encryptionKey: new kms.Key(stack, 'Key'), nodeMembers: { 'validator-1': 'acme' } };
    expect(() => new CredentialStore(stack, 'Sixty', { ...props, allowCacheSeconds: 60 })).toThrow(
      "CredentialStore (acme/dev): allowCacheSeconds is 60; a revoked credential must stop working within 30 s, which leaves the authorizer's cache at most 14 s: give a whole number from 0 to 14, or leave it unset",
    );
  });

  it('the authorizer can only read this environment\'s credentials; nodes can only invoke their own authorizer', () => {
    const policies = all(prod, 'AWS::IAM::ManagedPolicy').map((p) => JSON.stringify(p.Properties));
    const authorizerPolicy = policies.find((p) => p.includes('ReadOwnEnvironmentCredentials'))!;
    expect(authorizerPolicy).toContain('secret:blockchain-tenancy/acme/prod/credentials/*');
    expect(authorizerPolicy).not.toMatch(/CreateSecret|PutSecretValue|ListSecrets|DeleteSecret/);
    const nodePolicies = policies.filter((p) => p.includes('InvokeEnvironmentAuthorizer'));
    expect(nodePolicies).toHaveLength(5);
    for (const p of nodePolicies) expect(p).toMatch(/"Action":"lambda:InvokeFunction","Effect":"Allow","Resource":\{"Fn::GetAtt":\["EnvironmentCredentialsAuthorizer[0-9A-F]+","Arn"\]\}/);
  });

  it('environments without ingress have no load balancer at all', () => {
    dev.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    dev.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });
});

describe('certificates', () => {
  it('imports a given certificate, or creates a DNS-validated one for the domain and its nodes', () => {
    prod.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    const globex = Template.fromStack(stacks.find((s) => s.stackName === 'GlobexProdUs')!);
    globex.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'prod.globex.example.com',
      SubjectAlternativeNames: ['*.prod.globex.example.com'],
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'prod.globex.example.com', HostedZoneId: 'Z0999999999ABCDEFGHIJ' }],
    });
    globex.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Certificates: [{ CertificateArn: Match.objectLike({ Ref: Match.stringLikeRegexp('Certificate') }) }] });
  });
});

describe('network rules with a load balancer', () => {
  it('the load balancer reaches only the gate group on the gate port, never the peer group', () => {
    const rules = [...all(prod, 'AWS::EC2::SecurityGroupIngress'), ...all(prod, 'AWS::EC2::SecurityGroupEgress')].map((r) => JSON.stringify(r.Properties));
    const fromAlb = rules.filter((r) => r.includes('SecurityGroupsIngress') && r.includes('8080'));
    expect(fromAlb).toHaveLength(2); // ingress rule on the gate group + egress rule on the load balancer group
    for (const r of fromAlb) expect(r).not.toContain('SecurityGroupsNodePeer');
    prod.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', { TargetGroupARNs: [Match.objectLike({ Ref: Match.stringLikeRegexp('EnvironmentIngress.*RouteTarget') })] });
  });
});

describe('load balancer idle timeout', () => {
  it('refuses idle timeouts an ALB does not take, naming the range and the gate keep-alive that outlasts them', () => {
    const app = testApp();
    const stack = new Stack(app, 'Idle', { env: { region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const make = (idleTimeout: Duration) =>
      new EnvironmentIngress(stack, `Ingress${idleTimeout.toSeconds()}`, {
        tenantId: 'acme',
        environmentId: 'dev',
        vpc,
        subnets: { subnetType: ec2.SubnetType.PUBLIC },
        securityGroup: new ec2.SecurityGroup(stack, `Sg${idleTimeout.toSeconds()}`, { vpc }),
        certificate: acm.Certificate.fromCertificateArn(stack, `Cert${idleTimeout.toSeconds()}`, 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b'),
        targets: [{ nodeId: 'validator-1', memberId: 'acme', target: new elbv2targets.IpTarget('10.0.0.10') }],
        gatePort: 8080,
        encryptionKey: new kms.Key(stack, `Key${idleTimeout.toSeconds()}`),
        idleTimeout,
      });
    expect(() => make(Duration.seconds(ALB_MAX_IDLE_TIMEOUT_SECONDS + 1))).toThrow(
      `EnvironmentIngress: idleTimeout is 4001 s; an Application Load Balancer takes 1 to 4000 s (the node gate keeps connections open ${GATE_KEEP_ALIVE_SECONDS} s, longer than any of them)`,
    );
    expect(() => make(Duration.seconds(ALB_MAX_IDLE_TIMEOUT_SECONDS))).not.toThrow();
  });
});
