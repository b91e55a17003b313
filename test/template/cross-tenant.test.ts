/**
 * Tenants share an account and region, and environment and node ids repeat across tenants
 * (acme/prod/validator-1 and initech/prod/validator-1). Over the templates of the production
 * fixture, built with exactly cdk.json's context (feature flags, partition literals), no Allow
 * statement of one tenant environment's roles may reach another tenant environment's resources,
 * and the structural rules hold (tag conditions name tenant and environment, no AWS managed
 * policy on any role, metrics only into the environment's own namespace, no ssm:GetParameter* on
 * *). The negative controls prove the checker reads the statements.
 */
import { readFileSync } from 'node:fs';
import { App, NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TenantEnvironmentStack, addManagementStack, addTenantEnvironments, parseTenantsConfig } from '../../lib';
import { Owner, TemplateJson, crossTenantReach, probesOf, structuralProblems } from '../support/cross-tenant';

const cdkContext = (JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> }).context;
const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] } });
const config = parseTenantsConfig(JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8')), 'test/fixtures/production-tenants.json');
const stacks = addTenantEnvironments(app, config);
addManagementStack(app, config);

interface Environment {
  readonly stack: TenantEnvironmentStack;
  readonly owner: Owner;
  readonly nodeIds: string[];
  /** The environment stack and its node-group nested stacks. */
  readonly templates: { name: string; json: TemplateJson }[];
}

const environments: Environment[] = stacks.map((stack) => {
  const env = stack.blockchainEnvironment;
  const nested = stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack);
  return {
    stack,
    owner: { tenantId: env.tenantId, environmentId: env.environmentId, account: stack.account, region: stack.region, partition: stack.partition },
    nodeIds: (env.nodes?.nodes ?? []).map((n) => n.nodeId),
    templates: [stack, ...nested].map((s: Stack) => ({ name: s.node.path, json: Template.fromStack(s).toJSON() as TemplateJson })),
  };
});

describe('the production fixture, as the CLI synthesizes it', () => {
  it('has two tenants sharing one account and region, with equal environment and node ids', () => {
    const acme = environments.find((e) => e.owner.tenantId === 'acme' && e.owner.environmentId === 'prod')!;
    const initech = environments.find((e) => e.owner.tenantId === 'initech' && e.owner.environmentId === 'prod')!;
    expect([acme.owner.account, acme.owner.region, acme.owner.partition]).toEqual(['111122223333', 'eu-west-1', 'aws']);
    expect([initech.owner.account, initech.owner.region]).toEqual([acme.owner.account, acme.owner.region]);
    expect(initech.nodeIds).toEqual(acme.nodeIds);
    expect(acme.nodeIds).toContain('validator-1');
    // Node groups live in nested stacks; the checker reads them too.
    expect(environments.find((e) => e.owner.environmentId === 'grid')!.templates.length).toBe(3);
  });
});

describe.each(environments.map((e) => [`${e.owner.tenantId}/${e.owner.environmentId}`, e] as const))('the roles of %s', (_name, env) => {
  // Every other environment: the other tenant's (same account, region, environment and node ids)
  // and this tenant's other environments.
  const others = environments.filter((o) => o !== env);

  it('reach no resource of another environment (another tenant with the same environment and node ids, or this tenant\'s other environments)', () => {
    const probes = others.flatMap((o) => probesOf(o.owner, o.nodeIds.length ? o.nodeIds : ['validator-1']));
    const reach = env.templates.flatMap((t) => crossTenantReach(t.json, env.owner, probes).map((f) => `${t.name}: ${f}`));
    expect(reach).toEqual([]);
    expect(probes.length).toBeGreaterThan(20);
  });

  it('keep the structural rules (tag conditions, no AWS managed policy, own metric namespace, no ssm:GetParameter* on *)', () => {
    expect(env.templates.flatMap((t) => structuralProblems(t.json, env.owner).map((p) => `${t.name}: ${p}`))).toEqual([]);
  });

  it('are really read: the node role has tag-bound and namespace-bound statements', () => {
    const json = JSON.stringify(env.templates.map((t) => t.json));
    expect(json).toContain('"aws:ResourceTag/blockchain-tenancy:tenant":"' + env.owner.tenantId + '"');
    expect(json).toContain(`"cloudwatch:namespace":"BlockchainTenancy/${env.owner.tenantId}/${env.owner.environmentId}"`);
  });
});

