// Child process: the real gate on 127.0.0.1:$PORT in front of $UPSTREAM_HTTP, with the real
// authorizer handler (argon2id, Secrets Manager at $AWS_ENDPOINT_URL: moto). Prints "ready".
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createAuthorizer } from '../../lambda/authorizer/handler';
import { createGate } from '../../lambda/node-gate/gate';
import { authorizerEvent, decisionFromAnswer } from '../../lambda/node-gate/lambda-authorizer';
import { CredentialService } from '../../lib/credentials/credential-service';

const service = new CredentialService({ secretsManager: new SecretsManagerClient({ maxAttempts: 1 }), tenantId: 'acme', environmentId: 'dev' });
const authorizer = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme' }, log: () => undefined });
const gate = createGate({
  nodeId: 'validator-1',
  upstreamHttp: process.env.UPSTREAM_HTTP!,
  upstreamWs: process.env.UPSTREAM_WS!,
  allowTtlMs: 60_000,
  log: () => undefined,
  authorize: async (a, n) => decisionFromAnswer(await authorizer.handle(authorizerEvent(a, n))),
});
gate.server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
