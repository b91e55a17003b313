/**
 * Scale (issue: scale and speed): synth time and peak memory for N default environments in one
 * app, template size as nodes grow, and the bundled size and cold init time of every Lambda.
 * Writes bench/results/scale.json. The hand-written plain aws-cdk-lib baseline is not built yet.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { buildSync } from 'esbuild';
import { BlockchainEnvironment, NodeRole } from '../lib';
import { machine } from './stats';

const sizes = (process.env.BENCH_ENVS ?? '1,10,50').split(',').map(Number);

function synth(envs: number) {
  const out = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'support', 'synth-child.ts')], {
    env: { ...process.env, ENVS: String(envs), OUTDIR: mkdtempSync(join(tmpdir(), 'bt-bench-')) },
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').pop()!) as { envs: number; ms: number; maxRssMiB: number; resources: number };
}

function templateSize(nodes: number, ingress: boolean): { nodes: number; ingress: boolean; resources?: number; bytes?: number; refused?: string } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S', { env: { region: 'eu-west-1' } });
  new BlockchainEnvironment(stack, 'E', {
    tenantId: 'acme',
    environmentId: 'dev',
    chain: { nodes: Array.from({ length: nodes }, (_, i) => ({ id: `node-${i}`, member: 'default', role: NodeRole.VALIDATOR })) },
    ...(ingress ? { ingress: { certificate: acm.Certificate.fromCertificateArn(stack, 'C', 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b'), domainName: 'x.example.com' } } : {}),
  });
  try {
    const t = app.synth().getStackByName('S').template;
    return { nodes, ingress, resources: Object.keys(t.Resources).length, bytes: JSON.stringify(t).length };
  } catch (e) {
    return { nodes, ingress, refused: (e as Error).message.split('\n').find((l) => l.includes('chain.nodes')) ?? (e as Error).message.slice(0, 200) };
  }
}

function lambdas() {
  const entries = ['authorizer', 'issuer', 'management', 'node-keys', 'node-gate', 'node-metrics'];
  const dir = mkdtempSync(join(tmpdir(), 'bt-lambda-'));
  return entries.map((name) => {
    const out = join(dir, `${name}.js`);
    // As the constructs bundle them: @aws-sdk from the Lambda runtime, argon2 from its layer.
    buildSync({ entryPoints: [join(__dirname, '..', 'lambda', name, 'index.ts')], bundle: true, platform: 'node', target: 'node22', minify: true, external: ['@aws-sdk/*', 'argon2'], outfile: out, logLevel: 'error' });
    // Cold init: a fresh process loads the bundle (resolving @aws-sdk and argon2 from node_modules).
    const init = spawnSync(process.execPath, ['-e', `const t=process.hrtime.bigint();process.env.NODE_ID='n';process.env.AUTHORIZER_FUNCTION='f';process.env.BT_TENANT='t';process.env.BT_ENVIRONMENT='e';process.env.BT_NODE='n';require(${JSON.stringify(out)});console.log(Number(process.hrtime.bigint()-t)/1e6);setTimeout(()=>process.exit(0),0)`], {
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: join(__dirname, '..', 'node_modules'), GATE_PORT: '0' },
    });
    return { name, bytes: statSync(out).size, initMs: Math.round(Number(init.stdout.trim().split('\n')[0]) * 10) / 10 };
  });
}

const synthResults = sizes.map(synth);
const [a, b] = [synthResults[0], synthResults[synthResults.length - 1]];
const result = {
  machine: machine(),
  synth: synthResults,
  marginalMsPerEnvironment: b.envs > a.envs ? Math.round((b.ms - a.ms) / (b.envs - a.envs)) : undefined,
  templateSize: [
    ...[4, 8, 16].map((n) => templateSize(n, true)),
    templateSize(21, true),
    templateSize(24, true),
    templateSize(24, false),
  ],
  lambdas: lambdas(),
  notes: ['No hand-written baseline yet: the library overhead ratio is not measured.', 'Synth runs with asset bundling skipped and without nag packs (the same settings as the template tests).'],
};
writeFileSync(join(__dirname, 'results', 'scale.json'), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
