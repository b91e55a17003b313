/**
 * The node gate as it ships (ADR 10): the compiled Go binaries in dist/assets/node-gate
 * (`linux-amd64/node-gate`, `linux-arm64/node-gate`, rebuilt by `npm run build:assets` when gate/
 * changed), one zip asset that every node downloads and from which it installs the binary for its
 * `uname -m`. Measured here:
 *
 * - size of each binary, and its raw-deflate size at level 9 (about what it adds to the zip asset);
 * - cold start of the binary for this machine's architecture (the other one cannot run here): the
 *   time from spawn() until the gate prints its `node gate listening` line (printed right after
 *   the listening socket is bound), and its resident set size (VmRSS) at that moment and after
 *   `settleMs` idle. Median of `runs` fresh processes.
 *
 * Beside it, the same measurement of the Node.js gate (lambda/node-gate bundled into one file with
 * its AWS SDK, as the gate contract harness bundles it): the local environment's fallback off
 * Linux, not shipped to nodes, and run here on this machine's Node.js (not the node's).
 *
 * Every process gets the environment `blockchain-tenancy local` gives a gate
 * (localGateEnvironment) with its Lambda endpoint and upstreams on 127.0.0.1:9, where nothing
 * listens: neither gate calls them before a request arrives, and none does here.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { GO_ARCHITECTURES, prebuiltAssetDir } from '../../lib/assets/prebuilt-assets';
import { localGateEnvironment } from '../../lib/local/local-environment';
import { freePort } from '../../lib/local/processes';
import { gateBundle } from '../../test/support/gate-process';

export interface GateBinarySize {
  readonly arch: string;
  readonly bytes: number;
  /** Raw deflate, level 9: about what the binary adds to the zip asset the nodes download. */
  readonly deflatedBytes: number;
}

export interface GateColdStart {
  /** Median ms from spawn() to the `node gate listening` line. */
  readonly listeningMs: number;
  readonly listeningMsRuns: number[];
  /** Median VmRSS (KiB) when the gate listens. */
  readonly rssKiB: number;
  /** Median VmRSS (KiB) after settleMs idle. */
  readonly settledRssKiB: number;
}

export interface GateScale {
  readonly method: string;
  /** The shipped gate: the Go binaries. */
  readonly go: { readonly binaries: GateBinarySize[]; readonly coldStart: GateColdStart & { readonly arch: string } };
  /** The Node.js gate: the local environment's fallback off Linux, not shipped to nodes. */
  readonly nodeFallback: { readonly bytes: number; readonly node: string; readonly coldStart: GateColdStart };
}

const DEAD_END = '127.0.0.1:9';

function hostArch(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : undefined;
  if (!arch || process.platform !== 'linux') throw new Error(`the Go gate is built for linux amd64 and arm64 only; this machine is ${process.platform} ${process.arch}: run the gate part of the scale bench on Linux`);
  return arch;
}

function vmRssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  if (!line) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(line.replace(/\D+/g, ''));
}

/** One fresh gate process: spawn, wait for its listening line, read its RSS, stop it. */
async function startOnce(command: string, args: readonly string[], settleMs: number): Promise<{ listeningMs: number; rssKiB: number; settledRssKiB: number }> {
  const port = await freePort();
  const env = localGateEnvironment({
    nodeId: 'validator-1',
    authorizerFunction: 'bench-authorizer',
    lambdaEndpoint: `http://${DEAD_END}`,
    port,
    upstreamHttp: `http://${DEAD_END}`,
    upstreamWs: `ws://${DEAD_END}`,
  });
  const started = process.hrtime.bigint();
  const proc = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    const listeningMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${command} did not listen within 20 s:\n${output}`)), 20_000);
      proc.stdout!.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('node gate listening')) {
          clearTimeout(timer);
          resolve(Number(process.hrtime.bigint() - started) / 1e6);
        }
      });
      proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${command} exited with ${code ?? signal} before listening:\n${output}`));
      });
    });
    const rssKiB = vmRssKiB(proc.pid!);
    await new Promise((r) => setTimeout(r, settleMs));
    const settledRssKiB = vmRssKiB(proc.pid!);
    return { listeningMs, rssKiB, settledRssKiB };
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const kill = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(kill);
    }
  }
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round1 = (x: number) => Math.round(x * 10) / 10;

function summarize(runs: { listeningMs: number; rssKiB: number; settledRssKiB: number }[]): GateColdStart {
  return {
    listeningMs: round1(median(runs.map((r) => r.listeningMs))),
    listeningMsRuns: runs.map((r) => round1(r.listeningMs)).sort((a, b) => a - b),
    rssKiB: median(runs.map((r) => r.rssKiB)),
    settledRssKiB: median(runs.map((r) => r.settledRssKiB)),
  };
}

/** Sizes of the shipped binaries, and cold starts of the Go gate and the Node fallback (alternating runs). */
export async function gateScale(runs: number, settleMs: number, log: (line: string) => void): Promise<GateScale> {
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_GATE_RUNS is ${runs}; give a whole number of fresh processes per gate, e.g. 9`);
  const dir = prebuiltAssetDir('node-gate');
  const binaries = GO_ARCHITECTURES.map((arch) => {
    const file = join(dir, `linux-${arch}`, 'node-gate');
    return { arch, bytes: statSync(file).size, deflatedBytes: deflateRawSync(readFileSync(file), { level: 9 }).length };
  });
  const arch = hostArch();
  const goBinary = join(dir, `linux-${arch}`, 'node-gate');
  const bundle = gateBundle();
  const go: Awaited<ReturnType<typeof startOnce>>[] = [];
  const node: Awaited<ReturnType<typeof startOnce>>[] = [];
  for (let i = 0; i < runs; i++) {
    go.push(await startOnce(goBinary, [], settleMs));
    node.push(await startOnce(process.execPath, [bundle], settleMs));
    log(`gate cold start ${i + 1}/${runs}: go ${round1(go[i].listeningMs)} ms, node ${round1(node[i].listeningMs)} ms`);
  }
  return {
    method:
      `Go binaries from dist/assets/node-gate (sizes of both architectures; deflated at level 9); cold start of the ${arch} binary and of the Node.js gate bundle (the local fallback, on Node ${process.version}): ` +
      `${runs} fresh processes each, alternating, ms from spawn() to the "node gate listening" line, VmRSS then and after ${settleMs} ms idle; medians.`,
    go: { binaries, coldStart: { arch, ...summarize(go) } },
    nodeFallback: { bytes: statSync(bundle).size, node: process.version, coldStart: summarize(node) },
  };
}
