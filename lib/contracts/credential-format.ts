/**
 * App credential format (pure; shared by the issuer, the authorizer, the gate and the tests).
 *
 * A credential is `ID:SECRET`, used as `https://ID:SECRET@host/` and `wss://ID:SECRET@host/ws`:
 * - ID: `bt` + 24 lowercase base32 characters (120 random bits; not secret, safe in logs).
 * - SECRET: 43 base64url characters = 256 random bits. Shown once; only its argon2id hash is kept.
 */
import { createHash, hash, randomBytes } from 'node:crypto';
import { ID_PATTERN } from './ids';

export const CREDENTIAL_ID_PATTERN = /^bt[a-z2-7]{24}$/;
export const CREDENTIAL_SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Member ids, like tenant and environment ids (lib/contracts/ids.ts). */
export const MEMBER_ID_PATTERN = ID_PATTERN;
/** Longest Authorization header the parsers look at (anything longer is refused unread). */
export const MAX_AUTHORIZATION_LENGTH = 256;

/**
 * argon2id parameters: m = 19456 KiB, t = 2, p = 1 (an OWASP Password Storage Cheat Sheet
 * setting). About 30-50 ms per verification on one core: slow for guessing, fine behind a cache.
 */
export const ARGON2ID_PARAMETERS = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new credential id. */
export function newCredentialId(): string {
  const bytes = randomBytes(24);
  let id = 'bt';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

/** A new credential secret (256 random bits, base64url). */
export function newCredentialSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The Secrets Manager prefix of an environment's credentials. */
export function credentialSecretPrefix(tenantId: string, environmentId: string): string {
  return `blockchain-tenancy/${tenantId}/${environmentId}/credentials/`;
}

/** The secret that stores one credential's hash and metadata. */
export function credentialSecretName(tenantId: string, environmentId: string, id: string): string {
  return `${credentialSecretPrefix(tenantId, environmentId)}${id}`;
}

/** Parsed Basic credentials. */
export interface BasicCredentials {
  readonly id: string;
  readonly secret: string;
}

/**
 * Parses `Authorization: Basic base64(ID:SECRET)`. Returns undefined for anything else: a
 * missing, oversized, non-Basic, non-base64 or malformed header never throws.
 */
export function parseBasicAuthorization(header: unknown): BasicCredentials | undefined {
  if (typeof header !== 'string' || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!m || m[1].length % 4 !== 0) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const id = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (!CREDENTIAL_ID_PATTERN.test(id) || !CREDENTIAL_SECRET_PATTERN.test(secret)) return undefined;
  return { id, secret };
}

/** `Basic base64(ID:SECRET)`. */
export function basicAuthorization(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/**
 * A cache key for a presented credential that holds no plaintext: SHA-256 of the header with a
 * per-process random salt (so keys are useless outside the process that made them).
 */
const CACHE_SALT = randomBytes(16).toString('hex');
/** One-shot hashing (Node >= 20.12): cheaper than a Hash object on the gate's per-request path. */
const oneShotHash: typeof hash | undefined = typeof hash === 'function' ? hash : undefined;
export function credentialCacheKey(authorization: string, scope = ''): string {
  const input = `${CACHE_SALT}${scope}\0${authorization}`;
  return oneShotHash ? oneShotHash('sha256', input, 'base64url') : createHash('sha256').update(input).digest('base64url');
}

/** What is stored in a credential's secret (JSON). Never contains the plaintext secret. */
export interface StoredCredential {
  readonly version: 1;
  readonly id: string;
  readonly tenantId: string;
  readonly environmentId: string;
  readonly memberId: string;
  /** argon2id PHC string (salted). */
  readonly hash: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revoked: boolean;
  readonly revokedAt?: string;
  readonly description?: string;
}

export type { CredentialSummary } from './credential-summary';
