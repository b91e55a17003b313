/**
 * The management API handler (lambda/management/api.ts) served over HTTP on 127.0.0.1, as API
 * Gateway serves it in AWS: stage prefix (`/v1`), IAM (SigV4) authorization checked for real
 * against one local key pair (API Gateway's refusal bodies: "Missing Authentication Token",
 * "The security token included in the request is invalid.", "The request signature we
 * calculated does not match ..."), then the Lambda proxy event. Used by `blockchain-tenancy local`
 * and by the tests that run the real CLI. Runtime code; lib/index.ts never imports it.
 */
import { createHash } from 'node:crypto';
import { IncomingMessage, Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { ManagementDeps, handleManagement } from '../../lambda/management/api';
import { safePath } from './local-lambda';

/** The key pair the local API accepts (local only: it opens nothing in AWS). */
export interface LocalApiCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Temporary credentials (an access key with its session token), as STS or an identity pool issues them. */
export interface LocalSessionCredentials extends LocalApiCredentials {
  readonly sessionToken?: string;
}

export interface ManagementServerOptions {
  readonly deps: ManagementDeps;
  /** Requests must be SigV4-signed with this key pair, for service execute-api in `region`. */
  readonly credentials: LocalApiCredentials;
  /**
   * Other key pairs the API accepts (e.g. the temporary credentials a Cognito identity pool gave
   * a browser): the secret key (and session token, which must then come in
   * X-Amz-Security-Token) of an access key id, or undefined when unknown.
   * @default only `credentials`
   */
  readonly resolveCredentials?: (accessKeyId: string) => LocalSessionCredentials | undefined;
  /**
   * Answers CORS as API Gateway does with CORS configured for a web app on another origin: the
   * OPTIONS preflight without authorization, and Access-Control-Allow-Origin on every answer
   * (refusals included, as gateway responses configured for it).
   * @default no CORS
   */
  readonly corsAllowOrigin?: string;
  readonly region: string;
  /** @default '/v1' (the deployed stage) */
  readonly stage?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Sees every request's method, path and outcome (never headers or bodies). */
  readonly onRequest?: (entry: { method: string; path: string; status: number }) => void;
}

export interface ManagementServer {
  /** The API base URL, e.g. http://127.0.0.1:41234/v1 (BLOCKCHAIN_TENANCY_ENDPOINT). */
  readonly endpoint: string;
  readonly server: Server;
  close(): Promise<void>;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
/** API Gateway's largest request payload. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway refuses signatures more than 5 minutes off (with "Signature expired"). */
const MAX_SKEW_MS = 5 * 60_000;

/** Why a request is not authorized (API Gateway's answer), or undefined when it is. */
async function refuse(req: IncomingMessage, body: string, opts: ManagementServerOptions, defaultSigner: SignatureV4): Promise<string | undefined> {
  const auth = String(req.headers.authorization ?? '');
  const m = AUTH.exec(auth);
  if (!m) return 'Missing Authentication Token';
  const [, accessKeyId, , region, service, signedHeaders, signature] = m;
  let signer = defaultSigner;
  if (accessKeyId !== opts.credentials.accessKeyId) {
    const other = opts.resolveCredentials?.(accessKeyId);
    if (!other) return 'The security token included in the request is invalid.';
    if (other.sessionToken !== undefined && req.headers['x-amz-security-token'] !== other.sessionToken) return 'The security token included in the request is invalid.';
    signer = new SignatureV4({ credentials: { accessKeyId: other.accessKeyId, secretAccessKey: other.secretAccessKey }, region: opts.region, service: 'execute-api', sha256: Sha256 });
  }
  if (service !== 'execute-api' || region !== opts.region) return `Credential should be scoped to a valid region and service (execute-api in ${opts.region}).`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm) return "Authorization header requires 'X-Amz-Date' or 'Date' header.";
  const signingDate = new Date(Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]));
  if (Math.abs(Date.now() - signingDate.getTime()) > MAX_SKEW_MS) return 'Signature expired: the request time is more than 5 minutes from the server time.';
  const contentSha = req.headers['x-amz-content-sha256'];
  if (typeof contentSha === 'string' && contentSha !== createHash('sha256').update(body).digest('hex')) return 'The request signature we calculated does not match the signature you provided.';
  const url = new URL(req.url ?? '/', 'http://local'); // a valid target: checked by the caller
  const headers: Record<string, string> = {};
  for (const h of signedHeaders.split(';')) {
    const v = req.headers[h];
    if (v === undefined) return 'The request signature we calculated does not match the signature you provided.';
    headers[h] = Array.isArray(v) ? v.join(',') : v;
  }
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => (query[k] = v));
  const [hostname, port] = (headers.host ?? '').split(':');
  const signed = await signer.sign(
    { method: req.method ?? 'GET', protocol: 'http:', hostname, ...(port ? { port: Number(port) } : {}), path: url.pathname, query, headers, ...(body ? { body } : {}) },
    { signingDate },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization))?.[1];
  return expected === signature ? undefined : 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.';
}

/** Serves the management API handler on 127.0.0.1. */
export async function serveManagementApi(opts: ManagementServerOptions): Promise<ManagementServer> {
  const stage = opts.stage ?? '/v1';
  const signer = new SignatureV4({ credentials: opts.credentials, region: opts.region, service: 'execute-api', sha256: Sha256 });
  const server = createServer((req, res) => {
    if (opts.corsAllowOrigin) {
      res.setHeader('access-control-allow-origin', opts.corsAllowOrigin);
      res.setHeader('vary', 'Origin');
      if (req.method === 'OPTIONS') {
        req.resume();
        res
          .writeHead(204, {
            'access-control-allow-methods': 'GET,POST,PATCH,DELETE,OPTIONS',
            'access-control-allow-headers': 'authorization,content-type,accept,x-amz-date,x-amz-security-token,x-amz-content-sha256,idempotency-key',
            'access-control-max-age': '600',
          })
          .end();
        opts.onRequest?.({ method: 'OPTIONS', path: safePath(req.url), status: 204 });
        return;
      }
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        // API Gateway's payload limit (10 MB).
        res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ message: 'Request Too Long' }));
        opts.onRequest?.({ method: req.method ?? 'GET', path: safePath(req.url), status: 413 });
        return;
      }
      void (async () => {
        const path = safePath(req.url);
        const url = new URL(path === '' ? '/' : (req.url ?? '/'), 'http://local');
        const body = Buffer.concat(chunks).toString('utf8');
        let status = 500;
        try {
          if (!path.startsWith(`${stage}/`) && path !== stage) {
            status = 403;
            res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': 'MissingAuthenticationTokenException' }).end(JSON.stringify({ message: 'Missing Authentication Token' }));
            return;
          }
          const refusal = await refuse(req, body, opts, signer);
          if (refusal) {
            status = 403;
            res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: refusal }));
            return;
          }
          const out = await handleManagement(
            { httpMethod: req.method ?? 'GET', path: url.pathname.slice(stage.length) || '/', body: chunks.length ? body : null, queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : null },
            opts.deps,
          );
          status = out.statusCode;
          res.writeHead(out.statusCode, out.headers).end(out.body);
        } catch {
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Internal server error' }));
        } finally {
          opts.onRequest?.({ method: req.method ?? 'GET', path, status });
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}${stage}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
