import { ID_PATTERN } from './ids';

/**
 * Custom CloudWatch metrics published from inside an environment (shared by the node-side
 * publishers, the dashboards and the alarms).
 */
export const NodeMetrics = {
  /**
   * Prefix of the library's custom metric namespaces. Every environment publishes into its own
   * namespace below it, {@link nodeMetricNamespace}: never into this prefix itself.
   */
  NAMESPACE: 'BlockchainTenancy',
  /** Latest block number seen by a node (Maximum per period). */
  BLOCK_HEIGHT: 'BlockHeight',
  /** Connected peers of a node (Minimum per period). */
  PEER_COUNT: 'PeerCount',
  /** 1 when the node's JSON-RPC answered, 0 when it did not (Minimum per period). */
  RPC_UP: 'RpcUp',
  /** Node gate: latency of proxied requests in milliseconds. */
  GATE_LATENCY: 'GateLatency',
  /** Node gate: authorization decisions answered from cache. */
  GATE_CACHE_HITS: 'GateCacheHits',
  /** Node gate: authorization decisions that needed the authorizer. */
  GATE_CACHE_MISSES: 'GateCacheMisses',
} as const;

/** Dimension names of the custom metrics. */
export const MetricDimensions = {
  TENANT: 'Tenant',
  ENVIRONMENT: 'Environment',
  NODE: 'Node',
} as const;

/**
 * The CloudWatch namespace of one environment's custom metrics: `BlockchainTenancy/<tenant>/<environment>`.
 *
 * Tenants share accounts and environment ids repeat across tenants, so the namespace names both:
 * a node role may put metric data only into its own environment's namespace (IAM condition
 * `cloudwatch:namespace`), and one tenant's node can neither fake another environment's block
 * height or RPC liveness nor silence or fire its alarms. Ids are validated elsewhere (2-24
 * characters of a-z, 0-9 and "-"), which are all valid namespace characters.
 */
export function nodeMetricNamespace(tenantId: string, environmentId: string): string {
  for (const [name, value] of [['tenantId', tenantId], ['environmentId', environmentId]] as const) {
    if (typeof value !== 'string' || !ID_PATTERN.test(value)) {
      throw new Error(`nodeMetricNamespace: ${name} "${String(value)}" is not an id; use 2-24 characters of a-z, 0-9 and "-"`);
    }
  }
  return `${NodeMetrics.NAMESPACE}/${tenantId}/${environmentId}`;
}
