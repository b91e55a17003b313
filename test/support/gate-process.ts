/**
 * The node gate as it runs on a node: lambda/node-gate bundled by esbuild into one index.js (the
 * options of the node-program asset in lib/assets/bundled-assets.ts) and started with `node`,
 * configured only through its environment (the one `blockchain-tenancy local` gives each gate:
 * lib/local/local-environment.ts localGateEnvironment), invoking its authorizer through the AWS SDK's Lambda
 * client (pointed at a local Invoke endpoint).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { localGateEnvironment } from '../../lib/local/local-environment';
import { freePort } from '../../lib/local/processes';

export interface GateProcess {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the gate wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

let bundled: string | undefined;

/** Bundles the gate once per test file (as the asset does). */
export function gateBundle(): string {
  if (bundled) return bundled;
  const dir = mkdtempSync(join(tmpdir(), 'node-gate-'));
  buildSync({
    entryPoints: [join(__dirname, '..', '..', 'lambda', 'node-gate', 'index.ts')],
    outfile: join(dir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  bundled = join(dir, 'index.js');
  return bundled;
}

export async function startGateProcess(env: {
  nodeId: string;
  authorizerFunction: string;
  lambdaEndpoint: string;
  upstreamHttp: string;
  upstreamWs: string;
  extra?: Record<string, string>;
}): Promise<GateProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, [gateBundle()], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The environment `blockchain-tenancy local` gives each gate, plus the test's extras.
    env: { ...localGateEnvironment({ ...env, port }), ...env.extra },
  });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!output.includes('node gate listening')) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`node gate did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    process: proc,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
      }),
  };
}
