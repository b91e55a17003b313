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
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { BUILD_FORMAT, BUILD_RECORD, BuildRecord, PREBUILT_ASSETS, PREBUILT_ASSETS_DIR, PrebuiltAssetSpec, prebuiltAssetMainFile } from '../lib/assets/prebuilt-assets';

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

/**
 * A web app: one JS and one CSS bundle and the fonts they use, every file named by its content
 * hash (CloudFront and browsers may cache them forever), and index.html naming them (no inline
 * script or style: the console's Content-Security-Policy allows only its own files). The HTML
 * template is the entry's directory's parent's index.html (console/index.html).
 */
function buildWebApp(name: string, spec: PrebuiltAssetSpec): Record<string, readonly [number, number]> {
  const result = buildSync({
    absWorkingDir: ROOT,
    entryPoints: { main: spec.entry },
    outdir: 'out',
    write: false,
    bundle: true,
    platform: 'browser',
    target: spec.target,
    format: 'esm',
    minify: true,
    sourcemap: false,
    legalComments: 'external',
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    loader: { '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.svg': 'file', '.png': 'file' },
    define: { 'process.env.NODE_ENV': '"production"' },
    external: [...spec.external],
    metafile: true,
    logLevel: 'error',
  });
  const outRoot = path.join(ROOT, 'out');
  const files = result.outputFiles.map((f) => ({ name: path.relative(outRoot, f.path), contents: f.contents }));
  const js = files.find((f) => /^main-[A-Z0-9]+\.js$/.test(f.name));
  const css = files.find((f) => /^main-[A-Z0-9]+\.css$/.test(f.name));
  if (!js || !css) throw new Error(`the ${name} web app build gave no main JS or CSS file (got ${files.map((f) => f.name).join(', ')})`);
  const template = path.join(path.dirname(path.dirname(spec.entry)), 'index.html');
  const html = readFileSync(path.join(ROOT, template), 'utf8').replace('%MAIN_JS%', js.name).replace('%MAIN_CSS%', css.name);
  if (/<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=/i.test(html)) throw new Error(`${template} has an inline script or style: the console's CSP (script-src 'self') would block it`);
  const dir = path.join(PREBUILT_ASSETS_DIR, name);
  mkdirSync(dir, { recursive: true });
  const keep = new Set([...files.map((f) => f.name), 'index.html']);
  for (const f of files) writeAtomically(path.join(dir, f.name), f.contents);
  writeAtomically(path.join(dir, 'index.html'), html);
  for (const f of readdirSync(dir)) if (!keep.has(f) && !f.endsWith('.tmp')) rmSync(path.join(dir, f), { recursive: true, force: true });
  const inputs: Record<string, readonly [number, number]> = {};
  for (const file of [...Object.keys(result.metafile.inputs), template, 'scripts/build-assets.ts', 'lib/assets/prebuilt-assets.ts']) inputs[file] = stamp(file);
  return inputs;
}

function buildOne(name: string, spec: PrebuiltAssetSpec): Record<string, readonly [number, number]> {
  if (spec.kind === 'web-app') return buildWebApp(name, spec);
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
    for (const [name, spec] of Object.entries(PREBUILT_ASSETS)) {
      const dir = path.join(PREBUILT_ASSETS_DIR, name);
      const files = spec.kind === 'web-app' ? readdirSync(dir) : [prebuiltAssetMainFile(spec)];
      for (const f of files) console.log(`${path.relative(ROOT, path.join(dir, f))}  ${(statSync(path.join(dir, f)).size / 1024).toFixed(1)} KB`);
    }
    console.log(`built ${Object.keys(PREBUILT_ASSETS).length} assets in ${Date.now() - started} ms`);
  }
}

main();
