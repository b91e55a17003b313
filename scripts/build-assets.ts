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
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BuildOptions, buildSync } from 'esbuild';
import {
  BUILD_FORMAT,
  BUILD_RECORD,
  BuildRecord,
  GO_ARCHITECTURES,
  GO_NOTICES_FILE,
  GoProgramSpec,
  PREBUILT_ASSETS,
  PREBUILT_ASSETS_DIR,
  PrebuiltAssetName,
  PrebuiltAssetSpec,
  prebuiltAssetFiles,
} from '../lib/assets/prebuilt-assets';
import { DEPLOY_JOB_CDK_CLI_VERSION } from '../lib/contracts/deploy-job';

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
  if (spec.kind === 'deploy-job') return buildDeployJob(name, spec);
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

/**
 * Packages the deploy job must install in CodeBuild to run the default app: the peer dependencies
 * and the two runtime ones the app loads (cdk-nag registers the packs; argon2 is copied into the
 * credential functions' layer). Pinned to the exact versions installed here, the ones this
 * repository builds and tests with, so the job synthesizes what `npx cdk synth` does here.
 */
const DEPLOY_JOB_PACKAGES = ['aws-cdk-lib', 'constructs', 'cdk-nag', 'argon2'] as const;

function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`, { paths: [ROOT] }), 'utf8')) as { version: string }).version;
}

/** The CodeBuild buildspec of the deploy job (YAML; CodeBuild reads buildspec.yml at the source root). */
function deployJobBuildspec(): string {
  return [
    '# The deploy job of the blockchain-tenancy control plane (generated by scripts/build-assets.ts).',
    '# The install phase fetches the pinned packages of package.json from the npm registry: CodeBuild',
    '# projects outside a VPC have internet access. Nothing else is downloaded; the library itself',
    '# (the default app, bundled, and its Lambda and node assets) is in this source.',
    'version: 0.2',
    'env:',
    '  shell: bash',
    'phases:',
    '  install:',
    '    runtime-versions:',
    '      nodejs: 22',
    '    commands:',
    '      - npm install --no-audit --no-fund --ignore-scripts --omit=dev --no-package-lock',
    '  build:',
    '    commands:',
    '      - node index.js',
    '',
  ].join('\n');
}

/**
 * The deploy job's CodeBuild source, one directory:
 * - index.js: the job (self-contained, AWS SDK included);
 * - app/bin/app.js: the default app, bin/app.ts, bundled (aws-cdk-lib, constructs, cdk-nag and
 *   argon2 installed by the buildspec); it finds the assets two levels up, as the package does;
 * - assets/<name>/index.js: copies of the Lambda and node-program assets the app deploys;
 * - cdk.json: the app command and exactly this repository's cdk.json context (feature flags);
 * - package.json (exact pins) and buildspec.yml.
 * Built in a staging directory and swapped in.
 */
function buildDeployJob(name: string, spec: PrebuiltAssetSpec): Record<string, readonly [number, number]> {
  const dir = path.join(PREBUILT_ASSETS_DIR, name);
  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  const common: BuildOptions = { absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'cjs', minify: true, sourcemap: false, legalComments: 'eof', metafile: true, logLevel: 'error', write: false };
  const job = buildSync({ ...common, entryPoints: [spec.entry], outfile: 'index.js', target: spec.target });
  const app = buildSync({ ...common, entryPoints: ['bin/app.ts'], outfile: 'app.js', target: spec.target, external: [...DEPLOY_JOB_PACKAGES] });
  mkdirSync(path.join(staging, 'app', 'bin'), { recursive: true });
  writeFileSync(path.join(staging, 'index.js'), job.outputFiles![0].contents);
  writeFileSync(path.join(staging, 'app', 'bin', 'app.js'), app.outputFiles![0].contents);
  for (const [other, otherSpec] of Object.entries(PREBUILT_ASSETS) as [PrebuiltAssetName, PrebuiltAssetSpec | GoProgramSpec][]) {
    // The deploy job synthesizes tenant environments only: no web app (the console) is needed.
    if (otherSpec.kind === 'deploy-job' || otherSpec.kind === 'web-app') continue;
    for (const f of prebuiltAssetFiles(other)) {
      mkdirSync(path.dirname(path.join(staging, 'assets', other, f)), { recursive: true });
      // cpSync keeps the mode: the Go gate's binaries stay executable.
      cpSync(path.join(PREBUILT_ASSETS_DIR, other, f), path.join(staging, 'assets', other, f));
    }
  }
  const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  writeFileSync(path.join(staging, 'cdk.json'), `${JSON.stringify({ app: 'node app/bin/app.js', context: cdkJson.context }, null, 2)}\n`);
  const dependencies: Record<string, string> = { 'aws-cdk': DEPLOY_JOB_CDK_CLI_VERSION };
  for (const pkg of DEPLOY_JOB_PACKAGES) dependencies[pkg] = installedVersion(pkg);
  const pkg = { name: 'blockchain-tenancy-deploy-job', private: true, description: 'The deploy job of the blockchain-tenancy control plane (generated)', engines: { node: '>=22' }, dependencies };
  writeFileSync(path.join(staging, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(path.join(staging, 'buildspec.yml'), deployJobBuildspec());
  const old = `${dir}.${process.pid}.old`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  rmSync(old, { recursive: true, force: true });
  const inputs: Record<string, readonly [number, number]> = {};
  const pins = DEPLOY_JOB_PACKAGES.map((p) => path.relative(ROOT, require.resolve(`${p}/package.json`, { paths: [ROOT] })));
  for (const file of [...Object.keys(job.metafile!.inputs), ...Object.keys(app.metafile!.inputs), ...pins, 'cdk.json', 'scripts/build-assets.ts', 'lib/assets/prebuilt-assets.ts']) inputs[file] = stamp(file);
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
  const keep = new Set([...GO_ARCHITECTURES.map((arch) => `linux-${arch}`), GO_NOTICES_FILE]);
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
  writeAtomically(path.join(dir, GO_NOTICES_FILE), goNotices(name, spec));
  const inputs: Record<string, readonly [number, number]> = {};
  for (const file of [...moduleFiles(spec.entry), 'scripts/build-assets.ts', 'lib/assets/prebuilt-assets.ts']) inputs[file] = stamp(file);
  return inputs;
}

/**
 * The licence texts a Go program's binaries must carry: Go's own (its standard library and
 * runtime are compiled in) and those of every module `go list -deps` names for the program on
 * linux, from the module cache. A module without a licence file stops the build: nothing is
 * shipped whose terms are unknown.
 */
function goNotices(name: string, spec: GoProgramSpec): string {
  const go = (args: string[]) => execFileSync('go', args, { cwd: path.join(ROOT, spec.entry), env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOFLAGS: '-mod=readonly' }, encoding: 'utf8' });
  const modules = [...new Set(go(['list', '-deps', '-f', '{{with .Module}}{{if not .Main}}{{.Path}}\t{{.Version}}\t{{.Dir}}{{end}}{{end}}', spec.main]).split('\n').filter(Boolean))].sort();
  const goroot = go(['env', 'GOROOT']).trim();
  const sections = [{ title: `Go ${go(['env', 'GOVERSION']).trim()} (standard library and runtime)`, files: [path.join(goroot, 'LICENSE')] }];
  for (const line of modules) {
    const [module, version, dir] = line.split('\t');
    const files = readdirSync(dir)
      .filter((f) => /^(licen[cs]e|copying|notice)([.-].*)?$/i.test(f))
      .sort()
      .map((f) => path.join(dir, f));
    if (files.length === 0) throw new Error(`${name}: the Go module ${module} ${version} has no licence file in ${dir}; check its terms before shipping it`);
    sections.push({ title: `${module} ${version}`, files });
  }
  // Modules under the same texts (the AWS SDK's, for one) share one copy of them.
  const byText = new Map<string, string[]>();
  for (const s of sections) {
    const text = s.files.map((f) => readFileSync(f, 'utf8').trimEnd()).join('\n\n');
    byText.set(text, [...(byText.get(text) ?? []), s.title]);
  }
  const rule = '='.repeat(78);
  return (
    `Third-party software in the ${name} binaries (${GO_ARCHITECTURES.map((a) => `linux-${a}`).join(', ')}), with its licence texts.\n` +
    `Generated by scripts/build-assets.ts from \`go list -deps\` and the module cache.\n\n` +
    [...byText].map(([text, titles]) => `${rule}\n${titles.join('\n')}\n${rule}\n\n${text}\n`).join('\n')
  );
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
    for (const [name, spec] of Object.entries(PREBUILT_ASSETS) as [PrebuiltAssetName, PrebuiltAssetSpec | GoProgramSpec][]) {
      const dir = path.join(PREBUILT_ASSETS_DIR, name);
      const files = spec.kind === 'web-app' ? readdirSync(dir) : prebuiltAssetFiles(name);
      for (const f of files) console.log(`${path.relative(ROOT, path.join(dir, f))}  ${(statSync(path.join(dir, f)).size / 1024).toFixed(1)} KB`);
    }
    console.log(`built ${Object.keys(PREBUILT_ASSETS).length} assets in ${Date.now() - started} ms`);
  }
}

main();
