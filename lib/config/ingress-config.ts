import { FieldReader, join } from './field-reader';

/** The `ingress` section of an environment in the default app's config. */
export interface IngressConfig {
  /** ACM certificate ARN covering the node host names (same region). Without it: a DNS-validated certificate in the hosted zone. */
  readonly certificateArn?: string;
  /** Environment domain: node `n` answers at `n.<domainName>`. */
  readonly domainName?: string;
  /** Route 53 hosted zone id for node records (with hostedZoneName). */
  readonly hostedZoneId?: string;
  /** Route 53 hosted zone name, e.g. `example.com`. */
  readonly hostedZoneName?: string;
  readonly deletionProtection?: boolean;
  readonly rateLimitPerIp?: number;
  readonly rateLimitPerCredential?: number;
}

/** The `credentials` section. */
export interface CredentialsConfig {
  readonly defaultLifetimeDays?: number;
  readonly maxLifetimeDays?: number;
  /** The authorizer's reserved concurrency (1-900). @default 10 */
  readonly authorizerReservedConcurrency?: number;
}

const CERT = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const DOMAIN = /^(?=.{4,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * Reads an environment's `ingress` section. With `region` (the environment's), the certificate
 * must be in that region: an Application Load Balancer only takes ACM certificates of its own
 * region, and CloudFormation would only find out mid-deployment.
 */
export function readIngressConfig(r: FieldReader, path: string, value: unknown, region?: string): IngressConfig | undefined {
  const o = r.object(path, value, ['certificateArn', 'domainName', 'hostedZoneId', 'hostedZoneName', 'deletionProtection', 'rateLimitPerIp', 'rateLimitPerCredential']);
  if (!o) return undefined;
  const before = r.problems.length;
  const out: { -readonly [K in keyof IngressConfig]: IngressConfig[K] } = {};
  if (o.certificateArn !== undefined) {
    out.certificateArn = r.string(join(path, 'certificateArn'), o.certificateArn, {
      pattern: CERT,
      hint: 'write the ARN of an ACM certificate in the stack region, e.g. "arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>"',
    });
    const certRegion = out.certificateArn?.split(':')[3];
    if (certRegion !== undefined && region !== undefined && certRegion !== region) {
      r.fail(
        join(path, 'certificateArn'),
        `is in region ${certRegion} but the environment deploys to ${region}; a load balancer can only use an ACM certificate of its own region: request or import the certificate in ${region} (ACM) and use that ARN, or drop certificateArn and set hostedZoneId/hostedZoneName for a DNS-validated one`,
      );
    }
  } else if (o.hostedZoneId === undefined) {
    r.fail(join(path, 'certificateArn'), 'is required unless hostedZoneId/hostedZoneName and domainName are set (then a DNS-validated certificate is created)');
  }
  if (o.domainName !== undefined) out.domainName = r.string(join(path, 'domainName'), o.domainName, { pattern: DOMAIN, hint: 'write a lowercase DNS name, e.g. "dev.acme.example.com"' });
  if ((o.hostedZoneId === undefined) !== (o.hostedZoneName === undefined)) {
    r.fail(join(path, o.hostedZoneId === undefined ? 'hostedZoneId' : 'hostedZoneName'), 'set hostedZoneId and hostedZoneName together (both identify the zone without an AWS lookup)');
  } else if (o.hostedZoneId !== undefined) {
    out.hostedZoneId = r.string(join(path, 'hostedZoneId'), o.hostedZoneId, { pattern: /^Z[A-Z0-9]{4,31}$/, hint: 'write a Route 53 zone id, e.g. "Z0123456789ABCDEFGHIJ"' });
    out.hostedZoneName = r.string(join(path, 'hostedZoneName'), o.hostedZoneName, { pattern: DOMAIN, hint: 'write the zone name, e.g. "example.com"' });
    if (o.domainName === undefined) r.fail(join(path, 'domainName'), 'is required with a hosted zone; set it to the environment domain inside that zone');
    else if (typeof o.domainName === 'string' && typeof o.hostedZoneName === 'string' && !`.${o.domainName}`.endsWith(`.${o.hostedZoneName}`)) {
      r.fail(join(path, 'domainName'), `"${o.domainName}" is not inside hostedZoneName "${o.hostedZoneName}"; use a name that ends with it`);
    }
  }
  if (o.deletionProtection !== undefined) out.deletionProtection = r.boolean(join(path, 'deletionProtection'), o.deletionProtection);
  if (o.rateLimitPerIp !== undefined) out.rateLimitPerIp = r.integer(join(path, 'rateLimitPerIp'), o.rateLimitPerIp, { min: 10, max: 2_000_000_000 });
  if (o.rateLimitPerCredential !== undefined) out.rateLimitPerCredential = r.integer(join(path, 'rateLimitPerCredential'), o.rateLimitPerCredential, { min: 10, max: 2_000_000_000 });
  return r.problems.length === before ? out : undefined;
}

export function readCredentialsConfig(r: FieldReader, path: string, value: unknown): CredentialsConfig | undefined {
  const o = r.object(path, value, ['defaultLifetimeDays', 'maxLifetimeDays', 'authorizerReservedConcurrency']);
  if (!o) return undefined;
  const before = r.problems.length;
  const out: { -readonly [K in keyof CredentialsConfig]: CredentialsConfig[K] } = {};
  if (o.maxLifetimeDays !== undefined) out.maxLifetimeDays = r.integer(join(path, 'maxLifetimeDays'), o.maxLifetimeDays, { min: 1, max: 3650 });
  if (o.defaultLifetimeDays !== undefined) out.defaultLifetimeDays = r.integer(join(path, 'defaultLifetimeDays'), o.defaultLifetimeDays, { min: 1, max: 3650 });
  if (o.authorizerReservedConcurrency !== undefined) {
    out.authorizerReservedConcurrency = r.integer(join(path, 'authorizerReservedConcurrency'), o.authorizerReservedConcurrency, { min: 1, max: 900 });
  }
  const max = out.maxLifetimeDays ?? 365;
  if (out.defaultLifetimeDays !== undefined && out.defaultLifetimeDays > max) {
    r.fail(join(path, 'defaultLifetimeDays'), `${out.defaultLifetimeDays} is longer than maxLifetimeDays (${max}); lower it or raise maxLifetimeDays`);
  }
  return r.problems.length === before ? out : undefined;
}
