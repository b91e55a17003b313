import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNTIME_PACKAGES, packagesLoadedBy, packagesOf } from './loaded-packages';

const ROOT = path.resolve(__dirname, '..', '..');
// From the sources, tsx (and the esbuild it transforms TypeScript with) is the loader itself.
const LOADER = ['tsx', 'esbuild'];

// Importing the library loads construct code and pure contracts only. The installed package is
// checked the same way, without tsx, in test/package/packed.test.ts.
describe('the library entry point (lib/index.ts)', () => {
  it('loads aws-cdk-lib and constructs only: no AWS SDK client, argon2, ethers or ws', () => {
    const loaded = packagesLoadedBy('./lib', ROOT, ['--import', 'tsx']).filter((p) => !LOADER.includes(p));
    expect(loaded).toEqual(['aws-cdk-lib', 'constructs']);
  });

  it('the check sees runtime code when it is loaded (negative control: a Lambda handler)', () => {
    const loaded = packagesLoadedBy('./lambda/issuer/index.ts', ROOT, ['--import', 'tsx']).filter((p) => !LOADER.includes(p));
    expect(loaded.filter((p) => RUNTIME_PACKAGES.test(p))).toEqual(expect.arrayContaining(['argon2', '@aws-sdk/client-secrets-manager']));
  });

  it('reads package names from module paths, outermost first', () => {
    expect(packagesOf(['/a/node_modules/aws-cdk-lib/node_modules/minimatch/x.js', '/a/node_modules/@aws-sdk/core/y.js', '/a/lib/index.ts'])).toEqual([
      '@aws-sdk/core',
      'aws-cdk-lib',
    ]);
  });
});