describe('the checker itself (negative controls)', () => {
  const acme = environments.find((e) => e.owner.tenantId === 'acme' && e.owner.environmentId === 'prod')!;
  const initech = environments.find((e) => e.owner.tenantId === 'initech' && e.owner.environmentId === 'prod')!;
  const probes = probesOf(initech.owner, initech.nodeIds);
  /** acme/prod's template with the node role statement `sid` rewritten by `edit`. */
  const tampered = (sid: string, edit: (s: Record<string, unknown>) => void): TemplateJson => {
    const json = structuredClone(acme.templates[0].json);
    const statement = Object.values(json.Resources)
      .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
      .flatMap((r) => (r.Properties!.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement)
      .find((s) => s.Sid === sid);
    expect(statement, sid).toBeDefined();
    edit(statement!);
    return json;
  };

  it('reports a tag condition without the tenant (the attach statement of before): it reaches the other tenant\'s validator-1', () => {
    const json = tampered('AttachOwnPeerInterface', (s) => {
      delete (s.Condition as { StringEquals: Record<string, string> }).StringEquals['aws:ResourceTag/blockchain-tenancy:tenant'];
    });
    expect(crossTenantReach(json, acme.owner, probes)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\[AttachOwnPeerInterface\] allows ec2:AttachNetworkInterface on initech\/prod instance of node validator-1$/)]),
    );
    expect(structuralProblems(json, acme.owner)).toEqual(
      expect.arrayContaining([expect.stringMatching(/\[AttachOwnPeerInterface\] has a tag condition that does not name tenant acme and environment prod$/)]),
    );
  });

  it('reports a metric namespace shared by every environment, and ssm:GetParameter* on * (AmazonSSMManagedInstanceCore)', () => {
    const shared = tampered('PublishNodeMetrics', (s) => {
      s.Condition = { StringLike: { 'cloudwatch:namespace': 'BlockchainTenancy*' } };
    });
    expect(crossTenantReach(shared, acme.owner, probes)).toEqual(expect.arrayContaining([expect.stringMatching(/allows cloudwatch:PutMetricData on initech\/prod metrics/)]));
    expect(structuralProblems(shared, acme.owner)).toEqual(expect.arrayContaining([expect.stringMatching(/may put metric data outside BlockchainTenancy\/acme\/prod$/)]));
    const ssm = tampered('SessionManagerAgent', (s) => {
      s.Action = [...(s.Action as string[]), 'ssm:GetParameter*'];
    });
    expect(crossTenantReach(ssm, acme.owner, probes)).toEqual(expect.arrayContaining([expect.stringMatching(/allows ssm:GetParameter on initech\/prod registration$/)]));
    expect(structuralProblems(ssm, acme.owner)).toEqual(expect.arrayContaining([expect.stringMatching(/\[SessionManagerAgent\] allows ssm:GetParameter\* on \*$/)]));
  });

  it('reports an AWS managed policy on a role, and a log statement on every log group (AWSLambdaVPCAccessExecutionRole)', () => {
    const json = structuredClone(acme.templates[0].json);
    const role = Object.values(json.Resources).find((r) => r.Type === 'AWS::IAM::Role')!;
    role.Properties!.ManagedPolicyArns = [...((role.Properties!.ManagedPolicyArns as unknown[]) ?? []), 'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'];
    expect(structuralProblems(json, acme.owner)).toEqual(expect.arrayContaining([expect.stringMatching(/carries the AWS managed policy service-role\/AWSLambdaVPCAccessExecutionRole$/)]));
    const logs = tampered('OwnLogs', (s) => {
      s.Resource = '*';
    });
    expect(crossTenantReach(logs, acme.owner, probes)).toEqual(expect.arrayContaining([expect.stringMatching(/\[OwnLogs\] allows logs:CreateLogStream on initech\/prod authorizer log group/)]));
  });

  it('reports an invoke of every environment-tagged function (the management statement of before) as reaching the authorizer', () => {
    const json = tampered('InvokeEnvironmentAuthorizer', (s) => {
      s.Resource = 'arn:aws:lambda:eu-west-1:111122223333:function:*';
      s.Condition = { StringLike: { 'aws:ResourceTag/blockchain-tenancy:environment': '?*' } };
    });
    expect(crossTenantReach(json, acme.owner, probes)).toEqual(
      expect.arrayContaining([expect.stringMatching(/allows lambda:InvokeFunction on initech\/prod authorizer function$/)]),
    );
  });
});
