/**
 * The N default environments both synth children build (library and hand-written baseline):
 * tenants `tenant-<t>` of up to 50 environments `env-<e>` each, every one with its own /16
 * (10.0.0.0/16 upwards, then 11.x after 256 environments).
 */
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
