import { describe, expect, it } from 'vitest';
import { DeployJobInput, cdkCommands, readDeployJobInput, tenantsConfigFor } from '../../lambda/management/control-plane/deploy-job/job';
import { EnvironmentConfig, TenantConfigError, parseTenantsConfig } from '../../lib';

const ENV = {
  DEPLOYMENT_ID: 'd-20261129T190000000Z-0a1b2c3d',
  TENANT_ID: 'acme',
  ENVIRONMENT_ID: 'prod',
  CONFIG_VERSION: '3',
  ACTION: 'update',
  PURGE: 'false',
  CONTROL_PLANE_TABLE: 'control-plane',
};
const input = (over: Partial<DeployJobInput> = {}): DeployJobInput => ({ ...readDeployJobInput(ENV), ...over });
const stored: EnvironmentConfig = { id: 'prod', cidr: '10.20.0.0/16', removalPolicy: 'retain' };

describe('the deploy job\'s variables', () => {
  it('reads a deployment', () => {
    expect(readDeployJobInput(ENV)).toEqual({
      deploymentId: ENV.DEPLOYMENT_ID,
      tenantId: 'acme',
      environmentId: 'prod',
      configVersion: 3,
      action: 'update',
      purge: false,
      tableName: 'control-plane',
      bootstrapQualifier: 'hnb659fds',
      synthOnly: false,
    });
    expect(readDeployJobInput({ ...ENV, ACTION: 'delete', PURGE: 'true', CDK_BOOTSTRAP_QUALIFIER: 'tenants1', DEPLOY_JOB_MODE: 'synth' })).toMatchObject({ purge: true, bootstrapQualifier: 'tenants1', synthOnly: true });
  });

  it('lists every bad or missing variable, each with its fix', () => {
    expect(() => readDeployJobInput({ ...ENV, TENANT_ID: 'Acme', CONFIG_VERSION: '0', ACTION: 'drop', PURGE: 'yes', CONTROL_PLANE_TABLE: '', DEPLOY_JOB_MODE: 'plan' })).toThrow(
      [
        'deploy job: 6 problem(s):',
        '  - TENANT_ID is "Acme"; use 2-24 characters of a-z, 0-9 and "-", starting with a letter and not ending with "-", e.g. "acme"',
        '  - CONFIG_VERSION is "0"; use the stored config version (a whole number from 1)',
        '  - ACTION is "drop"; use create, update or delete',
        '  - PURGE is "yes"; use true or false',
        '  - CONTROL_PLANE_TABLE is not set; the engine passes it for every deployment (run the job through the state machine, or set it for a dry run)',
        '  - DEPLOY_JOB_MODE is "plan"; use deploy (the default) or synth (a dry run: no AWS call)',
      ].join('\n'),
    );
    expect(() => readDeployJobInput({ ...ENV, PURGE: 'true' })).toThrow('PURGE is true with ACTION update; only a delete can purge data');
    expect(() => readDeployJobInput({ ...ENV, DEPLOYMENT_ID: '../../etc' })).toThrow('DEPLOYMENT_ID is "../../etc"');
  });
});

describe('the config the job deploys', () => {
  it('is the stored environment under its tenant, valid for the default app', () => {
    const config = tenantsConfigFor(input(), stored);
    expect(config).toEqual({ tenants: [{ id: 'acme', environments: [stored] }] });
    expect(parseTenantsConfig(config).tenants[0].environments[0].cidr).toBe('10.20.0.0/16');
  });

  it('flips the removal policy to destroy for a purge only, leaving the stored config alone', () => {
    const purge = tenantsConfigFor(input({ action: 'delete', purge: true }), stored);
    expect(purge.tenants[0].environments[0].removalPolicy).toBe('destroy');
    expect(tenantsConfigFor(input({ action: 'delete' }), stored).tenants[0].environments[0].removalPolicy).toBe('retain');
    expect(stored.removalPolicy).toBe('retain');
  });

  it('refuses a stored config that does not parse, with field paths, and one for another environment', () => {
    expect(() => tenantsConfigFor(input(), { ...stored, cidr: '10.20.0.0/8' })).toThrow(TenantConfigError);
    expect(() => tenantsConfigFor(input(), { ...stored, cidr: '10.20.0.0/8' })).toThrow(/config version 3 of acme\/prod.*\n.*tenants\[0\]\.environments\[0\]\.cidr/);
    expect(() => tenantsConfigFor(input(), { ...stored, id: 'dev' })).toThrow('config version 3 of acme/prod is for environment "dev"');
  });
});

