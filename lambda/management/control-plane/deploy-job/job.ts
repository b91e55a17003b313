/**
 * The deploy job's logic: from one deployment's variables and its stored config version, the
 * tenants.json of exactly that environment and the CDK CLI commands that deploy or destroy its
 * stack. Pure (no AWS SDK, no process): index.ts reads the store and runs the commands, and the
 * unit tests call this directly.
 */
import { ID_HINT, ID_PATTERN } from '../../../../lib/contracts/ids';
import { DEFAULT_BOOTSTRAP_QUALIFIER, BOOTSTRAP_QUALIFIER_PATTERN } from '../../../../lib/contracts/deploy-job';
import type { EnvironmentConfig } from '../../../../lib/config/tenant-config';
import { environmentStackName, parseTenantsConfig } from '../../../../lib/config/tenant-config';

/** What a deployment does (the Deployment's `action`). */
export type DeployAction = 'create' | 'update' | 'delete';

/** The job's input, from its environment (the engine's CodeBuild overrides and the project's variables). */
export interface DeployJobInput {
  readonly deploymentId: string;
  readonly tenantId: string;
  readonly environmentId: string;
  readonly configVersion: number;
  readonly action: DeployAction;
  /** A delete that destroys the environment's data. */
  readonly purge: boolean;
  readonly tableName: string;
  readonly bootstrapQualifier: string;
  /** Synthesize only (no AWS call): `DEPLOY_JOB_MODE=synth`, for dry runs and the local test. */
  readonly synthOnly: boolean;
}

/** A bad variable: names it and the fix (the build fails with this message, the recorder records it). */
export class DeployJobInputError extends Error {}

/**
 * Reads and checks the job's variables. Every problem is listed, each naming the variable and the fix.
 */
