/**
 * Synth scale, library vs. hand-written baseline (issue #6): for each size, N default environments
 * in ONE app (one stack each), synthesized in a fresh process per measurement by
 * bench/support/synth-child.ts (the library) and bench/support/baseline-child.ts (plain
 * aws-cdk-lib, bench/baseline), interleaved per size (and the order alternated per repeat) so
 * that load from other jobs hits both sides alike. Reports medians per side, the overhead ratio
 * (library / baseline) per size and the marginal ms per environment between the smallest and the
 * largest size.
 *
 * aws-cdk-lib's built-in CloudFormation validation (on by default in `app.synth()`) runs unless
 * `cfnValidation` is false (CDK_VALIDATION=false in the child).
 *
 * Run alone: `BENCH_ENVS=1,10,100,300 BENCH_SYNTH_REPEATS=3 npx tsx bench/support/synth-compare.ts`
 * (prints JSON; BENCH_SYNTH_VALIDATION=off skips the built-in validation; scale.bench.ts runs the
 * same through `compareSynth`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SynthMeasurement } from './environments';

export type SynthSide = 'library' | 'baseline';

export interface SynthRow {
  readonly envs: number;
  /** Medians of the repeats (each metric on its own). */
  readonly library: SynthMeasurement;
  readonly baseline: SynthMeasurement;
  /** library wall ms / baseline wall ms (target <= 1.2). */
  readonly ratio: number;
  /** library CPU ms / baseline CPU ms. */
  readonly cpuRatio: number;
}

export interface SynthComparison {
  readonly method: string;
  /** Whether aws-cdk-lib's built-in CloudFormation validation ran (its default; CDK_VALIDATION=false turns it off). */
  readonly cfnValidation: boolean;
  readonly repeats: number;
  readonly rows: SynthRow[];
  /** (wall ms at the largest size - at the smallest) / (difference in environments). */
  readonly marginalMsPerEnvironment: Record<SynthSide, number> | undefined;
  /** The same with CPU ms. */
  readonly marginalCpuMsPerEnvironment: Record<SynthSide, number> | undefined;
  /** Every measurement, in the order taken. */
  readonly samples: (SynthMeasurement & { side: SynthSide })[];
}

const CHILD: Record<SynthSide, string> = { library: 'synth-child.ts', baseline: 'baseline-child.ts' };

/** One measurement in a fresh process (its own peak RSS); its cloud assembly is deleted after. */
export function synthOnce(side: SynthSide, envs: number, cfnValidation = true): SynthMeasurement {
  const outdir = mkdtempSync(join(tmpdir(), `bt-bench-${side}-`));
  try {
    const out = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, CHILD[side])], {
      env: { ...process.env, ENVS: String(envs), OUTDIR: outdir, CDK_VALIDATION: cfnValidation ? 'true' : 'false' },
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (out.status !== 0) throw new Error(`${side} synth of ${envs} environments failed:\n${out.stderr}`);
    return JSON.parse(out.stdout.trim().split('\n').pop()!) as SynthMeasurement;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : Math.round((s[s.length / 2 - 1] + s[s.length / 2]) / 2);
};
const round2 = (x: number) => Math.round(x * 100) / 100;

function medianOf(samples: SynthMeasurement[]): SynthMeasurement {
  const m = (k: 'ms' | 'cpuMs' | 'processMs' | 'maxRssMiB') => median(samples.map((s) => s[k]));
  return { envs: samples[0].envs, ms: m('ms'), cpuMs: m('cpuMs'), processMs: m('processMs'), maxRssMiB: m('maxRssMiB'), resources: samples[0].resources };
}

export function compareSynth(sizes: readonly number[], repeats = 1, log: (line: string) => void = () => {}, cfnValidation = true): SynthComparison {
  const samples: (SynthMeasurement & { side: SynthSide })[] = [];
  const rows = sizes.map((envs) => {
    const taken: Record<SynthSide, SynthMeasurement[]> = { library: [], baseline: [] };
    for (let r = 0; r < repeats; r++) {
      const order: SynthSide[] = r % 2 === 0 ? ['library', 'baseline'] : ['baseline', 'library'];
      for (const side of order) {
        const m = synthOnce(side, envs, cfnValidation);
        taken[side].push(m);
        samples.push({ side, ...m });
        log(`${side} ${envs} env(s)${cfnValidation ? '' : ' without CloudFormation validation'}: ${m.ms} ms wall, ${m.cpuMs} ms CPU, ${m.maxRssMiB} MiB, ${m.resources} resources`);
      }
    }
    const library = medianOf(taken.library);
    const baseline = medianOf(taken.baseline);
    if (library.resources !== baseline.resources) {
      throw new Error(`${envs} environments: the library made ${library.resources} resources, the baseline ${baseline.resources}; update bench/baseline`);
    }
    return { envs, library, baseline, ratio: round2(library.ms / baseline.ms), cpuRatio: round2(library.cpuMs / baseline.cpuMs) };
  });
  const [a, b] = [rows[0], rows[rows.length - 1]];
  const marginal = (k: 'ms' | 'cpuMs') =>
    b.envs > a.envs
      ? { library: Math.round((b.library[k] - a.library[k]) / (b.envs - a.envs)), baseline: Math.round((b.baseline[k] - a.baseline[k]) / (b.envs - a.envs)) }
      : undefined;
  return {
    method:
      'N default environments (4 Besu QBFT validators, no ingress) in one app, one stack each; fresh process per measurement, ' +
      'library and baseline interleaved per size; bundling skipped, no nag packs; ms = new App() to the end of app.synth() (imports excluded); medians of the repeats',
    cfnValidation,
    repeats,
    rows,
    marginalMsPerEnvironment: marginal('ms'),
    marginalCpuMsPerEnvironment: marginal('cpuMs'),
    samples,
  };
}

if (require.main === module) {
  const sizes = (process.env.BENCH_ENVS ?? '1,10,100,300').split(',').map(Number);
  const result = compareSynth(sizes, Number(process.env.BENCH_SYNTH_REPEATS ?? 1), (l) => console.error(l), process.env.BENCH_SYNTH_VALIDATION !== 'off');
  console.log(JSON.stringify(result, null, 2));
}
