import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';

const ROOT = path.join(__dirname, '..', '..');
/** Never used: every bundling here is local (esbuild / file copies); there is no Docker. */
const NO_DOCKER = DockerImage.fromRegistry('no-docker-bundling-is-used');

/**
 * A node-side program (gate, metric publisher) bundled by the local esbuild into one
 * self-contained `index.js`, as an S3 asset the node downloads at boot (no internet needed).
 */
export function nodeProgramAsset(scope: Construct, id: string, program: 'node-gate' | 'node-metrics'): s3assets.Asset {
  const dir = path.join(ROOT, 'lambda', program);
  return new s3assets.Asset(scope, id, {
    path: dir,
    assetHashType: AssetHashType.SOURCE,
    bundling: {
      image: NO_DOCKER,
      local: {
        tryBundle(outputDir: string): boolean {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          const esbuild = require('esbuild') as typeof import('esbuild');
          esbuild.buildSync({
            entryPoints: [path.join(dir, 'index.ts')],
            outfile: path.join(outputDir, 'index.js'),
            bundle: true,
            platform: 'node',
            target: 'node20',
            format: 'cjs',
            minify: true,
            legalComments: 'none',
            logLevel: 'error',
          });
          return true;
        },
      },
    },
  });
}

/**
 * argon2 for Lambda: esbuild cannot bundle its native addon, so a layer carries the package with
 * only its Linux glibc prebuilds (x64 and arm64) and its two runtime dependencies, copied from
 * the local node_modules (no network, no Docker).
 */
export function argon2LayerCode(): lambda.Code {
  const nm = path.join(ROOT, 'node_modules');
  return lambda.Code.fromAsset(path.join(nm, 'argon2'), {
    assetHashType: AssetHashType.SOURCE,
    bundling: {
      image: NO_DOCKER,
      local: {
        tryBundle(outputDir: string): boolean {
          const dest = path.join(outputDir, 'nodejs', 'node_modules');
          mkdirSync(path.join(dest, 'argon2', 'prebuilds'), { recursive: true });
          for (const f of ['argon2.cjs', 'package.json', 'LICENSE']) cpSync(path.join(nm, 'argon2', f), path.join(dest, 'argon2', f));
          for (const arch of ['linux-x64', 'linux-arm64']) {
            cpSync(path.join(nm, 'argon2', 'prebuilds', arch), path.join(dest, 'argon2', 'prebuilds', arch), { recursive: true });
          }
          for (const dep of ['@phc/format', 'node-gyp-build']) cpSync(path.join(nm, dep), path.join(dest, dep), { recursive: true });
          writeFileSync(path.join(outputDir, 'README'), 'argon2 with linux glibc prebuilds (x64, arm64) for blockchain-tenancy\n');
          return true;
        },
      },
    },
  });
}
