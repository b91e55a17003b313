/**
 * Lambda entry of the credential issuer. TENANT_ID, ENVIRONMENT_ID, KMS_KEY_ID,
 * DEFAULT_LIFETIME_DAYS, MAX_LIFETIME_DAYS come from the environment. Logs carry the action and
 * the outcome, never a secret.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CredentialService } from '../credentials/credential-service';
import { handleIssuer } from './handler';

const service = new CredentialService({
  secretsManager: new SecretsManagerClient({}),
  tenantId: process.env.TENANT_ID ?? '',
  environmentId: process.env.ENVIRONMENT_ID ?? '',
  ...(process.env.KMS_KEY_ID ? { kmsKeyId: process.env.KMS_KEY_ID } : {}),
  ...(process.env.DEFAULT_LIFETIME_DAYS ? { defaultLifetimeDays: Number(process.env.DEFAULT_LIFETIME_DAYS) } : {}),
  ...(process.env.MAX_LIFETIME_DAYS ? { maxLifetimeDays: Number(process.env.MAX_LIFETIME_DAYS) } : {}),
});

export async function handler(request: unknown) {
  const response = await handleIssuer(service, request);
  console.log(JSON.stringify({ msg: 'issuer', action: (request as { action?: unknown })?.action, ok: response.ok }));
  return response;
}
