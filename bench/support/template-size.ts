/**
 * Template size as nodes grow: one environment of N validators synthesized in-process (bundling
 * skipped), with or without ingress, with nodes in groups of `perGroup` (0: all in the
 * environment stack). Reports resources and bytes of the environment stack and of each node
 * group's nested stack (the file CloudFormation receives), or the synth error.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { BlockchainEnvironment, NodeRole } from '../../lib';

export interface TemplateSizeRow {
  readonly nodes: number;
  readonly ingress: boolean;
  readonly perGroup: number;
  readonly stacks?: number;
  /** Resources of the environment stack. */
  readonly parentResources?: number;
  readonly parentBytes?: number;
  /** The largest nested stack (resources, bytes). */
  readonly maxNestedResources?: number;
  readonly maxNestedBytes?: number;
  readonly totalResources?: number;
  readonly synthMs?: number;
  readonly refused?: string;
}

export function templateSize(nodes: number, ingress: boolean, perGroup = 0): TemplateSizeRow {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S', { env: { region: 'eu-west-1' } });
  const started = Date.now();
  try {
    const env = new BlockchainEnvironment(stack, 'E', {
      tenantId: 'acme',
      environmentId: 'dev',
      chain: {
        nodes: Array.from({ length: nodes }, (_, i) => ({
          id: `node-${i + 1}`,
          member: 'default',
          role: NodeRole.VALIDATOR,
          ...(perGroup ? { group: `group-${Math.floor(i / perGroup) + 1}` } : {}),
        })),
      },
      ...(ingress
        ? { ingress: { certificate: acm.Certificate.fromCertificateArn(stack, 'C', 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b'), domainName: 'x.example.com' } }
        : {}),
    });
    const asm = app.synth();
    const parent = asm.getStackByName('S');
    const nested = Object.values(env.nodes!.groupStacks).map((s) => {
      const file = join(asm.directory, s.templateFile);
      return { resources: Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { Resources: object }).Resources).length, bytes: statSync(file).size };
    });
    const parentResources = Object.keys(parent.template.Resources).length;
    return {
      nodes,
      ingress,
      perGroup,
      stacks: 1 + nested.length,
      parentResources,
      parentBytes: statSync(join(asm.directory, parent.templateFile)).size,
      ...(nested.length ? { maxNestedResources: Math.max(...nested.map((n) => n.resources)), maxNestedBytes: Math.max(...nested.map((n) => n.bytes)) } : {}),
      totalResources: parentResources + nested.reduce((a, n) => a + n.resources, 0),
      synthMs: Date.now() - started,
    };
  } catch (e) {
    const message = (e as Error).message;
    return { nodes, ingress, perGroup, refused: (message.split('\n').find((l) => l.includes('chain.nodes') || l.includes('EnvironmentIngress')) ?? message.slice(0, 300)).replace(/^\s*\[[^\]]*\]\s*/, '') };
  }
}

/** The rows the scale bench reports: 4, 16, 64 and 128 nodes, the largest ungrouped, and the ingress cap. */
export const TEMPLATE_SIZE_CASES: readonly [nodes: number, ingress: boolean, perGroup: number][] = [
  [4, true, 0],
  [16, true, 0],
  [21, true, 0],
  [64, true, 16],
  [100, true, 20],
  [101, true, 20],
  [128, false, 22],
  [128, false, 32],
];
