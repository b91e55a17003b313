import { ChainSpec } from '../chain/chain-spec';
import { readChainConfig } from './chain-config';
import { CredentialsConfig, IngressConfig, readCredentialsConfig, readIngressConfig } from './ingress-config';
import { TenantConfigError } from './config-error';
import { cidrsOverlap, Ipv4Cidr, parseIpv4Cidr } from './cidr';
import { FieldReader, join } from './field-reader';
import { ID_HINT, ID_PATTERN } from '../contracts/ids';
import { listenerRulePriorityClashes } from '../ingress/rule-priority';

/**
 * The default app's configuration: every tenant and its environments. One CloudFormation stack
 * is synthesized per tenant environment. Parse untrusted JSON with {@link parseTenantsConfig}.
 */
export interface TenantsConfig {
  /** The tenants, each with one or more environments. */
  readonly tenants: readonly TenantConfig[];
  /**
   * The management API (one stack, `BlockchainManagement`, per account/region).
   * @default - not deployed
   */
  readonly management?: ManagementConfig;
}

/** The management API of the default app. */
export interface ManagementConfig {
  /** Region of the management stack. @default - environment-agnostic */
  readonly region?: string;
  /** Custom domain (needs certificateArn). @default - the execute-api endpoint */
  readonly domainName?: string;
  /** ACM certificate of the custom domain. */
  readonly certificateArn?: string;
  /**
   * The control plane: the API stores every environment's config and deploys it with CodeBuild
   * (create, change and delete environments and nodes through the API and CLI). Present (even
   * `{}`) turns it on. See README "Control plane".
   * @default - off: environments are deployed with `cdk deploy` of this file
   */
  readonly controlPlane?: ManagementControlPlaneConfig;
  /**
   * The web console (S3 + CloudFront + Cognito), served with the management stack.
   * @default - on, with its defaults (see {@link ManagementConsoleConfig})
   */
  readonly console?: ManagementConsoleConfig;
}

/** The web console of the default app's management stack (`management.console`). */
export interface ManagementConsoleConfig {
  /** Deploy the console. @default true */
  readonly enabled?: boolean;
  /**
   * ARN of a WAFv2 web ACL with scope CLOUDFRONT (in us-east-1). Needed when the management stack
   * is not in us-east-1: CloudFront web ACLs exist only there. The default app then also
   * synthesizes `BlockchainConsoleWaf` (us-east-1) to create one: deploy it and copy its output.
   * @default - created in the management stack when `management.region` is us-east-1
   */
  readonly webAclArn?: string;
  /** Custom domain of the console (needs certificateArn). @default - the *.cloudfront.net name */
  readonly domainName?: string;
  /** ACM certificate of the console's domain, in us-east-1 (CloudFront's region for certificates). */
  readonly certificateArn?: string;
  /** Let anyone create a user (who gets no permission until put in a group). @default false */
  readonly selfSignUp?: boolean;
  /** Hours a sign-in lasts, 1 to 24. @default 8 */
  readonly sessionHours?: number;
  /** A group per environment (`tenant-<t>--<e>`) besides the group per tenant (`tenant-<t>`). @default true */
  readonly environmentGroups?: boolean;
}

/** The control plane's options in tenants.json (`management.controlPlane`). */
export interface ManagementControlPlaneConfig {
  /** Environments one tenant may have. @default 10 */
  readonly maxEnvironmentsPerTenant?: number;
  /** Nodes one environment may have. @default 20 */
  readonly maxNodesPerEnvironment?: number;
  /** Node instance types tenants may ask for. @default - any */
  readonly allowedInstanceTypes?: readonly string[];
  /** The account's CDK bootstrap qualifier. @default 'hnb659fds' */
  readonly bootstrapQualifier?: string;
  /** Minutes one deployment may run (15-480). @default 60 */
  readonly buildTimeoutMinutes?: number;
}

