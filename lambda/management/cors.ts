import type { ProxyResult } from './api';

/**
 * Adds the web console's origin to an answer of the management API (CORS), so a browser app
 * served from that origin may read it. CORS grants nothing: every call is still SigV4-signed and
 * authorized by IAM before the handler runs. Without an origin (no console), answers are unchanged.
 */
export function withCors(result: ProxyResult, origin: string | undefined): ProxyResult {
  if (!origin) return result;
  return { ...result, headers: { ...result.headers, 'access-control-allow-origin': origin, vary: 'Origin' } };
}
