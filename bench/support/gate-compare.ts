/**
 * Before/after comparison of gate builds (and load clients) in one run, on one node:
 *
 *   GATE_VARIANTS="new=/abs/lambda/node-gate/gate,old=/tmp/old-gate/gate" \
 *   GATE_CLIENTS=raw,http GATE_NODE=ganache|geth node --import tsx bench/support/gate-compare.ts
 *
 * A variant is any module exporting `createGate` (e.g. an older gate.ts extracted with
 * `git show <rev>:lambda/node-gate/gate.ts`, its relative imports adjusted). `raw` is the benchmark's
 * client (bench/support/raw-load.ts); `http` is Node's http.request with a keep-alive Agent (the
 * client the benchmark used before). Rounds alternate over every path; each prints one JSON line:
 * requests/s per round, p50/p99, and CPU µs per request of every process. GATE_RATE=<req/s> paces
 * the raw client open-loop instead of saturating.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { basicAuthorization } from '../../lib/credentials/credential-format';
import { CredentialService } from '../../lib/credentials/credential-service';
import { envFor, freePort, startMoto } from '../../test/support/moto';
import { summarize } from '../stats';
import { startGethNode } from '../../test/support/geth-node';
import { cpuMicros } from './proc-cpu';
import { rawLoad } from './raw-load';

const BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] });
const env = process.env;

function child(script: string, vars: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(__dirname, script)], { env: { ...env, ...vars }, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    p.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(p));
    p.once('exit', (code) => code && reject(new Error(`${script} exited with ${code}`)));
  });
}

/** The previous benchmark client: http.request over a keep-alive Agent. */
async function httpLoad(port: number, headers: Record<string, string>, concurrency: number, durationMs: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(`http://127.0.0.1:${port}/`);
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + durationMs;
  const one = () =>
    new Promise<void>((resolve) => {
      const t = process.hrtime.bigint();
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY), ...headers } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(BODY);
    });
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) await one();
    }),
  );
  agent.destroy();
  return { requests: latencies.length, errors, seconds: (Date.now() - started) / 1000, latenciesMs: latencies };
}

async function main(): Promise<void> {
  const moto = await startMoto();
  const service = new CredentialService({ secretsManager: new SecretsManagerClient(moto.clientConfig), tenantId: 'acme', environmentId: 'dev' });
  const cred = await service.create({ memberId: 'acme' });
  const auth = { authorization: basicAuthorization(cred.credential.id, cred.secret) };
  const nodeName = env.GATE_NODE ?? 'ganache';
  let node: { port: number; pid: number; ws: string; stop: () => Promise<void> };
  if (nodeName === 'geth') {
    const g = await startGethNode();
    node = { port: Number(new URL(g.rpcUrl).port), pid: g.pid, ws: g.wsUrl, stop: g.stop };
  } else {
    const port = await freePort();
    const c = await child('ganache-process.ts', { PORT: String(port) });
    node = { port, pid: c.pid!, ws: `ws://127.0.0.1:${port}`, stop: async () => void c.kill() };
  }
  const variants = (env.GATE_VARIANTS ?? `current=${join(__dirname, '..', '..', 'lambda', 'node-gate', 'gate')}`).split(',').map((v) => v.split('='));
  const gates: { name: string; port: number; proc: ChildProcess }[] = [];
  for (const [name, module] of variants) {
    const port = await freePort();
    const proc = await child('gate-process.ts', { PORT: String(port), GATE_MODULE: module, UPSTREAM_HTTP: `http://127.0.0.1:${node.port}`, UPSTREAM_WS: node.ws, ...envFor(moto.endpoint) });
    gates.push({ name, port, proc });
  }
  const concurrency = Number(env.GATE_CONCURRENCY ?? 16);
  const roundMs = Number(env.GATE_ROUND_MS ?? 3000);
  const rate = env.GATE_RATE ? Number(env.GATE_RATE) : undefined;
  const paths: { key: string; client: string; port: number; headers: Record<string, string>; pids: Record<string, number> }[] = [];
  for (const client of (env.GATE_CLIENTS ?? 'raw').split(',')) {
    paths.push({ key: `${client}/direct`, client, port: node.port, headers: {}, pids: { node: node.pid } });
    for (const g of gates) paths.push({ key: `${client}/gate-${g.name}`, client, port: g.port, headers: auth, pids: { gate: g.proc.pid!, node: node.pid } });
  }
  const run = (p: (typeof paths)[number], durationMs: number) =>
    p.client === 'raw'
      ? rawLoad({ port: p.port, headers: p.headers, body: BODY, concurrency, durationMs, ...(rate ? { rate } : {}) })
      : httpLoad(p.port, p.headers, concurrency, durationMs);
  for (const p of paths) await run(p, 1000); // warm-up
  const acc = new Map<string, { requests: number; cpu: Record<string, number>; latencies: number[]; rps: number[] }>();
  for (let r = 0; r < Number(env.GATE_ROUNDS ?? 3); r++) {
    for (const p of r % 2 ? [...paths].reverse() : paths) {
      const pids = { client: process.pid, ...p.pids };
      const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMicros(pid)]));
      const res = await run(p, roundMs);
      const a = acc.get(p.key) ?? { requests: 0, cpu: {}, latencies: [], rps: [] };
      a.requests += res.requests;
      a.rps.push(Math.round(res.requests / res.seconds));
      for (const [k, pid] of Object.entries(pids)) a.cpu[k] = (a.cpu[k] ?? 0) + cpuMicros(pid) - before[k];
      for (const l of res.latenciesMs) a.latencies.push(l);
      acc.set(p.key, a);
    }
  }
  for (const [key, a] of acc) {
    const s = summarize(a.latencies);
    const cpuUsPerRequest = Object.fromEntries(Object.entries(a.cpu).map(([k, v]) => [k, Math.round((v / a.requests) * 10) / 10]));
    const total = Math.round((Object.values(a.cpu).reduce((x, y) => x + y, 0) / a.requests) * 10) / 10;
    console.log(JSON.stringify({ node: nodeName, path: key, requestsPerSecondRounds: a.rps, p50: s.p50, p99: s.p99, cpuUsPerRequest: { ...cpuUsPerRequest, total } }));
  }
  for (const g of gates) g.proc.kill();
  await node.stop();
  await moto.stop();
}

void main();