/** One tenant (a customer organisation). */
export interface TenantConfig {
  /** Lowercase id, 2-24 chars of a-z, 0-9 and '-', e.g. `acme`. Used in stack names and tags. */
  readonly id: string;
  /**
   * Human-readable name for tags and reports.
   * @default - the id
   */
  readonly displayName?: string;
  /** The tenant's environments; ids are unique within the tenant. */
  readonly environments: readonly EnvironmentConfig[];
}

/** One isolated blockchain environment of a tenant. */
export interface EnvironmentConfig {
  /** Lowercase id, 2-24 chars of a-z, 0-9 and '-', e.g. `dev`. Unique within the tenant. */
  readonly id: string;
  /** IPv4 CIDR of the environment's own VPC, /16 to /24, e.g. `10.10.0.0/16`. Must not overlap another environment. */
  readonly cidr: string;
  /**
   * AWS account to deploy to (12 digits). When set, `availabilityZones` must be set too, so that
   * synth never needs an AWS lookup.
   * @default - environment-agnostic: the account of the deploying credentials
   */
  readonly account?: string;
  /**
   * AWS region to deploy to, e.g. `eu-west-1`.
   * @default - environment-agnostic: the region of the deploying credentials
   */
  readonly region?: string;
  /**
   * Explicit availability zones (2 or 3) in `region`. Requires `region`.
   * @default - the first two zones of the deployment region
   */
  readonly availabilityZones?: readonly string[];
  /**
   * Days to keep VPC flow logs (a CloudWatch Logs retention value).
   * @default 365
   */
  readonly flowLogRetentionDays?: number;
  /**
   * Add ECR interface endpoints (api + dkr) so nodes can pull client images from ECR.
   * @default false
   */
  readonly ecrEndpoints?: boolean;
  /**
   * What happens to stateful resources (KMS key, logs, secrets, file systems) when the stack is
   * deleted: `retain` keeps them (safe), `destroy` deletes them (throwaway test environments only).
   * @default 'retain'
   */
  readonly removalPolicy?: 'retain' | 'destroy';
  /**
   * The blockchain: client, consensus, members, nodes (see README "Config reference").
   * @default - Hyperledger Besu + QBFT, 4 validators of one member "default"
   */
  readonly chain?: ChainSpec;
  /**
   * Internet-facing load balancer with WAF and TLS (needs an ACM certificate).
   * @default - none: nothing in the environment is reachable from the internet
   */
  readonly ingress?: IngressConfig;
  /** App credential lifetimes. @default - 90 days default, 365 maximum */
  readonly credentials?: CredentialsConfig;
}

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Ids of tenants and environments: lowercase, start with a letter, 2-24 chars (lib/contracts/ids.ts). */
export { ID_PATTERN };
const ACCOUNT_PATTERN = /^\d{12}$/;
const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const AZ_SUFFIX = /^[a-z]$/;

/**
 * The stack name (and construct id) of a tenant environment: PascalCase tenant + environment,
 * e.g. tenant `acme`, environment `dev` -> `AcmeDev`. Used by `cdk deploy AcmeDev`.
 */
export function environmentStackName(tenantId: string, environmentId: string): string {
  const pascal = (s: string) =>
    s
      .split('-')
      .filter((p) => p.length > 0)
      .map((p) => p[0].toUpperCase() + p.slice(1))
      .join('');
  return pascal(tenantId) + pascal(environmentId);
}

