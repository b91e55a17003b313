import { readFileSync } from 'node:fs';
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { MAX_LISTENER_RULE_PRIORITY, TenantConfigError, listenerRulePriority, listenerRulePriorityClashes, parseTenantsConfig } from '../../lib';
import { buildTenantApp } from '../support/synth';

// Construct ids, listener-rule priorities and alarms are keyed by node id, never by list
// position: removing a node from the middle of the list must leave every other node's resources
// where they are (for EFS, a new logical id would mean a new, empty file system).

type ChainNode = { id: string; member: string; role: string; group?: string };
type Env = { id: string; chain: { nodes: ChainNode[] } };
type Config = { tenants: { id: string; environments: Env[] }[] };

const fixture = JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8')) as Config;

/** The production fixture's AcmeProd (hosted zone) and InitechGrid (node groups), one node more each. */
function config(remove: readonly string[] = []): Config {
  const c = structuredClone(fixture);
  const acme = c.tenants[0].environments.find((e) => e.id === 'prod')!;
  acme.chain.nodes.splice(2, 0, { id: 'validator-9', member: 'm2', role: 'validator' });
  const grid = c.tenants[1].environments.find((e) => e.id === 'grid')!;
  grid.chain.nodes.splice(1, 0, { id: 'validator-9', member: 'm1', role: 'validator', group: 'core' });
  grid.chain.nodes.push({ id: 'member-3', member: 'm2', role: 'member', group: 'edge' });
  for (const env of [acme, grid]) env.chain.nodes = env.chain.nodes.filter((n) => !remove.includes(n.id));
  c.tenants[0].environments = [acme];
  c.tenants[1].environments = [grid];
  return c;
}

const TRACKED = [
  'AWS::AutoScaling::AutoScalingGroup',
  'AWS::EFS::FileSystem',
  'AWS::EFS::AccessPoint',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::CloudWatch::Alarm',
  'AWS::Route53::RecordSet',
];

/** Per stack and node: `<type> <logical id>` of every tracked resource (rules with their priority). */
function nodeResources(raw: Config): Map<string, string[]> {
  const { stacks } = buildTenantApp(raw);
  const out = new Map<string, string[]>();
  for (const stack of stacks) {
    const nodeIds = stack.blockchainEnvironment.nodes!.nodes.map((n) => n.nodeId);
    const all: Stack[] = [stack, ...stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack)];
    for (const s of all) {
      const resources = Template.fromStack(s).toJSON().Resources as Record<string, { Type: string; Metadata?: Record<string, string>; Properties?: Record<string, unknown> }>;
      for (const [logicalId, r] of Object.entries(resources)) {
        if (!TRACKED.includes(r.Type)) continue;
        const path = r.Metadata?.['aws:cdk:path'] ?? '';
        const owner = nodeIds.find((id) => path.includes(`/${id}/`) || path.includes(`/${id}-Route/`) || path.includes(`/Alarm-${id}-`));
        if (!owner) continue;
        const key = `${stack.stackName} ${owner}`;
        const priority = r.Type === 'AWS::ElasticLoadBalancingV2::ListenerRule' ? ` priority ${String(r.Properties?.Priority)}` : '';
        out.set(key, [...(out.get(key) ?? []), `${r.Type} ${logicalId}${priority}`].sort());
      }
    }
  }
  return out;
}

describe('removing a node from the middle of the list', () => {
  const before = nodeResources(config());
  const after = nodeResources(config(['validator-9', 'member-1']));

  it('tracks every node, with each kind of resource a node has', () => {
    expect([...before.keys()].sort()).toEqual([
      ...['member-1', 'validator-1', 'validator-2', 'validator-3', 'validator-4', 'validator-9'].map((n) => `AcmeProd ${n}`),
      ...['member-1', 'member-2', 'member-3', 'validator-1', 'validator-2', 'validator-3', 'validator-4', 'validator-9'].map((n) => `InitechGrid ${n}`),
    ]);
    for (const [key, resources] of before) {
      for (const type of TRACKED) expect(resources.some((r) => r.startsWith(`${type} `)), `${key} ${type}`).toBe(true);
    }
  });

  it("leaves every other node's logical ids and listener-rule priority unchanged", () => {
    expect([...after.keys()].sort()).toEqual([...before.keys()].filter((k) => !/ (validator-9|member-1)$/.test(k)).sort());
    for (const [key, resources] of after) expect(resources, key).toEqual(before.get(key));
  });

  it('the comparison sees a changed id (negative control)', () => {
    const renamed = structuredClone(config());
    renamed.tenants[0].environments[0].chain.nodes[0].id = 'validator-0';
    expect(nodeResources(renamed).get('AcmeProd validator-0')).not.toEqual(before.get('AcmeProd validator-1'));
  });
});

describe('listener-rule priorities', () => {
  it('are a hash of the node id alone, within the range a listener accepts', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `node-${i + 1}`);
    const priorities = ids.map(listenerRulePriority);
    expect(priorities.every((p) => Number.isInteger(p) && p >= 1 && p <= MAX_LISTENER_RULE_PRIORITY)).toBe(true);
    expect(new Set(priorities).size).toBe(100);
    expect(listenerRulePriority('validator-1')).toBe(11891); // pinned: a change here moves every deployed rule
    expect(listenerRulePriorityClashes(ids)).toEqual([]);
  });

  it('refuse two nodes that hash to the same priority, naming both, the field and the fix', () => {
    expect(listenerRulePriority('n-240')).toBe(listenerRulePriority('n-262'));
    const raw = {
      tenants: [
        {
          id: 'acme',
          environments: [
            {
              id: 'prod',
              cidr: '10.20.0.0/16',
              region: 'eu-west-1',
              chain: {
                members: [{ id: 'm1' }],
                nodes: [
                  ...[1, 2, 3, 4].map((n) => ({ id: `validator-${n}`, member: 'm1', role: 'validator' })),
                  { id: 'n-240', member: 'm1', role: 'member' },
                  { id: 'n-262', member: 'm1', role: 'member' },
                ],
              },
              ingress: { certificateArn: 'arn:aws:acm:eu-west-1:111122223333:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b' },
            },
          ],
        },
      ],
    };
    let error: unknown;
    try {
      parseTenantsConfig(raw, 'tenants.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TenantConfigError);
    expect((error as Error).message).toContain(
      `tenants[0].environments[0].chain.nodes: nodes "n-240" and "n-262" hash to the same load balancer listener-rule priority (${listenerRulePriority('n-240')})`,
    );
    expect((error as Error).message).toContain('Give one of them another id: the node you are adding');
    // Without ingress there are no rules, and nothing to refuse.
    const withoutIngress: Record<string, unknown> = { ...raw.tenants[0].environments[0] };
    delete withoutIngress.ingress;
    expect(() => parseTenantsConfig({ tenants: [{ id: 'acme', environments: [withoutIngress] }] }, 'tenants.json')).not.toThrow();
  });
});
