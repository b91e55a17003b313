import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

// `npm run lint` is `eslint .`: generated output (cloud assemblies from `cdk synth -o <dir>`,
// bundled assets, the build) must never be linted, while the sources always are. Asked of
// ESLint itself with the repository's eslint.config.mjs, and proven on real files in a
// generated-looking folder inside the repository.
describe('eslint.config.mjs ignores generated output, never sources', () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const scratch = mkdtempSync(join(process.cwd(), 'cdk.lint-check-'));
  const assembly = `${scratch}.out`;
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(assembly, { recursive: true, force: true });
  });

  it.each([
    'cdk.out/asset.0123abcd/index.js',
    'cdk.x.out/asset.0123abcd/index.js',
    'cdk.review.out/AcmeDev.template.json.js',
    'test/tmp/cdk.out/asset.1/index.js',
    'test/tmp/cdk.e2e.out/asset.1/index.js',
    'dist/lib/index.js',
    'coverage/lcov-report/prettify.js',
    'node_modules/ethers/lib.commonjs/index.js',
  ])('ignores %s', async (path) => {
    expect(await eslint.isPathIgnored(path)).toBe(true);
  });

  it.each(['lib/index.ts', 'bin/cli.ts', 'lambda/node-gate/gate.ts', 'test/unit/eslint-config.test.ts', 'bench/run.ts', 'scripts/review.ts', 'eslint.config.mjs', 'cdk.ts'])(
    'lints %s',
    async (path) => {
      expect(await eslint.isPathIgnored(path)).toBe(false);
    },
  );

  it('`eslint .` skips a cdk synth -o cdk.<name>.out folder with code it would refuse', async () => {
    mkdirSync(join(assembly, 'asset.0123abcd'), { recursive: true });
    const bad = 'var unused = 1; if (unused == 2) { console.log(any) }\n';
    writeFileSync(join(assembly, 'asset.0123abcd', 'index.js'), bad);
    // The same code outside a generated folder is linted and refused (the check can fail).
    writeFileSync(join(scratch, 'index.js'), bad);
    const results = await eslint.lintFiles([join(scratch, 'index.js')]);
    expect(results[0].errorCount).toBeGreaterThan(0);
    expect(await eslint.isPathIgnored(join(assembly, 'asset.0123abcd', 'index.js'))).toBe(true);
    await expect(eslint.lintFiles([join(assembly, '**/*.js')])).rejects.toThrow(/ignored/);
  });
});
