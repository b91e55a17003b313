/**
 * Builds every Lambda handler and node-side program ONCE with esbuild into
 * `dist/assets/<name>/index.js` (shipped in the package; the constructs point CDK assets at these
 * directories), and records what each bundle was built from in `dist/asset-inputs.json` so the
 * repository can tell when an asset is stale. Run by `npm run build` / `prepack`, and on demand
 * from the sources when an asset is missing or stale (lib/assets/prebuilt-assets.ts).
 *
 * Every file is written to a temporary name and renamed into place, so a concurrent synth (tests
 * run in parallel) reads the old or the new bundle, never half of one.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { BUILD_FORMAT, BUILD_RECORD, BuildRecord, PREBUILT_ASSETS, PREBUILT_ASSETS_DIR, PrebuiltAssetSpec } from '../lib/assets/prebuilt-assets';

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

function main(): void {
  const started = Date.now();
  const assets: Record<string, { inputs: Record<string, readonly [number, number]> }> = {};
  for (const [name, spec] of Object.entries(PREBUILT_ASSETS)) assets[name] = { inputs: buildOne(name, spec) };
  const record: BuildRecord = { format: BUILD_FORMAT, assets };
  writeAtomically(BUILD_RECORD, JSON.stringify(record));
  if (process.argv.includes('--verbose')) {
    for (const name of Object.keys(PREBUILT_ASSETS)) {
      const bytes = statSync(path.join(PREBUILT_ASSETS_DIR, name, 'index.js')).size;
      console.log(`${path.relative(ROOT, path.join(PREBUILT_ASSETS_DIR, name, 'index.js'))}  ${(bytes / 1024).toFixed(1)} KB`);
    }
    console.log(`built ${Object.keys(PREBUILT_ASSETS).length} assets in ${Date.now() - started} ms`);
  }
}

main();
