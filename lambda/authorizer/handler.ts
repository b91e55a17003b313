import { NODE_HEADER } from '../../lib/contracts/gate-protocol';
import { credentialCacheKey, parseBasicAuthorization } from '../../lib/contracts/credential-format';
import { CredentialService, VerifyOutcome } from '../credentials/credential-service';
import { AUTHORIZER_ALLOW_TTL_SECONDS, DENY_TTL_SECONDS } from '../../lib/contracts/revocation';
import { LruMap } from '../shared/lru-map';

/** The API Gateway REQUEST-authorizer event (the fields used). */
export interface RequestAuthorizerEvent {
  readonly type?: string;
  readonly methodArn: string;
  readonly headers?: Record<string, string | undefined> | null;
  readonly pathParameters?: Record<string, string | undefined> | null;
}

/** The API Gateway authorizer response. */
export interface AuthorizerResult {
  readonly principalId: string;
  readonly policyDocument: { readonly Version: '2012-10-17'; readonly Statement: { Action: string; Effect: 'Allow' | 'Deny'; Resource: string }[] };
  readonly context: Record<string, string>;
}

export interface AuthorizerOptions {
  /** Node id -> owning member id. A credential opens only its own member's nodes. */
  readonly nodeMembers: Readonly<Record<string, string>>;
  /**
   * How long an allow is cached (never past the credential's expiry). Part of the revocation
   * bound (lib/contracts/revocation.ts). @default AUTHORIZER_ALLOW_TTL_SECONDS (14 s)
   */
  readonly allowTtlMs?: number;
  /** How long a deny is cached. @default DENY_TTL_SECONDS (5 s) */
  readonly denyTtlMs?: number;
  /** Most cached decisions. @default 10000 */
  readonly maxEntries?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
  readonly now?: () => number;
  /** Tenant and environment, written on every decision log line (metric filter dimensions). */
  readonly scope?: { readonly tenant: string; readonly environment: string };
}

/** Header names that carry the target node when API Gateway path parameters do not (lib/contracts/gate-protocol.ts). */
export { NODE_HEADER };

interface CacheEntry {
  readonly result: AuthorizerResult;
  readonly expires: number;
}

/**
 * The environment's authorizer: Basic credentials -> argon2id verification -> Allow or Deny for
 * the requested node. Fails closed on any error. Caches decisions (keyed by a salted hash of the
 * header, never the plaintext) in a bounded LRU.
 */
export function createAuthorizer(service: CredentialService, options: AuthorizerOptions) {
  const cache = new LruMap<CacheEntry>(options.maxEntries ?? 10_000);
  const allowTtl = options.allowTtlMs ?? AUTHORIZER_ALLOW_TTL_SECONDS * 1000;
  const denyTtl = options.denyTtlMs ?? DENY_TTL_SECONDS * 1000;
  const now = options.now ?? Date.now;
  const log = options.log ?? ((e) => console.log(JSON.stringify(e)));

  const decide = (effect: 'Allow' | 'Deny', methodArn: string, principalId: string, context: Record<string, string>): AuthorizerResult => ({
    principalId,
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }] },
    context,
  });

  return {
    cacheSize: () => cache.size,
    async handle(event: RequestAuthorizerEvent): Promise<AuthorizerResult> {
      const started = now();
      let outcome: VerifyOutcome | 'malformed' | 'unknown-node' | 'error' = 'error';
      let credentialId: string | undefined;
      const headers = lowerCase(event?.headers);
      const nodeId = event?.pathParameters?.nodeId ?? headers[NODE_HEADER];
      try {
        const authorization = headers.authorization;
        const creds = parseBasicAuthorization(authorization);
        if (!creds || typeof authorization !== 'string') {
          outcome = 'malformed';
          return decide('Deny', event.methodArn, 'anonymous', { reason: 'unauthorized' });
        }
        credentialId = creds.id;
        const memberId = typeof nodeId === 'string' ? options.nodeMembers[nodeId] : undefined;
        if (!memberId) {
          outcome = 'unknown-node';
          return decide('Deny', event.methodArn, creds.id, { reason: 'forbidden' });
        }
        const key = credentialCacheKey(authorization, nodeId!);
        const hit = cache.get(key);
        if (hit && hit.expires > now()) {
          outcome = hit.result.policyDocument.Statement[0].Effect === 'Allow' ? 'allowed' : 'mismatch';
          return { ...hit.result, policyDocument: { ...hit.result.policyDocument, Statement: [{ ...hit.result.policyDocument.Statement[0], Resource: event.methodArn }] } };
        }
        const verified = await service.verify(creds.id, creds.secret, memberId);
        outcome = verified.outcome;
        const allowed = verified.outcome === 'allowed';
        const result = allowed
          ? decide('Allow', event.methodArn, creds.id, {
              credentialId: creds.id,
              memberId: verified.credential!.memberId,
              expiresAt: verified.credential!.expiresAt,
            })
          : decide('Deny', event.methodArn, creds.id, { reason: 'forbidden' });
        const ttl = allowed ? Math.min(allowTtl, Date.parse(verified.credential!.expiresAt) - now()) : denyTtl;
        if (ttl > 0) cache.set(key, { result, expires: now() + ttl });
        return result;
      } catch (e) {
        outcome = 'error';
        log({ level: 'error', msg: 'authorizer failed closed', error: (e as Error).name });
        return decide('Deny', event?.methodArn ?? '*', credentialId ?? 'anonymous', { reason: 'unavailable' });
      } finally {
        log({ msg: 'authorize', ...options.scope, outcome, credentialId, nodeId: typeof nodeId === 'string' ? nodeId.slice(0, 64) : undefined, ms: now() - started });
      }
    },
  };
}

function lowerCase(headers: Record<string, string | undefined> | null | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (!headers || typeof headers !== 'object') return out;
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = typeof v === 'string' ? v : undefined;
  return out;
}
