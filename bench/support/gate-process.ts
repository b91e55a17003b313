// Child process: the real gate on 127.0.0.1:$PORT in front of $UPSTREAM_HTTP, with the real
// authorizer handler (argon2id, Secrets Manager at $AWS_ENDPOINT_URL: moto). Prints "ready".
// Over the IPC channel (when there is one) it answers {type:'stats'} with its cache and upstream
// counters, so the benchmark can show the cache was warm and upstream connections were reused.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createAuthorizer } from '../../lambda/authorizer/handler';
import { authorizerEvent, decisionFromAnswer } from '../../lambda/node-gate/lambda-authorizer';
import { CredentialService } from '../../lambda/credentials/credential-service';
import { UndiciUpstream } from './undici-upstream';

// GATE_MODULE (optional, for before/after comparisons): another build of the gate module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createGate } = require(process.env.GATE_MODULE ?? '../../lambda/node-gate/gate') as typeof import('../../lambda/node-gate/gate');
const service = new CredentialService({ secretsManager: new SecretsManagerClient({ maxAttempts: 1 }), tenantId: 'acme', environmentId: 'dev' });
const authorizer = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme' }, log: () => undefined });
// UPSTREAM_CLIENT=undici: undici's Pool instead of the gate's own pool (the benchmark compares both).
const upstreamClient = process.env.UPSTREAM_CLIENT === 'undici' ? new UndiciUpstream(process.env.UPSTREAM_HTTP!) : undefined;
const gate = createGate({
  ...(upstreamClient ? { upstreamClient } : {}),
  nodeId: 'validator-1',
  upstreamHttp: process.env.UPSTREAM_HTTP!,
  upstreamWs: process.env.UPSTREAM_WS!,
  // Long enough that the cache stays warm for the whole benchmark (the target is warm-cache cost).
  allowTtlMs: Number(process.env.ALLOW_TTL_MS ?? 600_000),
  log: () => undefined,
  authorize: async (a, n) => decisionFromAnswer(await authorizer.handle(authorizerEvent(a, n))),
});
gate.server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
process.on('message', (m: { type?: string }) => {
  if (m?.type === 'stats') process.send?.({ type: 'stats', hits: gate.cache.hits, misses: gate.cache.misses, authorizerCalls: gate.cache.authorizerCalls, upstreamConnectionsOpened: gate.upstream?.connectionsOpened });
});
// Exit cleanly on a signal (so `node --cpu-prof` writes its profile).
for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => void gate.close().then(() => process.exit(0)));
