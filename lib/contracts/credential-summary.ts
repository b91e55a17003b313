/** Pure types only (no Node.js modules): the web console imports this file too. */
/** A credential as callers see it (the management API's answers, the CLI, the console): never the hash, never the secret. */
export interface CredentialSummary {
  readonly id: string;
  readonly tenantId: string;
  readonly environmentId: string;
  readonly memberId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revoked: boolean;
  readonly revokedAt?: string;
  readonly description?: string;
}
