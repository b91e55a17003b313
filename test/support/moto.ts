import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { LOCAL_AWS_CREDENTIALS, LOCAL_AWS_REGION, LocalMoto, startMotoServer } from '../../lib/local/moto-server';
import { ProcessGroup } from '../../lib/local/processes';

/** Credentials moto accepts; never real ones (those of lib/local/moto-server.ts). */
export const MOTO_CREDENTIALS = LOCAL_AWS_CREDENTIALS;
export const MOTO_REGION = LOCAL_AWS_REGION;

/** The bin directory of a pinned Python venv ('moto' or 'dev'), installed on first use. */
export function venvBin(name: 'moto' | 'dev' = 'moto'): string {
  return execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'ensure-venv.sh'), name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/** A free TCP port on 127.0.0.1. */
export { freePort } from '../../lib/local/processes';

/** A running moto server on 127.0.0.1 (its own process, its own state). */
export interface MotoServer {
  /** e.g. http://127.0.0.1:41234 — pass as `endpoint` to @aws-sdk clients. */
  readonly endpoint: string;
  /** Client config for @aws-sdk v3 clients pointed at this server. */
  readonly clientConfig: LocalMoto['clientConfig'];
  /** Wipes all state (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts moto's server on a free loopback port and waits until it answers (the shared module of
 * `blockchain-tenancy local`, lib/local/moto-server.ts).
 */
export async function startMoto(env: Readonly<Record<string, string>> = {}): Promise<MotoServer> {
  const processes = new ProcessGroup();
  const moto = await startMotoServer(join(venvBin(), 'moto_server'), processes, 60_000, env);
  const endpoint = moto.endpoint;
  return {
    endpoint,
    clientConfig: moto.clientConfig,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    stop: () => processes.stopAll(),
  };
}

/** Environment variables that point the AWS SDK (and Lambda handlers) at a moto server. */
export function envFor(endpoint: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    AWS_REGION: MOTO_REGION,
    AWS_DEFAULT_REGION: MOTO_REGION,
    AWS_ENDPOINT_URL: endpoint,
  };
}

/**
 * One call of an AWS JSON-protocol API on moto (x-amz-json-1.1; for services without an SDK
 * client here, e.g. CloudWatch Logs): moto checks no signature, so a placeholder one is sent.
 */
export async function motoJson(endpoint: string, service: string, target: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': target,
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${target}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}
