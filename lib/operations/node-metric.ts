import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { MetricDimensions, NodeMetrics, nodeMetricNamespace } from '../contracts/metric-names';

/** Identifies a node's custom metrics. */
export interface NodeMetricScope {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly nodeId: string;
}

const DEFAULT_STATISTIC: Record<string, string> = {
  [NodeMetrics.BLOCK_HEIGHT]: cloudwatch.Stats.MAXIMUM,
  [NodeMetrics.PEER_COUNT]: cloudwatch.Stats.MINIMUM,
  [NodeMetrics.RPC_UP]: cloudwatch.Stats.MINIMUM,
  [NodeMetrics.GATE_LATENCY]: cloudwatch.Stats.p(99),
  [NodeMetrics.GATE_CACHE_HITS]: cloudwatch.Stats.SUM,
  [NodeMetrics.GATE_CACHE_MISSES]: cloudwatch.Stats.SUM,
};

/**
 * One of a node's custom metrics (published from the node by the metric publisher or the gate,
 * into the environment's own namespace, {@link nodeMetricNamespace}), with the statistic that makes sense for it unless `props.statistic` says otherwise.
 */
export function nodeMetric(
  scope: NodeMetricScope,
  metricName: (typeof NodeMetrics)[Exclude<keyof typeof NodeMetrics, 'NAMESPACE'>],
  props: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: nodeMetricNamespace(scope.tenantId, scope.environmentId),
    metricName,
    dimensionsMap: {
      [MetricDimensions.TENANT]: scope.tenantId,
      [MetricDimensions.ENVIRONMENT]: scope.environmentId,
      [MetricDimensions.NODE]: scope.nodeId,
    },
    statistic: DEFAULT_STATISTIC[metricName],
    period: Duration.minutes(1),
    ...props,
  });
}