export function readDeployJobInput(env: Readonly<Record<string, string | undefined>>): DeployJobInput {
  const problems: string[] = [];
  const need = (name: string): string => {
    const v = env[name];
    if (v === undefined || v === '') {
      problems.push(`${name} is not set; the engine passes it for every deployment (run the job through the state machine, or set it for a dry run)`);
      return '';
    }
    return v;
  };
  const deploymentId = need('DEPLOYMENT_ID');
  const tenantId = need('TENANT_ID');
  const environmentId = need('ENVIRONMENT_ID');
  for (const [name, value] of [['TENANT_ID', tenantId], ['ENVIRONMENT_ID', environmentId]] as const) {
    if (value && !ID_PATTERN.test(value)) problems.push(`${name} is ${JSON.stringify(value)}; ${ID_HINT}`);
  }
  if (deploymentId && !/^[A-Za-z0-9_-]{1,64}$/.test(deploymentId)) problems.push(`DEPLOYMENT_ID is ${JSON.stringify(deploymentId)}; use the deployment id the API returned (letters, digits, "-" and "_")`);
  const versionText = need('CONFIG_VERSION');
  const configVersion = Number(versionText);
  if (versionText && (!/^\d+$/.test(versionText) || !Number.isSafeInteger(configVersion) || configVersion < 1)) {
    problems.push(`CONFIG_VERSION is ${JSON.stringify(versionText)}; use the stored config version (a whole number from 1)`);
  }
  const action = need('ACTION');
  if (action && !['create', 'update', 'delete'].includes(action)) problems.push(`ACTION is ${JSON.stringify(action)}; use create, update or delete`);
  const purgeText = env.PURGE ?? 'false';
  if (!['true', 'false', ''].includes(purgeText)) problems.push(`PURGE is ${JSON.stringify(purgeText)}; use true or false`);
  const purge = purgeText === 'true';
  if (purge && action && action !== 'delete') problems.push(`PURGE is true with ACTION ${action}; only a delete can purge data`);
  const tableName = need('CONTROL_PLANE_TABLE');
  const bootstrapQualifier = env.CDK_BOOTSTRAP_QUALIFIER || DEFAULT_BOOTSTRAP_QUALIFIER;
  if (!BOOTSTRAP_QUALIFIER_PATTERN.test(bootstrapQualifier)) problems.push(`CDK_BOOTSTRAP_QUALIFIER is ${JSON.stringify(bootstrapQualifier)}; use 1-10 lowercase letters and digits, e.g. ${DEFAULT_BOOTSTRAP_QUALIFIER}`);
  const mode = env.DEPLOY_JOB_MODE ?? 'deploy';
  if (!['deploy', 'synth'].includes(mode)) problems.push(`DEPLOY_JOB_MODE is ${JSON.stringify(mode)}; use deploy (the default) or synth (a dry run: no AWS call)`);
  if (problems.length) throw new DeployJobInputError(`deploy job: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return { deploymentId, tenantId, environmentId, configVersion, action: action as DeployAction, purge, tableName, bootstrapQualifier, synthOnly: mode === 'synth' };
}

/**
 * The default app's config for exactly one environment: the stored EnvironmentConfig under its
 * tenant (the same schema tenants.json has), validated by the same parser, returned as the JSON
 * to write (tenants.json), not the parser's typed output. A purge flips the environment's
 * `removalPolicy` to `destroy`, so that the stateful resources (key, logs, secrets, file systems)
 * go with the stack. The stored config is never changed.
 */
export function tenantsConfigFor(input: DeployJobInput, stored: EnvironmentConfig): { readonly tenants: readonly [{ readonly id: string; readonly environments: readonly [EnvironmentConfig] }] } {
  if (stored.id !== undefined && stored.id !== input.environmentId) {
    throw new DeployJobInputError(`deploy job: config version ${input.configVersion} of ${input.tenantId}/${input.environmentId} is for environment "${stored.id}"; the store is inconsistent, request a new deployment`);
  }
  const environment: EnvironmentConfig = { ...stored, id: input.environmentId, ...(input.purge ? { removalPolicy: 'destroy' as const } : {}) };
  const config = { tenants: [{ id: input.tenantId, environments: [environment] }] } as const;
  // The same validation as the API and the default app: a stored config that no longer parses
  // (e.g. after a library upgrade) fails here with field paths, before any AWS call.
  parseTenantsConfig(JSON.parse(JSON.stringify(config)), `config version ${input.configVersion} of ${input.tenantId}/${input.environmentId}`);
  return config;
}

/** One CDK CLI run. */
export interface CdkCommand {
  /** Arguments after `cdk`. */
  readonly args: readonly string[];
  /** Why it runs (printed in the build log). */
  readonly purpose: string;
}

/**
 * The CDK CLI commands of a deployment, run in order in the job's directory (its cdk.json names
 * the app: the library's default app, bin/app.ts, bundled).
 *
 * - create / update: `cdk deploy <Stack>`.
 * - delete: `cdk destroy <Stack>`; the stored removalPolicy decides what stays (RETAIN by default:
 *   key, logs, secrets and file systems outlive the stack).
 * - delete with purge: first `cdk deploy <Stack>` with removalPolicy `destroy` (CloudFormation
 *   applies the DeletionPolicy of the template it last deployed, so the flip must be deployed
 *   before the delete), then `cdk destroy <Stack>`.
 * - synth only: `cdk synth <Stack>` of the same config (what the deploy would deploy).
 */
export function cdkCommands(input: DeployJobInput, configPath: string, outdir: string): CdkCommand[] {
  const stack = environmentStackName(input.tenantId, input.environmentId);
  const common = ['-c', `config=${configPath}`, '-o', outdir, '--no-notices', ...(input.bootstrapQualifier !== DEFAULT_BOOTSTRAP_QUALIFIER ? ['-c', `@aws-cdk/core:bootstrapQualifier=${input.bootstrapQualifier}`] : [])];
  const deploy = (purpose: string): CdkCommand => ({ args: ['deploy', stack, '--exclusively', '--require-approval', 'never', '--progress', 'events', ...common], purpose });
  const destroy: CdkCommand = { args: ['destroy', stack, '--exclusively', '--force', ...common], purpose: `delete the stack ${stack}` };
  if (input.synthOnly) return [{ args: ['synth', stack, '--exclusively', '-q', ...common], purpose: `synthesize ${stack} (dry run, no AWS call)` }];
  if (input.action !== 'delete') return [deploy(`${input.action} ${stack} from config version ${input.configVersion}`)];
  if (!input.purge) return [destroy];
  return [deploy(`purge: set every removal policy of ${stack} to destroy before the delete`), { ...destroy, purpose: `purge: delete the stack ${stack} and its data` }];
}
