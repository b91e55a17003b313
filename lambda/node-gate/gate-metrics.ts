import { CloudWatchClient, MetricDatum, PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { MetricDimensions, NodeMetrics } from '../../lib/contracts/metric-names';

/**
 * Gate statistics, published once a minute: proxied-request latency (as a value/count histogram,
 * so CloudWatch can compute p99) and decision-cache hits and misses.
 */
export class GateMetrics {
  private latencies = new Map<number, number>();
  private lastHits = 0;
  private lastMisses = 0;

  /** Records one proxied request's latency (ms, rounded to 0.1 ms buckets). */
  record(ms: number): void {
    const bucket = Math.round(ms * 10) / 10;
    this.latencies.set(bucket, (this.latencies.get(bucket) ?? 0) + 1);
  }

  /** The datums since the last call (and resets the latency histogram). */
  drain(dimensions: { tenantId: string; environmentId: string; nodeId: string }, cache: { hits: number; misses: number }, at = new Date()): MetricDatum[] {
    const Dimensions = [
      { Name: MetricDimensions.TENANT, Value: dimensions.tenantId },
      { Name: MetricDimensions.ENVIRONMENT, Value: dimensions.environmentId },
      { Name: MetricDimensions.NODE, Value: dimensions.nodeId },
    ];
    const data: MetricDatum[] = [
      { MetricName: NodeMetrics.GATE_CACHE_HITS, Dimensions, Value: cache.hits - this.lastHits, Unit: StandardUnit.Count, Timestamp: at },
      { MetricName: NodeMetrics.GATE_CACHE_MISSES, Dimensions, Value: cache.misses - this.lastMisses, Unit: StandardUnit.Count, Timestamp: at },
    ];
    this.lastHits = cache.hits;
    this.lastMisses = cache.misses;
    // PutMetricData takes at most 150 values per datum.
    const entries = [...this.latencies].slice(0, 150);
    if (entries.length) {
      data.push({ MetricName: NodeMetrics.GATE_LATENCY, Dimensions, Values: entries.map(([v]) => v), Counts: entries.map(([, c]) => c), Unit: StandardUnit.Milliseconds, Timestamp: at });
    }
    this.latencies = new Map();
    return data;
  }

  /**
   * Publishes the datums into `namespace`, the environment's own (`nodeMetricNamespace`: the only
   * one the node's role may write to). Errors are reported, never thrown: metrics must not break the gate.
   */
  async publish(client: CloudWatchClient, data: MetricDatum[], namespace: string): Promise<void> {
    await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
  }
}
