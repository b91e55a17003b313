import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_PACKAGES, packagesLoadedBy, packagesOf } from './loaded-packages';
import { LocalPackage, writeOfflineApp } from './offline-install';
import { offlineEnv } from '../support/offline-env';

/**
 * The library as users get it: `npm pack` (which builds it: prepack), the tarball installed
 * offline into a new CDK app outside the repository next to aws-cdk-lib, constructs, the aws-cdk
 * CLI, TypeScript and @types/node (what `cdk init app --language typescript` brings), the README's
 * "Use the constructs in your own CDK app" example compiled VERBATIM with tsc and synthesized with
 * `npx cdk synth`, with no AWS environment, no esbuild, no tsx and no TypeScript sources of the
 * library anywhere.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const repoPackage = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

/** Environment variables of a user's shell: none of npm's (this runs under `npm test`), no AWS or CDK settings. */
function userEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // npm's cache settings stay: the install is offline, from this machine's cache.
  return offlineEnv(home, extra, /^(?!npm_config_(cache|userconfig)$)(npm_|NODE_OPTIONS$|VITEST|TSX_)/i);
}

/** The first TypeScript block of a README section, exactly as written. */
export function readmeExample(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const section = readme.slice(start + 1).split(/\n## /)[0];
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error(`README.md's "${heading}" section has no ts block`);
  return m[1];
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Records, at exit, every module each Node process loaded (the CLI and the app it runs). */
const LOAD_HOOK = `
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
process.on('exit', () => {
  writeFileSync(join(process.env.BT_LOAD_LOG, 'loaded-' + process.pid + '.json'), JSON.stringify({ argv: process.argv, modules: Object.keys(require.cache) }));
});
`;

describe('the packed library in a new CDK app (README example, offline)', () => {
  let work: string;
  let app: string;
  let tarball: string;
  let packed: string[];
  let synth: ReturnType<typeof spawnSync>;
  let loads: { argv: string[]; modules: string[] }[];
  const timings: string[] = [];
  let last = Date.now();
  const phase = (name: string) => {
    timings.push(`${name} ${((Date.now() - last) / 1000).toFixed(1)} s`);
    last = Date.now();
  };

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'bt-packed-'));
    app = path.join(work, 'app');
    mkdirSync(app);
    // npm pack runs prepack (npm run build:package): compile dist/lib and dist/bin, build dist/assets.
    const packOut = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, env: userEnv(process.env.HOME ?? work), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
    // The build's own output (prepack) comes first on stdout; npm's JSON report is the last thing.
    const pack = JSON.parse(packOut.slice(packOut.search(/^\[\s*\{/m))) as { filename: string; files: { path: string }[] }[];
    phase('npm pack (build)');
    tarball = path.join(work, pack[0].filename);
    packed = pack[0].files.map((f) => f.path);
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as LocalPackage['manifest'];
    const pin = (name: string) => repoPackage.devDependencies[name];
    writeOfflineApp(
      ROOT,
      app,
      { 'aws-cdk-lib': pin('aws-cdk-lib'), constructs: pin('constructs'), 'aws-cdk': pin('aws-cdk'), typescript: pin('typescript'), '@types/node': pin('@types/node') },
      { tarball, manifest },
    );
    phase('app files');
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: userEnv(process.env.HOME ?? work), stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });

    phase('npm install');
    // The README example, verbatim, compiled the way a CDK TypeScript app is.
    writeFileSync(path.join(app, 'app.ts'), readmeExample(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), 'Use the constructs in your own CDK app'));
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      // NodeNext, as `cdk init` writes it: types resolve through the package's `exports` map. No
      // skipLibCheck: the library's declarations must compile in a project that has only its peers.
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'], skipLibCheck: false }, files: ['app.ts'] }),
    );
    execFileSync(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

    phase('tsc');
    writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
    const logs = path.join(work, 'loads');
    mkdirSync(logs);
    writeFileSync(path.join(work, 'load-hook.cjs'), LOAD_HOOK);
    synth = spawnSync(path.join(app, 'node_modules', '.bin', 'cdk'), ['synth', '--no-notices', '-q', '-o', 'cdk.out'], {
      cwd: app,
      env: userEnv(work, { NODE_OPTIONS: `--require ${path.join(work, 'load-hook.cjs')}`, BT_LOAD_LOG: logs }),
      encoding: 'utf8',
      timeout: 240_000,
    });
    phase('cdk synth');
    console.log(`packed-library test phases: ${timings.join(', ')}`);
    loads = readdirSync(logs).map((f) => JSON.parse(readFileSync(path.join(logs, f), 'utf8')) as { argv: string[]; modules: string[] });
  }, 600_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the tarball holds the built library, the prebuilt assets and the CLI: no TypeScript sources, tests or dev files', () => {
    expect(packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packed.filter((f) => !/^(dist\/lib\/|dist\/assets\/|dist\/bin\/(blockchain-tenancy|cli|lifecycle|lifecycle-commands)\.js$|package\.json$|README\.md$|CHANGELOG\.md$|LICENSE$)/.test(f))).toEqual([]);
    for (const name of ['authorizer', 'issuer', 'management', 'node-keys', 'node-metrics', 'recorder', 'deploy-job']) expect(packed).toContain(`dist/assets/${name}/index.js`);
    // The Go gate: a static binary per architecture and the licence texts of what is compiled into them, nothing else in its asset.
    expect(packed.filter((f) => f.startsWith('dist/assets/node-gate/')).sort()).toEqual(['dist/assets/node-gate/THIRD_PARTY_NOTICES.txt', 'dist/assets/node-gate/linux-amd64/node-gate', 'dist/assets/node-gate/linux-arm64/node-gate']);
    expect(packed).toContain('dist/assets/console/index.html');
    // The deploy job's CodeBuild source: the default app bundled, its assets (the gate's binaries too), its pins and buildspec.
    for (const f of ['app/bin/app.js', 'assets/node-gate/linux-amd64/node-gate', 'assets/node-gate/linux-arm64/node-gate', 'cdk.json', 'package.json', 'buildspec.yml']) expect(packed).toContain(`dist/assets/deploy-job/${f}`);
    expect(packed).toContain('dist/lib/index.d.ts');
    expect(packed).toContain('CHANGELOG.md');
  });

  it('synthesizes the README example with `npx cdk synth`, offline, without esbuild', () => {
    expect(synth.stderr).not.toMatch(/Error/);
    expect(synth.status).toBe(0);
    expect(() => require.resolve('esbuild', { paths: [app] })).toThrow();
    expect(existsSync(path.join(app, 'node_modules', 'blockchain-tenancy', 'lambda'))).toBe(false);
    const out = path.join(app, 'cdk.out');
    expect(existsSync(path.join(out, 'AcmeDev.template.json'))).toBe(true);
    expect(existsSync(path.join(out, 'BlockchainManagement.template.json'))).toBe(true);
  });

  it('no process of the synth (the CLI, the app) loads esbuild, tsx or TypeScript; the app loads no runtime code', () => {
    expect(loads.length).toBeGreaterThanOrEqual(2);
    for (const l of loads) {
      expect(packagesOf(l.modules).filter((p) => /^(esbuild|tsx|typescript|@esbuild\/.*)$/.test(p))).toEqual([]);
      expect(l.modules.filter((m) => m.endsWith('.ts'))).toEqual([]);
    }
    const appProcess = loads.find((l) => l.argv.some((a) => a.endsWith('app.js')));
    expect(appProcess).toBeDefined();
    // The app: this library, constructs, and aws-cdk-lib with its own dependencies (it loads its
    // cloud-assembly schema to write the assembly); no runtime code of this library's handlers.
    const cdkLib = JSON.parse(readFileSync(path.join(app, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set(['blockchain-tenancy', 'constructs', 'aws-cdk-lib', ...Object.keys(cdkLib.dependencies)]);
    const appPackages = packagesOf(appProcess!.modules);
    expect(appPackages).toContain('blockchain-tenancy');
    expect(appPackages.filter((p) => !allowed.has(p))).toEqual([]);
    expect(appPackages.filter((p) => RUNTIME_PACKAGES.test(p))).toEqual([]);
  });

  it('the cloud assembly carries the prebuilt handlers and programs byte for byte, and no .ts file', () => {
    const out = path.join(app, 'cdk.out');
    const all = files(out);
    expect(all.filter((f) => /\.m?ts$/.test(f))).toEqual([]);
    const assetHashes = new Set(all.filter((f) => path.basename(f) === 'index.js').map(sha256));
    for (const name of ['authorizer', 'issuer', 'management', 'node-keys', 'node-metrics']) {
      expect(assetHashes, name).toContain(sha256(path.join(app, 'node_modules', 'blockchain-tenancy', 'dist', 'assets', name, 'index.js')));
    }
    const gateHashes = new Set(all.filter((f) => path.basename(f) === 'node-gate').map(sha256));
    for (const arch of ['amd64', 'arm64']) {
      expect(gateHashes, arch).toContain(sha256(path.join(app, 'node_modules', 'blockchain-tenancy', 'dist', 'assets', 'node-gate', `linux-${arch}`, 'node-gate')));
    }
    // The gate's asset carries the licence texts of Go and of the modules compiled in (BSD and MIT ask binaries to).
    const notices = all.filter((f) => path.basename(f) === 'THIRD_PARTY_NOTICES.txt').map((f) => readFileSync(f, 'utf8'));
    expect(notices.length).toBeGreaterThan(0);
    for (const text of notices) for (const part of [/^Go go1\.\d+/m, /^github\.com\/valyala\/fasthttp v/m, /^github\.com\/fasthttp\/websocket v/m, /^github\.com\/aws\/aws-sdk-go-v2 v/m, /Redistributions in binary form must reproduce/]) expect(text).toMatch(part);
    // Every function's code is an asset directory with index.js (handler index.handler).
    for (const stack of ['AcmeDev', 'BlockchainManagement']) {
      const template = JSON.parse(readFileSync(path.join(out, `${stack}.template.json`), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Handler?: string; Code?: unknown }; Metadata?: Record<string, string> }> };
      const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler' && r.Metadata?.['aws:asset:path']);
      expect(functions.length, stack).toBeGreaterThan(0);
      for (const f of functions) expect(existsSync(path.join(out, f.Metadata!['aws:asset:path'], 'index.js'))).toBe(true);
    }
  });

  it('the argon2 layer comes from the installed argon2: x64 and arm64 glibc prebuilds only', () => {
    const out = path.join(app, 'cdk.out');
    const nodeFiles = files(out).filter((f) => f.endsWith('.node')).map((f) => f.slice(f.indexOf('nodejs/node_modules/')));
    expect(nodeFiles.sort()).toEqual(['nodejs/node_modules/argon2/prebuilds/linux-arm64/argon2.armv8.glibc.node', 'nodejs/node_modules/argon2/prebuilds/linux-x64/argon2.glibc.node']);
    const installed = path.join(app, 'node_modules', 'argon2', 'prebuilds', 'linux-x64', 'argon2.glibc.node');
    expect(files(out).filter((f) => f.endsWith('argon2.glibc.node')).map(sha256)).toEqual([sha256(installed)]);
  });

  it('requiring the installed library loads aws-cdk-lib and constructs only', () => {
    const loaded = packagesLoadedBy('blockchain-tenancy', app);
    expect(loaded).toEqual(['aws-cdk-lib', 'blockchain-tenancy', 'constructs']);
    expect(loaded.filter((p) => RUNTIME_PACKAGES.test(p))).toEqual([]);
  });

  it('the CLI runs from the installed package (npx blockchain-tenancy --help)', () => {
    const r = spawnSync('npx', ['--offline', 'blockchain-tenancy', '--help'], { cwd: app, env: userEnv(work), encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: blockchain-tenancy <command>/);
  });

  it('`local` from the installed package says it runs from a checkout (exit 1, no stack trace)', () => {
    const r = spawnSync('npx', ['--offline', 'blockchain-tenancy', 'local'], { cwd: app, env: userEnv(work), encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('blockchain-tenancy local runs from a checkout of the repository');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
