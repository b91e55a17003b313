/**
 * Builds every Lambda handler and node-side program ONCE into `dist/assets/<name>/` (shipped in
 * the package; the constructs point CDK assets at these directories): esbuild bundles as
 * `index.js`, and the Go node gate (gate/) cross-compiled to static Linux binaries
 * `linux-amd64/node-gate` and `linux-arm64/node-gate` (CGO_ENABLED=0, -trimpath, no build id:
 * the same sources and Go release give the same bytes). It records what each asset was built
 * from in `dist/asset-inputs.json` so the repository can tell when an asset is stale. Run by `npm run build` / `prepack`, and on demand
 * from the sources when an asset is missing or stale (lib/assets/prebuilt-assets.ts).
 *
 * Every file is written to a temporary name and renamed into place, so a concurrent synth (tests
 * run in parallel) reads the old or the new bundle, never half of one.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import {
  BUILD_FORMAT,
  BUILD_RECORD,
  BuildRecord,
  GO_ARCHITECTURES,
  GoProgramSpec,
  PREBUILT_ASSETS,
  PREBUILT_ASSETS_DIR,
  PrebuiltAssetName,
  PrebuiltAssetSpec,
  prebuiltAssetFiles,
} from '../lib/assets/prebuilt-assets';

const ROOT = path.resolve(__dirname, '..');

function writeAtomically(file: string, contents: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
}

function stamp(file: string): readonly [number, number] {
  const s = statSync(path.join(ROOT, file));
  return [s.size, s.mtimeMs];
}

function buildOne(name: string, spec: PrebuiltAssetSpec): Record<string, readonly [number, number]> {
  const result = buildSync({
    absWorkingDir: ROOT,
    entryPoints: [spec.entry],
    outfile: 'index.js',
    write: false,
    bundle: true,
    platform: 'node',
    target: spec.target,
    format: 'cjs',
    minify: true,
    sourcemap: false,
    legalComments: spec.kind === 'lambda' ? 'eof' : 'none',
    external: [...spec.external],
    metafile: true,
    logLevel: 'error',
  });
  const dir = path.join(PREBUILT_ASSETS_DIR, name);
  mkdirSync(dir, { recursive: true });
  // The directory is the asset: nothing but the bundle may be in it.
  for (const f of readdirSync(dir)) if (f !== 'index.js' && !f.endsWith('.tmp')) rmSync(path.join(dir, f), { recursive: true, force: true });
  writeAtomically(path.join(dir, 'index.js'), result.outputFiles[0].contents);
  const inputs: Record<string, readonly [number, number]> = {};
  for (const file of [...Object.keys(result.metafile.inputs), 'scripts/build-assets.ts', 'lib/assets/prebuilt-assets.ts']) inputs[file] = stamp(file);
  return inputs;
}

/** Every file of a Go module (sources, go.mod, go.sum, tests), relative to the repository root. */
function moduleFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/** Cross-compiles a Go program into `linux-<arch>/<binary>` for every architecture. */
function buildGo(name: string, spec: GoProgramSpec): Record<string, readonly [number, number]> {
  const dir = path.join(PREBUILT_ASSETS_DIR, name);
  mkdirSync(dir, { recursive: true });
  const keep = new Set(GO_ARCHITECTURES.map((arch) => `linux-${arch}`));
  for (const f of readdirSync(dir)) if (!keep.has(f)) rmSync(path.join(dir, f), { recursive: true, force: true });
  for (const arch of GO_ARCHITECTURES) {
    const out = path.join(dir, `linux-${arch}`);
    mkdirSync(out, { recursive: true });
    for (const f of readdirSync(out)) if (f !== spec.binary && !f.endsWith('.tmp')) rmSync(path.join(out, f), { recursive: true, force: true });
    const tmp = path.join(out, `${spec.binary}.${process.pid}.tmp`);
    try {
      execFileSync('go', ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w -buildid=', '-o', tmp, spec.main], {
        cwd: path.join(ROOT, spec.entry),
        env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: arch, GOFLAGS: '-mod=readonly' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch (e) {
      rmSync(tmp, { force: true });
      const err = e as { code?: string; stderr?: Buffer };
      if (err.code === 'ENOENT') throw new Error(`building ${name} needs Go (the go command was not found): install Go ${goVersion(spec)} or newer (go.dev/dl)`);
      throw new Error(`go build of ${name} for linux/${arch} failed:\n${err.stderr?.toString().trim() ?? String(e)}`);
    }
    chmodSync(tmp, 0o755);
    renameSync(tmp, path.join(out, spec.binary));
  }
  const inputs: Record<string, readonly [number, number]> = {};
  for (const file of [...moduleFiles(spec.entry), 'scripts/build-assets.ts', 'lib/assets/prebuilt-assets.ts']) inputs[file] = stamp(file);
  return inputs;
}

/** The Go release a module asks for (its go.mod `go` line). */
function goVersion(spec: GoProgramSpec): string {
  try {
    return /^go (\S+)$/m.exec(readFileSync(path.join(ROOT, spec.entry, 'go.mod'), 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

function main(): void {
  const started = Date.now();
  const assets: Record<string, { inputs: Record<string, readonly [number, number]> }> = {};
  for (const [name, spec] of Object.entries(PREBUILT_ASSETS) as [string, PrebuiltAssetSpec | GoProgramSpec][]) {
    assets[name] = { inputs: spec.kind === 'go-program' ? buildGo(name, spec) : buildOne(name, spec) };
  }
  const record: BuildRecord = { format: BUILD_FORMAT, assets };
  writeAtomically(BUILD_RECORD, JSON.stringify(record));
  if (process.argv.includes('--verbose')) {
    for (const name of Object.keys(PREBUILT_ASSETS) as PrebuiltAssetName[]) {
      for (const f of prebuiltAssetFiles(name)) {
        const file = path.join(PREBUILT_ASSETS_DIR, name, f);
        console.log(`${path.relative(ROOT, file)}  ${(statSync(file).size / 1024).toFixed(1)} KB`);
      }
    }
    console.log(`built ${Object.keys(PREBUILT_ASSETS).length} assets in ${Date.now() - started} ms`);
  }
}

main();
