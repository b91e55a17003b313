import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { NODE_PROGRAM_NODE_MAJOR } from '../nodes/node-runtime';

/**
 * The runtime code this library deploys, built ONCE when the package is built (`npm run build`,
 * `prepack`) by `scripts/build-assets.ts` into `dist/assets/<name>/` (esbuild bundles as
 * `index.js`; the Go node gate as static binaries `linux-amd64/node-gate` and
 * `linux-arm64/node-gate`), and shipped in the package. At a user's synth the constructs only point CDK assets at those
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
   * (self-contained), a web app (browser bundle: hashed JS, CSS and font files and one
   * index.html, served by CloudFront), or the control plane's deploy job (a self-contained program
   * plus the default app bin/app.ts bundled, the environments' assets, cdk.json, package.json and
   * buildspec.yml: the CodeBuild source, see scripts/build-assets.ts).
   */
  readonly kind: 'lambda' | 'node-program' | 'web-app' | 'deploy-job';
  /** esbuild target: the oldest Node.js (or browsers) that runs it. */
  readonly target: string;
  /** Modules left out of the bundle (provided at run time). */
  readonly external: readonly string[];
}

/** A node-side program compiled from Go: static Linux binaries, one per architecture. */
export interface GoProgramSpec {
  /** The Go module's directory, relative to the repository root. */
  readonly entry: string;
  readonly kind: 'go-program';
  /** The main package, relative to the module. */
  readonly main: string;
  /** The binary's file name (in `linux-<arch>/`). */
  readonly binary: string;
}

/** Beside a Go program's binaries: the licence texts of Go and of every module compiled into them (their licences ask binaries to carry them). */
export const GO_NOTICES_FILE = 'THIRD_PARTY_NOTICES.txt';

/** The architectures the Go programs are built for (GOARCH), each in `linux-<arch>/`. */
export const GO_ARCHITECTURES = ['amd64', 'arm64'] as const;

/** Every prebuilt asset, by name (the directory under `dist/assets`). */
export const PREBUILT_ASSETS = {
  authorizer: { entry: 'lambda/authorizer/index.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*', 'argon2'] },
  issuer: { entry: 'lambda/issuer/index.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*', 'argon2'] },
  management: { entry: 'lambda/management/index.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*'] },
  'node-keys': { entry: 'lambda/node-keys/index.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*'] },
  // The node auth gate: a static Go binary per architecture (ADR 10), no runtime on the node.
  'node-gate': { entry: 'gate', kind: 'go-program', main: './cmd/node-gate', binary: 'node-gate' },
  // Node-side programs run on the node's Node.js from the Amazon Linux repositories (pinned in
  // lib/nodes/node-runtime.ts): everything, the AWS SDK included, is bundled.
  'node-metrics': { entry: 'lambda/node-metrics/index.ts', kind: 'node-program', target: `node${NODE_PROGRAM_NODE_MAJOR}`, external: [] },
  // The web console (React + Cloudscape), served from S3 through CloudFront: browsers of the last
  // two years (ES2022, CSS nesting not assumed).
  console: { entry: 'console/src/main.tsx', kind: 'web-app', target: 'es2022', external: [] },
  recorder: { entry: 'lambda/management/control-plane/recorder.ts', kind: 'lambda', target: 'node22', external: ['@aws-sdk/*'] },
  // Last: it carries copies of the assets above. CodeBuild runs it on Node.js 22 (buildspec.yml).
  'deploy-job': { entry: 'lambda/management/control-plane/deploy-job/index.ts', kind: 'deploy-job', target: 'node22', external: [] },
} as const satisfies Record<string, PrebuiltAssetSpec | GoProgramSpec>;

/** The files one prebuilt asset consists of (a Go program's binaries, a web app's index.html, else index.js), relative to its directory. */
export function prebuiltAssetFiles(name: PrebuiltAssetName): string[] {
  const spec: PrebuiltAssetSpec | GoProgramSpec = PREBUILT_ASSETS[name];
  if (spec.kind === 'go-program') return [...GO_ARCHITECTURES.map((arch) => path.join(`linux-${arch}`, spec.binary)), GO_NOTICES_FILE];
  return spec.kind === 'web-app' ? ['index.html'] : ['index.js'];
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
export const BUILD_FORMAT = 2;

/** The build record: for each asset, every file its build read (esbuild's inputs; every file of a Go module), with size and modification time. */
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
  for (const name of Object.keys(PREBUILT_ASSETS)) {
    const built = record.assets[name];
    if (!built || !prebuiltAssetFiles(name as PrebuiltAssetName).every((f) => existsSync(path.join(PREBUILT_ASSETS_DIR, name, f)))) return false;
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
    throw new Error(`blockchain-tenancy: building the Lambda and node program assets failed (npm run build:assets)${stderr ? `:\n${stderr}` : ''}\nRun npm ci in ${SOURCE_ROOT} to install esbuild and tsx, and install Go (go.dev/dl) for the node gate.`);
  }
}

/** The directory of one prebuilt asset (`index.js`, a web app's `index.html`, or a Go program's binaries, inside), ready to be a CDK asset. */
export function prebuiltAssetDir(name: PrebuiltAssetName): string {
  refreshFromSource();
  const dir = path.join(PREBUILT_ASSETS_DIR, name);
  const missing = prebuiltAssetFiles(name).find((f) => !existsSync(path.join(dir, f)));
  if (missing !== undefined) {
    throw new Error(
      `blockchain-tenancy: the prebuilt asset "${name}" is missing (${path.join(dir, missing)}). ` +
        (SOURCE_ROOT ? 'Run npm run build:assets.' : 'The installed package is incomplete: reinstall blockchain-tenancy.'),
    );
  }
  return dir;
}
