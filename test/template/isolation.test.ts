/**
 * The per-role pieces of tenant isolation, asserted on one environment's template: the node role's
 * Session Manager actions (no AmazonSSMManagedInstanceCore), the functions' VPC access (no
 * AWSLambdaVPCAccessExecutionRole), the authorizer's bounded concurrency, and the issuer tag the
 * management API relies on. test/template/cross-tenant.test.ts checks the whole account.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BlockchainEnvironment, DEFAULT_AUTHORIZER_RESERVED_CONCURRENCY, parseTenantsConfig } from '../../lib';
import { testApp } from '../support/synth';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function build(credentials?: { authorizerReservedConcurrency?: number }) {
  const stack = new Stack(testApp(), 'Iso', { env: { account: '111122223333', region: 'eu-west-1' } });
  const env = new BlockchainEnvironment(stack, 'Env', {
    tenantId: 'acme',
    environmentId: 'prod',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    chain: {},
    ...(credentials ? { credentials } : {}),
  });
  return { stack, env, resources: Template.fromStack(stack).toJSON().Resources as Resources };
}

const { stack, env, resources } = build();
const policyOf = (logicalIdPart: string): Statement[] => {
  const hits = Object.entries(resources).filter(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && id.includes(logicalIdPart));
  expect(hits, logicalIdPart).toHaveLength(1);
  return (hits[0][1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
};
const bySid = (statements: Statement[], sid: string) => statements.find((s) => s.Sid === sid)!;

describe('roles of one environment', () => {
  it('carry no AWS managed policy at all', () => {
    for (const [id, r] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
      expect(JSON.stringify(r.Properties.ManagedPolicyArns ?? []), id).not.toContain(':iam::aws:policy/');
    }
  });

  it('node: Session Manager agent actions only (no parameter reads), and the attach statement bound to tenant, environment and node', () => {
    const node = policyOf('validator1Identity');
    expect(bySid(node, 'SessionManagerAgent')).toMatchObject({ Resource: '*' });
    expect([bySid(node, 'SessionManagerAgent').Action].flat().sort()).toEqual(
      [
        'ec2messages:AcknowledgeMessage',
        'ec2messages:DeleteMessage',
        'ec2messages:FailMessage',
        'ec2messages:GetEndpoint',
        'ec2messages:GetMessages',
        'ec2messages:SendReply',
        'ssm:UpdateInstanceInformation',
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ].sort(),
    );
    expect(JSON.stringify(node)).not.toMatch(/ssm:GetParameter/);
    expect(bySid(node, 'AttachOwnPeerInterface').Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/blockchain-tenancy:tenant': 'acme', 'aws:ResourceTag/blockchain-tenancy:environment': 'prod', 'aws:ResourceTag/blockchain-tenancy:node': 'validator-1' },
    });
    expect(bySid(node, 'PublishNodeMetrics').Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'BlockchainTenancy/acme/prod' } });
  });

  it.each(['Authorizer', 'Issuer'])('%s: network interfaces only in its own subnets, group and VPC; logs only to its own group', (name) => {
    const statements = policyOf(`Credentials${name}Identity`);
    const create = bySid(statements, 'VpcAccessCreateInterfacesInOwnSubnets');
    expect(create.Action).toBe('ec2:CreateNetworkInterface');
    const subnets = env.vpc.selectSubnets(env.network.privateSubnets).subnets.map((s) => stack.resolve(s.subnetId) as unknown);
    const created = JSON.stringify(create.Resource);
    expect(created).toContain(':network-interface/*');
    for (const s of subnets) expect(created).toContain(JSON.stringify(s).slice(1, -1));
    expect(created).toContain(JSON.stringify(stack.resolve(env.securityGroups.functions.securityGroupId)).slice(1, -1));
    const manage = bySid(statements, 'VpcAccessManageInterfacesInOwnVpc');
    // Sorted: cdk.json's @aws-cdk/aws-iam:minimizePolicies sorts actions in the template.
    expect(manage.Action).toEqual(['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'].sort());
    expect(JSON.stringify(manage.Condition)).toContain(JSON.stringify(stack.resolve(env.vpc.vpcId)).slice(1, -1));
    expect(bySid(statements, 'VpcAccessDescribe')).toMatchObject({ Action: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], Resource: '*' });
    const logs = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')));
    expect(logs.map((s) => s.Sid)).toEqual(['OwnLogs']);
    expect(JSON.stringify(logs[0].Resource)).toContain(`Credentials${name}Logs`);
  });

  it.each(['Authorizer', 'Issuer'])(
    '%s: its environment variables are encrypted with the environment key, and its role may decrypt them (StringLike on the function ARN pattern: StringEquals compares a wildcard literally and grants nothing)',
    (name) => {
      const [fnId, fn] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && new RegExp(`Credentials${name}[0-9A-F]{8}$`).test(id))!;
      const key = stack.resolve(env.encryptionKey.keyArn) as unknown;
      expect(fn.Properties.KmsKeyArn, fnId).toEqual(key);
      const [policyId, policy] = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && id.includes(`Credentials${name}IdentityPolicy`))!;
      // The function runs as the role that carries this policy.
      const [roleId] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.ManagedPolicyArns) === JSON.stringify([{ Ref: policyId }]))!;
      expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      Template.fromJSON({ Resources: { [policyId]: policy } }).hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectEquals({
              Sid: 'DecryptOwnEnvironmentVariables',
              Effect: 'Allow',
              Action: 'kms:Decrypt',
              Resource: key,
              Condition: { StringLike: { 'kms:EncryptionContext:aws:lambda:FunctionArn': 'arn:aws:lambda:eu-west-1:111122223333:function:*' } },
            }),
          ]),
        },
      });
    },
  );

  it('authorizer: a bounded share of the account concurrency by default; the issuer carries the issuer tag, the authorizer does not', () => {
    const fns = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    const [, authorizer] = fns.find(([id]) => /CredentialsAuthorizer[0-9A-F]{8}$/.test(id))!;
    const [, issuer] = fns.find(([id]) => /CredentialsIssuer[0-9A-F]{8}$/.test(id))!;
    expect(authorizer.Properties.ReservedConcurrentExecutions).toBe(DEFAULT_AUTHORIZER_RESERVED_CONCURRENCY);
    expect(DEFAULT_AUTHORIZER_RESERVED_CONCURRENCY).toBe(10);
    expect(issuer.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'blockchain-tenancy:function', Value: 'credential-issuer' }]));
    expect(JSON.stringify(authorizer.Properties.Tags)).not.toContain('blockchain-tenancy:function');
  });

  it('authorizerReservedConcurrency: set from the prop and the config file, refused outside 1-900 with the fix', () => {
    const fns = Object.entries(build({ authorizerReservedConcurrency: 50 }).resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && /CredentialsAuthorizer[0-9A-F]{8}$/.test(id));
    expect(fns[0][1].Properties.ReservedConcurrentExecutions).toBe(50);
    for (const bad of [0, 901, 2.5]) {
      expect(() => build({ authorizerReservedConcurrency: bad })).toThrow(
        `CredentialStore (acme/prod): authorizerReservedConcurrency is ${bad}; use a whole number from 1 to 900 (the default account limit is 1000 and Lambda keeps 100 unreserved), e.g. 10`,
      );
    }
    const config = (value: unknown) => ({ tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.1.0.0/16', credentials: { authorizerReservedConcurrency: value } }] }] });
    expect(parseTenantsConfig(config(25), 'c.json').tenants[0].environments[0].credentials).toEqual({ authorizerReservedConcurrency: 25 });
    expect(() => parseTenantsConfig(config(0), 'c.json')).toThrow(/credentials\.authorizerReservedConcurrency/);
  });
});
