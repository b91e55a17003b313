/**
 * Lambda entry of the environment authorizer (API Gateway REQUEST-authorizer contract; the node
 * gate invokes it directly with the same event). Configuration from the environment:
 * TENANT_ID, ENVIRONMENT_ID, NODE_MEMBERS (JSON: member id -> node ids), ALLOW_TTL_SECONDS.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredentialService } from '../credentials/credential-service';
import { decodeNodeMembers } from '../../lib/credentials/node-members';
import { RequestAuthorizerEvent, createAuthorizer } from './handler';

const authorizer = createAuthorizer(
  new CredentialService({
    secretsManager: new SecretsManagerClient({}),
    tenantId: process.env.TENANT_ID ?? '',
    environmentId: process.env.ENVIRONMENT_ID ?? '',
  }),
  {
    nodeMembers: decodeNodeMembers(process.env.NODE_MEMBERS),
    allowTtlMs: Number(process.env.ALLOW_TTL_SECONDS ?? 60) * 1000,
    scope: { tenant: process.env.TENANT_ID ?? '', environment: process.env.ENVIRONMENT_ID ?? '' },
  },
);

export const handler = (event: RequestAuthorizerEvent) => authorizer.handle(event);
