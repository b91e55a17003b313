import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { TenantEnvironmentStack, TenantsConfig, addManagementStack, addTenantEnvironments, parseTenantsConfig } from '../../lib';
import { cdkCliContext } from '../../scripts/cdk-context';

/**
 * An App for template tests with exactly the context `npx cdk synth` gives the default app
 * (cdk.json's feature flags and the CLI's defaults, see scripts/cdk-context.ts), except that no
 * asset is bundled (Lambdas are bundled once, by the tests that run the CLI).
 */
export function testApp(context: Readonly<Record<string, unknown>> = {}): App {
  return new App({ context: cdkCliContext({ 'aws:cdk:bundling-stacks': [], ...context }) });
}

/** Builds the default app's stacks from a raw config (validated like the real app). */
export function buildTenantApp(raw: unknown): { app: App; config: TenantsConfig; stacks: TenantEnvironmentStack[] } {
  const app = testApp();
  const config = parseTenantsConfig(raw, 'test config');
  const stacks = addTenantEnvironments(app, config);
  addManagementStack(app, config);
  return { app, config, stacks };
}

/** One CloudFormation template per stack, keyed by stack name. */
export function templates(stacks: readonly TenantEnvironmentStack[]): Map<string, Template> {
  return new Map(stacks.map((s) => [s.stackName, Template.fromStack(s)]));
}

/** A flat list of unacknowledged cdk-nag findings: `<pack> <rule> <path>`. */
export function nagViolations(scope: IConstruct): string[] {
  const out: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new NIST80053R5Checks()]) {
    const report = pack.validateScope(scope);
    for (const v of report.violations) {
      for (const r of v.violatingResources) {
        out.push(`${pack.readPackName} ${v.severity ?? ''} ${v.ruleName} ${r.constructPath}`);
      }
    }
  }
  return out;
}
