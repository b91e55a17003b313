import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { offlineEnv } from '../support/offline-env';
import { prebuiltAssetDir } from '../../lib/assets/prebuilt-assets';


function cdkSynth(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'bt-synth-'));
  const out = join(dir, 'cdk.out');
  const result = spawnSync(join('node_modules', '.bin', 'cdk'), ['synth', '--no-notices', '-o', out, ...args], {
    env: offlineEnv(dir),
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { ...result, out, dir };
}

/**
 * No private key material anywhere in the cloud assembly (templates, bundled Lambda code,
 * manifests): every 32-byte hex string must be an asset hash, a logical-id hash or a published
 * public constant. Keys are generated at deploy time, never at synth.
 */
function scanForKeyMaterial(dir: string): void {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(dir);
  const assetHashes = new Set<string>();
  for (const f of files.filter((f) => f.endsWith('.assets.json'))) {
    for (const m of readFileSync(f, 'utf8').matchAll(/[0-9a-f]{64}/g)) assetHashes.add(m[0]);
  }
  const publicConstants = new Set([
    '63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365', // BFT genesis mixHash
    // secp256k1 curve constants inside the bundled ethers code (SEC 2, section 2.4.1):
    'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f', // field prime p
    'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', // group order n
    '7ae96a2b657c07106e64479eac3434e99cf0497512f58995c1396c28719501ee', // GLV endomorphism beta
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', // SHA-256 of "" (AWS SigV4, bundled SDK)
  ]);
  // The compiled gate's binaries hold constants of Go's crypto libraries (curve parameters, hash
  // tables). They are built from this repository's sources before any synth, so nothing of a
  // deployment can be inside: a file byte-identical to one of them is skipped, anything else scanned.
  const goBinaries = new Set(
    ['amd64', 'arm64'].map((arch) => createHash('sha256').update(readFileSync(join(prebuiltAssetDir('node-gate'), `linux-${arch}`, 'node-gate'))).digest('hex')),
  );
  const suspicious: string[] = [];
  for (const f of files) {
    const bytes = readFileSync(f);
    if (goBinaries.has(createHash('sha256').update(bytes).digest('hex'))) continue;
    const text = bytes.toString('utf8');
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    for (const m of text.matchAll(/(?<![0-9a-fA-F])(?:0x)?([0-9a-fA-F]{64})(?![0-9a-fA-F])/g)) {
      const hex = m[1].toLowerCase();
      if (!assetHashes.has(hex) && !publicConstants.has(hex) && !/^0+$/.test(hex)) suspicious.push(`${f}: ${hex.slice(0, 8)}...`);
    }
  }
  expect(files.length).toBeGreaterThan(3);
  expect(suspicious).toEqual([]);
}

describe('the default app (bin/app.ts) through the real cdk CLI', () => {
  it('synthesizes tenants.json offline with no AWS environment variables, nag packs clean', () => {
    const r = cdkSynth(['-q']);
    expect(r.stderr).not.toMatch(/Error|error TS/);
    expect(r.status).toBe(0);
    const template = JSON.parse(readFileSync(join(r.out, 'AcmeDev.template.json'), 'utf8'));
    expect(Object.values(template.Resources).filter((x) => (x as { Type: string }).Type === 'AWS::EC2::VPC')).toHaveLength(1);
    const manifest = JSON.parse(readFileSync(join(r.out, 'manifest.json'), 'utf8'));
    // Environment-agnostic: nothing was looked up, nothing is missing.
    expect(manifest.missing ?? []).toEqual([]);
    expect(manifest.artifacts.AcmeDev.environment).toBe('aws://unknown-account/unknown-region');
    // Nodes are part of the default environment.
    expect(Object.values(template.Resources).filter((x) => (x as { Type: string }).Type === 'Custom::BlockchainNodeKeys')).toHaveLength(1);
    scanForKeyMaterial(r.out);
    // The CLI's own limit (cdkSynth): on a loaded machine the synth (with the console asset) passes 60 s.
  }, 180_000);

  it('refuses a bad config with one clear message and synthesizes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bt-config-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        tenants: [
          { id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16' }, { id: 'dev', cidr: '10.10.0.0/17', colour: 1 }] },
        ],
      }),
    );
    const r = cdkSynth(['-c', `config=${bad}`]);
    expect(r.status).not.toBe(0);
    const stderr = r.stderr;
    // Every problem in one run: the overlap is reported although the same environment has others.
    expect(stderr).toContain(`Invalid tenant configuration in ${bad} (3 problems):`);
    expect(stderr).toContain('tenants[0].environments[1].colour: unknown field');
    expect(stderr).toContain('tenants[0].environments[1].id: duplicate environment id "dev"');
    expect(stderr).toContain('tenants[0].environments[1].cidr: "10.10.0.0/17" overlaps tenants[0].environments[0].cidr "10.10.0.0/16"');
    expect(stderr).not.toMatch(/\n\s+at .*\.ts:\d+/); // no stack trace
    expect(existsSync(r.out) ? readdirSync(r.out).filter((f) => f.endsWith('.template.json')) : []).toEqual([]);
  });

  it('refuses a config file that does not exist, naming the option to fix it', () => {
    const r = cdkSynth(['-c', 'config=does-not-exist.json']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('does-not-exist.json');
    expect(r.stderr).toContain('cannot be read (ENOENT); pass an existing file with -c config=<path>');
  });
});
