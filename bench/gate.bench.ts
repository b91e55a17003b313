/**
 * Gate overhead and authorizer latency (issue #7: application layer).
 *
 * 1. eth_blockNumber against two nodes, ganache 7 and geth 1.13.15 (one-signer Clique, sealing a
 *    block a second), each directly and through the real gate (warm decision cache), side by side
 *    in one run. Every process is separate, as in production: the node, the gate (one per node),
 *    and the load client (this process). The load client is bench/support/raw-load.ts: persistent
 *    raw HTTP/1.1 connections, one request in flight each, identical for every path. Direct and
 *    gate rounds alternate. Reported per path: requests/s, p50 / p99 latency, and the CPU time per
 *    request of every process (utime + stime from /proc/<pid>/stat over the round, divided by the
 *    requests completed), which other jobs on the machine disturb far less than requests/s.
 * 2. The same with one request at a time (latency without queueing), a small concurrency sweep,
 *    and paced (open-loop) loads below saturation: the latency the gate adds at a given load.
 * 3. The authorizer handler with real argon2id (Secrets Manager on moto): verification latency on
 *    cache misses, and cache-hit latency.
 * 4. nginx as a same-run yardstick (issue #17): geth directly, through nginx (a plain reverse
 *    proxy, bench/support/nginx.ts, installed from Debian's packages when missing), through the
 *    Node gate and through the Go gate (`gate-go`, ADR 10: the binary of `npm run build:assets`,
 *    bench/support/go-gate.ts), interleaved: eth_blockNumber and eth_call over HTTP and over
 *    WebSocket (bench/support/ws-load.ts), eth_subscribe newHeads through each path, and the two
 *    goal checks for each gate (gate CPU per call <= 1.5x nginx's; throughput ratio within 0.10
 *    of nginx's; the Go gate's under `go`). GATE_BENCH_GOMAXPROCS gives the Go gate another
 *    scheduler budget than its default of one thread.
 *    GATE_BENCH_ONLY=nginx runs this part alone and merges it into an existing gate.json.
 * Writes bench/results/gate.json. Durations: GATE_BENCH_CONCURRENCY, _ROUNDS, _ROUND_MS, _SWEEP,
 * _PACED, _CACHE_OPS, _SUBSCRIBE_MS (small values only to check that it runs; numbers from a quiet machine).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LRUCache } from 'lru-cache';
import { RequestAuthorizerEvent, createAuthorizer } from '../lambda/authorizer/handler';
import { LruMap } from '../lambda/shared/lru-map';
import { authorizerEvent } from '../lambda/node-gate/lambda-authorizer';
import { basicAuthorization } from '../lib/contracts/credential-format';
import { CredentialService } from '../lambda/credentials/credential-service';
import { envFor, freePort, startMoto } from '../test/support/moto';
import { GethNode, startGethNode } from '../test/support/geth-node';
import { clockTicks, cpuMicros } from './support/proc-cpu';
import { ensureNginx, startNginx } from './support/nginx';
import { startGoGate } from './support/go-gate';
import { rawLoad } from './support/raw-load';
import { WsEndpoint, checkNewHeads, openWsConnections } from './support/ws-load';
import { machine, summarize } from './stats';

const BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] });
const CONCURRENCY = Number(process.env.GATE_BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.GATE_BENCH_ROUNDS ?? 3);
const ROUND_MS = Number(process.env.GATE_BENCH_ROUND_MS ?? 3000);
const SWEEP = (process.env.GATE_BENCH_SWEEP ?? '4,64').split(',').filter(Boolean).map(Number);
/** Offered loads (requests/s over 16 connections) below saturation: latency added at a given load. */
const PACED = (process.env.GATE_BENCH_PACED ?? '1000,5000').split(',').filter(Boolean).map(Number);
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Busy and steal time of the whole machine (all CPUs), µs, from /proc/stat. */
function machineCpu(): { busy: number; steal: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  const tick = 1e6 / clockTicks();
  return { busy: (user + nice + system + irq + softirq) * tick, steal: (steal ?? 0) * tick };
}

