/**
 * moto's server (a local stand-in for AWS APIs: Secrets Manager, SSM, EC2, ...) on a free
 * loopback port, as a child process of a {@link ProcessGroup}. Runtime code of
 * `blockchain-tenancy local`; lib/index.ts never imports it.
 */
import { ManagedProcess, ProcessGroup, freePort, waitUntil } from './processes';

/** Credentials moto accepts (it checks none); never real ones. */
export const LOCAL_AWS_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;
export const LOCAL_AWS_REGION = 'us-east-1';

export interface LocalMoto {
  /** e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  /** Config for @aws-sdk v3 clients pointed at this server. */
  readonly clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string }; maxAttempts: number };
  readonly process: ManagedProcess;
}

/**
 * Starts `moto_server` (path of the binary) and waits until it answers (at most `timeoutMs`).
 * `env` adds moto settings, e.g. MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true (check TOTP codes).
 */
export async function startMotoServer(motoServer: string, processes: ProcessGroup, timeoutMs = 60_000, env: Readonly<Record<string, string>> = {}): Promise<LocalMoto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = processes.start('moto_server', motoServer, ['-H', '127.0.0.1', '-p', String(port)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_ACCESS_KEY_ID: LOCAL_AWS_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_AWS_CREDENTIALS.secretAccessKey, AWS_DEFAULT_REGION: LOCAL_AWS_REGION, ...env },
  });
  await waitUntil(`moto_server on ${endpoint}`, async () => (await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2000) })).ok, timeoutMs, proc);
  return { endpoint, clientConfig: { endpoint, region: LOCAL_AWS_REGION, credentials: { ...LOCAL_AWS_CREDENTIALS }, maxAttempts: 1 }, process: proc };
}
