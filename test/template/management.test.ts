import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ManagementApi, REGISTRATION_PREFIX, callerStatement, nodeActionStatement } from '../../lib';
import { buildTenantApp, testApp } from '../support/synth';

const { app, stacks } = buildTenantApp(JSON.parse(readFileSync('test/fixtures/large-tenants.json', 'utf8')));
const mgmt = Template.fromStack(app.node.findChild('BlockchainManagement') as Stack);
type R = { Properties: Record<string, unknown> };
const all = (t: Template, type: string) => Object.values(t.findResources(type)) as R[];

describe('the management API', () => {
  it('requires IAM (SigV4) authorization on every method', () => {
    const methods = all(mgmt, 'AWS::ApiGateway::Method');
    expect(methods.length).toBe(9);
    for (const m of methods) {
      expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(m.Properties.RequestValidatorId).toBeDefined();
    }
  });

  it('validates the credential body with a JSON model', () => {
    mgmt.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ required: ['memberId'], additionalProperties: false, properties: Match.objectLike({ lifetimeDays: { type: 'integer', minimum: 1, maximum: 3650 } }) }),
    });
  });

  it('logs access to an encrypted group, never request bodies, traces, and throttles per route', () => {
    const stage = all(mgmt, 'AWS::ApiGateway::Stage')[0].Properties as { AccessLogSetting: { DestinationArn: unknown }; MethodSettings: Record<string, unknown>[]; TracingEnabled: boolean };
    expect(stage.AccessLogSetting.DestinationArn).toBeDefined();
    expect(stage.TracingEnabled).toBe(true);
    expect(stage.MethodSettings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', DataTraceEnabled: false, ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 }),
        expect.objectContaining({ HttpMethod: 'POST', ResourcePath: '/~1environments~1{tenant}~1{environment}~1credentials', ThrottlingRateLimit: 5 }),
      ]),
    );
    mgmt.allResourcesProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 365 });
  });

  it('has a WAF web ACL on its stage and a custom domain, both with an enhanced TLS policy in STRICT mode', () => {
    expect(JSON.stringify(all(mgmt, 'AWS::WAFv2::WebACLAssociation')[0].Properties.ResourceArn)).toContain('/stages/');
    const strict = { SecurityPolicy: 'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09', EndpointAccessMode: 'STRICT' };
    mgmt.hasResourceProperties('AWS::ApiGateway::DomainName', { DomainName: 'api.blockchain.example.com', ...strict });
    mgmt.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true, ...strict });
  });

  it('gives the default execute-api endpoint the same policy, and refuses legacy or edge policies', () => {
    const stack = new Stack(testApp(), 'Tls');
    new ManagementApi(stack, 'M');
    Template.fromStack(stack).hasResourceProperties('AWS::ApiGateway::RestApi', {
      SecurityPolicy: 'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09',
      EndpointAccessMode: 'STRICT',
      DisableExecuteApiEndpoint: false,
    });
    const tls13 = new Stack(testApp(), 'Tls13');
    new ManagementApi(tls13, 'M', { securityPolicy: apigw.SecurityPolicy.TLS13_1_3_2025_09 });
    Template.fromStack(tls13).hasResourceProperties('AWS::ApiGateway::RestApi', { SecurityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09', EndpointAccessMode: 'STRICT' });
    for (const legacy of [apigw.SecurityPolicy.TLS_1_2, apigw.SecurityPolicy.TLS_1_0, apigw.SecurityPolicy.TLS13_2025_EDGE]) {
      expect(() => new ManagementApi(new Stack(testApp(), 'Legacy'), 'M', { securityPolicy: legacy })).toThrow(
        `ManagementApi: securityPolicy is ${legacy}; use an enhanced regional policy`,
      );
    }
  });

  it('may act only on instances of its own account and region tagged as blockchain-tenancy nodes', () => {
    type Statement = { Sid: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, string>> };
    const statements = all(mgmt, 'AWS::IAM::ManagedPolicy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid)!;
    const nodeTags = { 'aws:ResourceTag/blockchain-tenancy:node': '?*', 'aws:ResourceTag/blockchain-tenancy:environment': '?*', 'aws:ResourceTag/blockchain-tenancy:tenant': '?*' };
    const actions = bySid('NodeActionsOnBlockchainNodesOnly');
    // Sorted: cdk.json's @aws-cdk/aws-iam:minimizePolicies sorts actions in the template.
    expect(actions.Action).toEqual(['ec2:RebootInstances', 'ec2:StartInstances', 'ec2:StopInstances']);
    // The management stack of large-tenants.json is pinned to eu-west-1: its own region and account, no '*'
    // (cdk.json's partition literals make the partition of a pinned region "aws").
    const ownRegionAndAccount = (service: string, resource: string) => ({
      'Fn::Join': ['', [`arn:aws:${service}:eu-west-1:`, { Ref: 'AWS::AccountId' }, `:${resource}`]],
    });
    expect(actions.Resource).toEqual(ownRegionAndAccount('ec2', 'instance/*'));
    expect(actions.Condition).toEqual({ StringLike: nodeTags });
    const suspend = bySid('SuspendReplacementOfStoppedNodes');
    expect(suspend.Resource).toEqual(ownRegionAndAccount('autoscaling', 'autoScalingGroup:*'));
    expect(suspend.Condition).toEqual({ StringLike: nodeTags });
    const s = nodeActionStatement('eu-west-1', '123456789012').toStatementJson() as { Resource: string; Condition: { StringLike: Record<string, string> } };
    expect(s.Resource).toBe('arn:aws:ec2:eu-west-1:123456789012:instance/*');
    expect(Object.keys(s.Condition.StringLike).sort()).toEqual(['aws:ResourceTag/blockchain-tenancy:environment', 'aws:ResourceTag/blockchain-tenancy:node', 'aws:ResourceTag/blockchain-tenancy:tenant']);
  });

  it('may invoke credential issuers only: not authorizers, not NodeKeys', () => {
    type Statement = { Sid: string; Action: string | string[]; Condition?: Record<string, Record<string, string>> };
    const statements = all(mgmt, 'AWS::IAM::ManagedPolicy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const invoke = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('lambda:')));
    expect(invoke.map((s) => s.Sid)).toEqual(['CallEnvironmentIssuers']);
    expect(invoke[0].Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/blockchain-tenancy:function': 'credential-issuer' },
      StringLike: { 'aws:ResourceTag/blockchain-tenancy:environment': '?*', 'aws:ResourceTag/blockchain-tenancy:tenant': '?*' },
    });
    // Exactly the issuers carry that tag in every environment stack.
    for (const stack of stacks) {
      const t = Template.fromStack(stack);
      const tagged = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([, r]) =>
        ((r as R).Properties.Tags as { Key: string; Value: string }[] | undefined)?.some((tag) => tag.Key === 'blockchain-tenancy:function'),
      );
      expect(tagged.map(([id]) => id).every((id) => /CredentialsIssuer[0-9A-F]{8}$/.test(id)), stack.stackName).toBe(true);
      expect(tagged.length, stack.stackName).toBe(stack.blockchainEnvironment.credentials ? 1 : 0);
      for (const [, r] of tagged) expect((r as R).Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'blockchain-tenancy:function', Value: 'credential-issuer' }]));
    }
  });

  it('scopes callers to one environment\'s routes', () => {
    const s = callerStatement('arn:aws:execute-api:eu-west-1:123456789012:abc123', 'v1', 'acme', 'dev').toStatementJson() as { Resource: string[] };
    expect(s.Resource).toEqual([
      'arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*/environments/acme/dev',
      'arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*/environments/acme/dev/*',
    ]);
    const stack = new Stack(testApp(), 'G');
    const apiConstruct = new ManagementApi(stack, 'M');
    const role = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    apiConstruct.grantManage(role, 'acme', 'dev');
    const t = Template.fromStack(stack);
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain('/environments/acme/dev/*');
  });
});

describe('environment registration', () => {
  it('every environment registers itself for the management API', () => {
    const t = Template.fromStack(stacks.find((s) => s.stackName === 'AcmeProd')!);
    t.hasResourceProperties('AWS::SSM::Parameter', { Name: `${REGISTRATION_PREFIX}acme/prod`, Type: 'String' });
    const value = JSON.stringify(all(t, 'AWS::SSM::Parameter')[0].Properties.Value);
    for (const part of ['credentials/', 'issuerFunctionArn', 'prod.acme.example.com', 'validator-3', 'globex']) expect(value).toContain(part);
  });
});