/** Starts a bench/support/*-process.ts child and waits for its "ready" line. */
function child(script: string, env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support', script)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    p.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(p));
    p.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

type GateCounters = { hits: number; misses: number; authorizerCalls: number; upstreamConnectionsOpened: number };
function gateStats(p: ChildProcess): Promise<GateCounters> {
  return new Promise((resolve) => {
    p.once('message', (m) => {
      const { hits, misses, authorizerCalls, upstreamConnectionsOpened } = m as GateCounters;
      resolve({ hits, misses, authorizerCalls, upstreamConnectionsOpened });
    });
    p.send({ type: 'stats' });
  });
}

interface Target {
  readonly node: string;
  readonly path: 'direct' | 'gate' | 'gate-undici' | 'nginx' | 'gate-go';
  readonly port: number;
  readonly headers: Record<string, string>;
  /** The processes on this path (the client is this process); several pids are summed (nginx: master + worker). */
  readonly pids: Record<string, number | readonly number[]>;
}

const cpuOf = (p: number | readonly number[]): number => (typeof p === 'number' ? cpuMicros(p) : p.reduce((a, pid) => a + cpuMicros(pid), 0));

interface Sample {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
  cpuMicros: Record<string, number>;
  otherCores: number;
  stealCores: number;
}

/** One round on one path: `load` runs the requests; CPU and machine load are sampled around it. */
async function measureWith(t: Target, load: () => Promise<{ requests: number; errors: number; seconds: number; latenciesMs: Float64Array }>): Promise<Sample> {
  const pids = { client: process.pid, ...t.pids };
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuOf(pid)]));
  const m0 = machineCpu();
  const r = await load();
  const m1 = machineCpu();
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuOf(pid) - cpu0[k]]));
  const ours = Object.values(cpu).reduce((a, b) => a + b, 0);
  const windowUs = r.seconds * 1e6;
  return {
    requests: r.requests,
    errors: r.errors,
    seconds: r.seconds,
    latencies: Array.from(r.latenciesMs),
    cpuMicros: cpu,
    otherCores: round1(Math.max(0, (m1.busy - m0.busy - ours) / windowUs)),
    stealCores: round1((m1.steal - m0.steal) / windowUs),
  };
}

function measure(t: Target, concurrency: number, durationMs: number, rate?: number, body: string = BODY): Promise<Sample> {
  return measureWith(t, () => rawLoad({ port: t.port, headers: t.headers, body, concurrency, durationMs, ...(rate ? { rate } : {}) }));
}

/** Aggregates the rounds of one path. */
function aggregate(samples: Sample[]) {
  const requests = samples.reduce((a, s) => a + s.requests, 0);
  const perRound = samples.map((s) => Math.round(s.requests / s.seconds));
  const sorted = [...perRound].sort((a, b) => a - b);
  const lat = summarize(samples.flatMap((s) => s.latencies));
  const keys = Object.keys(samples[0].cpuMicros);
  const cpuUsPerRequest: Record<string, number> = Object.fromEntries(keys.map((k) => [k, round1(samples.reduce((a, s) => a + s.cpuMicros[k], 0) / requests)]));
  cpuUsPerRequest.total = round1(keys.reduce((a, k) => a + samples.reduce((b, s) => b + s.cpuMicros[k], 0), 0) / requests);
  return {
    requestsPerSecond: sorted[Math.floor(sorted.length / 2)],
    requestsPerSecondRounds: perRound,
    p50: lat.p50,
    p99: lat.p99,
    mean: lat.mean,
    requests,
    errors: samples.reduce((a, s) => a + s.errors, 0),
    cpuUsPerRequest,
    otherLoadCores: samples.map((s) => s.otherCores),
    stealCores: samples.map((s) => s.stealCores),
  };
}

