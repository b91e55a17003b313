import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStackEventsCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementDeps } from '../../lambda/management/api';
import { RecorderDeps, handleRecorder } from '../../lambda/management/control-plane/recorder';
import { REGISTRATION_PREFIX } from '../../lib';
import { Deployment } from '../../lib/contracts/control-plane';
import { LocalControlPlane, createLocalControlPlane } from '../../lib/local/control-plane';
import { ManagementServer, serveManagementApi } from '../../lib/local/management-server';
import { MOTO_CREDENTIALS, MotoServer, envFor, startMoto } from '../support/moto';

/**
 * The control-plane commands of the CLI as an operator runs them: the real CLI process
 * (bin/blockchain-tenancy.ts, SigV4-signed requests) against the real management API handler with
 * its lifecycle routes, served locally as API Gateway serves it (lib/local/management-server.ts),
 * on a real moto server (DynamoDB table, EventBridge bus, SSM, CloudFormation).
 *
 * The engine is AWS's (Step Functions + CodeBuild + CloudFormation) and does not run here: the test
 * plays the state machine by calling the real recorder handler (lambda/management/control-plane/
 * recorder.ts) with the inputs the state machine sends (`started`, `succeeded`, `failed`), and plays
 * the deployed stack by writing the environment's registration parameter (which the environment's
 * stack writes in AWS). moto's CloudFormation never records *_FAILED events, so for the failed
 * deployment DescribeStackEvents of that one stack answers recorded CloudFormation events.
 */
/** What the spinner writes to return to the start of its line and clear it (CR, ESC [K), as a pattern. */
const CLEAR_LINE = '\\r\\u001b\\[K';

