/**
 * The N default environments both synth children build (library and hand-written baseline):
 * tenants `tenant-<t>` of up to 50 environments `env-<e>` each, every one with its own /16
 * (10.0.0.0/16 upwards, then 11.x after 256 environments).
 */
import { App } from 'aws-cdk-lib';

export interface BenchEnvironment {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly cidr: string;
}

export function benchEnvironments(n: number): BenchEnvironment[] {
  return Array.from({ length: n }, (_, i) => ({
    tenantId: `tenant-${Math.floor(i / 50)}`,
    environmentId: `env-${i % 50}`,
    cidr: `${10 + Math.floor(i / 256)}.${i % 256}.0.0/16`,
  }));
}

/** The child's result line: wall time of construct + synth (after imports), peak RSS, resources. */
export interface SynthMeasurement {
  readonly envs: number;
  /** Wall ms from `new App()` to the end of `app.synth()` (module imports excluded). */
  readonly ms: number;
  /** CPU ms (user + system, all threads) of the same span: less sensitive to other load. */
  readonly cpuMs: number;
  /** Wall ms since the child process started (Node + tsx start-up and imports included). */
  readonly processMs: number;
  readonly maxRssMiB: number;
  readonly resources: number;
}

/**
 * Times `build` (which adds stacks to the app it is given) plus `app.synth()`, from `new App()` on,
 * with the settings both children share (bundling skipped, outdir from $OUTDIR), and prints the
 * SynthMeasurement as JSON.
 */
export function measureSynth(envs: number, build: (app: App) => void): void {
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir: process.env.OUTDIR });
  build(app);
  const assembly = app.synth();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuStarted);
  const resources = assembly.stacks.reduce((a, s) => a + Object.keys(s.template.Resources ?? {}).length, 0);
  const result: SynthMeasurement = {
    envs,
    ms: Math.round(ms),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    processMs: Math.round(process.uptime() * 1000),
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    resources,
  };
  console.log(JSON.stringify(result));
}
