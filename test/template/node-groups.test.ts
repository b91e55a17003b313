import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, it } from 'vitest';
import { BlockchainEnvironment, NodeRole, parseTenantsConfig } from '../../lib';
import { nagViolations, testApp } from '../support/synth';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b';
const nodesOf = (count: number, perGroup: number) =>
  Array.from({ length: count }, (_, i) => ({
    id: `node-${i + 1}`,
    member: i % 2 ? 'globex' : 'acme',
    role: i < 10 ? NodeRole.VALIDATOR : NodeRole.MEMBER,
    ...(perGroup ? { group: `group-${Math.floor(i / perGroup) + 1}` } : {}),
  }));

function environment(nodes: ReturnType<typeof nodesOf>, ingress = true) {
  const app = testApp();
  const stack = new Stack(app, 'Big', { env: { region: 'eu-west-1' } });
  const env = new BlockchainEnvironment(stack, 'Env', {
    tenantId: 'acme',
    environmentId: 'big',
    cidr: '10.20.0.0/16',
    chain: { members: [{ id: 'acme' }, { id: 'globex' }], nodes },
    ...(ingress
      ? {
          ingress: {
            certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', CERT),
            domainName: 'big.acme.example.com',
            hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' }),
          },
        }
      : {}),
  });
  return { app, stack, env };
}

// 100 nodes (the most one load balancer can route to) in 5 groups of 20, with ingress: synthesized once.
const big = environment(nodesOf(100, 20));
const assembly = big.app.synth();
const parentArtifact = assembly.getStackByName('Big');
const parent = parentArtifact.template as { Resources: Resources };
const groups = Object.entries(big.env.nodes!.groupStacks);
const nested = groups.map(([group, stack]) => {
  const file = join(assembly.directory, stack.templateFile);
  return { group, stack, file, template: JSON.parse(readFileSync(file, 'utf8')) as { Resources: Resources; Outputs?: object; Parameters?: object } };
});
const ofType = (t: { Resources: Resources }, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);

