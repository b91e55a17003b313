import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { StackReview, runReview } from '../../scripts/review-runner';
import { expectNoFindings } from '../support/review';

// `npm run review -- -c config=test/fixtures/production-tenants.json`: the production-shaped
// config (two tenants in one pinned account and region, equal environment and node ids, three
// zones, ingress with a hosted zone, with an imported certificate, without ingress, node groups)
// through the four cdk-nag packs, cfn-lint and checkov, built with the CLI's context.

const FIXTURE = 'test/fixtures/production-tenants.json';

describe('npm run review on the production fixture', () => {
  let results: StackReview[];
  let outdir: string;
  beforeAll(async () => {
    outdir = join(mkdtempSync(join(tmpdir(), 'bt-prod-review-')), 'cdk.out');
    results = await runReview({ configPath: FIXTURE, outdir });
  }, 900_000);

  it('passes every stack with zero findings from any pack or tool', () => {
    expect(results.map((r) => r.stackName)).toEqual(['AcmeProd', 'AcmeStaging', 'InitechProd', 'InitechGrid', 'BlockchainManagement']);
    expectNoFindings(results);
  });

  it('reviews the templates the CLI writes (cdk.json context: partition literals, the CLI\'s version reporting)', () => {
    const text = readFileSync(join(outdir, 'AcmeProd.template.json'), 'utf8');
    expect(text).toContain('arn:aws:secretsmanager:eu-west-1:111122223333:secret:blockchain-tenancy/acme/prod/credentials/*');
    expect(text).toContain('"AWS::CDK::Metadata"');
    // The acknowledgments it lists are the ones that matched those ARNs.
    const acme = results.find((r) => r.stackName === 'AcmeProd')!;
    expect(acme.acknowledgments.map((a) => a.rule)).toContain(
      'AwsSolutions-IAM5[Resource::arn:aws:secretsmanager:eu-west-1:111122223333:secret:blockchain-tenancy/acme/prod/credentials/*]',
    );
  });
});
