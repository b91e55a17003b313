/**
 * The management API client: every call SigV4-signed (service execute-api) with the signed-in
 * user's temporary credentials, so API Gateway's IAM authorization decides as it does for the
 * CLI. Errors keep the API's shape `{ code, message, field? }`; API Gateway's own refusals
 * (`{ message }`) and network failures become the same shape. Never a stack trace.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { EnvironmentRegistrationValue } from '../../lib/contracts/registration-format';
import type { CredentialUrl } from '../../lib/contracts/connection-snippets';
import type { CredentialSummary } from '../../lib/contracts/credential-summary';
import type { AwsCredentials } from './auth/cognito';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface NodeSummary {
  readonly nodeId: string;
  readonly memberId: string;
  readonly state: string;
  readonly instanceId?: string;
  readonly privateIp?: string;
  readonly instanceType?: string;
  readonly launchTime?: string;
  readonly endpoints?: { readonly https: string; readonly wss: string };
}

/** A credential as the API lists it (never the hash, never the secret). */
export type Credential = CredentialSummary;

export interface SecretAnswer {
  readonly credential: Credential;
  readonly secret: string;
  readonly urls: CredentialUrl[];
}

export type Environment = EnvironmentRegistrationValue;

/** A control-plane deployment (the lifecycle API's contract). */
export interface Deployment {
  readonly deploymentId: string;
  readonly action: 'create' | 'update' | 'delete';
  readonly configVersion: number;
  readonly status: 'queued' | 'deploying' | 'ready' | 'failed';
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly reason?: string;
  /** A delete that destroys the data too. */
  readonly purge?: boolean;
}

export class ManagementApi {
  constructor(
    private readonly endpoint: string,
    private readonly region: string,
    private readonly credentials: () => Promise<AwsCredentials>,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, query?: Record<string, string>, extraHeaders?: Record<string, string>): Promise<T> {
    const url = new URL(this.endpoint + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const creds = await this.credentials();
    const signer = new SignatureV4({ credentials: creds, region: this.region, service: 'execute-api', sha256: Sha256 });
    const headers: Record<string, string> = { host: url.host, accept: 'application/json', ...(payload ? { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}), ...extraHeaders };
    const query2: Record<string, string> = {};
    url.searchParams.forEach((v, k) => (query2[k] = v));
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: query2,
      headers,
      ...(payload ? { body: payload } : {}),
    });
    const sendHeaders = { ...signed.headers } as Record<string, string>;
    delete sendHeaders.host; // the browser sets it (a forbidden header)
    let res: Response;
    try {
      res = await fetch(url, { method, headers: sendHeaders, body: payload, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
    } catch {
      throw new ApiError(0, 'Unreachable', `the management API at ${url.origin} did not answer; check your network and try again`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = (parsed as { error?: { code?: string; message?: string; field?: string }; message?: string } | undefined) ?? {};
      if (e.error?.message) throw new ApiError(res.status, e.error.code ?? String(res.status), e.error.message, e.error.field);
      if (e.message) throw new ApiError(res.status, res.status === 403 ? 'AccessDenied' : String(res.status), e.message);
      throw new ApiError(res.status, String(res.status), `the management API answered ${res.status} ${res.statusText}`.trim());
    }
    return parsed as T;
  }

  private env = (t: string, e: string) => `/environments/${encodeURIComponent(t)}/${encodeURIComponent(e)}`;

  listEnvironments = () => this.call<{ environments: Environment[] }>('GET', '/environments').then((r) => r.environments);
  getEnvironment = (t: string, e: string) => this.call<{ environment: Environment }>('GET', this.env(t, e)).then((r) => r.environment);
  listNodes = (t: string, e: string) => this.call<{ nodes: NodeSummary[] }>('GET', `${this.env(t, e)}/nodes`).then((r) => r.nodes);
  nodeAction = (t: string, e: string, node: string, action: 'start' | 'stop' | 'reboot') =>
    this.call<{ nodeId: string; action: string; instanceIds: string[] }>('POST', `${this.env(t, e)}/nodes/${encodeURIComponent(node)}/${action}`);
  listCredentials = (t: string, e: string) => this.call<{ credentials: Credential[] }>('GET', `${this.env(t, e)}/credentials`).then((r) => r.credentials);
  createCredential = (t: string, e: string, body: { memberId: string; lifetimeDays?: number; description?: string }) =>
    this.call<SecretAnswer>('POST', `${this.env(t, e)}/credentials`, body);
  revokeCredential = (t: string, e: string, id: string) => this.call<{ credential: Credential }>('DELETE', `${this.env(t, e)}/credentials/${encodeURIComponent(id)}`);
  // The environment lifecycle (control plane; only when config.json's lifecycle is true).
  getConfig = (t: string, e: string) => this.call<{ configVersion: number; config: Record<string, unknown> }>('GET', `${this.env(t, e)}/config`);
  createEnvironment = (t: string, e: string, config: Record<string, unknown>, idempotencyKey: string) =>
    this.call<{ deploymentId: string; configVersion: number; status: string }>('POST', this.env(t, e), config, undefined, { 'idempotency-key': idempotencyKey });
  patchEnvironment = (t: string, e: string, patch: Record<string, unknown>) => this.call<{ deploymentId: string; configVersion: number; status: string }>('PATCH', this.env(t, e), patch);
  /** purge destroys the data too; the API then wants the environment's id repeated in confirm. */
  deleteEnvironment = (t: string, e: string, purge?: { confirm: string }) =>
    this.call<{ deploymentId: string; status: string }>('DELETE', this.env(t, e), undefined, purge ? { purge: 'true', confirm: purge.confirm } : undefined);
  addNode = (t: string, e: string, node: Record<string, unknown>) => this.call<{ deploymentId: string; configVersion: number; status: string }>('POST', `${this.env(t, e)}/nodes`, node);
  removeNode = (t: string, e: string, node: string) => this.call<{ deploymentId: string; configVersion: number; status: string }>('DELETE', `${this.env(t, e)}/nodes/${encodeURIComponent(node)}`);
  listDeployments = (t: string, e: string) => this.call<{ deployments: Deployment[] }>('GET', `${this.env(t, e)}/deployments`).then((r) => r.deployments);
  regenerateCredential = (t: string, e: string, id: string) => this.call<SecretAnswer>('POST', `${this.env(t, e)}/credentials/${encodeURIComponent(id)}/regenerate`);
}
