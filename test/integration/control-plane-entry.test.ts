import { sep } from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProxyEvent } from '../../lambda/management/api';
import type { ProxyResult } from '../../lambda/management/api-error';
import type { RecorderOutput } from '../../lambda/management/control-plane/recorder';
import { CONTROL_PLANE_ENV, RecorderInput } from '../../lib/contracts/control-plane';
import { REGISTRATION_PREFIX } from '../../lib/contracts/registration-format';
import { createLocalControlPlane } from '../../lib/local/control-plane';
import { serveLocalLambda } from '../../lib/local/local-lambda';
import { registration } from '../support/management-fixture';
import { MotoServer, envFor, startMoto } from '../support/moto';

/**
 * The Lambda entries as deployed (lambda/management/index.ts and the recorder's `handler`),
 * configured only by their environment variables and the SDK's default clients (AWS_ENDPOINT_URL
 * points them at moto).
 */
describe('control plane Lambda entries, configured by their environment', () => {
  let moto: MotoServer;
  const saved = { ...process.env };
  const event = (httpMethod: string, path: string, body?: unknown): ProxyEvent => ({ httpMethod, path, body: body === undefined ? null : JSON.stringify(body), headers: { 'Idempotency-Key': 'entry-1' } });

  beforeAll(async () => {
    moto = await startMoto();
    await createLocalControlPlane(moto.clientConfig, { tableName: 'cp-table', eventBusName: 'cp-bus' });
    Object.assign(process.env, envFor(moto.endpoint));
  });
  afterAll(async () => {
    process.env = saved;
    await moto?.stop();
  });

  const entry = async (env: Record<string, string | undefined>) => {
    vi.resetModules();
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    return (await import('../../lambda/management/index')).handler as (e: ProxyEvent) => Promise<ProxyResult>;
  };

  it('without CONTROL_PLANE_TABLE / EVENT_BUS_NAME the lifecycle routes answer 404 ControlPlaneDisabled', async () => {
    const handler = await entry({ [CONTROL_PLANE_ENV.TABLE]: undefined, [CONTROL_PLANE_ENV.EVENT_BUS]: 'cp-bus' });
    const out = await handler(event('POST', '/environments/acme/dev', { cidr: '10.10.0.0/16' }));
    expect([out.statusCode, JSON.parse(out.body).error.code]).toEqual([404, 'ControlPlaneDisabled']);
  });

  it('refuses to start with bad CONTROL_PLANE_QUOTAS (never runs without limits)', async () => {
    await expect(entry({ [CONTROL_PLANE_ENV.TABLE]: 'cp-table', [CONTROL_PLANE_ENV.EVENT_BUS]: 'cp-bus', [CONTROL_PLANE_ENV.QUOTAS]: '{"maxNodes":3}' })).rejects.toThrow(/CONTROL_PLANE_QUOTAS.maxNodes is not a quota/);
  });

  it('refuses to start with a bad CONTROL_PLANE_LOCK_TIMEOUT_SECONDS (a lock that expires too soon would let a deployment overtake a running one)', async () => {
    for (const bad of ['60', '1.5', 'ten', '999999999']) {
      await expect(entry({ [CONTROL_PLANE_ENV.TABLE]: 'cp-table', [CONTROL_PLANE_ENV.EVENT_BUS]: 'cp-bus', [CONTROL_PLANE_ENV.QUOTAS]: undefined, [CONTROL_PLANE_ENV.LOCK_TIMEOUT]: bad })).rejects.toThrow(
        /^CONTROL_PLANE_LOCK_TIMEOUT_SECONDS is "[^"]*"; set it to whole seconds from 1800 to 35100/,
      );
    }
    delete process.env[CONTROL_PLANE_ENV.LOCK_TIMEOUT];
  });

  it('serves the routes with the quotas of its environment; the recorder entry records the deployment', async () => {
    const handler = await entry({ [CONTROL_PLANE_ENV.TABLE]: 'cp-table', [CONTROL_PLANE_ENV.EVENT_BUS]: 'cp-bus', [CONTROL_PLANE_ENV.QUOTAS]: '{"maxEnvironmentsPerTenant":1,"maxNodesPerEnvironment":4}' });
    const created = await handler(event('POST', '/environments/acme/dev', { cidr: '10.10.0.0/16' }));
    expect(created.statusCode).toBe(201);
    const { deploymentId } = JSON.parse(created.body) as { deploymentId: string };
    const second = await handler(event('POST', '/environments/acme/qa', { cidr: '10.20.0.0/16' }));
    expect(JSON.parse(second.body).error).toMatchObject({ code: 'QuotaExceeded', message: expect.stringContaining('maxEnvironmentsPerTenant is 1') });

    const recorder = (await import('../../lambda/management/control-plane/recorder')).handler as (i: RecorderInput) => Promise<RecorderOutput>;
    expect(await recorder({ deploymentId, tenantId: 'acme', environmentId: 'dev', phase: 'started', buildId: 'b:1' })).toMatchObject({ status: 'deploying', recorded: true });
    // No stack in moto: the reason says the build failed before CloudFormation reported anything.
    expect(await recorder({ deploymentId, tenantId: 'acme', environmentId: 'dev', phase: 'failed', buildId: 'b:1' })).toMatchObject({ status: 'failed', reason: expect.stringContaining('see build b:1') });
    await expect(recorder({ deploymentId: 'nope', tenantId: 'acme', environmentId: 'dev', phase: 'started' })).rejects.toThrow(/deploymentId is not a deployment id/);
    const list = await handler(event('GET', '/environments/acme/dev/deployments'));
    expect(JSON.parse(list.body).deployments[0]).toMatchObject({ deploymentId, status: 'failed', buildId: 'b:1' });
  });

  it("invokes the environment's issuer through the SDK's Lambda client, which it loads on the first credential route, not at init", async () => {
    const requests: unknown[] = [];
    const lambda = await serveLocalLambda({ 'issuer-acme-dev': async (request) => (requests.push(request), { ok: true, credentials: [] }) });
    try {
      const ssm = new SSMClient(moto.clientConfig);
      await ssm.send(new PutParameterCommand({ Name: `${REGISTRATION_PREFIX}acme/dev`, Type: 'String', Value: JSON.stringify(registration('acme', 'dev', { 'validator-1': 'acme' })), Overwrite: true }));
      const lambdaModules = () => Object.keys(require.cache).filter((m) => m.includes(`${sep}@aws-sdk${sep}client-lambda${sep}`));
      const loaded = () => lambdaModules().length > 0;
      for (const m of lambdaModules()) delete require.cache[m]; // whatever loaded it before this entry
      const handler = await entry({ AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint });
      expect(loaded()).toBe(false);
      const out = await handler(event('GET', '/environments/acme/dev/credentials'));
      expect([out.statusCode, JSON.parse(out.body)]).toEqual([200, { ok: true, credentials: [] }]);
      expect(requests).toEqual([{ action: 'list' }]);
      expect(loaded()).toBe(true);
    } finally {
      delete process.env.AWS_ENDPOINT_URL_LAMBDA;
      await lambda.close();
    }
  });
});
