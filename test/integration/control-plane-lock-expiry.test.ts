import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagementDeps, ProxyEvent, handleManagement } from '../../lambda/management/api';
import { handleRecorder, RecorderDeps } from '../../lambda/management/control-plane/recorder';
import { Deployment, LOCK_EXPIRY_MARGIN_MINUTES, RecorderInput } from '../../lib/contracts/control-plane';
import { createLocalControlPlane, LocalControlPlane } from '../../lib/local/control-plane';
import { MotoServer, startMoto } from '../support/moto';
import { controlPlaneApiDeps } from '../support/control-plane-fixture';
import { BusRecorder, recordBusEvents } from '../support/control-plane-events';

/**
 * The environment lock's expiry against moto (DynamoDB, EventBridge with a real rule delivering
 * to a log group), with the production bound: the ControlPlane construct's default engine
 * (buildTimeout 60 min, state machine timeout buildTimeout + 90 min) plus the 15 minute margin,
 * 165 minutes. The routes' and the recorder's clock is injected and moved past the expiry; the
 * engine that never reports is simply a deployment nobody records the end of.
 */
const LOCK_TIMEOUT_SECONDS = (60 + 90 + LOCK_EXPIRY_MARGIN_MINUTES) * 60;

describe('control plane: an environment lock expires after the engine timeout + margin', () => {
  let moto: MotoServer;
  let plane: LocalControlPlane;
  let deps: ManagementDeps;
  let recorder: RecorderDeps;
  let clock = Date.now();
  const logs: Record<string, unknown>[] = [];
  const LOG_GROUP = '/aws/events/lock-expiry';

  let bus: BusRecorder;
  const eventsOf = (deploymentId: string) => bus.of(deploymentId);
  const call = async (httpMethod: string, path: string, body?: unknown) => {
    const res = await handleManagement({ httpMethod, path, body: body === undefined ? null : JSON.stringify(body), queryStringParameters: null, headers: null } as ProxyEvent, deps);
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const record = (input: Omit<RecorderInput, 'tenantId'>) => handleRecorder({ tenantId: 'acme', ...input } as RecorderInput, recorder);
  const deployment = async (env: string, id: string) => (await plane.store.getDeployment('acme', env, id))!;
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    moto = await startMoto();
    plane = await createLocalControlPlane(moto.clientConfig, { lockTimeoutSeconds: LOCK_TIMEOUT_SECONDS, now: () => new Date(clock) });
    bus = await recordBusEvents(moto.endpoint, plane.deps.eventBusName, LOG_GROUP);
    deps = controlPlaneApiDeps(moto, plane, (e) => logs.push(e));
    recorder = { ...plane.recorder, log: (e) => logs.push(e) };
  });
  afterAll(() => moto?.stop());

  let abandonedId = '';
  let lockedAt = 0;

  it('takes the lock with lockExpiresAt = lockedAt + engine timeout + margin; until then every change gets 409 naming the expiry', async () => {
    lockedAt = clock;
    const created = await call('POST', '/environments/acme/dev', { cidr: '10.10.0.0/16' });
    expect(created.status).toBe(201);
    abandonedId = created.body.deploymentId as string;
    const head = (await plane.store.getEnvironment('acme', 'dev'))!;
    expect(head).toMatchObject({ lockDeploymentId: abandonedId, lockedAt: iso(lockedAt), lockExpiresAt: iso(lockedAt + LOCK_TIMEOUT_SECONDS * 1000) });
    // The engine starts, then dies without another word (retries exhausted, States.Runtime, stopped).
    expect(await record({ deploymentId: abandonedId, environmentId: 'dev', phase: 'started', buildId: 'deploy:1' })).toMatchObject({ recorded: true, status: 'deploying' });

    clock = lockedAt + LOCK_TIMEOUT_SECONDS * 1000 - 1000; // one second before the expiry
    for (const [m, p, body] of [
      ['PATCH', '/environments/acme/dev', { ecrEndpoints: true }],
      ['POST', '/environments/acme/dev/nodes', { id: 'rpc-9', member: 'acme', role: 'member' }],
      ['DELETE', '/environments/acme/dev', undefined],
      ['POST', '/environments/acme/dev', { cidr: '10.10.0.0/16' }],
    ] as const) {
      const out = await call(m, p, body);
      expect([m, p, out.status, out.body.error]).toEqual([
        m,
        p,
        409,
        { code: 'DeploymentInProgress', deploymentId: abandonedId, lockExpiresAt: head.lockExpiresAt, message: expect.stringContaining(`its lock expires at ${head.lockExpiresAt}`) },
      ]);
    }
    expect(await deployment('dev', abandonedId)).toMatchObject({ status: 'deploying' });
  });

  it('after the expiry the next change takes the lock over and fails the abandoned deployment with the reason; its event is delivered', async () => {
    clock = lockedAt + LOCK_TIMEOUT_SECONDS * 1000 + 1000;
    const out = await call('PATCH', '/environments/acme/dev', { ecrEndpoints: true });
    expect(out).toMatchObject({ status: 202, body: { configVersion: 2, status: 'queued' } });
    const reason = `abandoned: the engine did not report within 165 minutes (lock expired at ${iso(lockedAt + LOCK_TIMEOUT_SECONDS * 1000)})`;
    const abandoned = await deployment('dev', abandonedId);
    expect(abandoned).toMatchObject({ status: 'failed', reason, updatedAt: iso(clock) });
    expect(abandoned.history.map((h) => h.status)).toEqual(['queued', 'deploying', 'failed']);
    expect(abandoned.history[2]).toEqual({ status: 'failed', at: iso(clock), reason });
    expect(await plane.store.getEnvironment('acme', 'dev')).toMatchObject({ lockDeploymentId: out.body.deploymentId, lockedAt: iso(clock), lockExpiresAt: iso(clock + LOCK_TIMEOUT_SECONDS * 1000) });
    const events = await eventsOf(abandonedId);
    expect(events.filter((e) => e.type === 'Deployment Status Changed').map((e) => [e.detail.status, e.detail.previousStatus, e.detail.reason])).toEqual([
      ['deploying', 'queued', undefined],
      ['failed', 'deploying', reason],
    ]);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'deployment abandoned', deploymentId: abandonedId, takenOverBy: out.body.deploymentId }));
    const list = (await call('GET', '/environments/acme/dev/deployments')).body.deployments as Deployment[];
    expect(list.map((d) => [d.deploymentId, d.status])).toEqual([
      [out.body.deploymentId, 'queued'],
      [abandonedId, 'failed'],
    ]);
  });

  it('a late report of the abandoned deployment changes nothing (recorded: false) and never releases the new lock', async () => {
    const head = await plane.store.getEnvironment('acme', 'dev');
    const before = await deployment('dev', abandonedId);
    for (const phase of ['succeeded', 'failed', 'started'] as const) {
      expect(await record({ deploymentId: abandonedId, environmentId: 'dev', phase, buildId: 'deploy:1' })).toEqual({ deploymentId: abandonedId, status: 'failed', recorded: false });
    }
    expect(await deployment('dev', abandonedId)).toEqual(before);
    expect(await plane.store.getEnvironment('acme', 'dev')).toEqual(head);
    expect((await eventsOf(abandonedId)).filter((e) => e.detail.status === 'ready')).toEqual([]);
    // The new deployment ends normally and releases the lock (and its expiry).
    await record({ deploymentId: head!.lockDeploymentId!, environmentId: 'dev', phase: 'started', buildId: 'deploy:2' });
    await record({ deploymentId: head!.lockDeploymentId!, environmentId: 'dev', phase: 'succeeded', buildId: 'deploy:2' });
    const released = (await plane.store.getEnvironment('acme', 'dev'))!;
    expect([released.lockDeploymentId, released.lockedAt, released.lockExpiresAt, released.deployedConfigVersion]).toEqual([undefined, undefined, undefined, 2]);
  });

  it('takes over a lock written in the past directly in the table, also one without lockExpiresAt (taken before locks expired)', async () => {
    const patched = await call('PATCH', '/environments/acme/dev', { flowLogRetentionDays: 60 });
    expect(patched.status).toBe(202);
    const stuck = patched.body.deploymentId as string; // queued: the engine never even started
    const key = { PK: { S: 'TENANT#acme' }, SK: { S: 'ENV#dev' } };
    // A lock whose expiry is one second gone (the clock has not moved).
    await plane.dynamodb.send(new UpdateItemCommand({ TableName: plane.deps.tableName, Key: key, UpdateExpression: 'SET lockExpiresAt = :x', ExpressionAttributeValues: { ':x': { S: iso(clock - 1000) } } }));
    const first = await call('PATCH', '/environments/acme/dev', { flowLogRetentionDays: 90 });
    expect(first.status).toBe(202);
    expect(await deployment('dev', stuck)).toMatchObject({ status: 'failed', reason: `abandoned: the engine did not report within 165 minutes (lock expired at ${iso(clock - 1000)})` });
    expect((await eventsOf(stuck)).filter((e) => e.type === 'Deployment Status Changed').map((e) => [e.detail.status, e.detail.previousStatus])).toEqual([['failed', 'queued']]);

    // A lock from before expiry existed: lockedAt only. Not yet 165 minutes old -> 409 with the derived expiry.
    const legacy = first.body.deploymentId as string;
    const legacyAt = clock - (LOCK_TIMEOUT_SECONDS - 60) * 1000;
    await plane.dynamodb.send(new UpdateItemCommand({ TableName: plane.deps.tableName, Key: key, UpdateExpression: 'SET lockedAt = :at REMOVE lockExpiresAt', ExpressionAttributeValues: { ':at': { S: iso(legacyAt) } } }));
    const early = await call('DELETE', '/environments/acme/dev');
    expect(early).toMatchObject({ status: 409, body: { error: { code: 'DeploymentInProgress', deploymentId: legacy, lockExpiresAt: iso(legacyAt + LOCK_TIMEOUT_SECONDS * 1000) } } });
    clock += 61_000;
    const taken = await call('DELETE', '/environments/acme/dev');
    expect(taken.status).toBe(202);
    expect(await deployment('dev', legacy)).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^abandoned: the engine did not report within 165 minutes/) });
    expect(await plane.store.getEnvironment('acme', 'dev')).toMatchObject({ lockDeploymentId: taken.body.deploymentId, lockExpiresAt: iso(clock + LOCK_TIMEOUT_SECONDS * 1000) });
  });

  it('two changes racing for one expired lock: one takes it, the other gets 409 naming the winner; the abandoned deployment fails once', async () => {
    const stuck = (await plane.store.getEnvironment('acme', 'dev'))!.lockDeploymentId!;
    clock += (LOCK_TIMEOUT_SECONDS + 1) * 1000;
    const [a, b] = await Promise.all([call('PATCH', '/environments/acme/dev', { ecrEndpoints: false }), call('PATCH', '/environments/acme/dev', { flowLogRetentionDays: 30 })]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const [won, lost] = a.status === 202 ? [a, b] : [b, a];
    expect(lost.body.error).toMatchObject({ code: 'DeploymentInProgress', deploymentId: won.body.deploymentId, lockExpiresAt: iso(clock + LOCK_TIMEOUT_SECONDS * 1000) });
    const failed = await deployment('dev', stuck);
    expect(failed.history.filter((h) => h.status === 'failed')).toHaveLength(1);
    expect((await eventsOf(stuck)).filter((e) => e.detail.status === 'failed')).toHaveLength(1);
  });

  it('a report that lands between the takeover\'s read and its write wins: the change gets 409 ConcurrentChange, a retry takes over what is left', async () => {
    // Runs `before` once, just ahead of the next TransactWriteItems (the takeover's).
    let before: (() => Promise<unknown>) | undefined;
    plane.dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        if (before && context.commandName === 'TransactWriteItemsCommand') {
          const run = before;
          before = undefined;
          await run();
        }
        return next(args);
      },
      { step: 'initialize', priority: 'high', name: 'reportInBetween' },
    );
    const qa = (await call('POST', '/environments/acme/qa', { cidr: '10.20.0.0/16' })).body.deploymentId as string;
    clock += (LOCK_TIMEOUT_SECONDS + 1) * 1000;
    // The engine's 'started' arrives just as the lock is taken over: the deployment is no longer queued.
    before = () => record({ deploymentId: qa, environmentId: 'qa', phase: 'started', buildId: 'deploy:qa' });
    const raced = await call('PATCH', '/environments/acme/qa', { ecrEndpoints: true });
    expect(raced).toMatchObject({ status: 409, body: { error: { code: 'ConcurrentChange' } } });
    expect(await deployment('qa', qa)).toMatchObject({ status: 'deploying' });
    expect((await plane.store.getEnvironment('acme', 'qa'))?.lockDeploymentId).toBe(qa);
    const retry = await call('PATCH', '/environments/acme/qa', { ecrEndpoints: true });
    expect(retry.status).toBe(202);
    expect((await eventsOf(qa)).filter((e) => e.detail.status === 'failed').map((e) => e.detail.previousStatus)).toEqual(['deploying']);

    // Its 'succeeded' arrives just as the (expired) lock is taken over: it is recorded, the lock released, nothing failed.
    const next = retry.body.deploymentId as string;
    clock += (LOCK_TIMEOUT_SECONDS + 1) * 1000;
    before = () => record({ deploymentId: next, environmentId: 'qa', phase: 'succeeded', buildId: 'deploy:qa2' });
    expect((await call('PATCH', '/environments/acme/qa', { flowLogRetentionDays: 60 })).body.error).toMatchObject({ code: 'ConcurrentChange' });
    expect(await deployment('qa', next)).toMatchObject({ status: 'ready' });
    expect((await plane.store.getEnvironment('acme', 'qa'))?.lockDeploymentId).toBeUndefined();
    expect((await call('PATCH', '/environments/acme/qa', { flowLogRetentionDays: 60 })).status).toBe(202);
  });
});
