import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { BlockchainNode } from './blockchain-node';
import { nodeProgramRuntime } from './node-runtime';

/** What {@link installNodeServices} needs. */
export interface NodeServicesOptions {
  readonly tenantId: string;
  readonly environmentId: string;
  /** The node gate (gate/, ADR 10): static binaries `linux-amd64/node-gate` and `linux-arm64/node-gate`. */
  readonly gateAsset: s3assets.Asset;
  /** The bundled metric publisher (lambda/node-metrics). */
  readonly metricsAsset: s3assets.Asset;
  /** The environment's authorizer: the gate may invoke this one function only. */
  readonly authorizer: lambda.IFunction;
  readonly gatePort: number;
  /** The node's client (its JSON-RPC method list in the gate). */
  readonly rpcClient: string;
  /**
   * The gate's `/health` fails when the newest block is older than this while the client is not
   * syncing. @default - only "the client answers JSON-RPC" is checked (e.g. Raft, which seals
   * blocks only for transactions)
   */
  readonly healthMaxBlockAgeSeconds?: number;
}

/** Where the node gate's binary is installed on a node. */
export const NODE_GATE_EXECUTABLE = '/opt/blockchain-tenancy/node-gate/node-gate';

/**
 * Installs the node auth gate and the metric publisher on a node as systemd services, from S3
 * assets (no internet: S3 through the gateway endpoint, Node.js from the Amazon Linux repos), and
 * adds exactly the permissions they need to the node's managed policy. The gate is a static
 * binary: the one for the instance's architecture (`uname -m`) is installed from the asset, which
 * carries both.
 */
export function installNodeServices(node: BlockchainNode, o: NodeServicesOptions): void {
  const region = Stack.of(node).region;
  const runtime = nodeProgramRuntime();
  node.policy.addStatements(
    new iam.PolicyStatement({ sid: 'InvokeEnvironmentAuthorizer', actions: ['lambda:InvokeFunction'], resources: [o.authorizer.functionArn] }),
    new iam.PolicyStatement({
      sid: 'DownloadNodePrograms',
      actions: ['s3:GetObject'],
      resources: [o.gateAsset.bucket.arnForObjects(o.gateAsset.s3ObjectKey), o.metricsAsset.bucket.arnForObjects(o.metricsAsset.s3ObjectKey)],
    }),
  );
  const unit = (name: string, description: string, envFile: string, execStart: string) =>
    [
      `cat > /etc/systemd/system/${name}.service <<'UNIT'`,
      '[Unit]',
      `Description=${description}`,
      'After=network-online.target docker.service',
      '[Service]',
      `EnvironmentFile=${envFile}`,
      `ExecStart=${execStart}`,
      'Restart=always',
      'RestartSec=2',
      'DynamicUser=yes',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ProtectHome=yes',
      '[Install]',
      'WantedBy=multi-user.target',
      'UNIT',
    ].join('\n');
  node.userData.addCommands(
    // A supported Node.js LTS from the Amazon Linux 2023 repositories (through the S3 endpoint) for
    // the metric publisher; a failed install stops the boot script (set -e) instead of leaving it without node.
    `dnf install -y --setopt=install_weak_deps=False ${runtime.dnfPackage}`,
    `${runtime.executable} --version`,
    'mkdir -p /opt/blockchain-tenancy/node-gate /opt/blockchain-tenancy/node-metrics /etc/blockchain-tenancy',
    `aws s3 cp --region ${region} ${o.gateAsset.s3ObjectUrl} /tmp/node-gate.zip && rm -rf /tmp/node-gate && unzip -o /tmp/node-gate.zip -d /tmp/node-gate`,
    // The gate's binary for this instance's architecture (the asset carries amd64 and arm64).
    'case "$(uname -m)" in x86_64) GATE_ARCH=amd64 ;; aarch64) GATE_ARCH=arm64 ;; *) echo "node gate: no binary for $(uname -m)" >&2; exit 1 ;; esac',
    `install -m 0755 "/tmp/node-gate/linux-$GATE_ARCH/node-gate" ${NODE_GATE_EXECUTABLE} && rm -rf /tmp/node-gate /tmp/node-gate.zip`,
    `aws s3 cp --region ${region} ${o.metricsAsset.s3ObjectUrl} /tmp/node-metrics.zip && unzip -o /tmp/node-metrics.zip -d /opt/blockchain-tenancy/node-metrics`,
    `printf 'NODE_ID=%s\\nAUTHORIZER_FUNCTION=%s\\nGATE_PORT=%s\\nAWS_REGION=%s\\nBT_TENANT=%s\\nBT_ENVIRONMENT=%s\\nRPC_CLIENT=%s\\nHEALTH_MAX_BLOCK_AGE_SECONDS=%s\\n' '${node.nodeId}' '${o.authorizer.functionName}' '${o.gatePort}' '${region}' '${o.tenantId}' '${o.environmentId}' '${o.rpcClient}' '${o.healthMaxBlockAgeSeconds ?? ''}' > /etc/blockchain-tenancy/gate.env`,
    `printf 'BT_TENANT=%s\\nBT_ENVIRONMENT=%s\\nBT_NODE=%s\\nAWS_REGION=%s\\n' '${o.tenantId}' '${o.environmentId}' '${node.nodeId}' '${region}' > /etc/blockchain-tenancy/metrics.env`,
    unit('node-gate', 'blockchain-tenancy node auth gate', '/etc/blockchain-tenancy/gate.env', NODE_GATE_EXECUTABLE),
    // The namespaced executable: /usr/bin/node is an alternatives link other packages may repoint.
    unit('node-metrics', 'blockchain-tenancy node metric publisher', '/etc/blockchain-tenancy/metrics.env', `${runtime.executable} /opt/blockchain-tenancy/node-metrics/index.js`),
    'systemctl daemon-reload && systemctl enable --now node-gate node-metrics',
  );
}

/**
 * How old the newest block may be before a node's gate reports it unhealthy (and the load
 * balancer replaces the node): 30 block periods, at least 5 minutes, long enough that a short loss
 * of quorum does not replace the whole fleet, short enough that a node whose client stopped
 * importing blocks is replaced. Raft seals blocks only for transactions: no block-age check.
 */
export function gateHealthBlockAge(chain: { readonly consensus: string; readonly blockPeriodSeconds: number }): number | undefined {
  if (chain.consensus === 'raft') return undefined;
  return Math.max(300, 30 * chain.blockPeriodSeconds);
}
