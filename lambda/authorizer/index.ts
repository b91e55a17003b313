/**
 * Lambda entry of the environment authorizer (API Gateway REQUEST-authorizer contract; the node
 * gate invokes it directly with the same event). Configuration from the environment:
 * TENANT_ID, ENVIRONMENT_ID, NODE_MEMBERS (JSON: member id -> node ids), ALLOW_TTL_SECONDS (at most,
 * and by default, AUTHORIZER_ALLOW_TTL_SECONDS of lib/contracts/revocation.ts: the revocation bound).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredentialService } from '../credentials/credential-service';
import { decodeNodeMembers } from '../../lib/contracts/node-members';
import { AUTHORIZER_ALLOW_TTL_SECONDS } from '../../lib/contracts/revocation';
import { RequestAuthorizerEvent, createAuthorizer } from './handler';

const authorizer = createAuthorizer(
  new CredentialService({
    secretsManager: new SecretsManagerClient({}),
    tenantId: process.env.TENANT_ID ?? '',
    environmentId: process.env.ENVIRONMENT_ID ?? '',
  }),
  {
    nodeMembers: decodeNodeMembers(process.env.NODE_MEMBERS),
    allowTtlMs: allowTtlSeconds(process.env.ALLOW_TTL_SECONDS) * 1000,
    scope: { tenant: process.env.TENANT_ID ?? '', environment: process.env.ENVIRONMENT_ID ?? '' },
  },
);

export const handler = (event: RequestAuthorizerEvent) => authorizer.handle(event);

/** A configured allow-cache time never stretches the revocation bound (unset or invalid: the default). */
function allowTtlSeconds(value: string | undefined): number {
  const n = Number(value);
  return value !== undefined && value !== '' && Number.isFinite(n) && n >= 0 ? Math.min(n, AUTHORIZER_ALLOW_TTL_SECONDS) : AUTHORIZER_ALLOW_TTL_SECONDS;
}
