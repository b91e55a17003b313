import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { offlineEnv } from '../support/offline-env';

// A production-shaped config through the real CLI, exactly as users run it:
//   npx cdk synth -c config=test/fixtures/production-tenants.json
// offline (no AWS_* / CDK_* variables, an empty home): two tenants in one pinned account and
// region with equal environment and node ids, three zones listed, ingress with a domain and hosted
// zone, one with an imported certificate, one environment without ingress, one with node groups.
// cdk-nag's packs run as the app registers them; any unacknowledged error fails the synth.

const FIXTURE = 'test/fixtures/production-tenants.json';
const STACKS = ['AcmeProd', 'AcmeStaging', 'InitechProd', 'InitechGrid', 'BlockchainManagement'];


type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

describe('npx cdk synth -c config=test/fixtures/production-tenants.json (offline)', () => {
  let result: ReturnType<typeof spawnSync> & { stdout: string; stderr: string };
  let out: string;
  const template = (stack: string): Template => JSON.parse(readFileSync(join(out, `${stack}.template.json`), 'utf8')) as Template;

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'bt-prod-synth-'));
    out = join(dir, 'cdk.out');
    result = spawnSync(join('node_modules', '.bin', 'cdk'), ['synth', '--no-notices', '-q', '-o', out, '-c', `config=${FIXTURE}`], {
      env: offlineEnv(dir),
      encoding: 'utf8',
      timeout: 300_000,
    });
  }, 320_000);

  it('succeeds, with no unacknowledged finding and no AWS call', () => {
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).not.toContain('Need to perform AWS calls');
    expect(output).not.toMatch(/Acknowledge with|ERROR|error TS/);
    expect(result.status).toBe(0);
  });

  it('writes every stack for the pinned account and region, with nothing left to look up', () => {
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as {
      missing?: unknown[];
      artifacts: Record<string, { environment?: string }>;
    };
    expect(manifest.missing ?? []).toEqual([]);
    for (const stack of STACKS.slice(0, 4)) expect(manifest.artifacts[stack]?.environment, stack).toBe('aws://111122223333/eu-west-1');
    expect(manifest.artifacts.BlockchainManagement?.environment).toBe('aws://unknown-account/eu-west-1');
    // The node groups' nested templates are there too.
    expect(readdirSync(out).filter((f) => f.startsWith('InitechGridEnvironmentNodesGroup') && f.endsWith('.nested.template.json'))).toHaveLength(2);
  });

  it('renders ARNs with the partition literal that cdk.json turns on (what the acknowledgments must match)', () => {
    const text = readFileSync(join(out, 'AcmeProd.template.json'), 'utf8');
    expect(text).toContain('arn:aws:secretsmanager:eu-west-1:111122223333:secret:blockchain-tenancy/acme/prod/credentials/*');
    expect(text).not.toContain('dummy1a');
  });

  it('places each environment in the three listed zones', () => {
    for (const stack of STACKS.slice(0, 4)) {
      const zones = new Set(Object.values(template(stack).Resources).filter((r) => r.Type === 'AWS::EC2::Subnet').map((r) => r.Properties!.AvailabilityZone));
      expect([...zones].sort(), stack).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    }
  });

  it('gives the two tenants with equal environment and node ids their own names', () => {
    const names = (stack: string) =>
      Object.values(template(stack).Resources)
        .filter((r) => r.Type === 'AWS::EFS::FileSystem')
        .map((r) => (r.Properties!.FileSystemTags as { Key: string; Value: string }[]).find((t) => t.Key === 'Name')?.Value)
        .sort();
    expect(names('AcmeProd')).toEqual(['acme-prod-member-1', 'acme-prod-validator-1', 'acme-prod-validator-2', 'acme-prod-validator-3', 'acme-prod-validator-4']);
    expect(names('InitechProd')).toEqual(names('AcmeProd').map((n) => n!.replace('acme-', 'initech-')));
  });

  it('has a load balancer only where the config asks for ingress', () => {
    const albs = (stack: string) => Object.values(template(stack).Resources).filter((r) => r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer').length;
    expect(STACKS.slice(0, 4).map(albs)).toEqual([1, 0, 1, 1]);
    const records = (stack: string) => Object.values(template(stack).Resources).filter((r) => r.Type === 'AWS::Route53::RecordSet').length;
    expect(records('AcmeProd')).toBe(5); // hosted zone: one record per node
    expect(records('InitechProd')).toBe(0); // imported certificate, no zone
  });
});
