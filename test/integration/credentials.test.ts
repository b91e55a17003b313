import { randomBytes } from 'node:crypto';
import { SecretsManagerClient, GetSecretValueCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizerResult, createAuthorizer } from '../../lambda/authorizer/handler';
import { handleIssuer } from '../../lambda/issuer/handler';
import { basicAuthorization, credentialSecretName, parseBasicAuthorization } from '../../lib/contracts/credential-format';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { MotoServer, startMoto } from '../support/moto';

describe('issuer and authorizer handlers against Secrets Manager on moto (real argon2id)', () => {
  let moto: MotoServer;
  let sm: SecretsManagerClient;
  let service: CredentialService;
  const logs: string[] = [];
  let authorizer: ReturnType<typeof createAuthorizer>;
  const event = (authorization: unknown, nodeId = 'validator-1') => ({
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api/prod/POST/',
    headers: { Authorization: authorization as string },
    pathParameters: { nodeId },
  });
  const effect = (r: AuthorizerResult) => r.policyDocument.Statement[0].Effect;

  beforeAll(async () => {
    moto = await startMoto();
    sm = new SecretsManagerClient(moto.clientConfig);
    service = new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'dev', defaultLifetimeDays: 30, maxLifetimeDays: 90 });
    authorizer = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme', 'globex-1': 'globex' }, log: (e) => logs.push(JSON.stringify(e)) });
  });
  afterAll(() => moto?.stop());

  it('create returns the secret once and stores only a salted argon2id hash', async () => {
    const out = (await handleIssuer(service, { action: 'create', memberId: 'acme', description: 'wallet app' })) as { ok: true; credential: { id: string; expiresAt: string; createdAt: string }; secret: string };
    expect(out.ok).toBe(true);
    expect(out.secret).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    expect(Date.parse(out.credential.expiresAt) - Date.parse(out.credential.createdAt)).toBe(30 * 86_400_000);
    const stored = (await sm.send(new GetSecretValueCommand({ SecretId: credentialSecretName('acme', 'dev', out.credential.id) }))).SecretString!;
    expect(stored).not.toContain(out.secret);
    expect(JSON.parse(stored).hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: credentialSecretName('acme', 'dev', out.credential.id) }));
    expect(described.Tags).toEqual(expect.arrayContaining([{ Key: 'blockchain-tenancy:member', Value: 'acme' }]));
    // list / describe never return secrets or hashes
    const listed = JSON.stringify(await handleIssuer(service, { action: 'list' }));
    expect(listed).toContain(out.credential.id);
    expect(listed).not.toContain(out.secret);
    expect(listed).not.toContain('argon2id');
    expect(JSON.stringify(await handleIssuer(service, { action: 'describe', id: out.credential.id }))).not.toContain('argon2');

    const allowed = await authorizer.handle(event(basicAuthorization(out.credential.id, out.secret)));
    expect(effect(allowed)).toBe('Allow');
    expect(allowed.context).toMatchObject({ credentialId: out.credential.id, memberId: 'acme' });

    // regenerate: the old secret stops working, the new one works
    const regen = (await handleIssuer(service, { action: 'regenerate', id: out.credential.id })) as { secret: string };
    const fresh = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme' }, log: () => undefined });
    expect(effect(await fresh.handle(event(basicAuthorization(out.credential.id, out.secret))))).toBe('Deny');
    expect(effect(await fresh.handle(event(basicAuthorization(out.credential.id, regen.secret))))).toBe('Allow');
    expect(logs.join('\n')).not.toContain(out.secret);
    expect(logs.join('\n')).not.toContain(regen.secret);
  });

  it('refuses wrong secrets, unknown ids, expired, revoked, other environment and other member', async () => {
    const good = await service.create({ memberId: 'acme' });
    const past = new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'dev', now: () => new Date(Date.now() - 10 * 86_400_000) });
    const expired = await past.create({ memberId: 'acme', lifetimeDays: 1 });
    const revoked = await service.create({ memberId: 'acme' });
    await handleIssuer(service, { action: 'revoke', id: revoked.credential.id });
    const prod = await new CredentialService({ secretsManager: sm, tenantId: 'acme', environmentId: 'prod' }).create({ memberId: 'acme' });
    const cases: [string, string, string, string][] = [
      ['wrong secret', good.credential.id, randomBytes(32).toString('base64url'), 'mismatch'],
      ['unknown id', 'bt' + 'q'.repeat(24), good.secret, 'unknown'],
      ['expired', expired.credential.id, expired.secret, 'expired'],
      ['revoked', revoked.credential.id, revoked.secret, 'revoked'],
      ['other environment', prod.credential.id, prod.secret, 'unknown'],
    ];
    for (const [name, id, secret, outcome] of cases) {
      const r = await authorizer.handle(event(basicAuthorization(id, secret)));
      expect(effect(r), name).toBe('Deny');
      expect(logs.at(-1), name).toContain(`"outcome":"${outcome}"`);
    }
    const otherMember = await authorizer.handle(event(basicAuthorization(good.credential.id, good.secret), 'globex-1'));
    expect(effect(otherMember)).toBe('Deny');
    expect(logs.at(-1)).toContain('"outcome":"wrong-member"');
    expect(effect(await authorizer.handle(event(basicAuthorization(good.credential.id, good.secret), 'no-such-node')))).toBe('Deny');
  });

  it('fuzz: thousands of random and hostile Authorization headers are all denied, none crash', async () => {
    const good = await service.create({ memberId: 'acme' });
    const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
    const hostile: unknown[] = [
      undefined, null, '', 'Basic', 'Basic ', 'Bearer x', 'Basic ====', 'Basic \u0000', `Basic ${b64(':')}`,
      `Basic ${b64(good.credential.id)}`, `Basic ${b64(`${good.credential.id}:`)}`, `Basic ${b64(`:${good.secret}`)}`,
      `Basic ${b64(`${good.credential.id}:${good.secret}x`)}`, `Basic ${b64(`${good.credential.id.toUpperCase()}:${good.secret}`)}`,
      `Basic ${b64(`${good.credential.id}:${good.secret}`)}extra`, `basic  ${b64(`${good.credential.id}:${good.secret.slice(1)}`)}`,
      `Basic ${'A'.repeat(10_000)}`, `Basic ${b64(`../../${good.credential.id}:${good.secret}`)}`, `Basic ${b64(`${good.credential.id}\n:${good.secret}`)}`,
      `Basic ${b64(`bt${'a'.repeat(24)}:${'A'.repeat(43)}`)}`, 42, {}, ['Basic x'], `Basic ${b64(`${good.credential.id}:${good.secret}`).replace(/=+$/, '')}`,
    ];
    const base32 = (n: number) => Array.from(randomBytes(n), (b) => 'abcdefghijklmnopqrstuvwxyz234567'[b & 31]).join('');
    for (let i = 0; i < 3000; i++) {
      // Every 30th is well-formed (valid id and secret shapes) so it goes all the way to argon2id.
      const kind = i % 30 === 0 ? 3 : i % 3;
      const len = 1 + (i % 300);
      hostile.push(
        kind === 0
          ? randomBytes(len).toString('latin1')
          : kind === 1
            ? `Basic ${randomBytes(len).toString('base64')}`
            : kind === 2
              ? `Basic ${b64(`${randomBytes(1 + (i % 40)).toString('latin1')}:${randomBytes(1 + (i % 60)).toString('latin1')}`)}`
              : `Basic ${b64(`bt${i % 60 === 0 ? good.credential.id.slice(2) : base32(24)}:${randomBytes(32).toString('base64url')}`)}`,
      );
    }
    let allowed = 0;
    let parsed = 0;
    for (const h of hostile) {
      if (parseBasicAuthorization(h)) parsed++;
      const r = await authorizer.handle(event(h));
      if (effect(r) === 'Allow') allowed++;
    }
    expect(allowed).toBe(0);
    // The well-formed ones (about 100) reached argon2id, with the real id or unknown ids.
    expect(parsed).toBeGreaterThanOrEqual(100);
    expect(parsed).toBeLessThan(hostile.length);
  }, 120_000);

  it('fails closed when Secrets Manager fails', async () => {
    const good = await service.create({ memberId: 'acme' });
    const broken = new SecretsManagerClient(moto.clientConfig);
    broken.middlewareStack.add(
      () => async () => {
        const e = new Error('service unavailable');
        e.name = 'InternalServiceError';
        throw e;
      },
      { step: 'initialize', name: 'break' },
    );
    const failing = createAuthorizer(new CredentialService({ secretsManager: broken, tenantId: 'acme', environmentId: 'dev' }), {
      nodeMembers: { 'validator-1': 'acme' },
      log: (e) => logs.push(JSON.stringify(e)),
    });
    const r = await failing.handle(event(basicAuthorization(good.credential.id, good.secret)));
    expect(effect(r)).toBe('Deny');
    expect(r.context.reason).toBe('unavailable');
    expect(await handleIssuer(new CredentialService({ secretsManager: broken, tenantId: 'acme', environmentId: 'dev' }), { action: 'list' })).toEqual({
      ok: false,
      status: 500,
      error: { message: 'the credential store is unavailable; try again' },
    });
  });

  it('issuer errors name the field and never leak internals', async () => {
    expect(await handleIssuer(service, { action: 'create', memberId: 'Not OK' })).toMatchObject({ ok: false, status: 400, error: { field: 'memberId' } });
    expect(await handleIssuer(service, { action: 'create', memberId: 'acme', lifetimeDays: 400 })).toMatchObject({
      status: 400,
      error: { field: 'lifetimeDays', message: 'lifetimeDays: must be a whole number of days from 1 to 90' },
    });
    expect(await handleIssuer(service, { action: 'describe', id: 'bt' + 'z'.repeat(24) })).toMatchObject({ status: 404, error: { field: 'id' } });
    expect(await handleIssuer(service, { action: 'explode' })).toMatchObject({ status: 400, error: { field: 'action' } });
  });

  it('bounds its decision cache and keeps no plaintext in it', async () => {
    const small = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme' }, maxEntries: 5, log: () => undefined });
    for (let i = 0; i < 20; i++) await small.handle(event(basicAuthorization(`bt${'b'.repeat(23)}${'abcdefghijklmnopqrstu'[i]}`, 'A'.repeat(43))));
    expect(small.cacheSize()).toBe(5);
  });
});
