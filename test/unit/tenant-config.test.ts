import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TenantConfigError, environmentStackName, parseIpv4Cidr, parseTenantsConfig } from '../../lib';

const env = (over: Record<string, unknown> = {}) => ({ id: 'dev', cidr: '10.10.0.0/16', ...over });
const one = (envOver: Record<string, unknown> = {}, tenantOver: Record<string, unknown> = {}) => ({
  tenants: [{ id: 'acme', environments: [env(envOver)], ...tenantOver }],
});

/** Parses and returns the problems (the test fails if the config is accepted). */
function problems(raw: unknown): readonly string[] {
  try {
    parseTenantsConfig(raw, 'x.json');
  } catch (e) {
    expect(e).toBeInstanceOf(TenantConfigError);
    const err = e as TenantConfigError;
    // One message that carries every problem.
    for (const p of err.problems) expect(err.message).toContain(p);
    expect(err.message).toMatch(/^Invalid tenant configuration in x\.json/);
    return err.problems;
  }
  throw new Error('config was accepted');
}

describe('parseTenantsConfig', () => {
  it('accepts the checked-in default config', () => {
    const config = parseTenantsConfig(JSON.parse(readFileSync('tenants.json', 'utf8')));
    expect(config.tenants).toHaveLength(1);
    expect(config.tenants[0].environments).toHaveLength(1);
  });

  it('accepts a full environment', () => {
    const config = parseTenantsConfig(
      one({
        account: '123456789012',
        region: 'eu-west-1',
        availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
        flowLogRetentionDays: 90,
        ecrEndpoints: true,
        removalPolicy: 'destroy',
      }),
    );
    expect(config.tenants[0].environments[0]).toMatchObject({ region: 'eu-west-1', flowLogRetentionDays: 90 });
  });

  it('refuses an unknown field and suggests the right one', () => {
    expect(problems({ tenants: [{ id: 'acme', environments: [{ id: 'dev', cidrr: '10.0.0.0/16' }] }] })).toEqual([
      expect.stringMatching(/^tenants\[0\]\.environments\[0\]\.cidrr: unknown field; did you mean "cidr"\?/),
      expect.stringMatching(/^tenants\[0\]\.environments\[0\]\.cidr: must be a string, got nothing/),
    ]);
    expect(problems({ tenants: [{ id: 'acme', environments: [env()], colour: 'red' }] })).toEqual([
      expect.stringMatching(/^tenants\[0\]\.colour: unknown field.*Allowed fields here: id, displayName, environments/),
    ]);
    expect(problems({ tenant: [] })[0]).toMatch(/^tenant: unknown field; did you mean "tenants"\?/);
  });

  it('refuses a duplicate environment id within a tenant', () => {
    const raw = { tenants: [{ id: 'acme', environments: [env(), env({ cidr: '10.11.0.0/16' })] }] };
    expect(problems(raw)).toEqual([
      'tenants[0].environments[1].id: duplicate environment id "dev" (also tenants[0].environments[0].id); give each environment of a tenant its own id',
    ]);
  });

  it('refuses a duplicate tenant id', () => {
    const raw = {
      tenants: [
        { id: 'acme', environments: [env()] },
        { id: 'acme', environments: [env({ id: 'prod', cidr: '10.20.0.0/16' })] },
      ],
    };
    expect(problems(raw)).toEqual([expect.stringMatching(/^tenants\[1\]\.id: duplicate tenant id "acme"/)]);
  });

  it('refuses overlapping CIDRs across tenants and environments', () => {
    const raw = {
      tenants: [
        { id: 'acme', environments: [env(), env({ id: 'prod', cidr: '10.11.0.0/16' })] },
        { id: 'globex', environments: [env({ cidr: '10.10.128.0/20' })] },
      ],
    };
    expect(problems(raw)).toEqual([
      'tenants[1].environments[0].cidr: "10.10.128.0/20" overlaps tenants[0].environments[0].cidr "10.10.0.0/16"; give every environment its own non-overlapping block, e.g. the next free /16',
    ]);
  });

  it.each([
    ['10.10.0.0', /is not an IPv4 CIDR block/],
    ['10.10.0.300/16', /octet above 255/],
    ['10.10.1.0/16', /host bits set; the network address for \/16 is 10\.10\.0\.0\/16/],
    ['10.0.0.0/8', /prefix \/8; a VPC takes \/16 to \/24/],
    ['10.0.0.0/28', /prefix \/28; a VPC takes \/16 to \/24/],
  ])('refuses the bad CIDR %s', (cidr, message) => {
    const [p] = problems(one({ cidr }));
    expect(p).toMatch(/^tenants\[0\]\.environments\[0\]\.cidr: /);
    expect(p).toMatch(message);
  });

  it.each([['Acme'], ['a'], ['acme_corp'], ['-acme'], ['acme-'], ['1acme'], ['a'.repeat(25)], ['acme corp']])(
    'refuses the bad tenant id %j',
    (id) => {
      expect(problems(one({}, { id }))).toEqual([
        expect.stringMatching(/^tenants\[0\]\.id: ".*" is not valid; use 2-24 characters of a-z, 0-9 and "-"/),
      ]);
    },
  );

  it('refuses bad environment names, regions, zones and accounts', () => {
    expect(problems(one({ id: 'Dev' }))[0]).toMatch(/^tenants\[0\]\.environments\[0\]\.id: "Dev" is not valid/);
    expect(problems(one({ region: 'europe' }))[0]).toMatch(/region: "europe" is not valid; write an AWS region code/);
    expect(problems(one({ account: '1234' }))).toEqual([
      expect.stringMatching(/account: "1234" is not valid; write the 12-digit AWS account id/),
      expect.stringMatching(/availabilityZones: is required when "account" is set/),
    ]);
    expect(problems(one({ availabilityZones: ['eu-west-1a', 'eu-west-1b'] }))[0]).toMatch(
      /availabilityZones: needs "region" too/,
    );
    expect(problems(one({ region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'us-east-1b'] }))[0]).toMatch(
      /availabilityZones\[1\]: "us-east-1b" is not a zone of eu-west-1/,
    );
    expect(problems(one({ region: 'eu-west-1', availabilityZones: ['eu-west-1a'] }))[0]).toMatch(
      /availabilityZones: must have at least 2 entries, got 1/,
    );
    expect(problems(one({ flowLogRetentionDays: 100 }))[0]).toMatch(
      /flowLogRetentionDays: 100 is not a CloudWatch Logs retention period; use one of 1, 3, 5/,
    );
    expect(problems(one({ removalPolicy: 'delete' }))[0]).toMatch(/removalPolicy: must be one of "retain", "destroy"/);
  });

  it('refuses ingress without a certificate or a zone, and without a region', () => {
    expect(problems(one({ region: 'eu-west-1', ingress: { domainName: 'dev.acme.example.com' } }))).toEqual([
      'tenants[0].environments[0].ingress.certificateArn: is required unless hostedZoneId/hostedZoneName and domainName are set (then a DNS-validated certificate is created)',
    ]);
    expect(problems(one({ ingress: { certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b' } }))).toEqual([
      expect.stringMatching(/^tenants\[0\]\.environments\[0\]\.region: is required with "ingress"/),
    ]);
    expect(problems(one({ region: 'eu-west-1', ingress: { hostedZoneId: 'Z0123456789ABC', hostedZoneName: 'example.com', domainName: 'dev.other.org' } }))[0]).toMatch(
      /ingress\.domainName: "dev\.other\.org" is not inside hostedZoneName "example\.com"/,
    );
  });

  it('refuses stack name collisions', () => {
    const raw = {
      tenants: [
        { id: 'ab-c', environments: [env({ id: 'dd' })] },
        { id: 'ab', environments: [env({ id: 'c-dd', cidr: '10.11.0.0/16' })] },
      ],
    };
    expect(problems(raw)).toEqual([expect.stringMatching(/^tenants\[1\]\.environments\[0\]: stack name "AbCDd" is also produced by tenants\[0\]/)]);
  });

  it('reports every problem at once', () => {
    const raw = { tenants: [{ id: 'X', environments: [{ id: 'y', cidr: 'nope', extra: 1 }] }] };
    expect(problems(raw).map((p) => p.split(':')[0])).toEqual([
      'tenants[0].id',
      'tenants[0].environments[0].extra',
      'tenants[0].environments[0].id',
      'tenants[0].environments[0].cidr',
    ]);
  });

  it('reports a CIDR overlap together with chain, ingress and id problems of other environments (one run, every problem)', () => {
    const raw = {
      tenants: [
        { id: 'acme', environments: [env({ chain: { chainId: 0 } }), env({ id: 'prod', cidr: '10.10.0.0/20', ingress: { domainName: 'x' } })] },
        { id: 'Globex', environments: [env({ id: 'qa', cidr: '10.10.64.0/24', chain: { client: 'geth', consensus: 'qbft' } })] },
      ],
    };
    const found = problems(raw);
    expect(found.map((p) => p.split(': ')[0])).toEqual([
      'tenants[0].environments[0].chain.chainId',
      'tenants[0].environments[1].ingress.certificateArn',
      'tenants[0].environments[1].ingress.domainName',
      'tenants[0].environments[1].region',
      'tenants[1].id',
      expect.stringMatching(/^tenants\[1\]\.environments\[0\]\.chain/),
      'tenants[0].environments[1].cidr',
      'tenants[1].environments[0].cidr',
    ]);
    expect(found.at(-2)).toContain('"10.10.0.0/20" overlaps tenants[0].environments[0].cidr "10.10.0.0/16"');
    expect(found.at(-1)).toContain('"10.10.64.0/24" overlaps tenants[0].environments[0].cidr "10.10.0.0/16"');
  });

  it('refuses an ingress certificate from another region than the environment, naming both and the fix', () => {
    const arn = 'arn:aws:acm:us-east-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b';
    expect(problems(one({ region: 'eu-west-1', ingress: { certificateArn: arn } }))).toEqual([
      'tenants[0].environments[0].ingress.certificateArn: is in region us-east-1 but the environment deploys to eu-west-1; a load balancer can only use an ACM certificate of its own region: request or import the certificate in eu-west-1 (ACM) and use that ARN, or drop certificateArn and set hostedZoneId/hostedZoneName for a DNS-validated one',
    ]);
    // The same certificate in the environment's region is accepted.
    const ok = parseTenantsConfig(one({ region: 'us-east-1', ingress: { certificateArn: arn } }));
    expect(ok.tenants[0].environments[0].ingress?.certificateArn).toBe(arn);
  });

  it('refuses a management certificate from another region than the API (regional endpoint), or without a region', () => {
    const arn = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/0b6b8a1e-4444-4c3e-9a55-2f0d7d0c1a2b`;
    const mgmt = (m: Record<string, unknown>) => ({ ...one(), management: { domainName: 'api.blockchain.example.com', ...m } });
    expect(problems(mgmt({ region: 'eu-west-1', certificateArn: arn('us-east-1') }))).toEqual([
      "management.certificateArn: is in region us-east-1 but the management API deploys to eu-west-1; an API Gateway regional endpoint needs the certificate in the API's own region: request or import the certificate in eu-west-1 (ACM) and use that ARN",
    ]);
    expect(problems(mgmt({ certificateArn: arn('us-east-1') }))).toEqual([expect.stringMatching(/^management\.region: is required with "certificateArn".*set it to "us-east-1"/)]);
    expect(parseTenantsConfig(mgmt({ region: 'eu-west-1', certificateArn: arn('eu-west-1') })).management?.certificateArn).toBe(arn('eu-west-1'));
  });

  it('refuses non-objects and empty lists', () => {
    expect(problems(null)).toEqual(['(top level): must be an object, got null']);
    expect(problems({ tenants: [] })).toEqual(['tenants: must have at least 1 entry, got 0']);
    expect(problems({ tenants: [{ id: 'acme', environments: [] }] })).toEqual([
      'tenants[0].environments: must have at least 1 entry, got 0',
    ]);
  });
});

describe('environmentStackName', () => {
  it('is PascalCase tenant + environment', () => {
    expect(environmentStackName('acme', 'dev')).toBe('AcmeDev');
    expect(environmentStackName('big-bank', 'prod-eu')).toBe('BigBankProdEu');
  });
});

describe('parseIpv4Cidr', () => {
  it('computes the range', () => {
    expect(parseIpv4Cidr('10.10.0.0/16')).toEqual({ text: '10.10.0.0/16', start: 0x0a0a0000, end: 0x0a0affff, prefix: 16 });
    expect(parseIpv4Cidr('255.255.255.0/24')).toMatchObject({ end: 0xffffffff });
  });
});
