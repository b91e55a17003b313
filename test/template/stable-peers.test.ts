import { readFileSync } from 'node:fs';
import { NestedStack, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildTenantApp } from '../support/synth';

// Adding a node, or removing any node (first, middle, last), must leave every other node exactly
// as it is: the same logical ids AND the same properties of its instance group, launch template
// (user data), peer interface, file system, mount target and access point. A changed user data or
// subnet replaces the node's instance; a changed peer interface or mount target breaks it.

type ChainNode = { id: string; member: string; role: string; group?: string };
type Env = { id: string; chain: { nodes: ChainNode[] } };
type Config = { tenants: { id: string; environments: Env[] }[] };

const fixture = JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8')) as Config;

/**
 * node-a, the four validators, then node-b, node-c, node-d (members), in the production fixture's
 * AcmeProd (environment stack, ingress with a hosted zone) and InitechGrid (node groups).
 */
function config(edit: (nodes: ChainNode[]) => ChainNode[]): Config {
  const c = structuredClone(fixture);
  const acme = c.tenants[0].environments.find((e) => e.id === 'prod')!;
  const member = (id: string, group?: string): ChainNode => ({ id, member: 'm1', role: 'member', ...(group ? { group } : {}) });
  acme.chain.nodes = edit([member('node-a'), ...acme.chain.nodes.filter((n) => n.role === 'validator'), ...['node-b', 'node-c', 'node-d'].map((id) => member(id))]);
  const grid = c.tenants[1].environments.find((e) => e.id === 'grid')!;
  grid.chain.nodes = edit([member('node-a', 'edge'), ...grid.chain.nodes.filter((n) => n.role === 'validator'), ...['node-b', 'node-c', 'node-d'].map((id) => member(id, 'edge'))]);
  c.tenants[0].environments = [acme];
  c.tenants[1].environments = [grid];
  return c;
}

type Resource = { Type: string; Properties?: unknown; UpdatePolicy?: unknown; CreationPolicy?: unknown; DependsOn?: unknown; Metadata?: Record<string, string> };

/** `<stack> <node>` → `<logical id>` → the resource as deployed (type, properties, policies), for every resource a node owns. */
function nodeResources(raw: Config): Map<string, Map<string, string>> {
  const { stacks } = buildTenantApp(raw);
  const out = new Map<string, Map<string, string>>();
  for (const stack of stacks) {
    const nodeIds = stack.blockchainEnvironment.nodes!.nodes.map((n) => n.nodeId);
    const all: Stack[] = [stack, ...stack.node.findAll().filter((c): c is NestedStack => c instanceof NestedStack)];
    for (const s of all) {
      const resources = Template.fromStack(s).toJSON().Resources as Record<string, Resource>;
      for (const [logicalId, r] of Object.entries(resources)) {
        const path = r.Metadata?.['aws:cdk:path'] ?? '';
        const owner = nodeIds.find((id) => path.includes(`/${id}/`));
        if (!owner) continue;
        const key = `${stack.stackName} ${owner}`;
        const deployed: Resource = { ...r };
        delete deployed.Metadata;
        const byId = out.get(key) ?? new Map<string, string>();
        byId.set(`${s.node.path} ${logicalId}`, JSON.stringify(deployed));
        out.set(key, byId);
      }
    }
  }
  return out;
}

const KINDS = [
  'AWS::AutoScaling::AutoScalingGroup',
  'AWS::EC2::LaunchTemplate',
  'AWS::EC2::NetworkInterface',
  'AWS::EFS::FileSystem',
  'AWS::EFS::MountTarget',
  'AWS::EFS::AccessPoint',
];

const base = nodeResources(config((n) => n));

function expectOthersUnchanged(changed: Map<string, Map<string, string>>, touched: readonly string[]) {
  const untouched = [...base.keys()].filter((k) => !touched.some((t) => k.endsWith(` ${t}`)));
  expect(untouched.length).toBeGreaterThan(0);
  for (const key of untouched) {
    const before = base.get(key)!;
    const after = changed.get(key);
    expect(after, key).toBeDefined();
    expect([...after!.keys()].sort(), key).toEqual([...before.keys()].sort());
    for (const [id, resource] of before) expect(after!.get(id), `${key}: ${id}`).toBe(resource);
  }
}

describe('node churn leaves the other nodes alone', () => {
  it('tracks every node with its instance group, launch template, peer interface and storage', () => {
    expect([...base.keys()].sort()).toEqual(
      ['AcmeProd', 'InitechGrid'].flatMap((s) => ['node-a', 'node-b', 'node-c', 'node-d', 'validator-1', 'validator-2', 'validator-3', 'validator-4'].map((n) => `${s} ${n}`)).sort(),
    );
    for (const [key, resources] of base) {
      const types = [...resources.values()].map((r) => (JSON.parse(r) as Resource).Type);
      for (const kind of KINDS) expect(types, `${key} ${kind}`).toContain(kind);
    }
  });

  it.each([
    ['the first node', 'node-a'],
    ['a node in the middle', 'node-b'],
    ['the last node', 'node-d'],
  ])('removing %s (%s)', (_what, id) => {
    expectOthersUnchanged(nodeResources(config((n) => n.filter((x) => x.id !== id))), [id]);
  });

  it('adding a node at the end, and one at the front', () => {
    expectOthersUnchanged(nodeResources(config((n) => [...n, { ...n[0], id: 'node-e' }])), ['node-e']);
    expectOthersUnchanged(nodeResources(config((n) => [{ ...n[0], id: 'node-e' }, ...n])), ['node-e']);
  });

  it('renders no address into any launch template: each node reads its own and its peers\' from the manifest at boot', () => {
    for (const [key, resources] of base) {
      const templates = [...resources.values()].filter((r) => r.includes('"AWS::EC2::LaunchTemplate"'));
      expect(templates, key).toHaveLength(1);
      expect(templates[0], key).not.toMatch(/\b10\.\d+\.\d+\.\d+\b/);
      expect(templates[0], key).toContain('PEER_IP=$(jq -r');
      expect(templates[0], key).toMatch(/--p2p-host=\\"\$PEER_IP\\"/);
    }
  });

  it('the comparison sees a change to a node (negative control)', () => {
    const bigger = nodeResources(config((n) => n.map((x) => (x.id === 'node-c' ? { ...x, instanceType: 'm7i.xlarge' } : x))));
    expect(() => expectOthersUnchanged(bigger, [])).toThrow(/AcmeProd node-c/);
  });
});
