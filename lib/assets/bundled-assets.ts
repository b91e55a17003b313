import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { nodeProgramRuntime } from '../nodes/node-runtime';

const ROOT = path.join(__dirname, '..', '..');
/** Never used: every bundling here is local (esbuild / file copies); there is no Docker. */
const NO_DOCKER = DockerImage.fromRegistry('no-docker-bundling-is-used');

/** The esbuild options of a node-side program (a subset of esbuild's BuildOptions). */
export interface NodeProgramBuildOptions {
  readonly entryPoints: string[];
  readonly outfile: string;
  readonly bundle: boolean;
  readonly platform: 'node';
  /** The pinned node runtime's target, e.g. `node24` (lib/nodes/node-runtime.ts). */
  readonly target: string;
  readonly format: 'cjs';
  readonly minify: boolean;
  readonly legalComments: 'none';
  readonly logLevel: 'error';
}

/** The esbuild options of a node-side program: one CommonJS file for the pinned node runtime. */
export function nodeProgramBuildOptions(program: 'node-gate' | 'node-metrics', outfile: string): NodeProgramBuildOptions {
  return {
    entryPoints: [path.join(ROOT, 'lambda', program, 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: nodeProgramRuntime().esbuildTarget,
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  };
}

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
          esbuild.buildSync(nodeProgramBuildOptions(program, path.join(outputDir, 'index.js')));
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
