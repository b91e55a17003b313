import { execFileSync } from 'node:child_process';

/**
 * npm package names in a list of module file names: the outermost `node_modules/<name>` of each,
 * i.e. the package the app depends on (aws-cdk-lib's own bundled dependencies count as aws-cdk-lib).
 */
export function packagesOf(files: readonly string[]): string[] {
  const names = new Set<string>();
  for (const f of files) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

/**
 * The npm packages loaded by `require(specifier)` in a fresh Node process started in `cwd`
 * (everything in require.cache afterwards), with extra Node arguments (e.g. a TypeScript loader).
 */
export function packagesLoadedBy(specifier: string, cwd: string, nodeArgs: readonly string[] = []): string[] {
  const script = `require(${JSON.stringify(specifier)}); process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const out = execFileSync(process.execPath, [...nodeArgs, '-e', script], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return packagesOf(JSON.parse(out) as string[]);
}

/** Runtime code that must never be loaded by importing the library (it ships as prebuilt assets). */
export const RUNTIME_PACKAGES = /^(argon2|ethers|ws|esbuild|@aws-sdk\/.*|@smithy\/.*|@aws-crypto\/.*|@phc\/format|node-gyp-build)$/;
