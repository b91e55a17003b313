import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../lambda/management/control-plane/config-store';
import { EnvironmentConfig, environmentStackName } from '../../lib';
import { prebuiltAssetDir } from '../../lib/assets/prebuilt-assets';
import { MotoServer, envFor, startMoto } from '../support/moto';
import { offlineEnv } from '../support/offline-env';

// The deploy job exactly as CodeBuild runs it (`node index.js` in its source asset, the CDK CLI
// from the install phase's node_modules), stopped at `cdk synth` (DEPLOY_JOB_MODE=synth): it reads
// the stored config version from a DynamoDB table (moto) through the store's own read function,
// writes tenants.json and synthesizes the one stack with the bundled default app. Its templates
// must equal what `npx cdk synth -c config=...` writes in this repository for the same config:
// same resources, same asset hashes (the job carries byte-identical copies of the prebuilt assets
// and installs the pinned aws-cdk-lib/cdk-nag/argon2 versions this repository uses).

const FIXTURE = JSON.parse(readFileSync('test/fixtures/production-tenants.json', 'utf8')) as {
  tenants: { id: string; environments: EnvironmentConfig[] }[];
};
const environment = (t: string, e: string) => FIXTURE.tenants.find((x) => x.id === t)!.environments.find((x) => x.id === e)!;
// Ingress with a domain, pinned account/region/zones (acme/prod); node groups in nested stacks (initech/grid).
const CASES = [
  { tenantId: 'acme', environmentId: 'prod' },
  { tenantId: 'initech', environmentId: 'grid' },
] as const;
const TABLE = 'control-plane-test';
const CDK = resolve('node_modules', '.bin', 'cdk');

/** Every template file of one stack in a cloud assembly (the stack's and its nested stacks'), by file name. */
function stackTemplates(outdir: string, stack: string): Record<string, unknown> {
  const files = readdirSync(outdir).filter((f) => f === `${stack}.template.json` || (f.startsWith(stack) && f.endsWith('.nested.template.json')));
  return Object.fromEntries(files.map((f) => [f, JSON.parse(readFileSync(join(outdir, f), 'utf8')) as unknown]));
}

