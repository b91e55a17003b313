/**
 * Gate overhead and authorizer latency (issue: application layer).
 *
 * 1. eth_blockNumber against ganache directly and through the real gate (warm decision cache),
 *    each in its own process, side by side in one run, same client (keep-alive HTTP, fixed concurrency, fixed duration):
 *    requests/s and p50 / p99 latency.
 * 2. The authorizer handler with real argon2id (Secrets Manager on moto): verification latency
 *    on cache misses, and cache-hit latency.
 * Writes bench/results/gate.json.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createAuthorizer } from '../lambda/authorizer/handler';
import { authorizerEvent } from '../lambda/node-gate/lambda-authorizer';
import { basicAuthorization } from '../lib/credentials/credential-format';
import { CredentialService } from '../lib/credentials/credential-service';
import { envFor, freePort, startMoto } from '../test/support/moto';
import { machine, summarize } from './stats';

const BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] });

async function load(url: URL, headers: Record<string, string>, concurrency: number, durationMs: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
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
  const seconds = (Date.now() - started) / 1000;
  return { requestsPerSecond: Math.round(latencies.length / seconds), errors, ...summarize(latencies) };
}

/** Starts a bench/support/*-process.ts child and waits for its "ready" line. */
function child(script: string, env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support', script)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(p));
    p.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  // Three processes, as in production: the node (ganache), the gate, and the clients (this one).
  const moto = await startMoto();
  const service = new CredentialService({ secretsManager: new SecretsManagerClient(moto.clientConfig), tenantId: 'acme', environmentId: 'dev' });
  const authorizer = createAuthorizer(service, { nodeMembers: { 'validator-1': 'acme' }, log: () => undefined });
  const nodePort = await freePort();
  const ganache = await child('ganache-process.ts', { PORT: String(nodePort) });
  const node = { rpcUrl: `http://127.0.0.1:${nodePort}`, wsUrl: `ws://127.0.0.1:${nodePort}` };
  const port = await freePort();
  const gateProcess = await child('gate-process.ts', { PORT: String(port), UPSTREAM_HTTP: node.rpcUrl, UPSTREAM_WS: node.wsUrl, ...envFor(moto.endpoint) });
  const cred = await service.create({ memberId: 'acme' });
  const auth = { authorization: basicAuthorization(cred.credential.id, cred.secret) };

  const concurrency = 16;
  const durationMs = 8000;
  await load(new URL(node.rpcUrl), {}, concurrency, 1000); // warm-up both paths
  await load(new URL(`http://127.0.0.1:${port}/`), auth, concurrency, 1000);
  const rounds: { direct: Awaited<ReturnType<typeof load>>; gate: Awaited<ReturnType<typeof load>> }[] = [];
  for (let i = 0; i < 2; i++) {
    rounds.push({
      direct: await load(new URL(node.rpcUrl), {}, concurrency, durationMs / 2),
      gate: await load(new URL(`http://127.0.0.1:${port}/`), auth, concurrency, durationMs / 2),
    });
  }
  const pick = (k: 'direct' | 'gate') => ({
    requestsPerSecond: Math.round(rounds.reduce((a, r) => a + r[k].requestsPerSecond, 0) / rounds.length),
    p50: Math.max(...rounds.map((r) => r[k].p50)),
    p99: Math.max(...rounds.map((r) => r[k].p99)),
    errors: rounds.reduce((a, r) => a + r[k].errors, 0),
  });
  const direct = pick('direct');
  const viaGate = pick('gate');
  // Latency without queueing: one client, one request at a time.
  const single = {
    direct: await load(new URL(node.rpcUrl), {}, 1, 3000),
    gate: await load(new URL(`http://127.0.0.1:${port}/`), auth, 1, 3000),
  };

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
  const hits: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = process.hrtime.bigint();
    await authorizer.handle(authorizerEvent(auth.authorization, 'validator-1'));
    hits.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  gateProcess.kill();
  ganache.kill();
  await moto.stop();

  const result = {
    machine: machine(),
    method: `eth_blockNumber, ${concurrency} concurrent keep-alive clients, 2 alternating rounds of ${durationMs / 2000} s per path, after a 1 s warm-up each`,
    direct,
    gate: viaGate,
    throughputRatio: Math.round((viaGate.requestsPerSecond / direct.requestsPerSecond) * 1000) / 1000,
    addedP99Ms: Math.round((viaGate.p99 - direct.p99) * 1000) / 1000,
    addedP50Ms: Math.round((viaGate.p50 - direct.p50) * 1000) / 1000,
    sequential: {
      method: 'one client, one request at a time, 3 s per path',
      direct: { p50: single.direct.p50, p99: single.direct.p99, requestsPerSecond: single.direct.requestsPerSecond },
      gate: { p50: single.gate.p50, p99: single.gate.p99, requestsPerSecond: single.gate.requestsPerSecond },
      addedP99Ms: Math.round((single.gate.p99 - single.direct.p99) * 1000) / 1000,
    },
    targets: { throughputRatio: '>= 0.85', addedP99Ms: '< 1' },
    authorizer: {
      argon2id: 'm=19456 KiB, t=2, p=1',
      verifyMissMs: summarize(misses),
      unknownIdMissMs: summarize(unknown),
      cacheHitMs: summarize(hits),
    },
  };
  writeFileSync(join(__dirname, 'results', 'gate.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

void main();
