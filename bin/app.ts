#!/usr/bin/env node
/**
 * The default app: one stack per tenant environment from a typed, validated config file.
 *
 *   npx cdk synth                          # uses tenants.json
 *   npx cdk synth -c config=my-tenants.json
 *   npx cdk deploy AcmeDev                 # <Tenant><Environment> in PascalCase
 *
 * Synth runs offline: stacks are environment-agnostic unless the config pins account, region and
 * zones, so no AWS credentials and no context lookups are needed. cdk-nag's AwsSolutions and
 * NIST 800-53 R5 packs run as policy-validation plugins; any unacknowledged error fails synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { TenantConfigError, addManagementStack, addTenantEnvironments, loadTenantsConfig } from '../lib';

const app = new App();
const configPath = String(app.node.tryGetContext('config') ?? 'tenants.json');

try {
  const config = loadTenantsConfig(configPath);
  addTenantEnvironments(app, config);
  addManagementStack(app, config);
} catch (e) {
  if (e instanceof TenantConfigError) {
    // One clear message, no stack trace, nothing synthesized.
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
app.synth();