describe('the CDK CLI commands of a deployment', () => {
  const common = ['-c', 'config=/w/tenants.json', '-o', '/w/cdk.out', '--no-notices'];
  const run = (over: Partial<DeployJobInput>) => cdkCommands(input(over), '/w/tenants.json', '/w/cdk.out').map((c) => c.args);

  it('deploys exactly the environment\'s stack on create and update', () => {
    for (const action of ['create', 'update'] as const) {
      expect(run({ action })).toEqual([['deploy', 'AcmeProd', '--exclusively', '--require-approval', 'never', '--progress', 'events', ...common]]);
    }
  });

  it('destroys the stack on delete (data kept per removal policy); a purge deploys the destroy policies first', () => {
    expect(run({ action: 'delete' })).toEqual([['destroy', 'AcmeProd', '--exclusively', '--force', ...common]]);
    expect(run({ action: 'delete', purge: true })).toEqual([
      ['deploy', 'AcmeProd', '--exclusively', '--require-approval', 'never', '--progress', 'events', ...common],
      ['destroy', 'AcmeProd', '--exclusively', '--force', ...common],
    ]);
  });

  it('synthesizes only in synth mode, and passes a non-default bootstrap qualifier', () => {
    expect(run({ synthOnly: true, action: 'delete', purge: true })).toEqual([['synth', 'AcmeProd', '--exclusively', '-q', ...common]]);
    expect(run({ bootstrapQualifier: 'tenants1' })[0]).toEqual(expect.arrayContaining(['-c', '@aws-cdk/core:bootstrapQualifier=tenants1']));
  });
});

describe('management.controlPlane in tenants.json', () => {
  const withCp = (controlPlane: unknown) => ({ tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16' }] }], management: { controlPlane } });
  const problems = (raw: unknown): readonly string[] => {
    try {
      parseTenantsConfig(raw, 'x.json');
    } catch (e) {
      return (e as TenantConfigError).problems;
    }
    throw new Error('accepted');
  };

  it('is read with its options', () => {
    expect(parseTenantsConfig(withCp({})).management).toEqual({ controlPlane: {} });
    const full = { maxEnvironmentsPerTenant: 5, maxNodesPerEnvironment: 12, allowedInstanceTypes: ['t4g.medium'], bootstrapQualifier: 'tenants1', buildTimeoutMinutes: 90 };
    expect(parseTenantsConfig(withCp(full)).management?.controlPlane).toEqual(full);
  });

  it('refuses bad options with field paths and fixes', () => {
    expect(problems(withCp({ maxEnvironmentsPerTenant: 0, maxNodesPerEnviroment: 3, allowedInstanceTypes: ['t4g.medium', 'huge', 't4g.medium'], bootstrapQualifier: 'Q', buildTimeoutMinutes: 5 }))).toEqual([
      'management.controlPlane.maxNodesPerEnviroment: unknown field; did you mean "maxNodesPerEnvironment"? Allowed fields here: maxEnvironmentsPerTenant, maxNodesPerEnvironment, allowedInstanceTypes, bootstrapQualifier, buildTimeoutMinutes',
      'management.controlPlane.maxEnvironmentsPerTenant: 0 is out of range; use a value from 1 to 1000',
      'management.controlPlane.allowedInstanceTypes[1]: "huge" is not valid; write an EC2 instance type, e.g. "t4g.medium"',
      'management.controlPlane.allowedInstanceTypes[2]: "t4g.medium" is listed twice; list each type once',
      'management.controlPlane.bootstrapQualifier: "Q" is not valid; write the qualifier the account was bootstrapped with (cdk bootstrap --qualifier; 1-10 lowercase letters and digits), e.g. "hnb659fds"',
      'management.controlPlane.buildTimeoutMinutes: 5 is out of range; use a value from 15 to 480',
    ]);
    expect(problems(withCp(true))).toEqual(['management.controlPlane: must be an object, got boolean true']);
  });
});
