import { CloudWatchClient, GetMetricStatisticsCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSample, hexQuantity } from '../../lambda/node-metrics/collect';
import { configFromEnv, publishOnce } from '../../lambda/node-metrics/publisher';
import { MetricDimensions, NodeMetrics, nodeMetricNamespace } from '../../lib/contracts/metric-names';
import { LocalNode, startGanache } from '../support/ganache';
import { MotoServer, freePort, startMoto } from '../support/moto';

describe('node metric publisher against a local Ethereum node and CloudWatch on moto', () => {
  let moto: MotoServer;
  let node: LocalNode;
  let rpcUrl: string;
  let cloudwatch: CloudWatchClient;
  const config = { tenantId: 'acme', environmentId: 'dev', nodeId: 'validator-1', rpcUrl: '' };
  // The environment's own namespace: the only one its node role may put metric data into.
  const namespace = nodeMetricNamespace('acme', 'dev');

  beforeAll(async () => {
    moto = await startMoto();
    cloudwatch = new CloudWatchClient(moto.clientConfig);
    node = await startGanache();
    rpcUrl = node.rpcUrl;
    config.rpcUrl = rpcUrl;
  });

  afterAll(async () => {
    await node?.stop();
    await moto?.stop();
  });

  it('reads height and peers from the local node', async () => {
    // ganache mines a block a second; wait for height >= 2 so the value is not a default.
    let sample = await collectSample(rpcUrl);
    for (let i = 0; i < 50 && (sample.blockHeight ?? 0) < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      sample = await collectSample(rpcUrl);
    }
    expect(sample).toMatchObject({ rpcUp: true, peerCount: 0 });
    expect(sample.blockHeight).toBeGreaterThanOrEqual(2);
  });

  it('publishes height, peers and liveness into the environment\'s own namespace with tenant/environment/node dimensions', async () => {
    const at = new Date();
    const sample = await publishOnce(config, cloudwatch, at);
    expect(namespace).toBe('BlockchainTenancy/acme/dev');
    // Nothing lands in the shared prefix, nor in another tenant's environment of the same id.
    for (const other of [NodeMetrics.NAMESPACE, nodeMetricNamespace('initech', 'dev')]) {
      expect((await cloudwatch.send(new ListMetricsCommand({ Namespace: other }))).Metrics ?? []).toEqual([]);
    }
    const listed = await cloudwatch.send(new ListMetricsCommand({ Namespace: namespace }));
    const names = (listed.Metrics ?? []).map((m) => m.MetricName).sort();
    expect(names).toEqual([NodeMetrics.BLOCK_HEIGHT, NodeMetrics.PEER_COUNT, NodeMetrics.RPC_UP].sort());
    for (const m of listed.Metrics ?? []) {
      expect(m.Dimensions).toEqual([
        { Name: MetricDimensions.TENANT, Value: 'acme' },
        { Name: MetricDimensions.ENVIRONMENT, Value: 'dev' },
        { Name: MetricDimensions.NODE, Value: 'validator-1' },
      ]);
    }
    const stats = await cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: namespace,
        MetricName: NodeMetrics.BLOCK_HEIGHT,
        Dimensions: listed.Metrics![0].Dimensions,
        StartTime: new Date(at.getTime() - 120_000),
        EndTime: new Date(at.getTime() + 120_000),
        Period: 60,
        Statistics: ['Maximum'],
      }),
    );
    expect(stats.Datapoints?.map((d) => d.Maximum)).toEqual([sample.blockHeight]);
  });

  it('reports the node down (RpcUp 0, no height) when the client does not answer', async () => {
    const deadPort = await freePort();
    const down = await publishOnce({ ...config, nodeId: 'down-1', rpcUrl: `http://127.0.0.1:${deadPort}` }, cloudwatch);
    expect(down).toEqual({ rpcUp: false, error: 'ECONNREFUSED' });
    const listed = await cloudwatch.send(
      new ListMetricsCommand({ Namespace: namespace, Dimensions: [{ Name: MetricDimensions.NODE, Value: 'down-1' }] }),
    );
    expect((listed.Metrics ?? []).map((m) => m.MetricName)).toEqual([NodeMetrics.RPC_UP]);
  });
});

describe('publisher config and parsing', () => {
  it('names the missing variables and refuses a non-local RPC', () => {
    expect(() => configFromEnv({})).toThrow(/BT_TENANT, BT_ENVIRONMENT, BT_NODE not set/);
    expect(() =>
      configFromEnv({ BT_TENANT: 'a', BT_ENVIRONMENT: 'b', BT_NODE: 'c', BT_RPC_URL: 'http://10.0.0.5:8545' }),
    ).toThrow(/host is 10\.0\.0\.5; the publisher reads only the local client/);
    expect(configFromEnv({ BT_TENANT: 'acme', BT_ENVIRONMENT: 'dev', BT_NODE: 'c' }).rpcUrl).toBe('http://127.0.0.1:8545');
    // The ids name the metric namespace: a value that is not an id is refused with the field.
    expect(() => configFromEnv({ BT_TENANT: 'Acme/x', BT_ENVIRONMENT: 'dev', BT_NODE: 'c' })).toThrow('nodeMetricNamespace: tenantId "Acme/x" is not an id');
  });

  it('parses hex quantities strictly', () => {
    expect(hexQuantity('0x1a')).toBe(26);
    expect(hexQuantity('0x0')).toBe(0);
    for (const bad of ['1a', '0x', '0xzz', 26, null, '0x' + 'f'.repeat(20)]) expect(hexQuantity(bad)).toBeUndefined();
  });
});