/** Alternating rounds of direct and gate for every node at one concurrency. */
async function compare(targets: Target[], concurrency: number, rounds: number, roundMs: number, rate?: number) {
  const samples = new Map<Target, Sample[]>(targets.map((t) => [t, []]));
  for (const t of targets) await rawLoad({ port: t.port, headers: t.headers, body: BODY, concurrency, durationMs: 1000 }); // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const t of r % 2 === 0 ? targets : [...targets].reverse()) samples.get(t)!.push(await measure(t, concurrency, roundMs, rate));
  }
  const nodes = [...new Set(targets.map((t) => t.node))];
  return Object.fromEntries(
    nodes.map((node) => {
      const direct = aggregate(samples.get(targets.find((t) => t.node === node && t.path === 'direct')!)!);
      const gate = aggregate(samples.get(targets.find((t) => t.node === node && t.path === 'gate')!)!);
      const throughputRatio = round3(gate.requestsPerSecond / direct.requestsPerSecond);
      const addedP99Ms = round3(gate.p99 - direct.p99);
      // The same gate with undici's Pool as its upstream client instead of its own pool.
      const undiciTarget = targets.find((t) => t.node === node && t.path === 'gate-undici');
      const gateUndici = undiciTarget ? aggregate(samples.get(undiciTarget)!) : undefined;
      return [
        node,
        {
          direct,
          gate,
          throughputRatio,
          addedP50Ms: round3(gate.p50 - direct.p50),
          addedP99Ms,
          // If CPU were the only limit: the ratio of total CPU per request, direct / through the gate.
          cpuBoundThroughputRatio: round3(direct.cpuUsPerRequest.total / gate.cpuUsPerRequest.total),
          meetsP99Target: addedP99Ms < 1,
          ...(gateUndici
            ? {
                gateUndici,
                undiciVsOwnPool: {
                  throughputRatio: round3(gateUndici.requestsPerSecond / gate.requestsPerSecond),
                  gateCpuUsPerRequest: { ownPool: gate.cpuUsPerRequest.gate, undici: gateUndici.cpuUsPerRequest.gate },
                  addedP99Ms: round3(gateUndici.p99 - gate.p99),
                },
              }
            : {}),
        },
      ];
    }),
  );
}

const CACHE_OPS = Number(process.env.GATE_BENCH_CACHE_OPS ?? 2_000_000);

/**
 * The decision caches' access pattern (a 10,000-entry bound, mostly hits on a small hot set, a
 * miss and insert now and then) on the shared LruMap and on lru-cache 11, ns per operation.
 */
function compareCaches() {
  const keys = Array.from({ length: 20_000 }, (_, i) => `k${i.toString(36)}-${'x'.repeat(40)}`);
  const value = { fresh: 1, expires: 2 };
  const run = (get: (k: string) => unknown, set: (k: string) => void): number => {
    let seed = 1;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const t = process.hrtime.bigint();
    for (let i = 0; i < CACHE_OPS; i++) {
      const r = next();
      const k = keys[r % 100 < 95 ? r % 50 : r % keys.length];
      if (get(k) === undefined) set(k);
    }
    return round1(Number(process.hrtime.bigint() - t) / CACHE_OPS);
  };
  const rounds = { lruMap: [] as number[], lruCache: [] as number[] };
  for (let r = 0; r < 3; r++) {
    const own = new LruMap<typeof value>(10_000);
    rounds.lruMap.push(run((k) => own.get(k), (k) => own.set(k, value)));
    const lib = new LRUCache<string, typeof value>({ max: 10_000 });
    rounds.lruCache.push(run((k) => lib.get(k), (k) => lib.set(k, value)));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  return {
    method: `${CACHE_OPS} get-or-set operations per round, 95% on 50 hot keys, 10,000-entry bound, 3 alternating rounds; ns/operation (median)`,
    lruMapNsPerOp: median(rounds.lruMap),
    lruCacheNsPerOp: median(rounds.lruCache),
    rounds,
  };
}

// --- nginx as the yardstick (issue #17) ------------------------------------------------------

/**
 * The calls of the yardstick. eth_call is a deployless call (no `to`, as viem's deployless reads
 * do): geth runs 9 bytes of EVM code (NUMBER, MSTORE, RETURN) against the latest state and answers
 * the block number as 32 bytes; the EVM runs, and nothing has to be deployed first.
 */
const YARDSTICK_CALLS: Record<string, string> = {
  eth_blockNumber: BODY,
  eth_call: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ data: '0x4360005260206000f3' }, 'latest'] }),
};
const SUBSCRIBE_MS = Number(process.env.GATE_BENCH_SUBSCRIBE_MS ?? 5000);

