import { spawn } from 'node:child_process';
import { createServer, Server } from 'node:http';
import { join } from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleIssuer } from '../../lambda/issuer/handler';
import { ManagementDeps, ProxyEvent, handleManagement } from '../../lambda/management/api';
import { EnvironmentRegistrationValue, REGISTRATION_PREFIX } from '../../lib';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { MotoServer, envFor, freePort, startMoto } from '../support/moto';

describe('management API handlers against moto (SSM, EC2, Secrets Manager)', () => {
  let moto: MotoServer;
  let deps: ManagementDeps;
  const instances: Record<string, string> = {};
  const registration = (tenantId: string, environmentId: string, nodes: Record<string, string>, extra: Partial<EnvironmentRegistrationValue> = {}): EnvironmentRegistrationValue => ({
    tenantId,
    environmentId,
    stackName: `${tenantId}-${environmentId}`,
    region: 'us-east-1',
    account: '123456789012',
    vpcId: 'vpc-12345678',
    kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/x',
    credentialSecretPrefix: `blockchain-tenancy/${tenantId}/${environmentId}/credentials/`,
    issuerFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:issuer-${tenantId}-${environmentId}`,
    nodes,
    ...extra,
  });
  const call = async (httpMethod: string, path: string, body?: unknown, query?: Record<string, string>) => {
    const res = await handleManagement({ httpMethod, path, body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body), queryStringParameters: query ?? null } as ProxyEvent, deps);
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, raw: res.body };
  };

  beforeAll(async () => {
    moto = await startMoto();
    const ssm = new SSMClient(moto.clientConfig);
    const ec2 = new EC2Client(moto.clientConfig);
    const sm = new SecretsManagerClient(moto.clientConfig);
    for (const r of [
      registration('acme', 'dev', { 'validator-1': 'acme', 'validator-2': 'acme', 'globex-1': 'globex' }, { domainName: 'dev.acme.example.com' }),
      registration('acme', 'prod', { 'prod-1': 'acme' }),
    ]) {
      await ssm.send(new PutParameterCommand({ Name: `${REGISTRATION_PREFIX}${r.tenantId}/${r.environmentId}`, Type: 'String', Value: JSON.stringify(r) }));
    }
    for (const [env, node] of [['dev', 'validator-1'], ['dev', 'validator-2'], ['dev', 'globex-1'], ['prod', 'prod-1']]) {
      const out = await ec2.send(
        new RunInstancesCommand({
          ImageId: 'ami-12c6146b',
          MinCount: 1,
          MaxCount: 1,
          InstanceType: 't4g.medium',
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: 'blockchain-tenancy:tenant', Value: 'acme' },
                { Key: 'blockchain-tenancy:environment', Value: env },
                { Key: 'blockchain-tenancy:node', Value: node },
              ],
            },
          ],
        }),
      );
      instances[node] = out.Instances![0].InstanceId!;
    }
    await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 1, MaxCount: 1 })); // not a node
    const services = new Map<string, CredentialService>();
    deps = {
      ssm,
      ec2: async () => ec2,
      autoscaling: async () => new AutoScalingClient(moto.clientConfig),
      log: () => undefined,
      invokeIssuer: async (arn, request) => {
        const [, tenantId, environmentId] = /issuer-([a-z0-9]+)-([a-z0-9]+)$/.exec(arn)!;
        if (!services.has(arn)) services.set(arn, new CredentialService({ secretsManager: sm, tenantId, environmentId }));
        return handleIssuer(services.get(arn)!, request);
      },
    };
  });
  afterAll(() => moto?.stop());

  it('lists and describes registered environments', async () => {
    const list = await call('GET', '/environments');
    expect(list.status).toBe(200);
    expect((list.body.environments as EnvironmentRegistrationValue[]).map((e) => `${e.tenantId}/${e.environmentId}`)).toEqual(['acme/dev', 'acme/prod']);
    expect((await call('GET', '/environments/acme/dev')).body.environment).toMatchObject({ vpcId: 'vpc-12345678' });
    expect(await call('GET', '/environments/acme/qa')).toMatchObject({ status: 404, body: { error: { code: 'NotFound', message: 'environment acme/qa is not registered (deploy it with cdk deploy)' } } });
    expect(await call('GET', '/environments/ACME/dev')).toMatchObject({ status: 400, body: { error: { field: 'tenant' } } });
  });

  it('lists nodes with state, owner and endpoints from EC2 tags', async () => {
    const res = await call('GET', '/environments/acme/dev/nodes');
    expect(res.status).toBe(200);
    expect(res.body.nodes).toEqual([
      expect.objectContaining({ nodeId: 'validator-1', memberId: 'acme', state: 'running', instanceId: instances['validator-1'], endpoints: { https: 'https://validator-1.dev.acme.example.com/', wss: 'wss://validator-1.dev.acme.example.com/ws' } }),
      expect.objectContaining({ nodeId: 'validator-2', state: 'running' }),
      expect.objectContaining({ nodeId: 'globex-1', memberId: 'globex' }),
    ]);
  });

  it('stops, starts and reboots a node of the environment; refuses other environments (403) and unknown nodes (404)', async () => {
    expect(await call('POST', '/environments/acme/dev/nodes/validator-2/stop')).toMatchObject({ status: 202, body: { nodeId: 'validator-2', action: 'stop', instanceIds: [instances['validator-2']] } });
    const state = async (id: string) =>
      (await (await deps.ec2()).send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0].Instances![0].State!.Name;
    expect(await state(instances['validator-2'])).toMatch(/stopp/);
    expect((await call('POST', '/environments/acme/dev/nodes/validator-2/start')).status).toBe(202);
    expect(await state(instances['validator-2'])).toMatch(/pending|running/);
    expect((await call('POST', '/environments/acme/dev/nodes/validator-1/reboot')).status).toBe(202);
    const cross = await call('POST', '/environments/acme/dev/nodes/prod-1/stop');
    expect(cross).toMatchObject({ status: 403, body: { error: { code: 'Forbidden', field: 'node' } } });
    expect(await state(instances['prod-1'])).toBe('running');
    expect((await call('POST', '/environments/acme/dev/nodes/nope-1/stop')).status).toBe(404);
    expect((await call('POST', '/environments/acme/dev/nodes/validator-1/destroy')).status).toBe(404);
  });

  it('creates (secret once, with ready URLs), lists, describes, revokes and regenerates credentials', async () => {
    const created = await call('POST', '/environments/acme/dev/credentials', { memberId: 'acme', lifetimeDays: 7, description: 'wallet' });
    expect(created.status).toBe(201);
    const id = (created.body.credential as { id: string }).id;
    const secret = created.body.secret as string;
    expect(created.body.urls).toEqual([
      { node: 'validator-1', https: `https://${id}:${secret}@validator-1.dev.acme.example.com/`, wss: `wss://${id}:${secret}@validator-1.dev.acme.example.com/ws` },
      { node: 'validator-2', https: `https://${id}:${secret}@validator-2.dev.acme.example.com/`, wss: `wss://${id}:${secret}@validator-2.dev.acme.example.com/ws` },
    ]);
    const list = await call('GET', '/environments/acme/dev/credentials', undefined, { memberId: 'acme' });
    expect(list.raw).toContain(id);
    expect(list.raw).not.toContain(secret);
    expect(list.raw).not.toContain('argon2');
    expect((await call('GET', `/environments/acme/dev/credentials/${id}`)).body.credential).toMatchObject({ id, revoked: false, description: 'wallet' });
    const regen = await call('POST', `/environments/acme/dev/credentials/${id}/regenerate`);
    expect(regen.status).toBe(200);
    expect(regen.body.secret).not.toBe(secret);
    expect((await call('DELETE', `/environments/acme/dev/credentials/${id}`)).body.credential).toMatchObject({ id, revoked: true });
    // A credential of dev is not visible from prod.
    expect((await call('GET', `/environments/acme/prod/credentials/${id}`)).status).toBe(404);
  });

  it('answers bad input with 400 naming the field, unknown credentials with 404, never a stack trace', async () => {
    expect(await call('POST', '/environments/acme/dev/credentials', { memberId: 'initech' })).toMatchObject({ status: 400, body: { error: { field: 'memberId' } } });
    expect(await call('POST', '/environments/acme/dev/credentials', { memberId: 'acme', colour: 'red' })).toMatchObject({ status: 400, body: { error: { field: 'colour' } } });
    expect(await call('POST', '/environments/acme/dev/credentials', '{not json')).toMatchObject({ status: 400, body: { error: { field: 'body' } } });
    expect(await call('POST', '/environments/acme/dev/credentials', { memberId: 'acme', lifetimeDays: 9999 })).toMatchObject({ status: 400, body: { error: { field: 'lifetimeDays' } } });
    expect(await call('GET', `/environments/acme/dev/credentials/bt${'a'.repeat(24)}`)).toMatchObject({ status: 404, body: { error: { field: 'id' } } });
    expect(await call('GET', '/admin')).toMatchObject({ status: 404 });
    const failing = await handleManagement({ httpMethod: 'GET', path: '/environments' }, { ...deps, ssm: { send: async () => Promise.reject(new Error('boom at /secret/path')) } as unknown as SSMClient });
    expect(failing.statusCode).toBe(500);
    expect(failing.body).not.toMatch(/boom|at |\.ts/);
  });

  describe('the CLI, end to end against the handlers served locally', () => {
    let server: Server;
    let endpoint: string;
    const seen: string[] = [];
    beforeAll(async () => {
      const port = await freePort();
      endpoint = `http://127.0.0.1:${port}/v1`;
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', async () => {
          const auth = String(req.headers.authorization ?? '');
          seen.push(auth);
          if (!/^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/.test(auth) || !req.headers['x-amz-date']) {
            res.writeHead(403).end(JSON.stringify({ message: 'Missing Authentication Token' }));
            return;
          }
          const url = new URL(req.url!, 'http://x');
          const out = await handleManagement(
            { httpMethod: req.method!, path: url.pathname.replace(/^\/v1/, ''), body: chunks.length ? Buffer.concat(chunks).toString() : null, queryStringParameters: Object.fromEntries(url.searchParams) },
            deps,
          );
          res.writeHead(out.statusCode, out.headers).end(out.body);
        });
      });
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), ...args], {
          env: { PATH: process.env.PATH, HOME: '/nonexistent', ...envFor(moto.endpoint), AWS_ENDPOINT_URL: '', BLOCKCHAIN_TENANCY_ENDPOINT: endpoint },
        });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d));
        p.stderr.on('data', (d: Buffer) => (stderr += d));
        p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      });

    it('lists environments and nodes (table and JSON), signing every request with SigV4', async () => {
      const envs = await cli('environments', 'list');
      expect(envs.code).toBe(0);
      expect(envs.stdout.split('\n')[0]).toMatch(/^TENANTID\s+ENVIRONMENTID\s+REGION\s+STACKNAME/);
      expect(envs.stdout).toMatch(/acme\s+dev\s+us-east-1/);
      const nodes = await cli('nodes', 'list', 'acme/dev', '--json');
      expect(nodes.code).toBe(0);
      expect((JSON.parse(nodes.stdout).nodes as unknown[]).length).toBe(3);
      expect(seen.length).toBeGreaterThanOrEqual(2);
    });

    it('creates a credential and prints the ready-to-paste URLs once; revokes it', async () => {
      const out = await cli('credentials', 'create', 'acme/dev', '--member', 'acme', '--days', '3');
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/^validator-1: https:\/\/bt[a-z2-7]{24}:[A-Za-z0-9_-]{43}@validator-1\.dev\.acme\.example\.com\/$/m);
      expect(out.stdout).toMatch(/^validator-1: wss:\/\/bt[a-z2-7]{24}:[A-Za-z0-9_-]{43}@validator-1\.dev\.acme\.example\.com\/ws$/m);
      expect(out.stdout).toContain('shown once');
      const id = /credential (bt[a-z2-7]{24})/.exec(out.stdout)![1];
      const revoked = await cli('credentials', 'revoke', 'acme/dev', id);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toMatch(new RegExp(`${id}\\s+acme\\s+\\S+\\s+true`));
    });

    it('exit codes: 2 for usage errors, 1 for API errors, 3 when unreachable', async () => {
      const usage = await cli('credentials', 'create', 'acme/dev');
      expect([usage.code, usage.stderr]).toEqual([2, expect.stringContaining('credentials create needs --member <member>')]);
      const api = await cli('nodes', 'stop', 'acme/dev', 'prod-1');
      expect([api.code, api.stderr.trim()]).toEqual([1, 'blockchain-tenancy: 403 node prod-1 does not belong to acme/dev (field: node)']);
      const down = await cli('environments', 'list', '--endpoint', `http://127.0.0.1:${await freePort()}/v1`);
      expect(down.code).toBe(3);
      expect(down.stderr).toContain('is unreachable');
    });
  });
});