function readControlPlane(r: FieldReader, path: string, value: unknown): ManagementControlPlaneConfig | undefined {
  const c = r.object(path, value, ['maxEnvironmentsPerTenant', 'maxNodesPerEnvironment', 'allowedInstanceTypes', 'bootstrapQualifier', 'buildTimeoutMinutes']);
  if (!c) return undefined;
  const out: { -readonly [K in keyof ManagementControlPlaneConfig]: ManagementControlPlaneConfig[K] } = {};
  if (c.maxEnvironmentsPerTenant !== undefined) out.maxEnvironmentsPerTenant = r.integer(join(path, 'maxEnvironmentsPerTenant'), c.maxEnvironmentsPerTenant, { min: 1, max: 1000 });
  if (c.maxNodesPerEnvironment !== undefined) out.maxNodesPerEnvironment = r.integer(join(path, 'maxNodesPerEnvironment'), c.maxNodesPerEnvironment, { min: 1, max: 250 });
  if (c.allowedInstanceTypes !== undefined) {
    const list = r.array(join(path, 'allowedInstanceTypes'), c.allowedInstanceTypes, { min: 1 });
    const types: string[] = [];
    list?.forEach((t, i) => {
      const type = r.string(join(join(path, 'allowedInstanceTypes'), i), t, { pattern: /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/, hint: 'write an EC2 instance type, e.g. "t4g.medium"' });
      if (type !== undefined && types.includes(type)) r.fail(join(join(path, 'allowedInstanceTypes'), i), `"${type}" is listed twice; list each type once`);
      else if (type !== undefined) types.push(type);
    });
    out.allowedInstanceTypes = types;
  }
  if (c.bootstrapQualifier !== undefined) {
    out.bootstrapQualifier = r.string(join(path, 'bootstrapQualifier'), c.bootstrapQualifier, { pattern: /^[a-z0-9]{1,10}$/, hint: 'write the qualifier the account was bootstrapped with (cdk bootstrap --qualifier; 1-10 lowercase letters and digits), e.g. "hnb659fds"' });
  }
  if (c.buildTimeoutMinutes !== undefined) out.buildTimeoutMinutes = r.integer(join(path, 'buildTimeoutMinutes'), c.buildTimeoutMinutes, { min: 15, max: 480 });
  return out;
}

/**
 * Validates untrusted JSON and returns a typed config. Throws one {@link TenantConfigError} that
 * lists every problem (field path + fix) when anything is wrong.
 *
 * @param raw the parsed JSON value
 * @param source where the value came from, for the error message (e.g. a file path)
 */
