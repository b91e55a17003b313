import { readFileSync } from 'node:fs';
import { Annotations, App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { CLOUDFRONT_WEB_ACL_REGION, ConsoleWebAcl } from '../management/console-web-acl';
import { ManagementApi } from '../management/management-api';
import { ManagementConsole } from '../management/management-console';
import { TenantConfigError } from '../config/config-error';
import { TenantsConfig, parseTenantsConfig } from '../config/tenant-config';
import { TenantEnvironmentStack } from '../environment/tenant-environment-stack';

/**
 * Reads and validates a tenants config file (JSON). Throws a {@link TenantConfigError} naming
 * every bad field, or when the file cannot be read or parsed.
 */
export function loadTenantsConfig(path: string): TenantsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TenantConfigError(path, [`(file): cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); pass an existing file with -c config=<path>`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TenantConfigError(path, [`(file): is not valid JSON (${(e as Error).message}); fix the syntax`]);
  }
  return parseTenantsConfig(raw, path);
}

/**
 * Adds one {@link TenantEnvironmentStack} per tenant environment to `app`. The config must be
 * validated already (see {@link parseTenantsConfig}); nothing is added if it is not.
 */
export function addTenantEnvironments(app: App, config: TenantsConfig): TenantEnvironmentStack[] {
  const stacks: TenantEnvironmentStack[] = [];
  for (const tenant of config.tenants) {
    for (const environment of tenant.environments) {
      stacks.push(new TenantEnvironmentStack(app, { tenant, environment }));
    }
  }
  return stacks;
}

/** Name of the companion stack (us-east-1) holding the web console's CloudFront web ACL. */
export const CONSOLE_WAF_STACK_NAME = 'BlockchainConsoleWaf';

/**
 * Adds the management API stack (`BlockchainManagement`) when the config has a `management`
 * section; returns it, or undefined. The web console (`management.console`, on by default) is
 * part of it when its CloudFront web ACL can be had: the stack is in us-east-1 (the ACL is
 * created there) or `management.console.webAclArn` is set. Otherwise the app adds the companion
 * stack `BlockchainConsoleWaf` (us-east-1, the web ACL only) and a warning saying to deploy it and
 * set webAclArn to its output: CloudFront web ACLs exist only in us-east-1 (docs/adr-0013-console.md).
 */
export function addManagementStack(app: App, config: TenantsConfig): Stack | undefined {
  const m = config.management;
  if (!m) return undefined;
  const stack = new Stack(app, 'BlockchainManagement', {
    description: 'blockchain-tenancy management API: environments, nodes and app credentials',
    ...(m.region ? { env: { region: m.region } } : {}),
  });
  const cp = m.controlPlane;
  const api = new ManagementApi(stack, 'Management', {
    ...(m.domainName && m.certificateArn
      ? { domain: { domainName: m.domainName, certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', m.certificateArn) } }
      : {}),
    ...(cp
      ? {
          controlPlane: {
            ...(cp.maxEnvironmentsPerTenant !== undefined ? { maxEnvironmentsPerTenant: cp.maxEnvironmentsPerTenant } : {}),
            ...(cp.maxNodesPerEnvironment !== undefined ? { maxNodesPerEnvironment: cp.maxNodesPerEnvironment } : {}),
            ...(cp.allowedInstanceTypes !== undefined ? { allowedInstanceTypes: cp.allowedInstanceTypes } : {}),
            ...(cp.bootstrapQualifier !== undefined ? { bootstrapQualifier: cp.bootstrapQualifier } : {}),
            ...(cp.buildTimeoutMinutes !== undefined ? { buildTimeout: Duration.minutes(cp.buildTimeoutMinutes) } : {}),
          },
        }
      : {}),
  });
  const c = m.console ?? {};
  if (c.enabled === false) return stack;
  if (c.webAclArn === undefined && m.region !== CLOUDFRONT_WEB_ACL_REGION) {
    const waf = new Stack(app, CONSOLE_WAF_STACK_NAME, {
      description: 'blockchain-tenancy web console: its CloudFront WAF web ACL (CloudFront web ACLs exist only in us-east-1)',
      env: { region: CLOUDFRONT_WEB_ACL_REGION },
    });
    const acl = new ConsoleWebAcl(waf, 'WebAcl');
    new CfnOutput(waf, 'WebAclArn', { value: acl.webAclArn, description: 'Set management.console.webAclArn to this value' });
    Annotations.of(stack).addWarningV2(
      'blockchain-tenancy:console-needs-web-acl',
      `The web console is not deployed yet: its CloudFront web ACL must be created in ${CLOUDFRONT_WEB_ACL_REGION} and this stack deploys to ${m.region ?? 'the region of your credentials'}. ` +
        `Deploy ${CONSOLE_WAF_STACK_NAME} (npx cdk deploy ${CONSOLE_WAF_STACK_NAME}), set management.console.webAclArn to its WebAclArn output, and deploy BlockchainManagement again; ` +
        `or set management.region to "${CLOUDFRONT_WEB_ACL_REGION}"; or turn the console off with management.console.enabled false.`,
    );
    return stack;
  }
  new ManagementConsole(stack, 'Console', {
    api,
    tenants: config.tenants.map((t) => ({ tenantId: t.id, ...(c.environmentGroups !== false ? { environmentIds: t.environments.map((e) => e.id) } : {}) })),
    ...(c.webAclArn !== undefined ? { webAclArn: c.webAclArn } : {}),
    ...(c.domainName && c.certificateArn
      ? { domain: { domainName: c.domainName, certificate: acm.Certificate.fromCertificateArn(stack, 'ConsoleCertificate', c.certificateArn) } }
      : {}),
    ...(c.selfSignUp !== undefined ? { selfSignUp: c.selfSignUp } : {}),
    ...(c.sessionHours !== undefined ? { sessionDuration: Duration.hours(c.sessionHours) } : {}),
  });
  return stack;
}
