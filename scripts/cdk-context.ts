/**
 * The context `npx cdk synth` gives the default app, for everything that builds an App outside
 * the CLI (tests, `npm run review`): cdk.json's `context` (feature flags such as
 * `@aws-cdk/core:enablePartitionLiterals` change what CDK writes into templates), plus what the
 * CLI adds from its default settings (path and asset metadata, version reporting, bundle every
 * stack). A bare `new App()` has none of it and synthesizes templates that differ from the ones
 * that get deployed.
 *
 * Left out on purpose: `@aws-cdk/core:failSynthOnValidationErrors: false`, which the CLI sets
 * because it reads the validation report and fails the synth itself; in-process, `app.synth()`
 * throwing on a validation error is that same outcome.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

/** The CLI's own additions (aws-cdk 2.1148 `contextFromSettings`, default settings). */
const CLI_DEFAULTS: Readonly<Record<string, unknown>> = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
  'aws:cdk:bundling-stacks': ['**'],
};

/** cdk.json's `context`, read fresh (a copy: callers may change it). */
export function cdkJsonContext(cdkJsonPath = join(ROOT, 'cdk.json')): Record<string, unknown> {
  const parsed = JSON.parse(readFileSync(cdkJsonPath, 'utf8')) as { context?: Record<string, unknown> };
  if (!parsed.context || typeof parsed.context !== 'object') throw new Error(`${cdkJsonPath}: no "context" object`);
  return { ...parsed.context };
}

/**
 * The context of `npx cdk synth -c k=v ...`: cdk.json's context, the CLI's defaults, then
 * `overrides` (the `-c` values; e.g. `{ 'aws:cdk:bundling-stacks': [] }` for template tests).
 */
export function cdkCliContext(overrides: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  return { ...cdkJsonContext(), ...CLI_DEFAULTS, ...overrides };
}
