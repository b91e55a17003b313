/** The management API's error and answer shapes (shared by its route modules). */

/** An answer with a status and `{ error: { code, message, field? } }`. */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly field?: string,
    /** More members of the error object (e.g. `lockExpiresAt` of a 409 DeploymentInProgress). */
    public readonly details?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/** The API Gateway (REST, Lambda proxy) answer. */
export interface ProxyResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A JSON answer (never cached). */
export const json = (statusCode: number, body: unknown): ProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});
