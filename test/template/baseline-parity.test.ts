/**
 * The synth benchmark compares the library with a hand-written plain aws-cdk-lib baseline
 * (bench/baseline). The ratio only measures the library's own overhead while both sides make the
 * same CloudFormation resources, so this test fails as soon as either side drifts: a resource
 * type added, removed or multiplied on one side only. Update bench/baseline/environment-stack.ts
 * when the default environment changes.
 */
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { BaselineEnvironmentStack } from '../../bench/baseline/environment-stack';
import { buildTenantApp, testApp } from '../support/synth';

type Template = { Resources: Record<string, { Type: string }> };

function typeCounts(t: Template): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of Object.values(t.Resources)) counts[r.Type] = (counts[r.Type] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

describe('hand-written baseline vs. the library (one default environment)', () => {
  let library: Template;
  let baseline: Template;

  beforeAll(() => {
    const { app, stacks } = buildTenantApp({ tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16' }] }] });
    expect(stacks.map((s) => s.stackName)).toEqual(['AcmeDev']);
    library = app.synth().getStackByName('AcmeDev').template as Template;

    const baseApp: App = testApp();
    new BaselineEnvironmentStack(baseApp, { tenantId: 'acme', environmentId: 'dev', cidr: '10.10.0.0/16' });
    baseline = baseApp.synth().getStackByName('AcmeDev').template as Template;
  });

  it('makes the same resources: exactly the same count of every resource type', () => {
    // No known differences: the baseline reproduces every resource of a default environment.
    expect(typeCounts(baseline)).toEqual(typeCounts(library));
    expect(Object.keys(baseline.Resources).length).toBe(Object.keys(library.Resources).length);
  });

  it('is a real environment, not an empty match', () => {
    const counts = typeCounts(library);
    expect(Object.keys(library.Resources).length).toBeGreaterThan(100);
    for (const type of ['AWS::EC2::VPC', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::EFS::FileSystem', 'AWS::Lambda::Function', 'Custom::BlockchainNodeKeys', 'AWS::CloudWatch::Alarm']) {
      expect(counts[type], type).toBeGreaterThan(0);
    }
  });
});
