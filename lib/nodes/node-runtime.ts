/**
 * The Node.js that runs the node programs (the auth gate and the metric publisher) on every
 * node: the one pin that both the node boot script (package, executable) and the bundle (esbuild
 * target) read. test/unit/node-runtime.test.ts checks that the pin is a supported LTS line.
 *
 * Amazon Linux 2023 ships Node.js 20, 22 and 24 as namespaced packages (`nodejs24`) whose
 * executables are `/usr/bin/node-<major>`; `/usr/bin/node` is an `alternatives` link that any
 * other package may repoint, so the services call the namespaced executable.
 */
export const NODE_PROGRAM_NODE_MAJOR = 24;

/** End of upstream support of each Node.js LTS line AL2023 ships (nodejs.org release schedule). */
export const NODE_LTS_END_OF_LIFE: Readonly<Record<number, string>> = {
  20: '2026-04-30',
  22: '2027-04-30',
  24: '2028-04-30',
};

/** What the boot script installs and runs, and what the bundle targets, for the pinned major. */
export interface NodeProgramRuntime {
  readonly major: number;
  /** The AL2023 package, e.g. `nodejs24`. */
  readonly dnfPackage: string;
  /** The namespaced executable, e.g. `/usr/bin/node-24`. */
  readonly executable: string;
  /** esbuild target of the node programs, e.g. `node24`. */
  readonly esbuildTarget: string;
  /** End of upstream support (ISO date). */
  readonly endOfLife: string;
}

/** The runtime of the node programs (see {@link NODE_PROGRAM_NODE_MAJOR}). */
export function nodeProgramRuntime(major = NODE_PROGRAM_NODE_MAJOR): NodeProgramRuntime {
  const endOfLife = NODE_LTS_END_OF_LIFE[major];
  if (endOfLife === undefined) {
    throw new Error(`nodeProgramRuntime: Node.js ${major} is not an LTS line Amazon Linux 2023 ships; use one of ${Object.keys(NODE_LTS_END_OF_LIFE).join(', ')}`);
  }
  return { major, dnfPackage: `nodejs${major}`, executable: `/usr/bin/node-${major}`, esbuildTarget: `node${major}`, endOfLife };
}
