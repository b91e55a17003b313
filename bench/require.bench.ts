/**
 * Import cost (issue #16): the time a fresh Node process takes to `require` the library's entry
 * point, as a CDK app does at the start of every synth, and what it loads.
 *
 * - before: the entry point at BENCH_REQUIRE_BEFORE (a git ref; default 40e5f90, the last commit
 *   before the runtime code left the entry point), compiled with tsc into .cache/bench-require/.
 * - after: this checkout's dist/lib/index.js (built first with `npm run build:package`).
 *
 * Both run from inside the repository, so they resolve the same node_modules. Runs alternate
 * (before, after, before, ...) in fresh processes; BENCH_REQUIRE_RUNS (default 21) per side.
 * Writes bench/results/require.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { machine, percentile } from './stats';

const ROOT = join(__dirname, '..');
const beforeRef = process.env.BENCH_REQUIRE_BEFORE ?? '40e5f90';
const runs = Number(process.env.BENCH_REQUIRE_RUNS ?? 21);

/** Compiles lib/ of a git ref into .cache/bench-require/<commit>/dist; returns its entry point. */
function buildRef(ref: string): string {
  const commit = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(ROOT, '.cache', 'bench-require', commit);
  const entry = join(dir, 'dist', 'lib', 'index.js');
  if (existsSync(entry)) return entry;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} lib tsconfig.json | tar -x -C "${dir}"`], { cwd: ROOT });
  writeFileSync(join(dir, 'tsconfig.bench.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: false, outDir: 'dist', rootDir: '.', types: [] }, include: ['lib'] }));
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.bench.json')], { cwd: dir, stdio: 'inherit' });
  return entry;
}

function buildAfter(): string {
  const entry = join(ROOT, 'dist', 'lib', 'index.js');
  execFileSync('npm', ['run', 'build:package', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return entry;
}

interface Sample {
  readonly requireMs: number;
  readonly processMs: number;
  readonly modules: number;
  readonly packages: string[];
}

/** One fresh process: time around require(), wall time of the whole process, what it loaded. */
function sample(entry: string): Sample {
  const script = `
    const t = process.hrtime.bigint();
    require(${JSON.stringify(entry)});
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const files = Object.keys(require.cache);
    const packages = [...new Set(files.map((f) => (/node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(f) || [])[1]).filter(Boolean))].sort();
    process.stdout.write(JSON.stringify({ requireMs: ms, modules: files.length, packages }));`;
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  const processMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`require(${entry}) failed: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as Omit<Sample, 'processMs'>), processMs };
}

function summary(samples: Sample[]) {
  const req = samples.map((s) => s.requireMs).sort((a, b) => a - b);
  const proc = samples.map((s) => s.processMs).sort((a, b) => a - b);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    runs: samples.length,
    requireMsP50: r1(percentile(req, 50)),
    requireMsP90: r1(percentile(req, 90)),
    processMsP50: r1(percentile(proc, 50)),
    modules: samples[0].modules,
    packages: samples[0].packages,
  };
}

function main(): void {
  const before = buildRef(beforeRef);
  const after = buildAfter();
  sample(before); // warm the file system cache for both sides
  sample(after);
  const b: Sample[] = [];
  const a: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    b.push(sample(before));
    a.push(sample(after));
  }
  const result = {
    method: `require() of the entry point in a fresh Node process, ${runs} runs per side, alternating; p50/p90 of the time around require(), p50 of the whole process`,
    machine: machine(),
    loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
    before: { ref: beforeRef, entry: before.slice(ROOT.length + 1), ...summary(b) },
    after: { ref: 'working tree', entry: after.slice(ROOT.length + 1), ...summary(a) },
  };
  writeFileSync(join(__dirname, 'results', 'require.json'), `${JSON.stringify(result, null, 2)}\n`);
  const row = (name: string, s: ReturnType<typeof summary>) => `${name}: require p50 ${s.requireMsP50} ms (p90 ${s.requireMsP90}), process p50 ${s.processMsP50} ms, ${s.modules} modules, packages: ${s.packages.join(', ')}`;
  console.log(row('before', result.before));
  console.log(row('after ', result.after));
}

main();
