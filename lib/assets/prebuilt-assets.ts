import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { NODE_PROGRAM_NODE_MAJOR } from '../nodes/node-runtime';

/**
 * The runtime code this library deploys, built ONCE when the package is built (`npm run build`,
 * `prepack`) by `scripts/build-assets.ts` with esbuild into `dist/assets/<name>/index.js`, and
 * shipped in the package. At a user's synth the constructs only point CDK assets at those
 * directories: no esbuild, TypeScript sources, Docker or network.
 *
 * In this repository (running from the TypeScript sources: tests, `npx cdk synth` through tsx)
 * the assets are rebuilt on demand when missing or older than their inputs, so a fresh clone
 * synthesizes with `npm ci && npx cdk synth` and an edited handler is never deployed stale.
 */
export interface PrebuiltAssetSpec {
  /** Entry point, relative to the repository root. */
  readonly entry: string;
  /**
   * Where it runs: a Lambda function (AWS SDK v3 provided by the runtime), a node-side program
   * (self-contained), or a web app (browser bundle: hashed JS, CSS and font files and one
   * index.html, served by CloudFront).
   */
  readonly kind: 'lambda' | 'node-program' | 'web-app';
  /** esbuild target: the oldest Node.js (or browsers) that runs it. */
  readonly target: string;
  /** Modules left out of the bundle (provided at run time). */
  readonly external: readonly string[];
}

/** Every prebuilt asset, by name (the directory under `dist/assets`). */
export const PREBUILT_ASSETS = {
  authorizer: { entry: 'lambda/authorizer/index.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*', 'argon2'] },
  issuer: { entry: 'lambda/issuer/index.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*', 'argon2'] },
  management: { entry: 'lambda/management/index.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*'] },
  'node-keys': { entry: 'lambda/node-keys/index.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*'] },
  // Node-side programs run on the node's Node.js from the Amazon Linux repositories (pinned in
  // lib/nodes/node-runtime.ts): everything, the AWS SDK included, is bundled.
  'node-gate': { entry: 'lambda/node-gate/index.ts', kind: 'node-program', target: `node${NODE_PROGRAM_NODE_MAJOR}`, external: [] },
  'node-metrics': { entry: 'lambda/node-metrics/index.ts', kind: 'node-program', target: `node${NODE_PROGRAM_NODE_MAJOR}`, external: [] },
  // The web console (React + Cloudscape), served from S3 through CloudFront: browsers of the last
  // two years (ES2022, CSS nesting not assumed).
  console: { entry: 'console/src/main.tsx', kind: 'web-app', target: 'es2022', external: [] },
} as const satisfies Record<string, PrebuiltAssetSpec>;

/** The file every build of an asset has (index.js; index.html for a web app). */
export function prebuiltAssetMainFile(spec: PrebuiltAssetSpec): string {
  return spec.kind === 'web-app' ? 'index.html' : 'index.js';
}

/** Name of a prebuilt asset. */
export type PrebuiltAssetName = keyof typeof PREBUILT_ASSETS;

/** Running from the TypeScript sources (this repository) rather than from the built package. */
const FROM_SOURCE = __filename.endsWith('.ts');
/** The repository root (from the sources) or the package's `dist` directory (built). */
const BASE = path.resolve(__dirname, '..', '..');

/** The repository root when running from its sources; undefined in the built package. */
export const SOURCE_ROOT: string | undefined = FROM_SOURCE && existsSync(path.join(BASE, 'lambda')) ? BASE : undefined;
/** Directory holding the prebuilt assets. */
export const PREBUILT_ASSETS_DIR = FROM_SOURCE ? path.join(BASE, 'dist', 'assets') : path.join(BASE, 'assets');
/** What the build read, to tell when an asset is stale (repository only; not in the package). */
export const BUILD_RECORD = path.join(PREBUILT_ASSETS_DIR, '..', 'asset-inputs.json');
/** Bump when the build's options change, so every asset is rebuilt. */
export const BUILD_FORMAT = 1;

/** The build record: for each asset, every file esbuild read, with size and modification time. */
export interface BuildRecord {
  readonly format: number;
  readonly assets: Readonly<Record<string, { readonly inputs: Readonly<Record<string, readonly [number, number]>> }>>;
}

/** True when every asset exists and no file any of them was built from has changed since. */
export function prebuiltAssetsFresh(root: string): boolean {
  let record: BuildRecord;
  try {
    record = JSON.parse(readFileSync(BUILD_RECORD, 'utf8')) as BuildRecord;
  } catch {
    return false;
  }
  if (record.format !== BUILD_FORMAT) return false;
  for (const [name, spec] of Object.entries(PREBUILT_ASSETS)) {
    const built = record.assets[name];
    if (!built || !existsSync(path.join(PREBUILT_ASSETS_DIR, name, prebuiltAssetMainFile(spec)))) return false;
    for (const [file, [size, mtime]] of Object.entries(built.inputs)) {
      try {
        const s = statSync(path.join(root, file));
        if (s.size !== size || s.mtimeMs !== mtime) return false;
      } catch {
        return false;
      }
    }
  }
  return true;
}

let checked = false;

/**
 * In the repository, rebuilds the assets when missing or stale (once per process, in a child
 * process: esbuild is never loaded into the synth process). In the built package, does nothing.
 */
function refreshFromSource(): void {
  if (checked || SOURCE_ROOT === undefined) return;
  checked = true;
  if (prebuiltAssetsFresh(SOURCE_ROOT)) return;
  try {
    execFileSync(process.execPath, ['--import', 'tsx', path.join('scripts', 'build-assets.ts')], { cwd: SOURCE_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`blockchain-tenancy: building the Lambda and node program assets failed (npm run build:assets)${stderr ? `:\n${stderr}` : ''}\nRun npm ci in ${SOURCE_ROOT} to install esbuild and tsx.`);
  }
}

/** The directory of one prebuilt asset (`index.js`, or a web app's `index.html`, inside), ready to be a CDK asset. */
export function prebuiltAssetDir(name: PrebuiltAssetName): string {
  refreshFromSource();
  const dir = path.join(PREBUILT_ASSETS_DIR, name);
  const main = path.join(dir, prebuiltAssetMainFile(PREBUILT_ASSETS[name]));
  if (!existsSync(main)) {
    throw new Error(
      `blockchain-tenancy: the prebuilt asset "${name}" is missing (${main}). ` +
        (SOURCE_ROOT ? 'Run npm run build:assets.' : 'The installed package is incomplete: reinstall blockchain-tenancy.'),
    );
  }
  return dir;
}