describe('CLI control-plane commands end to end (real CLI process, lifecycle routes on moto)', { timeout: 180_000 }, () => {
  let moto: MotoServer;
  let plane: LocalControlPlane;
  let recorder: RecorderDeps;
  let api: ManagementServer;
  let dir: string;
  let ssm: SSMClient;
  const seen: { method: string; path: string; status: number }[] = [];
  const stackEvents = new Map<string, StackEvent[]>();

  beforeAll(async () => {
    moto = await startMoto();
    plane = await createLocalControlPlane(moto.clientConfig);
    ssm = new SSMClient(moto.clientConfig);
    const deps: ManagementDeps = {
      ssm,
      ec2: async () => new EC2Client(moto.clientConfig),
      autoscaling: async () => new AutoScalingClient(moto.clientConfig),
      invokeIssuer: async () => Promise.reject(new Error('no issuer in this test')),
      log: (e) => process.env.CLI_E2E_DEBUG && console.error(JSON.stringify(e)),
      controlPlane: plane.deps,
    };
    const cfn = {
      send: (cmd: unknown) => {
        if (cmd instanceof DescribeStackEventsCommand && stackEvents.has(cmd.input.StackName!)) return Promise.resolve({ StackEvents: stackEvents.get(cmd.input.StackName!) });
        return plane.cloudformation.send(cmd as DescribeStackEventsCommand);
      },
    } as unknown as CloudFormationClient;
    recorder = { ...plane.recorder, cloudformation: () => cfn, log: () => undefined };
    api = await serveManagementApi({ deps, credentials: MOTO_CREDENTIALS, region: 'us-east-1', onRequest: (e) => seen.push(e) });
    dir = mkdtempSync(join(tmpdir(), 'cli-control-plane-'));
  });
  afterAll(async () => {
    await api?.close();
    await moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return path;
  };

  /** Starts the CLI as a user does (no TTY: no spinner); `done` resolves when it exits. */
  const start = (...args: string[]) => {
    const p: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), ...args], {
      env: { PATH: process.env.PATH, HOME: '/nonexistent', ...envFor(moto.endpoint), AWS_ENDPOINT_URL: '', BLOCKCHAIN_TENANCY_ENDPOINT: api.endpoint },
    });
    const run = { stdout: '', stderr: '', exited: false, done: undefined as unknown as Promise<{ code: number; stdout: string; stderr: string }> };
    p.stdout.on('data', (d: Buffer) => (run.stdout += d));
    p.stderr.on('data', (d: Buffer) => (run.stderr += d));
    run.done = new Promise((resolve) =>
      p.on('close', (code) => {
        run.exited = true;
        resolve({ code: code ?? -1, stdout: run.stdout, stderr: run.stderr });
      }),
    );
    return run;
  };
  const cli = (...args: string[]) => start(...args).done;
  /** Waits until the running CLI printed a line matching `re` (or exited). */
  const printed = async (run: ReturnType<typeof start>, re: RegExp) => {
    for (let i = 0; i < 400 && !re.test(run.stdout) && !run.exited; i++) await new Promise((r) => setTimeout(r, 100));
    expect(`${run.stdout}\n--- stderr:\n${run.stderr}`).toMatch(re);
    return re.exec(run.stdout)!;
  };
  /** Plays the engine's state machine: one report to the recorder. */
  const report = (tenantId: string, environmentId: string, deploymentId: string, phase: 'started' | 'succeeded' | 'failed', extra: Record<string, unknown> = {}) =>
    handleRecorder({ deploymentId, tenantId, environmentId, phase, buildId: `blockchain-tenancy-deploy:${deploymentId}`, ...extra }, recorder);
  /** Plays a successful deployment: started, the stack registers the environment, succeeded. */
  const deploy = async (tenantId: string, environmentId: string, deploymentId: string) => {
    await report(tenantId, environmentId, deploymentId, 'started');
    await register(tenantId, environmentId);
    await report(tenantId, environmentId, deploymentId, 'succeeded');
  };
  /** What a deployed environment stack writes (lib/contracts/registration-format.ts). */
  const register = (tenantId: string, environmentId: string) =>
    ssm.send(
      new PutParameterCommand({
        Name: `${REGISTRATION_PREFIX}${tenantId}/${environmentId}`,
        Type: 'String',
        Overwrite: true,
        Value: JSON.stringify({
          tenantId,
          environmentId,
          stackName: `${tenantId}-${environmentId}`,
          region: 'us-east-1',
          account: '123456789012',
          vpcId: 'vpc-12345678',
          kmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/x',
          credentialSecretPrefix: `blockchain-tenancy/${tenantId}/${environmentId}/credentials/`,
          issuerFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:issuer-${tenantId}-${environmentId}`,
          nodes: {},
        }),
      }),
    );
  /** The environment's newest deployment once it is another than `previous` (--json prints nothing before the end). */
  const queued = async (tenantId: string, environmentId: string, previous: string): Promise<Deployment> => {
    for (let i = 0; i < 300; i++) {
      const [d] = await plane.store.listDeployments(tenantId, environmentId);
      if (d && d.deploymentId !== previous) return d;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no new deployment of ${tenantId}/${environmentId}`);
  };
  const deploymentIdOf = (stdout: string) => /deployment (d-\d{17}-[0-9a-f]{8})/.exec(stdout)![1];
  const validators = (member: string) => [1, 2, 3, 4].map((i) => ({ id: `validator-${i}`, member, role: 'validator' }));

  it('create --file --wait follows queued, deploying and ready with their times and exits 0; the key is printed for a retry', async () => {
    const qa = file('qa.json', { cidr: '10.20.0.0/16', removalPolicy: 'destroy', chain: { members: [{ id: 'acme' }], nodes: validators('acme') } });
    const run = start('environments', 'create', 'acme/qa', '--file', qa, '--wait', '--interval', '1');
    const id = (await printed(run, /deployment (d-\d{17}-[0-9a-f]{8}) queued/))[1];
    await printed(run, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}queued$/m);
    await report('acme', 'qa', id, 'started');
    await printed(run, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ {2}deploying$/m);
    await register('acme', 'qa');
    await report('acme', 'qa', id, 'succeeded');
    const out = await run.done;
    expect([out.code, out.stderr]).toEqual([0, '']);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toBe(`acme/qa: create requested: deployment ${id} queued, config version 1`);
    expect(lines[1]).toMatch(/^idempotency key: [0-9a-f-]{36} \(a retry with --idempotency-key [0-9a-f-]{36} answers this deployment instead of starting another\)$/);
    expect(lines[2]).toBe(`deployment ${id}: create acme/qa, config version 1, stack AcmeQa`);
    expect(lines.slice(3).map((l) => l.replace(/^\S+ \S+ {2}/, ''))).toEqual(['queued', 'deploying', 'ready', `acme/qa: ready (deployment ${id})`]);
    // A retry with the printed key answers the same deployment and starts none.
    const key = /idempotency key: (\S+)/.exec(out.stdout)![1];
    const retry = await cli('environments', 'create', 'acme/qa', '--file', qa, '--idempotency-key', key, '--json');
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout)).toEqual({ deploymentId: id, environment: { tenantId: 'acme', environmentId: 'qa' }, configVersion: 1, status: 'queued', idempotencyKey: key });
    const history = await cli('environments', 'deployments', 'acme/qa', '--json');
    expect((JSON.parse(history.stdout) as { deployments: Deployment[] }).deployments.map((d) => [d.deploymentId, d.status])).toEqual([[id, 'ready']]);
    const table = await cli('environments', 'deployments', 'acme/qa');
    expect(table.stdout).toMatch(new RegExp(`^DEPLOYMENTID\\s+ACTION\\s+STATUS\\s+CONFIG\\s+CREATED\\s+UPDATED\\s+REASON\\n${id}\\s+create\\s+ready\\s+1\\s`));
  });

  it('a failed deployment: status --wait prints the CloudFormation reason and exits 1; a change while one runs is refused with 409 naming it', async () => {
    const dev = file('dev.json', { cidr: '10.21.0.0/16', chain: { members: [{ id: 'acme' }], nodes: validators('acme') } });
    const created = await cli('environments', 'create', 'acme/dev', '--file', dev);
    expect(created.code).toBe(0);
    const id = deploymentIdOf(created.stdout);
    expect(created.stdout).toContain(`follow it: blockchain-tenancy environments status acme/dev --deployment ${id} --wait`);
    // One deployment per environment at a time.
    const busy = await cli('environments', 'update', 'acme/dev', '--file', file('patch.json', { ecrEndpoints: true }));
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`blockchain-tenancy: 409 deployment ${id} of acme/dev is running`);
    expect(busy.stderr).toContain(`wait for it to finish: blockchain-tenancy environments status acme/dev --deployment ${id} --wait; then run this command again`);

    const run = start('environments', 'status', 'acme/dev', '--wait', '--interval', '1');
    await printed(run, /queued$/m);
    await report('acme', 'dev', id, 'started');
    await printed(run, /deploying$/m);
    const reason = 'Resource handler returned message: "You have requested more vCPU capacity than your current vCPU limit of 32 allows" (HandlerErrorCode: ServiceLimitExceeded)';
    const at = (s: number) => new Date(Date.now() + s * 1000);
    stackEvents.set('AcmeDev', [
      { StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/AcmeDev/1', StackName: 'AcmeDev', EventId: 'e3', LogicalResourceId: 'AcmeDev', ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'ROLLBACK_IN_PROGRESS', ResourceStatusReason: 'The following resource(s) failed to create: [NodeValidator1Asg]. Rollback requested by user.', Timestamp: at(3) },
      { StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/AcmeDev/1', StackName: 'AcmeDev', EventId: 'e2', LogicalResourceId: 'NodeValidator1Asg', ResourceType: 'AWS::AutoScaling::AutoScalingGroup', ResourceStatus: 'CREATE_FAILED', ResourceStatusReason: reason, Timestamp: at(2) },
      { StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/AcmeDev/1', StackName: 'AcmeDev', EventId: 'e1', LogicalResourceId: 'NodeValidator1Asg', ResourceType: 'AWS::AutoScaling::AutoScalingGroup', ResourceStatus: 'CREATE_IN_PROGRESS', Timestamp: at(1) },
    ]);
    await report('acme', 'dev', id, 'failed', { error: { Error: 'States.TaskFailed', Cause: '{"Build":{"Phases":[]}}' } });
    const out = await run.done;
    expect(out.code).toBe(1);
    const cfnReason = `AcmeDev NodeValidator1Asg (AWS::AutoScaling::AutoScalingGroup) CREATE_FAILED: ${reason}`;
    expect(out.stdout).toMatch(new RegExp(`^\\S+ \\S+ {2}failed: ${cfnReason.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    expect(out.stderr.trim()).toBe(`acme/dev: deployment ${id} failed: ${cfnReason} [build blockchain-tenancy-deploy:${id}]`);
    // Without --wait: the status once, exit 1 for a failed deployment; --json the deployment.
    const once = await cli('environments', 'status', 'acme/dev', '--json');
    expect(once.code).toBe(1);
    expect(JSON.parse(once.stdout)).toMatchObject({ deploymentId: id, status: 'failed', reason: cfnReason, history: [{ status: 'queued' }, { status: 'deploying' }, { status: 'failed', reason: cfnReason }] });
  });

  it('status --wait gives up after --timeout with exit 4 and says the deployment goes on', async () => {
    const patch = file('lifetime.json', { credentials: { defaultLifetimeDays: 30 } });
    const started = await cli('environments', 'update', 'acme/qa', '--file', patch);
    expect(started.code).toBe(0);
    const id = deploymentIdOf(started.stdout);
    const out = await cli('environments', 'status', 'acme/qa', '--wait', '--timeout', '2', '--interval', '1');
    expect(out.code).toBe(4);
    expect(out.stderr).toMatch(new RegExp(`gave up waiting after \\ds \\(--timeout 2\\): deployment ${id} is still queued; it goes on in AWS\\. Follow it: blockchain-tenancy environments status acme/qa --deployment ${id} --wait`));
    // No terminal (above): no spinner, stderr holds the message alone. On a terminal (a pty from
    // util-linux `script`), the spinner redraws one line on stderr while it waits.
    expect(out.stderr).not.toContain('\r');
    const tty = await new Promise<{ code: number; output: string }>((resolve) => {
      const command = [process.execPath, '--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), 'environments', 'status', 'acme/qa', '--wait', '--timeout', '3', '--interval', '1'].join(' ');
      const p = spawn('script', ['-qfec', command, '/dev/null'], { env: { PATH: process.env.PATH, HOME: '/nonexistent', ...envFor(moto.endpoint), AWS_ENDPOINT_URL: '', BLOCKCHAIN_TENANCY_ENDPOINT: api.endpoint } });
      let output = '';
      p.stdout.on('data', (d: Buffer) => (output += d));
      p.on('close', (code) => resolve({ code: code ?? -1, output }));
    });
    expect(tty.code).toBe(4);
    expect(tty.output).toMatch(new RegExp(`${CLEAR_LINE}[|/\\\\-] queued \\d+s \\(deployment ${id}\\)`));
    // Cleared before each line it prints: the transition and the timeout message start on a clean line.
    expect(tty.output).toMatch(new RegExp(`${CLEAR_LINE}(\r\n)?blockchain-tenancy: gave up waiting after`));
    await deploy('acme', 'qa', id);
    expect((await cli('environments', 'status', 'acme/qa', '--deployment', id)).code).toBe(0);
  });

  it('a bad file is refused with field paths before any request (exit 2); what only the server knows comes back as 400 with its field', async () => {
    const before = seen.length;
    const bad = await cli('environments', 'create', 'acme/bad', '--file', file('bad.json', { cidr: '10.0.0.0/8', chain: { nodes: [{ id: 'v1', member: 'acme', role: 'boss' }] } }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('blockchain-tenancy: --file');
    expect(bad.stderr).toContain('invalid environment config (2 problems; nothing was sent):\n  - cidr: "10.0.0.0/8" has prefix /8; a VPC takes /16 to /24, e.g. "10.10.0.0/16"\n  - chain.nodes[0].role: must be one of "validator", "member", got "boss"');
    const badPatch = await cli('environments', 'update', 'acme/qa', '--file', file('bad-patch.json', { removalPolicy: 'keep' }));
    expect(badPatch.code).toBe(2);
    expect(badPatch.stderr).toContain('  - removalPolicy: must be one of "retain", "destroy", got "keep"');
    // Hostile paths: a device that never ends, a directory, a file over the API's 10 MB limit.
    const big = file('big.json', `{"cidr": "10.20.0.0/16", "x": "${'a'.repeat(10 * 1024 * 1024)}"}`);
    for (const [path, why] of [['/dev/zero', 'not a regular file'], [dir, 'not a regular file'], [big, 'more than the API\'s 10 MB request limit']]) {
      const out = await cli('environments', 'create', 'acme/bad', '--file', path);
      expect([out.code, out.stdout]).toEqual([2, '']);
      expect(out.stderr).toMatch(new RegExp(`^blockchain-tenancy: --file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read it \\(.*${why.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\); give the path of a JSON file\\n$`));
    }
    const badImport = await cli('config', 'import', file('bad-tenants.json', { tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.21.0.0/16', colour: 'red' }] }] }));
    expect(badImport.code).toBe(2);
    expect(badImport.stderr).toMatch(/ {2}- tenants\[0\]\.environments\[0\]\.colour: unknown field/);
    // Nothing that changes anything was sent (update reads the stored config to check the patch).
    expect(seen.slice(before).filter((s) => s.method !== 'GET')).toEqual([]);
    // The CIDR of another stored environment is known to the server only.
    const overlap = await cli('environments', 'create', 'acme/qa2', '--file', file('qa2.json', { cidr: '10.20.128.0/17' }));
    expect(overlap.code).toBe(1);
    expect(overlap.stderr.trim()).toMatch(/^blockchain-tenancy: 400 body\.cidr: "10\.20\.128\.0\/17" overlaps environment acme\/qa's cidr "10\.20\.0\.0\/16"; .* \(field: body\.cidr\)$/);
    const json = await cli('environments', 'create', 'acme/qa2', '--file', file('qa2.json', { cidr: '10.20.128.0/17' }), '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 400, error: { code: 'BadRequest', field: 'body.cidr' } });
  });

  it('adds and removes a node (--wait), refusing a bad node file locally', async () => {
    const before = seen.length;
    const badNode = await cli('nodes', 'add', 'acme/qa', '--file', file('bad-node.json', { id: 'rpc-1', member: 'acme', role: 'member', architecture: 'sparc' }));
    expect(badNode.code).toBe(2);
    expect(badNode.stderr).toContain('invalid node (1 problem; nothing was sent):\n  - architecture: must be one of "x86_64", "arm64", got "sparc"');
    expect(seen.slice(before).map((s) => s.method)).toEqual(['GET']);

    const add = start('nodes', 'add', 'acme/qa', '--file', file('node.json', { id: 'rpc-1', member: 'acme', role: 'member', instanceType: 't4g.large' }), '--wait', '--interval', '1');
    const id = (await printed(add, /deployment (d-\d{17}-[0-9a-f]{8}) queued/))[1];
    await deploy('acme', 'qa', id);
    const added = await add.done;
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`acme/qa: add node rpc-1 requested: deployment ${id} queued`);
    expect(added.stdout).toContain(`acme/qa: ready (deployment ${id})`);
    const config = (await plane.store.getEnvironment('acme', 'qa'))!;
    const stored = (await plane.store.getConfigVersion('acme', 'qa', config.configVersion))!;
    expect(stored.config.chain!.nodes!.map((n: { id: string }) => n.id)).toEqual(['validator-1', 'validator-2', 'validator-3', 'validator-4', 'rpc-1']);

    const remove = start('nodes', 'remove', 'acme/qa', 'rpc-1', '--wait', '--interval', '1', '--json');
    const d = await queued('acme', 'qa', id);
    await deploy('acme', 'qa', d.deploymentId);
    const removed = await remove.done;
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ deploymentId: d.deploymentId, deployment: { status: 'ready', action: 'update' } });
  });

  it('deletes keeping the data, and with --purge only when --confirm repeats the environment id', async () => {
    const mismatch = await cli('environments', 'delete', 'acme/dev', '--purge', '--confirm', 'qa');
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain('--confirm "qa" does not match the environment acme/dev; to destroy its data write --confirm dev; nothing was sent');
    const keep = start('environments', 'delete', 'acme/qa', '--wait', '--interval', '1');
    const id = (await printed(keep, /deployment (d-\d{17}-[0-9a-f]{8}) queued/))[1];
    await report('acme', 'qa', id, 'started');
    await ssm.send(new DeleteParameterCommand({ Name: `${REGISTRATION_PREFIX}acme/qa` })); // the deleted stack's registration goes with it
    await report('acme', 'qa', id, 'succeeded');
    const kept = await keep.done;
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(`acme/qa: delete (data kept) requested: deployment ${id} queued`);
    expect(kept.stdout).toContain(`deployment ${id}: delete (data kept) acme/qa`);
    expect(kept.stdout).toContain(`acme/qa: deleted (deployment ${id})`);
    const before = seen.length;
    const purge = await cli('environments', 'delete', 'acme/dev', '--purge', '--confirm', 'dev', '--json');
    expect(purge.code).toBe(0);
    const answer = JSON.parse(purge.stdout) as { deploymentId: string };
    // One request (the local server logs paths without their query); the API saw ?purge=true&confirm=dev:
    expect(seen.slice(before)).toEqual([{ method: 'DELETE', path: '/v1/environments/acme/dev', status: 202 }]);
    expect(await plane.store.getDeployment('acme', 'dev', answer.deploymentId)).toMatchObject({ action: 'delete', purge: true, status: 'queued' });
    expect((await cli('environments', 'status', 'acme/dev')).stdout).toContain(`deployment ${answer.deploymentId}: delete (purge: data destroyed) acme/dev`);
  });

  it('config import creates and updates from a tenants.json (plan first, --dry-run sends nothing), is idempotent, and config export gives the file back', async () => {
    const tenants = {
      tenants: [
        { id: 'globex', environments: [{ id: 'dev', cidr: '10.40.0.0/16', credentials: { defaultLifetimeDays: 30 } }] },
        { id: 'initech', environments: [{ id: 'dev', cidr: '10.30.0.0/16', removalPolicy: 'destroy' }, { id: 'prod', cidr: '10.31.0.0/16', chain: { members: [{ id: 'initech' }], nodes: validators('initech') } }] },
      ],
    };
    const path = file('import.json', tenants);
    let before = seen.length;
    const dry = await cli('config', 'import', path, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(['globex/dev    create     (not stored yet)', 'initech/dev   create     (not stored yet)', 'initech/prod  create     (not stored yet)', 'plan: 3 to create, 0 to update, 0 to leave unchanged', 'dry run: nothing was sent', ''].join('\n'));
    expect(seen.slice(before).filter((s) => s.method !== 'GET')).toEqual([]);
    const dryJson = await cli('config', 'import', path, '--dry-run', '--json');
    expect(JSON.parse(dryJson.stdout)).toEqual({ plan: ['globex/dev', 'initech/dev', 'initech/prod'].map((e) => ({ tenantId: e.split('/')[0], environmentId: e.split('/')[1], action: 'create', changes: [] })) });

    const run = start('config', 'import', path, '--wait', '--interval', '1');
    for (const env of ['globex/dev', 'initech/dev', 'initech/prod']) {
      const id = (await printed(run, new RegExp(`^${env}: create requested: deployment (d-\\d{17}-[0-9a-f]{8}) queued$`, 'm')))[1];
      const [t, e] = env.split('/');
      await deploy(t, e, id);
    }
    const applied = await run.done;
    expect([applied.code, applied.stderr]).toEqual([0, '']);
    expect(applied.stdout).toMatch(/^initech\/prod: initech\/prod: ready \(deployment d-/m);

    // The same file again: nothing to do, nothing sent but reads.
    before = seen.length;
    const again = await cli('config', 'import', path);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('plan: 0 to create, 0 to update, 3 to leave unchanged');
    expect(again.stdout).toContain('nothing to do: every environment of the file equals its stored config');
    expect(seen.slice(before).filter((s) => s.method !== 'GET')).toEqual([]);

    // A changed file: the plan names the changed fields; only that environment is patched.
    const changed = structuredClone(tenants) as typeof tenants & { tenants: { environments: Record<string, unknown>[] }[] };
    delete changed.tenants[1].environments[0].removalPolicy;
    changed.tenants[0].environments[0].credentials = { defaultLifetimeDays: 60 };
    before = seen.length;
    const update = await cli('config', 'import', file('changed.json', changed), '--json');
    expect(update.code).toBe(0);
    const results = (JSON.parse(update.stdout) as { results: { tenantId: string; environmentId: string; action: string; deploymentId?: string }[] }).results;
    expect(results.map((r) => `${r.tenantId}/${r.environmentId} ${r.action}`)).toEqual(['globex/dev update', 'initech/dev update', 'initech/prod unchanged']);
    expect(seen.slice(before).filter((s) => s.method !== 'GET')).toEqual([
      { method: 'PATCH', path: '/v1/environments/globex/dev', status: 202 },
      { method: 'PATCH', path: '/v1/environments/initech/dev', status: 202 },
    ]);
    for (const r of results.filter((x) => x.deploymentId)) await deploy(r.tenantId, r.environmentId, r.deploymentId!);
    const initechDev = await cli('config', 'import', file('changed.json', changed), '--dry-run');
    expect(initechDev.stdout).toContain('plan: 0 to create, 0 to update, 3 to leave unchanged');

    // Export: every stored, deployed environment back in the tenants.json shape (acme/qa was
    // deleted; acme/dev never deployed: its first deployment failed, so it is not registered).
    const out = join(dir, 'exported.json');
    const exported = await cli('config', 'export', '--out', out);
    expect([exported.code, exported.stderr]).toEqual([0, '']);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(changed);
    expect(exported.stdout).toBe(`wrote 3 environments of 2 tenants to ${out}\n`);
    const printedExport = await cli('config', 'export');
    expect(JSON.parse(printedExport.stdout)).toEqual(changed);
    // The export imports as "unchanged": the round trip is exact.
    const roundTrip = await cli('config', 'import', out, '--dry-run');
    expect(roundTrip.stdout).toMatch(/plan: 0 to create, 0 to update, \d to leave unchanged/);
  });
});
