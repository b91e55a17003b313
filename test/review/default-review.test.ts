import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { StackReview, runReview } from '../../scripts/review-runner';
import { expectNoFindings } from '../support/review';

// `npm run review` on the checked-in tenants.json: the management stack in us-east-1 with the web
// console on its *.cloudfront.net name and its CLOUDFRONT web ACL created in the same stack (the
// production fixture covers the other path: custom domain, web ACL given by ARN, eu-west-1).

describe('npm run review on tenants.json (console in us-east-1)', () => {
  let results: StackReview[];
  beforeAll(async () => {
    results = await runReview({ configPath: 'tenants.json', outdir: join(mkdtempSync(join(tmpdir(), 'bt-default-review-')), 'cdk.out') });
  }, 900_000);

  it('passes every stack with zero findings from any pack or tool', () => {
    expect(results.map((r) => r.stackName)).toEqual(['AcmeDev', 'BlockchainManagement']);
    expectNoFindings(results);
  });

  it('lists the acknowledgments of the console without a custom domain, each with its reason', () => {
    const mgmt = results.find((r) => r.stackName === 'BlockchainManagement')!;
    const cfr4 = mgmt.acknowledgments.find((a) => a.rule === 'AwsSolutions-CFR4');
    expect(cfr4?.path).toBe('Console/Distribution');
    expect(cfr4?.reason).toContain('No custom domain');
  });
});
