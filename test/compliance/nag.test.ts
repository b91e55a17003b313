import { readFileSync } from 'node:fs';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { buildTenantApp, nagViolations } from '../support/synth';

// cdk-nag AwsSolutions + NIST 800-53 R5, exactly as bin/app.ts registers them, evaluated in-process
// so that every unacknowledged finding (error or warning) is listed by construct path.
describe.each([
  ['the default app (tenants.json)', 'tenants.json'],
  ['a larger config (3 tenants, 5 environments, 2-3 AZs, ECR endpoints)', 'test/fixtures/large-tenants.json'],
])('cdk-nag packs on %s', (_name, path) => {
  const { app, stacks } = buildTenantApp(JSON.parse(readFileSync(path, 'utf8')));

  it('builds the expected stacks', () => {
    expect(stacks.length).toBeGreaterThan(0);
  });

  it('has no unacknowledged findings', () => {
    expect(nagViolations(app)).toEqual([]);
  });
});

describe('the compliance check itself', () => {
  it('reports an unacknowledged finding (negative control)', () => {
    const { app, stacks } = buildTenantApp(JSON.parse(readFileSync('tenants.json', 'utf8')));
    const sg = new ec2.SecurityGroup(stacks[0], 'Careless', { vpc: stacks[0].blockchainEnvironment.vpc });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    expect(nagViolations(app)).toEqual(
      expect.arrayContaining([expect.stringMatching(/AwsSolutions-EC23 AcmeDev\/Careless\/Resource$/)]),
    );
  });
});
