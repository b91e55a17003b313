import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { prebuiltAssetDir } from './prebuilt-assets';

/** Never used: the argon2 layer is assembled by a local file copy; there is no Docker. */
const NO_DOCKER = DockerImage.fromRegistry('no-docker-bundling-is-used');

/** A Lambda handler of this library, prebuilt when the package was built (`index.handler`). */
export function lambdaCode(name: 'authorizer' | 'issuer' | 'management' | 'node-keys' | 'recorder'): lambda.Code {
  return lambda.Code.fromAsset(prebuiltAssetDir(name));
}

/**
 * A node-side program as an S3 asset the node downloads at boot (no internet needed): the gate's
 * static binaries (`linux-amd64/node-gate`, `linux-arm64/node-gate`; the node installs the one
 * for its architecture), or the metric publisher's self-contained `index.js`.
 */
export function nodeProgramAsset(scope: Construct, id: string, program: 'node-gate' | 'node-metrics'): s3assets.Asset {
  return new s3assets.Asset(scope, id, { path: prebuiltAssetDir(program) });
}

/** The directory of an installed package, as Node resolves it from `from`. */
function packageDir(name: string, from: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [from] }));
  } catch {
    throw new Error(`blockchain-tenancy: the credential functions need the "${name}" package (a dependency of blockchain-tenancy) and it is not installed; reinstall blockchain-tenancy`);
  }
}

/**
 * argon2 for Lambda: esbuild cannot bundle its native addon, so a layer carries the installed
 * argon2 package (a runtime dependency of this library, found with `require.resolve`) with only
 * its Linux glibc prebuilds (x64 and arm64) and its two runtime dependencies: a local file copy at
 * synth (no network, no Docker, no compiler).
 */
export function argon2LayerCode(): lambda.Code {
  const argon2 = packageDir('argon2', __dirname);
  const deps = ['@phc/format', 'node-gyp-build'].map((dep) => [dep, packageDir(dep, argon2)] as const);
  return lambda.Code.fromAsset(argon2, {
    // The hash of what the layer holds, not of the installed directory: an install that compiled
    // argon2 (a build/ directory) or a different machine gives the same layer, so no new layer
    // version is published unless argon2 or its two dependencies change.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: NO_DOCKER,
      local: {
        tryBundle(outputDir: string): boolean {
          const dest = path.join(outputDir, 'nodejs', 'node_modules');
          mkdirSync(path.join(dest, 'argon2', 'prebuilds'), { recursive: true });
          for (const f of ['argon2.cjs', 'package.json', 'LICENSE']) cpSync(path.join(argon2, f), path.join(dest, 'argon2', f));
          for (const arch of ['linux-x64', 'linux-arm64']) {
            // Lambda's Node.js runtimes run on Amazon Linux 2023 (glibc): the musl builds would be dead weight.
            cpSync(path.join(argon2, 'prebuilds', arch), path.join(dest, 'argon2', 'prebuilds', arch), { recursive: true, filter: (src) => !src.endsWith('.musl.node') });
          }
          for (const [dep, dir] of deps) cpSync(dir, path.join(dest, dep), { recursive: true });
          writeFileSync(path.join(outputDir, 'README'), 'argon2 with linux glibc prebuilds (x64, arm64) for blockchain-tenancy\n');
          return true;
        },
      },
    },
  });
}
