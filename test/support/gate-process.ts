/**
 * The node gate as it runs on a node, started as its own process: the black-box harness of the
 * gate contract suite (README "Testing": the gate contract). Which implementation runs is chosen by
 * the environment variable GATE_IMPL:
 *
 * - `go` (the default: what the nodes run, ADR 10): the compiled gate at
 *   dist/assets/node-gate/linux-<amd64|arm64>/node-gate for this machine's architecture, as
 *   `npm run build:assets` builds it;
 * - `node`: lambda/node-gate (the Node.js implementation of the same contract, which the local
 *   environment uses on non-Linux machines) bundled by esbuild into one index.js and started with `node`.
 *
 * Both get exactly the same environment (the one `blockchain-tenancy local` gives each gate:
 * lib/local/local-environment.ts localGateEnvironment, plus a test's extras) and invoke their
 * authorizer through the AWS Lambda Invoke API at a local endpoint. What the harness relies on,
 * and so what every implementation must do:
 * - it answers HTTP on GATE_HOST:GATE_PORT once it is ready (a POST / without a credential: 401);
 * - on SIGTERM it publishes the metrics it holds (when BT_TENANT / BT_ENVIRONMENT are set), closes
 *   its sockets and exits with code 0 within a few seconds.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { localGateEnvironment } from '../../lib/local/local-environment';
import { freePort } from '../../lib/local/processes';

const ROOT = join(__dirname, '..', '..');

/** The gate implementations the contract suite can run. */
export type GateImpl = 'node' | 'go';

/** The implementation chosen by GATE_IMPL (default `go`: the gate the nodes run); anything else is refused. */
export function gateImpl(): GateImpl {
  const impl = process.env.GATE_IMPL ?? 'go';
  if (impl !== 'node' && impl !== 'go') throw new Error(`GATE_IMPL="${impl}" is not a gate implementation; use GATE_IMPL=node (the esbuild bundle of lambda/node-gate) or GATE_IMPL=go (the compiled gate in dist/assets/node-gate)`);
  return impl;
}

export interface GateProcess {
  readonly impl: GateImpl;
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the gate wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM (SIGKILL after `graceMs`, default 10 s); resolves with how it exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let bundled: string | undefined;

/** Bundles the Node gate once per test file (as the asset does). */
export function gateBundle(): string {
  if (bundled) return bundled;
  const dir = mkdtempSync(join(tmpdir(), 'node-gate-'));
  buildSync({
    entryPoints: [join(ROOT, 'lambda', 'node-gate', 'index.ts')],
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

/** The compiled gate's path for this machine (the asset layout of `npm run build:assets`). */
export function goGateBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : undefined;
  if (!arch || process.platform !== 'linux') throw new Error(`GATE_IMPL=go: the compiled gate is built for linux amd64 and arm64 only; this machine is ${process.platform} ${process.arch}`);
  const binary = join(ROOT, 'dist', 'assets', 'node-gate', `linux-${arch}`, 'node-gate');
  if (!existsSync(binary)) throw new Error(`GATE_IMPL=go: ${binary} does not exist; build it with \`npm run build:assets\` (or run the contract suite with GATE_IMPL=node)`);
  return binary;
}

/** The command that runs the chosen gate implementation. */
export function gateCommand(impl: GateImpl = gateImpl()): { readonly impl: GateImpl; readonly command: string; readonly args: readonly string[] } {
  return impl === 'go' ? { impl, command: goGateBinary(), args: [] } : { impl, command: process.execPath, args: [gateBundle()] };
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
  const { impl, command, args } = gateCommand();
  const proc = spawn(command, [...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The environment `blockchain-tenancy local` gives each gate, plus the test's extras.
    env: { ...localGateEnvironment({ ...env, port }), ...env.extra },
  });
  let output = '';
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  // Ready when it answers HTTP: an unauthenticated call is refused with 401.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the ${impl} gate exited during start-up (${proc.exitCode ?? proc.signalCode}):\n${output}`);
    const status = await fetch(`${url}/`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 401) break;
    if (status !== 0) throw new Error(`the ${impl} gate answered an unauthenticated call with ${status}, not 401:\n${output}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`the ${impl} gate did not answer on port ${port} within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    impl,
    port,
    url,
    process: proc,
    output: () => output,
    stop: (graceMs = 10_000) => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), graceMs).unref();
      }
      return exited;
    },
  };
}
