/**
 * Custom CloudWatch metrics published from inside an environment (shared by the node-side
 * publishers, the dashboards and the alarms).
 */
export const NodeMetrics = {
  /** CloudWatch namespace of every custom metric of this library. */
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
