import { readFileSync } from 'node:fs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { ManagementApi } from '../management/management-api';
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

/**
 * Adds the management API stack (`BlockchainManagement`) when the config has a `management`
 * section; returns it, or undefined.
 */
export function addManagementStack(app: App, config: TenantsConfig): Stack | undefined {
  const m = config.management;
  if (!m) return undefined;
  const stack = new Stack(app, 'BlockchainManagement', {
    description: 'blockchain-tenancy management API: environments, nodes and app credentials',
    ...(m.region ? { env: { region: m.region } } : {}),
  });
  const cp = m.controlPlane;
  new ManagementApi(stack, 'Management', {
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
  return stack;
}