interface YardstickPath {
  readonly name: 'direct' | 'nginx' | 'gate' | 'gate-go';
  readonly target: Target;
  readonly ws: WsEndpoint;
}
type Aggregate = ReturnType<typeof aggregate>;

/** The goal checks of issue #17 for one gate: its CPU per request at most 1.5x nginx's, its throughput ratio within 0.10 of nginx's. */
function gateVersusNginx(direct: Aggregate, gate: Aggregate, nginx: Aggregate | undefined) {
  const gateThroughputRatio = round3(gate.requestsPerSecond / direct.requestsPerSecond);
  if (!nginx) return { gateThroughputRatio };
  const nginxThroughputRatio = round3(nginx.requestsPerSecond / direct.requestsPerSecond);
  const gateCpuVsNginx = round3(gate.cpuUsPerRequest.proxy / nginx.cpuUsPerRequest.proxy);
  const throughputRatioGap = round3(nginxThroughputRatio - gateThroughputRatio);
  return {
    gateThroughputRatio,
    nginxThroughputRatio,
    throughputRatioGap,
    gateCpuVsNginx,
    meetsCpuGoal: gateCpuVsNginx <= 1.5,
    meetsThroughputGoal: throughputRatioGap <= 0.1,
  };
}

/** The goal checks for the Node gate (top-level fields) and the Go gate (`go`, ADR 10), when it ran. */
function versusNginx(by: Record<string, Aggregate>) {
  const { direct, gate, nginx } = by;
  const go = by['gate-go'];
  return { ...gateVersusNginx(direct, gate, nginx), ...(go ? { go: gateVersusNginx(direct, go, nginx) } : {}) };
}

/** Interleaved rounds (the order reversed every other round) over the paths, after a warm-up of each. */
async function interleaved(paths: readonly YardstickPath[], round: (p: YardstickPath, ms: number) => Promise<Sample>) {
  const samples = new Map<YardstickPath, Sample[]>(paths.map((p) => [p, []]));
  for (const p of paths) await round(p, 1000);
  for (let r = 0; r < ROUNDS; r++) {
    for (const p of r % 2 === 0 ? paths : [...paths].reverse()) samples.get(p)!.push(await round(p, ROUND_MS));
  }
  const by: Record<string, Aggregate> = Object.fromEntries(paths.map((p) => [p.name, aggregate(samples.get(p)!)]));
  return { ...by, ...versusNginx(by) };
}

/** One call over HTTP on every path, so a refused call fails here with its answer instead of as a table of errors. */
async function checkAnswers(paths: readonly YardstickPath[]): Promise<void> {
  for (const p of paths) {
    for (const [method, body] of Object.entries(YARDSTICK_CALLS)) {
      const res = await fetch(`http://127.0.0.1:${p.target.port}/`, { method: 'POST', headers: { 'content-type': 'application/json', ...p.target.headers }, body });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('"result"')) throw new Error(`${method} through ${p.name}: HTTP ${res.status} ${text.slice(0, 300)}`);
    }
  }
}

/**
 * geth directly, through nginx (a plain reverse proxy: bench/support/nginx.ts) and through the
 * gate, in one run: eth_blockNumber and eth_call over HTTP (the raw client) and over WebSocket
 * (bench/support/ws-load.ts), and eth_subscribe newHeads through each path. nginx rows are left
 * out, saying why, when nginx cannot be installed.
 */
