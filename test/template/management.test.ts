import { readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
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

  it('has a WAF web ACL on its stage and a custom domain with TLS 1.2', () => {
    expect(JSON.stringify(all(mgmt, 'AWS::WAFv2::WebACLAssociation')[0].Properties.ResourceArn)).toContain('/stages/');
    mgmt.hasResourceProperties('AWS::ApiGateway::DomainName', { DomainName: 'api.blockchain.example.com', SecurityPolicy: 'TLS_1_2' });
    mgmt.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
  });

  it('may act only on instances tagged as blockchain-tenancy nodes', () => {
    const policy = JSON.stringify(all(mgmt, 'AWS::IAM::ManagedPolicy').map((p) => p.Properties));
    // Sorted: cdk.json's @aws-cdk/aws-iam:minimizePolicies sorts actions in the template.
    expect(policy).toContain('"Action":["ec2:RebootInstances","ec2:StartInstances","ec2:StopInstances"]');
    expect(policy).toContain('"aws:ResourceTag/blockchain-tenancy:node":"?*"');
    expect(policy).toContain('"aws:ResourceTag/blockchain-tenancy:environment":"?*"');
    const s = nodeActionStatement().toStatementJson() as { Condition: { StringLike: Record<string, string> } };
    expect(Object.keys(s.Condition.StringLike).sort()).toEqual(['aws:ResourceTag/blockchain-tenancy:environment', 'aws:ResourceTag/blockchain-tenancy:node', 'aws:ResourceTag/blockchain-tenancy:tenant']);
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
