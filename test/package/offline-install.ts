import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** One entry of package-lock.json's `packages` map (lockfile v3). */
interface LockEntry {
  readonly version?: string;
  readonly resolved?: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
  readonly [key: string]: unknown;
}

/** A package the app installs from a local tarball (`npm pack` output), with its package.json. */
export interface LocalPackage {
  readonly tarball: string;
  readonly manifest: {
    readonly name: string;
    readonly version: string;
    readonly dependencies?: Readonly<Record<string, string>>;
    readonly peerDependencies?: Readonly<Record<string, string>>;
    readonly bin?: Readonly<Record<string, string>>;
    readonly engines?: Readonly<Record<string, string>>;
    readonly license?: string;
  };
}

/** Where Node (and npm) finds `name` required from the package installed at `from` ('' = the app). */
function locate(packages: Readonly<Record<string, LockEntry>>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

/** Flags npm recomputes for the new tree. */
const RECOMPUTED = new Set(['dev', 'devOptional', 'peer', 'extraneous', 'optional']);

/**
 * package.json and package-lock.json of a private app outside the repository that depends on
 * `registryDeps` (packages this repository has installed, at the versions its lockfile resolved)
 * and on `local` (a packed tarball). The lock holds exactly the repository lock's entries for what
 * they need, the local package's dependencies taken from ITS OWN package.json: so a dependency the
 * package forgot to declare is missing from the app, as it would be for a user. With this lock
 * `npm install --offline` needs no registry metadata, only the tarballs the repository's own
 * `npm ci` left in the npm cache.
 */
export function writeOfflineApp(repoRoot: string, appDir: string, registryDeps: Readonly<Record<string, string>>, local: LocalPackage): void {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const repo = lock.packages;
  const out: Record<string, LockEntry> = {};
  const queue: string[] = [];
  const need = (from: string, name: string, optional: boolean) => {
    const at = locate(repo, from, name);
    if (at === undefined) {
      if (optional) return;
      throw new Error(`the repository's package-lock.json has no ${name} reachable from ${from || 'the app'}; run npm ci in the repository`);
    }
    if (out[at] !== undefined) return;
    out[at] = Object.fromEntries(Object.entries(repo[at]).filter(([k]) => !RECOMPUTED.has(k)));
    queue.push(at);
  };
  for (const name of Object.keys(registryDeps)) need('', name, false);
  const localAt = `node_modules/${local.manifest.name}`;
  for (const name of Object.keys(local.manifest.dependencies ?? {})) need(localAt, name, false);
  while (queue.length > 0) {
    const at = queue.shift()!;
    const e = repo[at];
    for (const name of Object.keys(e.dependencies ?? {})) need(at, name, false);
    for (const name of Object.keys(e.optionalDependencies ?? {})) need(at, name, true);
    for (const name of Object.keys(e.peerDependencies ?? {})) need(at, name, e.peerDependenciesMeta?.[name]?.optional === true);
  }
  const m = local.manifest;
  out[localAt] = {
    version: m.version,
    resolved: `file:${path.relative(appDir, local.tarball)}`,
    ...(m.license ? { license: m.license } : {}),
    ...(m.dependencies ? { dependencies: m.dependencies } : {}),
    ...(m.bin ? { bin: m.bin } : {}),
    ...(m.engines ? { engines: m.engines } : {}),
    ...(m.peerDependencies ? { peerDependencies: m.peerDependencies } : {}),
  };
  const name = 'readme-example-app';
  const dependencies = { ...registryDeps, [m.name]: `file:${path.relative(appDir, local.tarball)}` };
  writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name, version: '0.0.0', private: true, dependencies }, null, 2));
  const sorted = Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(
    path.join(appDir, 'package-lock.json'),
    JSON.stringify({ name, version: '0.0.0', lockfileVersion: 3, requires: true, packages: { '': { name, version: '0.0.0', dependencies }, ...sorted } }, null, 2),
  );
}