async function yardstick(geth: GethNode, gate: { port: number; pid: number }, auth: Record<string, string>, goGate?: { port: number; pid: number }) {
  const loadavgStart = readFileSync('/proc/loadavg', 'utf8').trim();
  const binary = ensureNginx();
  const gethPort = Number(new URL(geth.rpcUrl).port);
  const nginx = 'path' in binary ? await startNginx(binary, { http: `127.0.0.1:${gethPort}`, ws: new URL(geth.wsUrl).host }) : undefined;
  if (!nginx) console.error(`gate benchmark: the nginx rows are left out: ${'unavailable' in binary ? binary.unavailable : ''}`);
  try {
    // The same request bytes on every path (geth ignores the credential header).
    const paths: YardstickPath[] = [
      { name: 'direct', target: { node: 'geth', path: 'direct', port: gethPort, headers: auth, pids: { node: geth.pid } }, ws: { url: geth.wsUrl, headers: auth } },
      ...(nginx
        ? [
            {
              name: 'nginx' as const,
              target: { node: 'geth', path: 'nginx' as const, port: nginx.port, headers: auth, pids: { proxy: nginx.pids, node: geth.pid } },
              ws: { url: `ws://127.0.0.1:${nginx.port}/ws`, headers: auth },
            },
          ]
        : []),
      { name: 'gate', target: { node: 'geth', path: 'gate', port: gate.port, headers: auth, pids: { proxy: gate.pid, node: geth.pid } }, ws: { url: `ws://127.0.0.1:${gate.port}/ws`, headers: auth } },
      ...(goGate
        ? [
            {
              name: 'gate-go' as const,
              target: { node: 'geth', path: 'gate-go' as const, port: goGate.port, headers: auth, pids: { proxy: goGate.pid, node: geth.pid } },
              ws: { url: `ws://127.0.0.1:${goGate.port}/ws`, headers: auth },
            },
          ]
        : []),
    ];
    await checkAnswers(paths);
    const http: Record<string, unknown> = {};
    for (const [method, body] of Object.entries(YARDSTICK_CALLS)) {
      http[method] = await interleaved(paths, (p, ms) => measure(p.target, CONCURRENCY, ms, undefined, body));
    }
    const ws: Record<string, unknown> = {};
    for (const [method, body] of Object.entries(YARDSTICK_CALLS)) {
      ws[method] = await interleaved(paths, async (p, ms) => {
        const connections = await openWsConnections(p.ws, CONCURRENCY);
        try {
          return await measureWith(p.target, () => connections.run(body, ms));
        } finally {
          await connections.close();
        }
      });
    }
    const subscribe = await checkNewHeads(Object.fromEntries(paths.map((p) => [p.name, p.ws])), SUBSCRIBE_MS);
    return {
      machine: machine(),
      loadavg: { start: loadavgStart, end: readFileSync('/proc/loadavg', 'utf8').trim() },
      method:
        `geth ${geth.version} directly, through nginx, through the Node gate and through the Go gate (gate-go, ADR 10) (warm caches), ${CONCURRENCY} concurrent connections with one call in flight each, ` +
        `${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s per path after a 1 s warm-up, the same client and request bytes on every path. ` +
        'HTTP: the raw keep-alive HTTP/1.1 client; WebSocket: the ws package (no compression), connections opened before and closed after each round; requests/s is calls (messages) answered per second. ' +
        'CPU µs/request = utime+stime of each process over the rounds / calls answered; proxy = the gate, or nginx master + worker; ' +
        "the Go gate runs with the production cache times and asks the real authorizer handler through the Lambda Invoke API (local endpoint) every 14 s",
      calls: {
        eth_blockNumber: 'the head block number (no state or EVM)',
        eth_call: 'eth_call without `to` (deployless) running NUMBER, MSTORE, RETURN against the latest state',
      },
      nginx: nginx
        ? { version: nginx.version, setup: 'Debian package, run by the benchmark with its own configuration (bench/support/nginx.ts): 1 worker process, keep-alive upstream, no access log', config: nginx.config }
        : { unavailable: 'unavailable' in binary ? binary.unavailable : 'unknown' },
      goals: { gateCpuVsNginx: '<= 1.5 (gate CPU per request / nginx CPU per request)', throughputRatioGap: "<= 0.10 (nginx's ratio vs direct minus the gate's)" },
      http,
      ws,
      subscribe: { method: `eth_subscribe newHeads on every path at once for ${SUBSCRIBE_MS / 1000} s (geth seals a block a second); added delay is per block against the direct path`, ...subscribe },
    };
  } finally {
    await nginx?.stop();
  }
}

