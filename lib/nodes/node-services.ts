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
  /** The bundled node gate (lambda/node-gate). */
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

/**
 * Installs the node auth gate and the metric publisher on a node as systemd services, from S3
 * assets (no internet: S3 through the gateway endpoint, Node.js from the Amazon Linux repos), and
 * adds exactly the permissions they need to the node's managed policy.
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
  const unit = (name: string, description: string, envFile: string) =>
    [
      `cat > /etc/systemd/system/${name}.service <<'UNIT'`,
      '[Unit]',
      `Description=${description}`,
      'After=network-online.target docker.service',
      '[Service]',
      `EnvironmentFile=${envFile}`,
      // The namespaced executable: /usr/bin/node is an alternatives link other packages may repoint.
      `ExecStart=${runtime.executable} /opt/blockchain-tenancy/${name}/index.js`,
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
    // A supported Node.js LTS from the Amazon Linux 2023 repositories (through the S3 endpoint);
    // a failed install stops the boot script (set -e) instead of leaving the services without node.
    `dnf install -y --setopt=install_weak_deps=False ${runtime.dnfPackage}`,
    `${runtime.executable} --version`,
    'mkdir -p /opt/blockchain-tenancy/node-gate /opt/blockchain-tenancy/node-metrics /etc/blockchain-tenancy',
    `aws s3 cp --region ${region} ${o.gateAsset.s3ObjectUrl} /tmp/node-gate.zip && unzip -o /tmp/node-gate.zip -d /opt/blockchain-tenancy/node-gate`,
    `aws s3 cp --region ${region} ${o.metricsAsset.s3ObjectUrl} /tmp/node-metrics.zip && unzip -o /tmp/node-metrics.zip -d /opt/blockchain-tenancy/node-metrics`,
    `printf 'NODE_ID=%s\\nAUTHORIZER_FUNCTION=%s\\nGATE_PORT=%s\\nAWS_REGION=%s\\nBT_TENANT=%s\\nBT_ENVIRONMENT=%s\\nRPC_CLIENT=%s\\nHEALTH_MAX_BLOCK_AGE_SECONDS=%s\\n' '${node.nodeId}' '${o.authorizer.functionName}' '${o.gatePort}' '${region}' '${o.tenantId}' '${o.environmentId}' '${o.rpcClient}' '${o.healthMaxBlockAgeSeconds ?? ''}' > /etc/blockchain-tenancy/gate.env`,
    `printf 'BT_TENANT=%s\\nBT_ENVIRONMENT=%s\\nBT_NODE=%s\\nAWS_REGION=%s\\n' '${o.tenantId}' '${o.environmentId}' '${node.nodeId}' '${region}' > /etc/blockchain-tenancy/metrics.env`,
    unit('node-gate', 'blockchain-tenancy node auth gate', '/etc/blockchain-tenancy/gate.env'),
    unit('node-metrics', 'blockchain-tenancy node metric publisher', '/etc/blockchain-tenancy/metrics.env'),
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
