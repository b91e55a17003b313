import { CloudWatchClient, MetricDatum, PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { MetricDimensions, NodeMetrics, nodeMetricNamespace } from '../../lib/contracts/metric-names';
import { NodeSample, collectSample } from './collect';

/** Where and as whom a node publishes. */
export interface PublisherConfig {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly nodeId: string;
  /** The client's local JSON-RPC URL, e.g. http://127.0.0.1:8545. */
  readonly rpcUrl: string;
}

/** Reads the publisher's config from the environment (set by the node's user data). */
export function configFromEnv(env: NodeJS.ProcessEnv): PublisherConfig {
  const missing = ['BT_TENANT', 'BT_ENVIRONMENT', 'BT_NODE'].filter((k) => !env[k]);
  if (missing.length) {
    throw new Error(`node-metrics: ${missing.join(', ')} not set; the node's user data sets them in /etc/blockchain-tenancy/metrics.env`);
  }
  const rpcUrl = env.BT_RPC_URL ?? 'http://127.0.0.1:8545';
  const host = new URL(rpcUrl).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`node-metrics: BT_RPC_URL host is ${host}; the publisher reads only the local client (127.0.0.1)`);
  }
  // Validates the ids too: the namespace is the only one the node's role may publish into.
  nodeMetricNamespace(env.BT_TENANT!, env.BT_ENVIRONMENT!);
  return { tenantId: env.BT_TENANT!, environmentId: env.BT_ENVIRONMENT!, nodeId: env.BT_NODE!, rpcUrl };
}

/** Turns a sample into CloudWatch datums (per node and per environment). */
export function toMetricData(config: PublisherConfig, sample: NodeSample, at: Date): MetricDatum[] {
  const dims = [
    { Name: MetricDimensions.TENANT, Value: config.tenantId },
    { Name: MetricDimensions.ENVIRONMENT, Value: config.environmentId },
    { Name: MetricDimensions.NODE, Value: config.nodeId },
  ];
  const data: MetricDatum[] = [{ MetricName: NodeMetrics.RPC_UP, Dimensions: dims, Value: sample.rpcUp ? 1 : 0, Unit: StandardUnit.Count, Timestamp: at }];
  if (sample.blockHeight !== undefined) {
    data.push({ MetricName: NodeMetrics.BLOCK_HEIGHT, Dimensions: dims, Value: sample.blockHeight, Unit: StandardUnit.Count, Timestamp: at });
  }
  if (sample.peerCount !== undefined) {
    data.push({ MetricName: NodeMetrics.PEER_COUNT, Dimensions: dims, Value: sample.peerCount, Unit: StandardUnit.Count, Timestamp: at });
  }
  return data;
}

/** Collects one sample and publishes it into the environment's own namespace; returns the sample. */
export async function publishOnce(config: PublisherConfig, cloudwatch: CloudWatchClient, now = new Date()): Promise<NodeSample> {
  const sample = await collectSample(config.rpcUrl);
  await cloudwatch.send(new PutMetricDataCommand({ Namespace: nodeMetricNamespace(config.tenantId, config.environmentId), MetricData: toMetricData(config, sample, now) }));
  return sample;
}
