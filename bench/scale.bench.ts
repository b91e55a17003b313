/**
 * Scale (issue: scale and speed): synth time and peak memory for N default environments in one
 * app, next to a hand-written plain aws-cdk-lib baseline of the same environments (bench/baseline;
 * see bench/support/synth-compare.ts), template size as nodes grow, the bundled size and cold
 * init time of every Lambda, and the node gate as it ships: the Go binary's size per architecture,
 * its cold start (spawn to listening) and RSS, beside the Node.js gate (the local environment's
 * fallback, not shipped; bench/support/gate-cold-start.ts). Writes bench/results/scale.json.
 * BENCH_ENVS (default 1,10,100,300) and BENCH_SYNTH_REPEATS (default 1) set the synth runs;
 * BENCH_SYNTH_VALIDATION=on|off|both (default both): with aws-cdk-lib's built-in CloudFormation
 * validation (its default, what `cdk synth` does), without it (CDK_VALIDATION=false), or both.
 * BENCH_GATE_RUNS (default 9) fresh processes per gate; BENCH_GATE_SETTLE_MS (default 500) idle
 * time before the second RSS reading.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { machine } from './stats';
import { gateScale } from './support/gate-cold-start';
import { compareSynth } from './support/synth-compare';
import { TEMPLATE_SIZE_CASES, templateSize } from './support/template-size';

const sizes = (process.env.BENCH_ENVS ?? '1,10,100,300').split(',').map(Number);
const synthRepeats = Number(process.env.BENCH_SYNTH_REPEATS ?? 1);
const synthValidation = process.env.BENCH_SYNTH_VALIDATION ?? 'both';

function lambdas() {
  // Lambda handlers and the node's metric publisher; the node gate is measured in gateScale (it ships as a Go binary).
  const entries = ['authorizer', 'issuer', 'management', 'node-keys', 'node-metrics'];
  const dir = mkdtempSync(join(tmpdir(), 'bt-lambda-'));
  return entries.map((name) => {
    const out = join(dir, `${name}.js`);
    // As the constructs bundle them: @aws-sdk from the Lambda runtime, argon2 from its layer.
    buildSync({ entryPoints: [join(__dirname, '..', 'lambda', name, 'index.ts')], bundle: true, platform: 'node', target: 'node22', minify: true, external: ['@aws-sdk/*', 'argon2'], outfile: out, logLevel: 'error' });
    // Cold init: a fresh process loads the bundle (resolving @aws-sdk and argon2 from node_modules).
    // Five fresh processes per function (one cold init each); the median is reported.
    const runs = Array.from({ length: 5 }, () => {
      const init = spawnSync(process.execPath, ['-e', `const t=process.hrtime.bigint();process.env.NODE_ID='n';process.env.AUTHORIZER_FUNCTION='f';process.env.BT_TENANT='t';process.env.BT_ENVIRONMENT='e';process.env.BT_NODE='n';require(${JSON.stringify(out)});console.log(Number(process.hrtime.bigint()-t)/1e6);setTimeout(()=>process.exit(0),0)`], {
        encoding: 'utf8',
        env: { ...process.env, NODE_PATH: join(__dirname, '..', 'node_modules'), GATE_PORT: '0' },
      });
      return Number(init.stdout.trim().split('\n')[0]);
    }).sort((x, y) => x - y);
    return { name, bytes: statSync(out).size, initMs: Math.round(runs[2] * 10) / 10, initMsRuns: runs.map((r) => Math.round(r * 10) / 10) };
  });
}

const log = (line: string) => console.error(line);
// BENCH_SCALE_PARTS=synth,templates,lambdas,gate (default all): a part left out keeps its previous result.
const parts = new Set((process.env.BENCH_SCALE_PARTS ?? 'synth,templates,lambdas,gate').split(','));
const resultPath = join(__dirname, 'results', 'scale.json');
const previous = (existsSync(resultPath) ? JSON.parse(readFileSync(resultPath, 'utf8')) : {}) as Record<string, unknown>;

async function main(): Promise<void> {
  const result = {
    machine: machine(),
    synth: parts.has('synth') ? (synthValidation === 'off' ? undefined : compareSynth(sizes, synthRepeats, log)) : previous.synth,
    synthWithoutCfnValidation: parts.has('synth') ? (synthValidation === 'on' ? undefined : compareSynth(sizes, synthRepeats, log, false)) : previous.synthWithoutCfnValidation,
    templateSize: parts.has('templates') ? TEMPLATE_SIZE_CASES.map(([nodes, ingress, perGroup]) => templateSize(nodes, ingress, perGroup)) : previous.templateSize,
    lambdas: parts.has('lambdas') ? lambdas() : previous.lambdas,
    gate: parts.has('gate') ? await gateScale(Number(process.env.BENCH_GATE_RUNS ?? 9), Number(process.env.BENCH_GATE_SETTLE_MS ?? 500), log) : previous.gate,
    notes: ['Synth runs with asset bundling skipped and without nag packs (the same settings as the template tests), for the library and the baseline alike.'],
  };
  writeFileSync(resultPath, JSON.stringify(result, null, 2) + '\n');
  console.log(JSON.stringify(result, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
