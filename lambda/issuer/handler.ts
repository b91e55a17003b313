import { CredentialNotFoundError, CredentialService, CredentialValidationError } from '../credentials/credential-service';

/** What the issuer accepts (invoked by the management API or an operator's `aws lambda invoke`). */
export type IssuerRequest =
  | { readonly action: 'create'; readonly memberId: string; readonly lifetimeDays?: number; readonly description?: string }
  | { readonly action: 'list'; readonly memberId?: string }
  | { readonly action: 'describe' | 'revoke' | 'regenerate'; readonly id: string };

/** The issuer's answer: `secret` appears only in create / regenerate answers, exactly once. */
export type IssuerResponse =
  | { readonly ok: true; readonly credential?: unknown; readonly credentials?: unknown[]; readonly secret?: string }
  | { readonly ok: false; readonly status: 400 | 404 | 500; readonly error: { readonly field?: string; readonly message: string } };

/** Routes an issuer request to the credential service. Never returns a stack trace or a hash. */
export async function handleIssuer(service: CredentialService, request: unknown): Promise<IssuerResponse> {
  const r = (request ?? {}) as Record<string, unknown>;
  try {
    switch (r.action) {
      case 'create': {
        const out = await service.create({
          memberId: r.memberId as string,
          ...(r.lifetimeDays !== undefined ? { lifetimeDays: r.lifetimeDays as number } : {}),
          ...(r.description !== undefined ? { description: r.description as string } : {}),
        });
        return { ok: true, credential: out.credential, secret: out.secret };
      }
      case 'list':
        return { ok: true, credentials: await service.list(typeof r.memberId === 'string' ? { memberId: r.memberId } : {}) };
      case 'describe':
        return { ok: true, credential: await service.describe(r.id as string) };
      case 'revoke':
        return { ok: true, credential: await service.revoke(r.id as string) };
      case 'regenerate': {
        const out = await service.regenerate(r.id as string);
        return { ok: true, credential: out.credential, secret: out.secret };
      }
      default:
        return { ok: false, status: 400, error: { field: 'action', message: 'must be one of create, list, describe, revoke, regenerate' } };
    }
  } catch (e) {
    if (e instanceof CredentialValidationError) return { ok: false, status: 400, error: { field: e.field, message: e.message } };
    if (e instanceof CredentialNotFoundError) return { ok: false, status: 404, error: { field: 'id', message: e.message } };
    console.error(JSON.stringify({ msg: 'issuer failed', action: r.action, error: (e as Error).name }));
    return { ok: false, status: 500, error: { message: 'the credential store is unavailable; try again' } };
  }
}