async function main(): Promise<void> {
  if (process.env.GATE_BENCH_ONLY === 'caches') {
    console.log(JSON.stringify(compareCaches()));
    return;
  }
  const loadavgStart = readFileSync('/proc/loadavg', 'utf8').trim();
  const moto = await startMoto();
  const service = new CredentialService({ secretsManager: new SecretsManagerClient(moto.clientConfig), tenantId: 'acme', environmentId: 'dev' });
  const authorizer = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme' }, log: () => undefined });
  const cred = await service.create({ memberId: 'acme' });
  const auth = { authorization: basicAuthorization(cred.credential.id, cred.secret) };

  if (process.env.GATE_BENCH_ONLY === 'nginx') {
    // Only the nginx yardstick, merged into the existing bench/results/gate.json.
    const geth = await startGethNode();
    const port = await freePort();
    const gate = await child('gate-process.ts', { PORT: String(port), UPSTREAM_HTTP: geth.rpcUrl, UPSTREAM_WS: geth.wsUrl, ...envFor(moto.endpoint) });
    const goGate = await startGoGate({ upstreamHttp: geth.rpcUrl, upstreamWs: geth.wsUrl, authorize: (e) => authorizer.handle(e as RequestAuthorizerEvent) });
    try {
      const y = await yardstick(geth, { port, pid: gate.pid! }, auth, goGate);
      const path = join(__dirname, 'results', 'gate.json');
      const previous = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
      writeFileSync(path, JSON.stringify({ ...previous, yardstick: y }, null, 2) + '\n');
      console.log(JSON.stringify(y, null, 2));
    } finally {
      gate.kill();
      await goGate.stop();
      await geth.stop();
      await moto.stop();
    }
    return;
  }

  // The nodes.
  const ganachePort = await freePort();
  const ganache = await child('ganache-process.ts', { PORT: String(ganachePort) });
  const geth = await startGethNode();
  const gethPort = Number(new URL(geth.rpcUrl).port);
  // One gate per node (a gate fronts exactly one node in production).
  // The same gate with undici's Pool as its client to the node ('-undici'), for the comparison.
  const gates: Record<string, { port: number; proc: ChildProcess }> = {};
  for (const [name, http, ws] of [
    ['ganache', `http://127.0.0.1:${ganachePort}`, `ws://127.0.0.1:${ganachePort}`],
    ['geth', geth.rpcUrl, geth.wsUrl],
  ] as const) {
    for (const client of ['own', 'undici'] as const) {
      const port = await freePort();
      const env = { PORT: String(port), UPSTREAM_HTTP: http, UPSTREAM_WS: ws, ...(client === 'undici' ? { UPSTREAM_CLIENT: 'undici' } : {}), ...envFor(moto.endpoint) };
      gates[client === 'own' ? name : `${name}-undici`] = { port, proc: await child('gate-process.ts', env) };
    }
  }
  const targets: Target[] = [
    { node: 'ganache', path: 'direct', port: ganachePort, headers: {}, pids: { node: ganache.pid! } },
    { node: 'ganache', path: 'gate', port: gates.ganache.port, headers: auth, pids: { gate: gates.ganache.proc.pid!, node: ganache.pid! } },
    { node: 'ganache', path: 'gate-undici', port: gates['ganache-undici'].port, headers: auth, pids: { gate: gates['ganache-undici'].proc.pid!, node: ganache.pid! } },
    { node: 'geth', path: 'direct', port: gethPort, headers: {}, pids: { node: geth.pid } },
    { node: 'geth', path: 'gate', port: gates.geth.port, headers: auth, pids: { gate: gates.geth.proc.pid!, node: geth.pid } },
    { node: 'geth', path: 'gate-undici', port: gates['geth-undici'].port, headers: auth, pids: { gate: gates['geth-undici'].proc.pid!, node: geth.pid } },
  ];
  // Sanity: the gate refuses a request without a credential (it is not an open proxy).
  const refused = await rawLoad({ port: gates.geth.port, body: BODY, concurrency: 1, durationMs: 1 });
  if (refused.requests !== 0 || refused.errors === 0) throw new Error('the gate answered a request without a credential');

  const saturated = await compare(targets, CONCURRENCY, ROUNDS, ROUND_MS);
  const sequential = await compare(targets, 1, 2, 2000);
  const sweep: Record<string, unknown> = {};
  for (const c of SWEEP) sweep[c] = await compare(targets, c, 1, 2000);
  const paced: Record<string, unknown> = {};
  for (const rate of PACED) paced[rate] = await compare(targets, CONCURRENCY, 2, 3000, rate);
  const goGate = await startGoGate({ upstreamHttp: geth.rpcUrl, upstreamWs: geth.wsUrl, authorize: (e) => authorizer.handle(e as RequestAuthorizerEvent) });
  const nginxYardstick = await yardstick(geth, { port: gates.geth.port, pid: gates.geth.proc.pid! }, auth, goGate).finally(() => goGate.stop());
  const stats = { ganache: await gateStats(gates.ganache.proc), geth: await gateStats(gates.geth.proc) };
  const loadavgEnd = readFileSync('/proc/loadavg', 'utf8').trim();

  // Authorizer: misses (fresh authorizer each time so nothing is cached) and hits.
  const misses: number[] = [];
  for (let i = 0; i < 30; i++) {
    const fresh = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme' }, log: () => undefined });
    const t = process.hrtime.bigint();
    await fresh.handle(authorizerEvent(auth.authorization, 'validator-1'));
    misses.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const unknown: number[] = [];
  for (let i = 0; i < 30; i++) {
    const fresh = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme' }, log: () => undefined });
    const t = process.hrtime.bigint();
    await fresh.handle(authorizerEvent(basicAuthorization('bt' + 'c'.repeat(24), cred.secret), 'validator-1'));
    unknown.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  const caches = compareCaches();
  const hits: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = process.hrtime.bigint();
    await authorizer.handle(authorizerEvent(auth.authorization, 'validator-1'));
    hits.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  for (const g of Object.values(gates)) g.proc.kill();
  ganache.kill();
  await geth.stop();
  await moto.stop();

  const result = {
    machine: machine(),
    loadavg: { start: loadavgStart, end: loadavgEnd },
    method:
      `eth_blockNumber, ${CONCURRENCY} concurrent keep-alive connections (one request in flight each, raw HTTP/1.1 client, same for every path), ` +
      `${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s per path after a 1 s warm-up; requests/s is the median round, p50/p99 over all rounds' requests; ` +
      'CPU µs/request = utime+stime of each process over the rounds / requests completed',
    nodes: { ganache: 'ganache 7.9.2 (uWebSockets HTTP in C++, JSON-RPC in JavaScript)', geth: `geth ${geth.version} (Go net/http), one-signer Clique, 1 s blocks` },
    saturated,
    sequential: { method: 'one connection, one request at a time, 2 alternating rounds of 2 s per path', ...sequential },
    sweep: { method: 'one round of 2 s per path at each concurrency (single rounds: noisier than the table above)', ...sweep },
    paced: {
      method: `open loop: the offered requests/s spread over ${CONCURRENCY} connections (each paced, one request in flight), 2 alternating rounds of 3 s per path; requests/s achieved and latency at that load`,
      ...paced,
    },
    yardstick: nginxYardstick,
    gateCounters: stats,
    caches,
    notes: [
      'otherLoadCores: busy time of the whole machine minus the measured processes, in cores, per round (other jobs on this shared machine)',
      'cpuBoundThroughputRatio: total CPU per request direct / through the gate, the throughput ratio if the cores were the only limit',
      'gateCounters: cache hits and misses over the whole run; authorizerCalls < misses because concurrent misses share one call',
      "gateUndici / undiciVsOwnPool: the same gate with undici 7's Pool as its client to the node; keep the faster one only if the difference holds across runs",
      'caches: the shared LRU (lambda/shared/lru-map.ts, used by the gate and the authorizer) against lru-cache 11 on the decision-cache access pattern',
    ],
    // The throughput yardstick is nginx in the same run (section `yardstick`, issue #17), not an absolute ratio.
    targets: { addedP99Ms: '< 1' },
    authorizer: {
      argon2id: 'm=19456 KiB, t=2, p=1',
      verifyMissMs: summarize(misses),
      unknownIdMissMs: summarize(unknown),
      cacheHitMs: summarize(hits),
    },
  };
  writeFileSync(join(__dirname, 'results', 'gate.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify({ ...result, authorizer: undefined }, null, 2));
}

void main();
