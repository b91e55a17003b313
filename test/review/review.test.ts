import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPATIBILITY, SupportLevel } from '../../lib';
import { CfnTemplate, fixedMonthlyCost, securityGroupRules } from '../../lib/review/template-model';
import { StackReview, runReview } from '../../scripts/review-runner';
import { expectNoFindings } from '../support/review';

// The whole review (4 cdk-nag packs, cfn-lint, checkov, report) on a matrix of configs: every
// runnable client x consensus row, 1 and several members, with and without a domain, 2 and 3 AZs.
const rows = COMPATIBILITY.filter((r) => r.level !== SupportLevel.UNSUPPORTED);
const cert = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/0b6b8a1e-3333-4c3e-9a55-2f0d7d0c1a2b`;
const config = {
  tenants: [
    {
      id: 'matrix',
      environments: rows.map((row, i) => ({
        id: `${row.client}-${row.consensus}`,
        cidr: `10.${100 + i}.0.0/16`,
        region: 'eu-west-1',
        ...(i === 0 ? { availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] } : {}),
        chain: {
          client: row.client,
          consensus: row.consensus,
          allowDeprecated: row.level === SupportLevel.DEPRECATED,
          ...(i % 2 === 1
            ? {
                members: [{ id: 'acme' }, { id: 'globex' }],
                nodes: [
                  ...[1, 2, 3, 4].map((n) => ({ id: `validator-${n}`, member: n <= 2 ? 'acme' : 'globex', role: 'validator' })),
                  { id: 'globex-rpc', member: 'globex', role: 'member', instanceType: 'm7g.large' },
                ],
              }
            : {}),
        },
        ...(i % 3 === 0 ? { ingress: { certificateArn: cert('eu-west-1'), ...(i % 2 === 0 ? { domainName: `${row.client}.matrix.example.com` } : {}) } } : {}),
      })),
    },
    {
      // Node groups: two nodes in a nested stack, reviewed with the environment's own template.
      id: 'grouped',
      environments: [
        {
          id: 'besu-qbft',
          cidr: '10.120.0.0/16',
          region: 'eu-west-1',
          chain: {
            members: [{ id: 'acme' }],
            nodes: [
              ...[1, 2, 3, 4].map((n) => ({ id: `validator-${n}`, member: 'acme', role: 'validator' })),
              ...[1, 2].map((n) => ({ id: `rpc-${n}`, member: 'acme', role: 'member', group: 'rpc' })),
            ],
          },
          ingress: { certificateArn: cert('eu-west-1'), domainName: 'grouped.matrix.example.com' },
        },
      ],
    },
  ],
};

/** A stack's template with the resources of its nested stacks (as the review models it). */
function withNested(outdir: string, stackName: string): CfnTemplate {
  const parent = JSON.parse(readFileSync(join(outdir, `${stackName}.template.json`), 'utf8')) as CfnTemplate;
  // Nested templates are written next to the parent as <parent><path>.nested.template.json.
  const files = readdirSync(outdir).filter((f) => f.startsWith(`${stackName}Environment`) && f.endsWith('.nested.template.json'));
  expect(files).toHaveLength(Object.values(parent.Resources).filter((r) => r.Type === 'AWS::CloudFormation::Stack').length);
  const nested = files.map((f) => JSON.parse(readFileSync(join(outdir, f), 'utf8')) as CfnTemplate);
  return { ...parent, Resources: Object.assign({}, parent.Resources, ...nested.map((t) => t.Resources)) };
}

describe('npm run review on a matrix of environments', () => {
  let results: StackReview[];
  let outdir: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bt-review-'));
    const configPath = join(dir, 'tenants.json');
    writeFileSync(configPath, JSON.stringify(config));
    outdir = join(dir, 'cdk.out');
    results = await runReview({ configPath, outdir });
  }, 600_000);

  it('passes every environment with zero errors from any tool', () => {
    expect(results).toHaveLength(rows.length + 1);
    expectNoFindings(results);
  });

  it('writes a report whose lists and numbers match the template', () => {
    const prices = JSON.parse(readFileSync('data/prices-us-east-1.json', 'utf8'));
    for (const r of results) {
      const template = withNested(outdir, r.stackName);
      const report = readFileSync(r.reportPath, 'utf8');
      // Security-group matrix: one row per rule resource (CDK's "no egress" placeholders excluded).
      const ruleResources = Object.values(template.Resources).filter(
        (x) => (x.Type === 'AWS::EC2::SecurityGroupIngress' || x.Type === 'AWS::EC2::SecurityGroupEgress') && x.Properties?.CidrIp !== '255.255.255.255/32',
      );
      expect(securityGroupRules(template)).toHaveLength(ruleResources.length);
      const matrix = report.split('## Security-group matrix')[1].split('##')[0];
      expect(matrix.split('\n').filter((l) => l.startsWith('| Environment'))).toHaveLength(ruleResources.length);
      // Cost: endpoint-AZs, instances and the total follow from the template.
      const cost = fixedMonthlyCost(template, prices);
      const endpointAzs = Object.values(template.Resources)
        .filter((x) => x.Type === 'AWS::EC2::VPCEndpoint' && x.Properties?.VpcEndpointType === 'Interface')
        .reduce((a, x) => a + (x.Properties!.SubnetIds as unknown[]).length, 0);
      expect(cost.lines.find((l) => l.item.startsWith('interface VPC endpoints'))?.quantity).toBe(endpointAzs);
      const asgs = Object.values(template.Resources).filter((x) => x.Type === 'AWS::AutoScaling::AutoScalingGroup').length;
      expect(cost.lines.filter((l) => l.item.startsWith('EC2 ')).reduce((a, l) => a + l.quantity, 0)).toBe(asgs);
      expect(cost.total).toBeCloseTo(cost.lines.reduce((a, l) => a + l.monthly, 0), 2);
      expect(report).toContain(`**Total fixed: ${cost.total.toFixed(2)} USD / month**`);
      // Exposure: TLS policy when there is a load balancer, "Nothing" when there is none.
      if (template.Resources && Object.values(template.Resources).some((x) => x.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer')) {
        expect(report).toContain('| 443 | HTTPS | ELBSecurityPolicy-TLS13-1-2-2021-06 | fixed-response |');
      } else {
        expect(report).toContain('Nothing: this environment has no load balancer');
      }
      expect(report).toContain('```mermaid');
      expect(report).toContain('## Acknowledged findings and skipped checks');
    }
    // The grouped environment's report counts the nodes of its nested stack too.
    const grouped = results.find((r) => r.stackName === 'GroupedBesuQbft')!;
    expect(Object.values(withNested(outdir, grouped.stackName).Resources).filter((x) => x.Type === 'AWS::AutoScaling::AutoScalingGroup')).toHaveLength(6);
    expect(readFileSync(grouped.reportPath, 'utf8')).toMatch(/\| EC2 t4g\.medium[^|]*\| 6 \|/);
  });
});
