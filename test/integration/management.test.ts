import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../bin/cli';
import { handleIssuer } from '../../lambda/issuer/handler';
import { ManagementDeps, ProxyEvent, handleManagement } from '../../lambda/management/api';
import { EnvironmentRegistrationValue } from '../../lib';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { ManagementServer, serveManagementApi } from '../../lib/local/management-server';
import { seedEnvironments } from '../support/management-fixture';
import { MOTO_CREDENTIALS, MotoServer, envFor, freePort, startMoto } from '../support/moto';

describe('management API handlers against moto (SSM, EC2, Secrets Manager)', () => {
  let moto: MotoServer;
  let deps: ManagementDeps;
  const instances: Record<string, string> = {};
  const call = async (httpMethod: string, path: string, body?: unknown, query?: Record<string, string>) => {
    const res = await handleManagement({ httpMethod, path, body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body), queryStringParameters: query ?? null } as ProxyEvent, deps);
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, raw: res.body };
  };

  beforeAll(async () => {
    moto = await startMoto();
    const ssm = new SSMClient(moto.clientConfig);
    const ec2 = new EC2Client(moto.clientConfig);
    const sm = new SecretsManagerClient(moto.clientConfig);
    Object.assign(instances, await seedEnvironments(ssm, ec2));
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
    // The same HTTP front as `blockchain-tenancy local` (lib/local/management-server.ts): stage
    // /v1, SigV4 verified for real against the moto key pair the CLI signs with.
    let api: ManagementServer;
    let endpoint: string;
    const seen: { method: string; path: string; status: number }[] = [];
    beforeAll(async () => {
      api = await serveManagementApi({ deps, credentials: MOTO_CREDENTIALS, region: 'us-east-1', onRequest: (e) => seen.push(e) });
      endpoint = api.endpoint;
    });
    afterAll(() => api?.close());

    const cli = (...args: string[]) => cliWith({}, ...args);
    const cliWith = (env: Record<string, string>, ...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), ...args], {
          env: { PATH: process.env.PATH, HOME: '/nonexistent', ...envFor(moto.endpoint), AWS_ENDPOINT_URL: '', BLOCKCHAIN_TENANCY_ENDPOINT: endpoint, ...env },
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
      expect(seen).toEqual(expect.arrayContaining([{ method: 'GET', path: '/v1/environments', status: 200 }, { method: 'GET', path: '/v1/environments/acme/dev/nodes', status: 200 }]));
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

    it('prints one help text per command (exit 0), the global usage, group help and --version', async () => {
      const texts = new Map<string, string>();
      // One process per command (a user's run), four at a time.
      const outs = new Map<string, { code: number; stdout: string; stderr: string }>();
      for (let i = 0; i < COMMANDS.length; i += 4) {
        await Promise.all(COMMANDS.slice(i, i + 4).map(async (c) => outs.set(c.name, await cli(...c.name.split(' '), '--help'))));
      }
      for (const c of COMMANDS) {
        const out = outs.get(c.name)!;
        expect([out.code, out.stderr]).toEqual([0, '']);
        expect(out.stdout.split('\n')[0]).toBe(`usage: blockchain-tenancy ${[c.name, ...c.args].join(' ')}${Object.keys(c.options).length ? ' [options]' : ''}${c.api ? ' [--endpoint URL] [--region REGION] [--profile NAME] [--json]' : ''}`);
        expect(out.stdout).toContain(c.summary);
        for (const o of Object.keys(c.options)) expect(out.stdout).toContain(`--${o}`);
        texts.set(c.name, out.stdout);
      }
      expect(new Set(texts.values()).size).toBe(COMMANDS.length);
      expect(texts.get('credentials create')).toMatch(/--member MEMBER\s+the member the credential belongs to \(required\)/);
      expect(texts.get('nodes list')).not.toContain('--member');
      // -h anywhere after the command words, too.
      expect((await cli('credentials', 'revoke', '-h')).stdout).toBe(texts.get('credentials revoke'));
      const global = await cli('--help');
      expect(global.code).toBe(0);
      for (const c of COMMANDS) expect(global.stdout).toContain(`  ${[c.name, ...c.args].join(' ')}`);
      expect(global.stdout).toContain('exit codes: 0 ok, 1 the API refused the request (4xx/5xx), 2 usage error, 3 API unreachable or no AWS credentials');
      expect((await cli('help', 'credentials', 'create')).stdout).toBe(texts.get('credentials create'));
      expect((await cli('help')).stdout).toBe(global.stdout);
      expect(await cli('help', 'frobnicate')).toMatchObject({ code: 2, stderr: expect.stringContaining('no help for "frobnicate": it is not a command') });
      const group = await cli('nodes', '--help');
      expect(group.stdout.split('\n')[0]).toBe('usage: blockchain-tenancy nodes <list|start|stop|reboot|add|remove> ...');
      const version = await cli('--version');
      expect([version.code, version.stdout]).toEqual([0, `blockchain-tenancy ${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}\n`]);
    }, 180_000);

    it('accepts --opt=value and --opt value, anywhere after the command words', async () => {
      const out = await cli('credentials', 'create', '--member=acme', 'acme/dev', '--days=2', '--description', 'two words');
      expect(out.code).toBe(0);
      const id = /credential (bt[a-z2-7]{24}) for member acme/.exec(out.stdout)![1];
      const listed = await cli('credentials', 'list', 'acme/dev', '--member=acme', '--json');
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.stdout) as { credentials: { id: string; description?: string }[] }).credentials).toContainEqual(expect.objectContaining({ id, description: 'two words' }));
      const viaEquals = await cli('nodes', 'list', 'acme/dev', `--endpoint=${endpoint}`, '--region=us-east-1');
      expect(viaEquals.code).toBe(0);
    });

    it.each([
      [['credentials', 'create', 'acme/dev', '--member', 'acme', 'extra'], /unexpected argument "extra" for "credentials create", which takes <tenant>\/<env>; remove it/],
      [['nodes', 'list', 'acme/dev', 'validator-1', 'x'], /unexpected arguments "validator-1" "x" for "nodes list", which takes <tenant>\/<env>; remove them/],
      [['environments', 'list', 'acme/dev'], /unexpected argument "acme\/dev" for "environments list", which takes no arguments/],
      [['nodes', 'list', 'acme/dev', '--member', 'acme'], /unknown option --member for "nodes list"\. It takes --endpoint, --region, --profile, --json \(and --help\): see `blockchain-tenancy nodes list --help`/],
      [['credentials', 'create', 'acme/dev', '--membr', 'acme'], /unknown option --membr for "credentials create"; did you mean --member\?/],
      [['credentials', 'create', 'acme/dev', '--member'], /--member needs a value: write --member VALUE or --member=VALUE/],
      [['credentials', 'create', 'acme/dev', '--member', '--days', '3'], /--member needs a value/],
      [['credentials', 'create', 'acme/dev', '--member', 'a', '--member', 'b'], /--member is given more than once; give it once/],
      [['nodes', 'list', 'acme/dev', '--json=yes'], /--json is a switch and takes no value/],
      [['credentials', 'create', 'acme/dev', '--member', 'acme', '--days', '1.5'], /--days must be a whole number of days >= 1 \(got "1\.5"\)/],
      [['nodes', 'list', 'Acme/dev'], /"Acme\/dev" is not an environment; give it as <tenant>\/<env>, e.g. acme\/dev/],
      [['nodes', 'stop', 'acme/dev'], /"nodes stop" needs <node> after the environment/],
      [['nodes', 'halt', 'acme/dev'], /unknown command "nodes halt"; nodes commands are list, start, stop, reboot/],
      [['environments', 'list', '--endpoint', 'not-a-url'], /--endpoint "not-a-url" is not a URL; give the management API's base URL, e\.g\. https:\/\//],
      [['environments', 'list', '--endpoint', 'http://api.example.com/v1'], /must use https:\/\/ \(http:\/\/ only for a local API on 127\.0\.0\.1 or localhost\)/],
      [['environments', 'list', '--region', 'europe'], /region "europe" \(--region\) is not an AWS region code; write e\.g\. eu-west-1/],
      [[], /no command given; run `blockchain-tenancy --help`/],
    ])('refuses %j with exit 2, naming the problem and the fix, and sends nothing', async (args, message) => {
      const before = seen.length;
      const out = await cli(...args);
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).toMatch(/^blockchain-tenancy: /);
      expect(out.stdout).toBe('');
      expect(seen.length).toBe(before);
    });

    it('says why the API is unreachable (exit 3): connection refused, a host name that does not resolve, an untrusted certificate', async () => {
      const port = await freePort();
      const refused = await cli('environments', 'list', '--endpoint', `http://127.0.0.1:${port}/v1`);
      expect(refused.code).toBe(3);
      expect(refused.stderr.trim()).toBe(
        `blockchain-tenancy: http://127.0.0.1:${port} refused the connection (ECONNREFUSED 127.0.0.1:${port}): nothing listens there; check --endpoint (or BLOCKCHAIN_TENANCY_ENDPOINT: http://127.0.0.1:${port}/v1) and the port`,
      );
      const dns = await cli('environments', 'list', '--endpoint', 'https://api.nonexistent.invalid/v1');
      expect(dns.code).toBe(3);
      expect(dns.stderr).toMatch(/the host name api\.nonexistent\.invalid does not resolve \((ENOTFOUND|EAI_AGAIN)/);
      expect(dns.stderr).toContain('check --endpoint');
      // TLS: a server whose certificate nobody trusts.
      const dir = mkdtempSync(join(tmpdir(), 'cli-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      const tls = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('{}'));
      await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
      try {
        const out = await cli('environments', 'list', '--endpoint', `https://localhost:${(tls.address() as AddressInfo).port}/v1`);
        expect(out.code).toBe(3);
        expect(out.stderr).toMatch(/TLS with https:\/\/localhost:\d+ failed \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
        expect(out.stderr).toContain('NODE_EXTRA_CA_CERTS');
        expect(out.stderr).not.toContain('fetch failed');
      } finally {
        tls.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('verifies the SigV4 signature as API Gateway does: a wrong secret key is refused (403, exit 1)', async () => {
      const out = await cliWith({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' }, 'environments', 'list');
      expect(out.code).toBe(1);
      expect(out.stderr.trim()).toBe('blockchain-tenancy: 403 The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
      const other = await cliWith({ AWS_ACCESS_KEY_ID: 'AKIAOTHER' }, 'environments', 'list');
      expect([other.code, other.stderr.trim()]).toEqual([1, 'blockchain-tenancy: 403 The security token included in the request is invalid.']);
    });

    it('exit codes: 2 for usage errors, 1 for API errors, 3 when unreachable', async () => {
      const usage = await cli('credentials', 'create', 'acme/dev');
      expect([usage.code, usage.stderr]).toEqual([2, expect.stringContaining('credentials create needs --member <member>')]);
      const api = await cli('nodes', 'stop', 'acme/dev', 'prod-1');
      expect([api.code, api.stderr.trim()]).toEqual([1, 'blockchain-tenancy: 403 node prod-1 does not belong to acme/dev (field: node)']);
      const down = await cli('environments', 'list', '--endpoint', `http://127.0.0.1:${await freePort()}/v1`);
      expect(down.code).toBe(3);
      expect(down.stderr).toContain('refused the connection (ECONNREFUSED');
    });
  });
});