export function parseTenantsConfig(raw: unknown, source = 'tenant config'): TenantsConfig {
  const r = new FieldReader();
  const root = r.object('', raw, ['$schema', 'tenants', 'management']);
  const tenants: TenantConfig[] = [];
  let management: ManagementConfig | undefined;
  if (root?.management !== undefined) {
    const m = r.object('management', root.management, ['region', 'domainName', 'certificateArn', 'controlPlane', 'console']);
    if (m) {
      const out: { -readonly [K in keyof ManagementConfig]: ManagementConfig[K] } = {};
      if (m.region !== undefined) out.region = r.string('management.region', m.region, { pattern: REGION_PATTERN, hint: 'write an AWS region code, e.g. "eu-west-1"' });
      if (m.domainName !== undefined) out.domainName = r.string('management.domainName', m.domainName, { pattern: /^(?=.{4,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, hint: 'write a lowercase DNS name, e.g. "api.blockchain.example.com"' });
      if (m.certificateArn !== undefined) out.certificateArn = r.string('management.certificateArn', m.certificateArn, { pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, hint: 'write the ARN of an ACM certificate' });
      if ((m.domainName === undefined) !== (m.certificateArn === undefined)) r.fail('management', 'set domainName and certificateArn together (a custom domain needs its certificate)');
      if (out.certificateArn !== undefined) {
        // The management API is a REGIONAL API Gateway endpoint: its custom domain takes an ACM
        // certificate of the API's own region (only edge-optimized endpoints use us-east-1).
        const certRegion = arnRegion(out.certificateArn);
        if (m.region === undefined) {
          r.fail('management.region', `is required with "certificateArn" (the API's regional custom domain needs a certificate of its own region); set it to "${certRegion}", the certificate's region, or use a certificate of the region you deploy to`);
        } else if (out.region !== undefined && certRegion !== out.region) {
          r.fail(
            'management.certificateArn',
            `is in region ${certRegion} but the management API deploys to ${out.region}; an API Gateway regional endpoint needs the certificate in the API's own region: request or import the certificate in ${out.region} (ACM) and use that ARN`,
          );
        }
      }
      if (m.controlPlane !== undefined) {
        const controlPlane = readControlPlane(r, 'management.controlPlane', m.controlPlane);
        if (controlPlane) out.controlPlane = controlPlane;
      }
      if (m.console !== undefined) {
        const c = readConsoleConfig(r, m.console);
        if (c) out.console = c;
      }
      management = out;
    }
  }
  if (root) {
    const list = r.array('tenants', root.tenants, { min: 1 });
    list?.forEach((t, i) => {
      const tenant = readTenant(r, join('tenants', i), t);
      if (tenant) tenants.push(tenant);
    });
  }
  // Checked even when other fields have problems, so one run reports every problem (a chain
  // mistake must not hide a CIDR overlap until the next run). Unreadable ids and CIDRs are
  // skipped here: they already have their own problem.
  checkAcrossEnvironments(r, tenants);
  if (r.problems.length > 0) {
    throw new TenantConfigError(source, r.problems);
  }
  return { tenants, ...(management ? { management } : {}) };
}

/** `management.console`: every problem named by its field path. */
function readConsoleConfig(r: FieldReader, raw: unknown): ManagementConsoleConfig | undefined {
  const path = 'management.console';
  const c = r.object(path, raw, ['enabled', 'webAclArn', 'domainName', 'certificateArn', 'selfSignUp', 'sessionHours', 'environmentGroups']);
  if (!c) return undefined;
  const out: { -readonly [K in keyof ManagementConsoleConfig]: ManagementConsoleConfig[K] } = {};
  for (const key of ['enabled', 'selfSignUp', 'environmentGroups'] as const) {
    if (c[key] !== undefined) out[key] = r.boolean(`${path}.${key}`, c[key]);
  }
  if (c.sessionHours !== undefined) out.sessionHours = r.integer(`${path}.sessionHours`, c.sessionHours, { min: 1, max: 24 });
  if (c.webAclArn !== undefined) {
    out.webAclArn = r.string(`${path}.webAclArn`, c.webAclArn, {
      pattern: /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[A-Za-z0-9_-]{1,128}\/[0-9a-f-]{36}$/,
      hint: 'write the ARN of a WAFv2 web ACL with scope CLOUDFRONT, which lives in us-east-1: arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id> (deploy BlockchainConsoleWaf and copy its WebAclArn output)',
    });
  }
  if (c.domainName !== undefined) out.domainName = r.string(`${path}.domainName`, c.domainName, { pattern: /^(?=.{4,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, hint: 'write a lowercase DNS name, e.g. "console.blockchain.example.com"' });
  if (c.certificateArn !== undefined) {
    out.certificateArn = r.string(`${path}.certificateArn`, c.certificateArn, { pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, hint: 'write the ARN of an ACM certificate' });
    if (out.certificateArn !== undefined && arnRegion(out.certificateArn) !== 'us-east-1') {
      r.fail(`${path}.certificateArn`, `is in region ${arnRegion(out.certificateArn)}; CloudFront takes certificates from us-east-1 only: request or import the console's certificate in us-east-1 (ACM) and use that ARN`);
      out.certificateArn = undefined;
    }
  }
  if ((c.domainName === undefined) !== (c.certificateArn === undefined)) r.fail(path, 'set domainName and certificateArn together (a custom domain needs its certificate)');
  for (const key of Object.keys(out) as (keyof ManagementConsoleConfig)[]) if (out[key] === undefined) delete out[key];
  return out;
}

/** The region of an ARN (`arn:partition:service:region:account:resource`). */
function arnRegion(arn: string): string {
  return arn.split(':')[3];
}

function readTenant(r: FieldReader, path: string, value: unknown): TenantConfig | undefined {
  const obj = r.object(path, value, ['id', 'displayName', 'environments']);
  if (!obj) return undefined;
  const id = r.string(join(path, 'id'), obj.id, { pattern: ID_PATTERN, hint: ID_HINT });
  let displayName: string | undefined;
  if (obj.displayName !== undefined) {
    displayName = r.string(join(path, 'displayName'), obj.displayName, {
      pattern: /^[\p{L}\p{N} _.:/=+@-]{1,128}$/u,
      hint: 'use 1-128 letters, digits, spaces and _ . : / = + - @ (it becomes an AWS tag value)',
    });
  }
  const environments: EnvironmentConfig[] = [];
  const envPath = join(path, 'environments');
  const list = r.array(envPath, obj.environments, { min: 1 });
  const seen = new Map<string, number>();
  list?.forEach((e, i) => {
    const env = readEnvironment(r, join(envPath, i), e);
    if (!env) return;
    environments.push(env);
    if (env.id === '') return; // an unreadable id has its own problem
    const first = seen.get(env.id);
    if (first !== undefined) {
      r.fail(
        join(join(envPath, i), 'id'),
        `duplicate environment id "${env.id}" (also ${join(envPath, first)}.id); give each environment of a tenant its own id`,
      );
    } else {
      seen.set(env.id, i);
    }
  });
  // With an unreadable id the tenant is still returned (id ''), so the checks across
  // environments still see its CIDRs; the config is refused anyway.
  return { id: id ?? '', ...(displayName !== undefined ? { displayName } : {}), environments };
}

function readEnvironment(r: FieldReader, path: string, value: unknown): EnvironmentConfig | undefined {
  const obj = r.object(path, value, [
    'id',
    'cidr',
    'account',
    'region',
    'availabilityZones',
    'flowLogRetentionDays',
    'ecrEndpoints',
    'removalPolicy',
    'chain',
    'ingress',
    'credentials',
  ]);
  if (!obj) return undefined;
  const id = r.string(join(path, 'id'), obj.id, { pattern: ID_PATTERN, hint: ID_HINT });
  let cidr = r.string(join(path, 'cidr'), obj.cidr);
  if (cidr !== undefined) {
    const parsed = parseIpv4Cidr(cidr);
    if (typeof parsed === 'string') {
      r.fail(join(path, 'cidr'), `"${cidr}" ${parsed}`);
      cidr = undefined;
    } else if (parsed.prefix < 16 || parsed.prefix > 24) {
      r.fail(join(path, 'cidr'), `"${cidr}" has prefix /${parsed.prefix}; a VPC takes /16 to /24, e.g. "10.10.0.0/16"`);
      cidr = undefined;
    }
  }
  // Unreadable id or cidr: '' (skipped by the checks across environments; the config is refused).
  const out: { -readonly [K in keyof EnvironmentConfig]: EnvironmentConfig[K] } = { id: id ?? '', cidr: cidr ?? '' };
  if (obj.account !== undefined) {
    out.account = r.string(join(path, 'account'), obj.account, {
      pattern: ACCOUNT_PATTERN,
      hint: 'write the 12-digit AWS account id as a string, e.g. "123456789012"',
    });
  }
  if (obj.region !== undefined) {
    out.region = r.string(join(path, 'region'), obj.region, {
      pattern: REGION_PATTERN,
      hint: 'write an AWS region code, e.g. "eu-west-1"',
    });
  }
  if (obj.availabilityZones !== undefined) {
    const azPath = join(path, 'availabilityZones');
    const azs = r.array(azPath, obj.availabilityZones, { min: 2, max: 3 });
    if (obj.region === undefined) {
      r.fail(azPath, 'needs "region" too; set region to the region these zones belong to');
    } else if (azs && typeof obj.region === 'string') {
      const region = obj.region;
      const zones: string[] = [];
      azs.forEach((az, i) => {
        const zone = r.string(join(azPath, i), az);
        if (zone === undefined) return;
        if (!zone.startsWith(region) || !AZ_SUFFIX.test(zone.slice(region.length))) {
          r.fail(join(azPath, i), `"${zone}" is not a zone of ${region}; write e.g. "${region}a"`);
        } else if (zones.includes(zone)) {
          r.fail(join(azPath, i), `"${zone}" is listed twice; list each zone once`);
        } else {
          zones.push(zone);
        }
      });
      out.availabilityZones = zones;
    }
  } else if (obj.account !== undefined) {
    r.fail(
      join(path, 'availabilityZones'),
      'is required when "account" is set (otherwise synth would have to look zones up in AWS); list 2-3 zones, e.g. ["eu-west-1a", "eu-west-1b"]',
    );
  }
  if (obj.flowLogRetentionDays !== undefined) {
    const days = r.integer(join(path, 'flowLogRetentionDays'), obj.flowLogRetentionDays, { min: 1, max: 3653 });
    if (days !== undefined && !LOG_RETENTION_DAYS.includes(days)) {
      r.fail(
        join(path, 'flowLogRetentionDays'),
        `${days} is not a CloudWatch Logs retention period; use one of ${LOG_RETENTION_DAYS.join(', ')}`,
      );
    }
    out.flowLogRetentionDays = days;
  }
  if (obj.ecrEndpoints !== undefined) {
    out.ecrEndpoints = r.boolean(join(path, 'ecrEndpoints'), obj.ecrEndpoints);
  }
  if (obj.removalPolicy !== undefined) {
    out.removalPolicy = r.oneOf(join(path, 'removalPolicy'), obj.removalPolicy, ['retain', 'destroy'] as const);
  }
  if (obj.chain !== undefined) {
    out.chain = readChainConfig(r, join(path, 'chain'), obj.chain);
  }
  if (obj.ingress !== undefined) {
    out.ingress = readIngressConfig(r, join(path, 'ingress'), obj.ingress, typeof out.region === 'string' ? out.region : undefined);
    if (obj.region === undefined) {
      r.fail(join(path, 'region'), 'is required with "ingress" (load balancer access logs go to a region-specific principal); set it to the region of the certificate');
    }
    // Each node's listener rule takes a priority hashed from its id: refuse a clash here, with
    // the field, rather than from the construct.
    for (const clash of listenerRulePriorityClashes((out.chain?.nodes ?? []).map((n) => n.id))) r.fail(join(join(path, 'chain'), 'nodes'), clash);
  }
  if (obj.credentials !== undefined) out.credentials = readCredentialsConfig(r, join(path, 'credentials'), obj.credentials);
  // Returned even with problems (the caller refuses the config): the checks across environments
  // still need its id and CIDR, so one run reports every problem.
  return out;
}

function checkAcrossEnvironments(r: FieldReader, tenants: readonly TenantConfig[]): void {
  const tenantIds = new Map<string, number>();
  const stackNames = new Map<string, { path: string; ids: string }>();
  const cidrs: { path: string; cidr: Ipv4Cidr }[] = [];
  tenants.forEach((tenant, ti) => {
    const tPath = join('tenants', ti);
    const firstTenant = tenant.id === '' ? undefined : tenantIds.get(tenant.id);
    if (tenant.id === '') {
      // unreadable id: reported where it was read
    } else if (firstTenant !== undefined) {
      r.fail(join(tPath, 'id'), `duplicate tenant id "${tenant.id}" (also tenants[${firstTenant}].id); merge their environments into one tenant entry`);
    } else {
      tenantIds.set(tenant.id, ti);
    }
    tenant.environments.forEach((env, ei) => {
      const ePath = join(join(tPath, 'environments'), ei);
      if (tenant.id !== '' && env.id !== '') {
        const name = environmentStackName(tenant.id, env.id);
        const clash = stackNames.get(name);
        // Equal tenant and environment ids are duplicates, reported as such where they are read.
        if (clash !== undefined && firstTenant === undefined && clash.ids !== `${tenant.id}/${env.id}`) {
          r.fail(ePath, `stack name "${name}" is also produced by ${clash.path}; rename this tenant or environment id so the names differ`);
        }
        if (clash === undefined) stackNames.set(name, { path: ePath, ids: `${tenant.id}/${env.id}` });
      }
      if (env.cidr === '') return;
      const parsed = parseIpv4Cidr(env.cidr);
      if (typeof parsed === 'string') return;
      for (const other of cidrs) {
        if (cidrsOverlap(parsed, other.cidr)) {
          r.fail(
            join(ePath, 'cidr'),
            `"${env.cidr}" overlaps ${other.path}.cidr "${other.cidr.text}"; give every environment its own non-overlapping block, e.g. the next free /16`,
          );
        }
      }
      cidrs.push({ path: ePath, cidr: parsed });
    });
  });
}
