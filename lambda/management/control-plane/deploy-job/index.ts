/**
 * The deploy job (CodeBuild runs `node index.js` from the source asset; see its buildspec.yml):
 * reads one deployment's stored config version from the control-plane table, writes the
 * tenants.json of exactly that environment, and runs this library's default app (bin/app.ts,
 * bundled in app/bin/app.js) with the pinned CDK CLI: `cdk deploy` or `cdk destroy` of that one
 * stack. CloudFormation does the work through the CDK bootstrap roles; the build's own role can
 * only assume them. `DEPLOY_JOB_MODE=synth` stops at `cdk synth` (no AWS call but the table read).
 *
 * Exit code 0 when every command succeeded; 1 otherwise (the engine records the failure with the
 * stack's first *_FAILED reason).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TenantConfigError } from '../../../../lib/config/config-error';
import { ConfigStore } from '../config-store';
import { DeployJobInputError, cdkCommands, readDeployJobInput, tenantsConfigFor } from './job';

async function main(): Promise<number> {
  const input = readDeployJobInput(process.env);
  const root = __dirname;
  const work = path.join(process.env.DEPLOY_JOB_WORK_DIR ?? path.join(root, '.deploy'), input.deploymentId);
  mkdirSync(work, { recursive: true });
  const where = `${input.tenantId}/${input.environmentId}`;
  console.log(`deploy job ${input.deploymentId}: ${input.action}${input.purge ? ' (purge)' : ''} ${where}, config version ${input.configVersion}${input.synthOnly ? ', synth only' : ''}`);

  const store = new ConfigStore(new DynamoDBClient({}), input.tableName);
  const stored = await store.getConfigVersion(input.tenantId, input.environmentId, input.configVersion);
  if (!stored) throw new DeployJobInputError(`deploy job: config version ${input.configVersion} of ${where} is not in table ${input.tableName}; the deployment refers to a config that was never stored`);
  const config = tenantsConfigFor(input, stored.config);
  const configPath = path.join(work, 'tenants.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const cdk = path.join(root, 'node_modules', '.bin', 'cdk');
  if (!existsSync(cdk)) throw new Error(`deploy job: the CDK CLI is not installed in ${root}; the buildspec's install phase (npm install) must run first`);
  for (const command of cdkCommands(input, configPath, path.join(work, 'cdk.out'))) {
    console.log(`\n==> ${command.purpose}\n    cdk ${command.args.join(' ')}`);
    const run = spawnSync(cdk, command.args, { cwd: root, stdio: 'inherit', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } });
    if (run.error) throw run.error;
    if (run.status !== 0) {
      console.error(`deploy job ${input.deploymentId}: "cdk ${command.args[0]}" failed (exit ${run.status ?? run.signal}); the stack's events name the failed resource`);
      return 1;
    }
  }
  console.log(`\ndeploy job ${input.deploymentId}: done`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    // A bad variable or config: one clear message, no stack trace.
    console.error(e instanceof DeployJobInputError || e instanceof TenantConfigError ? e.message : e);
    process.exit(1);
  },
);