describe('an environment of 100 nodes in node groups (nested stacks)', () => {
  it('puts each group in its own nested stack, and every stack stays under 500 resources, 1 MB, 200 outputs and 200 parameters', () => {
    expect(groups.map(([g]) => g)).toEqual(['group-1', 'group-2', 'group-3', 'group-4', 'group-5']);
    expect(ofType(parent, 'AWS::CloudFormation::Stack')).toHaveLength(5);
    expect(Object.keys(parent.Resources).length).toBeLessThanOrEqual(500);
    expect(statSync(join(assembly.directory, parentArtifact.templateFile)).size).toBeLessThan(1_000_000);
    for (const n of nested) {
      expect(Object.keys(n.template.Resources).length, n.group).toBeLessThanOrEqual(500);
      expect(statSync(n.file).size, n.group).toBeLessThan(1_000_000);
      expect(Object.keys(n.template.Outputs ?? {}).length, n.group).toBeLessThanOrEqual(200);
      expect(Object.keys(n.template.Parameters ?? {}).length, n.group).toBeLessThanOrEqual(200);
    }
  });

  it('keeps every node (instance group, file system, access point, peer interface, role) inside its group', () => {
    expect(ofType(parent, 'AWS::AutoScaling::AutoScalingGroup')).toHaveLength(0);
    expect(ofType(parent, 'AWS::EFS::FileSystem')).toHaveLength(0);
    for (const n of nested) {
      for (const type of ['AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::LaunchTemplate', 'AWS::EFS::FileSystem', 'AWS::EFS::AccessPoint', 'AWS::EC2::NetworkInterface', 'AWS::IAM::InstanceProfile']) {
        expect(ofType(n.template, type), `${n.group} ${type}`).toHaveLength(20);
      }
      // Storage stays retained and encrypted in a nested stack too.
      for (const [, r] of Object.entries(n.template.Resources).filter(([, r]) => r.Type === 'AWS::EFS::FileSystem')) {
        expect(r.Properties).toMatchObject({ Encrypted: true, ThroughputMode: 'elastic' });
      }
      const fsIds = Object.entries(n.template.Resources).filter(([, r]) => r.Type === 'AWS::EFS::FileSystem').map(([id]) => id);
      const raw = n.template.Resources as Record<string, { DeletionPolicy?: string; Type: string }>;
      expect(fsIds.every((id) => raw[id].DeletionPolicy === 'Retain')).toBe(true);
      // Each group backs its own file systems up in the environment's plan.
      const selections = ofType(n.template, 'AWS::Backup::BackupSelection');
      expect(selections).toHaveLength(1);
      expect(JSON.stringify(selections[0].Properties)).toContain('BackupPlanId');
    }
    // Peer addresses are assigned by AWS to each node's interface (never by list position) and
    // reach the chain manifest through the group's outputs; the group does not wait for the
    // manifest (that would be a cycle): its nodes' boot scripts do.
    expect(nested.flatMap((n) => ofType(n.template, 'AWS::EC2::NetworkInterface').map((r) => r.Properties!.PrivateIpAddress)).filter((ip) => ip !== undefined)).toEqual([]);
    const keys = ofType(parent, 'Custom::BlockchainNodeKeys')[0].Properties!.Nodes as { Id: string; Ip: { 'Fn::GetAtt': [string, string] } }[];
    expect(keys).toHaveLength(100);
    const stackIds = Object.entries(parent.Resources).filter(([, r]) => r.Type === 'AWS::CloudFormation::Stack').map(([id]) => id);
    for (const k of keys) {
      expect(stackIds, k.Id).toContain(k.Ip['Fn::GetAtt'][0]);
      expect(k.Ip['Fn::GetAtt'][1], k.Id).toMatch(/^Outputs\..*PeerInterface.*PrimaryPrivateIpAddress$/);
    }
    const rawParent = parent.Resources as Record<string, { Type: string; DependsOn?: string[] }>;
    for (const id of stackIds) expect(rawParent[id].DependsOn ?? [], id).not.toEqual(expect.arrayContaining([expect.stringMatching(/NodesKeys/)]));
  });

  it('routes each node by host name through a target group and one rule in its group, with unique priorities', () => {
    const rules = nested.flatMap((n) => ofType(n.template, 'AWS::ElasticLoadBalancingV2::ListenerRule'));
    expect(rules).toHaveLength(100);
    expect(new Set(rules.map((r) => r.Properties!.Priority)).size).toBe(100);
    expect(rules.every((r) => JSON.stringify(r.Properties!.Conditions).includes('host-header'))).toBe(true);
    expect(nested.flatMap((n) => ofType(n.template, 'AWS::ElasticLoadBalancingV2::TargetGroup'))).toHaveLength(100);
    expect(nested.flatMap((n) => ofType(n.template, 'AWS::Route53::RecordSet'))).toHaveLength(100);
    expect(ofType(parent, 'AWS::ElasticLoadBalancingV2::ListenerRule')).toHaveLength(0);
  });

  it('keeps node alarms with their nodes, under explicit names the dashboard shows; no graph has more than 100 metrics', () => {
    const nestedAlarms = nested.flatMap((n) => ofType(n.template, 'AWS::CloudWatch::Alarm'));
    // Per node: not in service, RPC down, height stalled, gate latency, EFS I/O, gate unhealthy; per validator: peers.
    expect(nestedAlarms).toHaveLength(100 * 6 + 10);
    const names = nestedAlarms.map((a) => a.Properties!.AlarmName as string);
    expect(names.every((n) => /^blockchain-acme-big-node-\d+-[A-Za-z]+$/.test(n))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    const dashboard = JSON.stringify(ofType(parent, 'AWS::CloudWatch::Dashboard')[0].Properties!.DashboardBody);
    expect(dashboard).toContain('alarm:blockchain-acme-big-node-100-RpcDown');
    const body = Template.fromStack(big.stack).findResources('AWS::CloudWatch::Dashboard');
    const widgets = JSON.parse(resolveJoin(Object.values(body)[0].Properties.DashboardBody)).widgets as { type: string; properties: { metrics?: unknown[]; alarms?: unknown[] } }[];
    for (const w of widgets) {
      if (w.properties.metrics) expect(w.properties.metrics.length).toBeLessThanOrEqual(100);
      if (w.properties.alarms) expect(w.properties.alarms.length).toBeLessThanOrEqual(100);
    }
    expect(widgets.filter((w) => w.type === 'alarm').reduce((a, w) => a + (w.properties.alarms?.length ?? 0), 0)).toBe(100 * 6 + 10 + ofType(parent, 'AWS::CloudWatch::Alarm').length);
  });

  it('has no unacknowledged cdk-nag findings (AwsSolutions, NIST 800-53 R5) in any stack', () => {
    expect(nagViolations(big.app)).toEqual([]);
  });

  it('the nag check reaches into node-group stacks (negative control)', () => {
    const { app, env } = environment(nodesOf(5, 4), false);
    const sg = new ec2.SecurityGroup(env.nodes!.groupStacks['group-1'], 'Careless', { vpc: env.vpc });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    expect(nagViolations(app)).toEqual(expect.arrayContaining([expect.stringMatching(/AwsSolutions-EC23 Big\/Env\/Nodes\/Group-group-1\/Careless\/Resource$/)]));
  });
});

/** A dashboard body is an Fn::Join of strings and tokens: join it with placeholders for the tokens. */
function resolveJoin(body: unknown): string {
  const join = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  // Tokens (Refs, attributes, pseudo parameters) only ever stand inside JSON strings.
  return join[1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(join[0]);
}

describe('limits, refused at synth with the fix', () => {
  it('too many nodes in the environment stack: names chain.nodes[].group and how many fit', () => {
    const { stack } = environment(nodesOf(30, 0), false);
    expect(() => Template.fromStack(stack)).toThrow(
      /chain\.nodes: 30 nodes in the environment's own stack make it \d+ CloudFormation resources \(the limit is 500; each node adds about \d+\)\. Keep at most about \d+ nodes there and put the others in node groups \(chain\.nodes\[\]\.group/,
    );
  });

  it('too many nodes in one group: names the group and the size that fits', () => {
    const { stack } = environment(nodesOf(40, 40), false);
    expect(() => Template.fromStack(stack)).toThrow(/chain\.nodes: node group "group-1" has 40 nodes, which make its nested stack \d+ CloudFormation resources \(the limit is 500; each node adds about \d+\)\. Put at most about \d+ nodes in one group: give the newest nodes another group \(chain\.nodes\[\]\.group\)/);
  });

  it('more than 100 nodes behind one load balancer (its target-group quota cannot be raised)', () => {
    expect(() => environment(nodesOf(101, 20))).toThrow(/101 nodes need 101 target groups, and an Application Load Balancer takes at most 100 \(an AWS quota that cannot be raised\)/);
  });

  it('128 nodes without ingress synthesize in groups', () => {
    const { app, env } = environment(nodesOf(128, 22), false);
    const asm = app.synth();
    for (const s of Object.values(env.nodes!.groupStacks)) {
      const t = JSON.parse(readFileSync(join(asm.directory, s.templateFile), 'utf8')) as { Resources: Resources };
      expect(Object.keys(t.Resources).length).toBeLessThanOrEqual(500);
    }
    expect(Object.keys(env.nodes!.groupStacks)).toHaveLength(6);
  });

  it('a bad group id in the config names the field and the rule', () => {
    const raw = { tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16', chain: { nodes: [1, 2, 3, 4].map((i) => ({ id: `v-${i}`, member: 'default', role: 'validator', group: i === 4 ? 'Bad Group' : 'g1' })) } }] }] };
    expect(() => parseTenantsConfig(raw, 'x.json')).toThrow(/tenants\[0\]\.environments\[0\]\.chain\.nodes\[3\]\.group: "Bad Group" is not valid; use 2-24 characters of a-z, 0-9 and "-"/);
  });
});
