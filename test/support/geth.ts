import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Path of a geth 1.13.15 binary, built from the Go module proxy on first use (~2 min). */
export function gethBinary(): string {
  return execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'ensure-geth.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  }).trim();
}

/** A running geth process. */
export interface GethProcess {
  readonly process: ChildProcess;
  /** The last 8 KB of its log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Starts geth with the given arguments (its log is kept in memory, never printed). */
export function startGeth(binary: string, args: readonly string[]): GethProcess {
  const proc = spawn(binary, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-8192);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return {
    process: proc,
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGINT');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** One JSON-RPC call over HTTP. */
export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}