describe('the deploy job, run locally up to cdk synth of a stored config', () => {
  let moto: MotoServer;
  let jobDir: string;
  const versions = new Map<string, number>();

  beforeAll(async () => {
    moto = await startMoto();
    const client = new DynamoDBClient(moto.clientConfig);
    await client.send(
      new CreateTableCommand({
        TableName: TABLE,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'PK', AttributeType: 'S' },
          { AttributeName: 'SK', AttributeType: 'S' },
        ],
      }),
    );
    const store = new ConfigStore(client, TABLE);
    for (const c of CASES) {
      const out = await store.requestDeployment({
        tenantId: c.tenantId,
        environmentId: c.environmentId,
        action: 'create',
        expectedConfigVersion: 0,
        config: environment(c.tenantId, c.environmentId),
        stackName: environmentStackName(c.tenantId, c.environmentId),
        maxEnvironments: 10,
      });
      if (!('deployment' in out)) throw new Error(`storing ${c.tenantId}/${c.environmentId} failed: ${JSON.stringify(out)}`);
      versions.set(`${c.tenantId}/${c.environmentId}`, out.deployment.configVersion);
    }
    // The CodeBuild source as the asset ships it, with node_modules where `npm install` puts it
    // (here: this repository's, which holds the same pinned versions).
    jobDir = join(mkdtempSync(join(tmpdir(), 'bt-deploy-job-')), 'src');
    cpSync(prebuiltAssetDir('deploy-job'), jobDir, { recursive: true });
    symlinkSync(resolve('node_modules'), join(jobDir, 'node_modules'));
  }, 120_000);

  afterAll(async () => {
    await moto?.stop();
  });

  it('ships the buildspec, the pinned packages and this repository\'s cdk.json context', () => {
    const pkg = JSON.parse(readFileSync(join(jobDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const own = JSON.parse(readFileSync('package.json', 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.dependencies).toEqual({ 'aws-cdk': own.devDependencies['aws-cdk'], 'aws-cdk-lib': own.devDependencies['aws-cdk-lib'], constructs: own.devDependencies.constructs, 'cdk-nag': own.devDependencies['cdk-nag'], argon2: expect.stringMatching(/^0\.45\.\d+$/) });
    const cdkJson = JSON.parse(readFileSync(join(jobDir, 'cdk.json'), 'utf8')) as { app: string; context: unknown };
    expect(cdkJson.app).toBe('node app/bin/app.js');
    expect(cdkJson.context).toEqual((JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: unknown }).context);
    const buildspec = readFileSync(join(jobDir, 'buildspec.yml'), 'utf8');
    expect(buildspec).toContain('nodejs: 22');
    expect(buildspec).toContain('npm install --no-audit --no-fund --ignore-scripts --omit=dev');
    expect(buildspec).toContain('node index.js');
  });

  it.each(CASES)('synthesizes $tenantId/$environmentId from the stored config exactly as the default app does', ({ tenantId, environmentId }) => {
    const stack = environmentStackName(tenantId, environmentId);
    const home = mkdtempSync(join(tmpdir(), 'bt-deploy-job-home-'));
    const work = join(home, 'work');
    const deploymentId = `d-test-${tenantId}-${environmentId}`;
    const job = spawnSync(process.execPath, ['index.js'], {
      cwd: jobDir,
      encoding: 'utf8',
      timeout: 300_000,
      // AWS_* only for the table read (moto); the CDK CLI's synth makes no AWS call.
      env: offlineEnv(home, {
        ...envFor(moto.endpoint),
        DEPLOYMENT_ID: deploymentId,
        TENANT_ID: tenantId,
        ENVIRONMENT_ID: environmentId,
        CONFIG_VERSION: String(versions.get(`${tenantId}/${environmentId}`)),
        ACTION: 'create',
        PURGE: 'false',
        CONTROL_PLANE_TABLE: TABLE,
        DEPLOY_JOB_MODE: 'synth',
        DEPLOY_JOB_WORK_DIR: work,
      }),
    });
    const output = `${job.stdout}\n${job.stderr}`;
    expect(job.status, output).toBe(0);
    expect(output).not.toContain('Need to perform AWS calls');
    expect(output).toContain(`cdk synth ${stack} --exclusively -q`);

    // The tenants.json the job wrote: that one environment under its tenant, as stored.
    const written = JSON.parse(readFileSync(join(work, deploymentId, 'tenants.json'), 'utf8')) as unknown;
    expect(written).toEqual({ tenants: [{ id: tenantId, environments: [environment(tenantId, environmentId)] }] });

    // The default app through the CLI in this repository, on that same config.
    const config = join(home, 'tenants.json');
    writeFileSync(config, JSON.stringify(written));
    const outdir = join(home, 'default-app.out');
    const synth = spawnSync(CDK, ['synth', '--no-notices', '-q', '-o', outdir, '-c', `config=${config}`], { env: offlineEnv(home), encoding: 'utf8', timeout: 300_000 });
    expect(synth.status, `${synth.stdout}\n${synth.stderr}`).toBe(0);

    const fromJob = stackTemplates(join(work, deploymentId, 'cdk.out'), stack);
    const fromApp = stackTemplates(outdir, stack);
    expect(Object.keys(fromJob).length).toBeGreaterThan(0);
    expect(Object.keys(fromJob).sort()).toEqual(Object.keys(fromApp).sort());
    // Whole templates, asset hashes included.
    expect(fromJob).toEqual(fromApp);
  }, 600_000);

  it('synthesizes what a purge deploys before its destroy: every stateful resource with DeletionPolicy Delete, the stored config unchanged', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-deploy-job-home-'));
    const work = join(home, 'work');
    const job = spawnSync(process.execPath, ['index.js'], {
      cwd: jobDir,
      encoding: 'utf8',
      timeout: 300_000,
      env: offlineEnv(home, {
        ...envFor(moto.endpoint),
        DEPLOYMENT_ID: 'd-purge',
        TENANT_ID: 'acme',
        ENVIRONMENT_ID: 'prod',
        CONFIG_VERSION: String(versions.get('acme/prod')),
        ACTION: 'delete',
        PURGE: 'true',
        CONTROL_PLANE_TABLE: TABLE,
        DEPLOY_JOB_MODE: 'synth',
        DEPLOY_JOB_WORK_DIR: work,
      }),
    });
    expect(job.status, `${job.stdout}\n${job.stderr}`).toBe(0);
    expect(job.stdout).toContain('delete (purge) acme/prod');
    const template = JSON.parse(readFileSync(join(work, 'd-purge', 'cdk.out', 'AcmeProd.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; DeletionPolicy?: string }> };
    const policies = (type: string) => [...new Set(Object.values(template.Resources).filter((r) => r.Type === type).map((r) => r.DeletionPolicy))];
    for (const type of ['AWS::KMS::Key', 'AWS::EFS::FileSystem', 'AWS::Logs::LogGroup']) expect(policies(type), type).toEqual(['Delete']);
    const stored = await new ConfigStore(new DynamoDBClient(moto.clientConfig), TABLE).getConfigVersion('acme', 'prod', versions.get('acme/prod')!);
    expect(stored?.config).toEqual(environment('acme', 'prod'));
  }, 400_000);

  it('refuses a config version that was never stored, naming it, before running the CDK CLI', () => {
    const home = mkdtempSync(join(tmpdir(), 'bt-deploy-job-home-'));
    const job = spawnSync(process.execPath, ['index.js'], {
      cwd: jobDir,
      encoding: 'utf8',
      timeout: 60_000,
      env: offlineEnv(home, {
        ...envFor(moto.endpoint),
        DEPLOYMENT_ID: 'd-missing',
        TENANT_ID: 'acme',
        ENVIRONMENT_ID: 'prod',
        CONFIG_VERSION: '99',
        ACTION: 'update',
        CONTROL_PLANE_TABLE: TABLE,
        DEPLOY_JOB_MODE: 'synth',
        DEPLOY_JOB_WORK_DIR: join(home, 'work'),
      }),
    });
    expect(job.status).toBe(1);
    expect(job.stderr).toContain(`config version 99 of acme/prod is not in table ${TABLE}`);
    expect(job.stdout).not.toContain('cdk synth');
  }, 120_000);
});
