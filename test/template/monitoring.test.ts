import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { BlockchainEnvironment } from '../../lib';
import { ConsensusFamily, deriveThresholds, quorumOf } from '../../lib/operations/alarm-thresholds';
import { EnvironmentMonitoring, MonitoredNode } from '../../lib/operations/environment-monitoring';
import { testApp } from '../support/synth';

function build(validators: number, opts: { members?: number; blockPeriodSeconds?: number; minPeers?: number } = {}) {
  const stack = new Stack(testApp(), `Mon${validators}`);
  const env = new BlockchainEnvironment(stack, 'Env', { tenantId: 'acme', environmentId: 'dev' });
  // An environment without ingress has no public subnets (no internet path): an internal ALB is enough to alarm on.
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: env.vpc, internetFacing: false, vpcSubnets: env.network.privateSubnets, securityGroup: env.securityGroups.ingress });
  const tg = new elbv2.ApplicationTargetGroup(stack, 'Tg', { vpc: env.vpc, port: 8080, protocol: elbv2.ApplicationProtocol.HTTP });
  alb.addListener('Listener', { port: 80, defaultTargetGroups: [tg] });
  const authorizer = new lambda.Function(stack, 'Authorizer', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  const topic = new sns.Topic(stack, 'Topic', { masterKey: new kms.Key(stack, 'TopicKey', { enableKeyRotation: true }) });
  const nodes: MonitoredNode[] = [];
  for (let i = 1; i <= validators; i++) {
    nodes.push({ nodeId: `validator-${i}`, validator: true, autoScalingGroupName: `asg-v${i}`, fileSystemId: `fs-v${i}` });
  }
  for (let i = 1; i <= (opts.members ?? 0); i++) {
    nodes.push({ nodeId: `member-${i}`, validator: false, autoScalingGroupName: `asg-m${i}` });
  }
  const monitoring = new EnvironmentMonitoring(stack, 'Monitoring', {
    tenantId: 'acme',
    environmentId: 'dev',
    consensus: ConsensusFamily.BFT,
    blockPeriodSeconds: opts.blockPeriodSeconds ?? 2,
    nodes,
    loadBalancer: alb,
    targetGroups: { Gateway: tg },
    webAclMetricName: 'acme-dev-acl',
    authorizer,
    alarmTopic: topic,
    authorizerDenies: new cloudwatch.Metric({ namespace: 'BlockchainTenancy/acme/dev', metricName: 'AuthorizerDenies', dimensionsMap: { Tenant: 'acme', Environment: 'dev' }, statistic: 'Sum' }),
    ...(opts.minPeers !== undefined ? { thresholds: { minPeers: opts.minPeers } } : {}),
  });
  return { stack, monitoring, template: Template.fromStack(stack), topic };
}

const alarmsNamed = (t: Template, part: string) =>
  Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((r) =>
    JSON.stringify(r.Properties.AlarmDescription).includes(part),
  );

describe.each([
  [4, 3, 2],
  [7, 5, 4],
])('monitoring of a %i-validator BFT network', (validators, quorum, minPeers) => {
  const { template, monitoring, topic } = build(validators, { members: 1 });
  const stack = Stack.of(topic);

  it(`derives quorum ${quorum} and alarms when a validator has fewer than ${minPeers} peers`, () => {
    expect(monitoring.thresholds).toMatchObject({ quorum, minPeers, toleratedFaults: validators - quorum });
    const peerAlarms = alarmsNamed(template, 'fewer than');
    expect(peerAlarms).toHaveLength(validators); // validators only, not the member node
    for (const a of peerAlarms) {
      expect(a.Properties).toMatchObject({
        Threshold: minPeers,
        ComparisonOperator: 'LessThanThreshold',
        MetricName: 'PeerCount',
        // The environment's own namespace: another tenant's nodes cannot publish into it.
        Namespace: 'BlockchainTenancy/acme/dev',
        Statistic: 'Minimum',
        TreatMissingData: 'breaching',
      });
    }
  });

  it('alarms per node on in-service, RPC liveness and stalled height', () => {
    const nodes = validators + 1;
    expect(alarmsNamed(template, 'no instance in service')).toHaveLength(nodes);
    expect(alarmsNamed(template, 'JSON-RPC not answering')).toHaveLength(nodes);
    const stalled = alarmsNamed(template, 'did not advance in 60 s');
    expect(stalled).toHaveLength(nodes);
    expect(stalled[0].Properties.Metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Expression: 'DIFF(h)', ReturnData: true }),
        expect.objectContaining({
          Id: 'h',
          MetricStat: expect.objectContaining({ Period: 60, Stat: 'Maximum', Metric: expect.objectContaining({ MetricName: 'BlockHeight' }) }),
        }),
      ]),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'GroupInServiceInstances',
      Namespace: 'AWS/AutoScaling',
      Dimensions: [{ Name: 'AutoScalingGroupName', Value: 'asg-v1' }],
      Threshold: 1,
    });
  });

  it('alarms on load balancer 5xx, unhealthy gates, WAF blocks, authorizer errors and duration, EFS I/O', () => {
    expect(alarmsNamed(template, 'load balancer 5xx')).toHaveLength(1);
    expect(alarmsNamed(template, 'unhealthy node gate')).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/WAFV2',
      MetricName: 'BlockedRequests',
      Dimensions: Match.arrayWith([{ Name: 'Rule', Value: 'ALL' }, { Name: 'WebACL', Value: 'acme-dev-acl' }]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 2000 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    expect(alarmsNamed(template, 'near its I/O limit')).toHaveLength(validators);
    expect(alarmsNamed(template, 'gate p99 latency high')).toHaveLength(validators + 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'AuthorizerDenies', Threshold: 100, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('sends every alarm and its recovery to the topic', () => {
    const topicRef = stack.resolve(topic.topicArn);
    for (const a of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(a.Properties.AlarmActions).toEqual([topicRef]);
      expect(a.Properties.OKActions).toEqual([topicRef]);
    }
  });

  it('has a dashboard with a widget for every signal', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0].Properties.DashboardBody);
    for (const title of [
      'Block height',
      'Peers',
      'Nodes in service',
      'Load balancer',
      'Gate targets (healthy / unhealthy)',
      'WAF blocked requests',
      'Authorizer',
      'Node storage (bytes)',
      'Node storage I/O limit (%)',
      'Gate latency p99 (ms)',
      'Gate cache hit ratio (%)',
      'Authorizer denies',
      'Alarms',
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    expect(body).toContain(`quorum ${quorum}`);
    expect(body).toContain(`min peers for quorum`);
  });
});

describe('thresholds', () => {
  it('derive quorum per consensus family', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((n) => quorumOf(ConsensusFamily.BFT, n))).toEqual([1, 2, 2, 3, 4, 4, 5, 7]);
    expect([1, 2, 3, 4, 5].map((n) => quorumOf(ConsensusFamily.RAFT, n))).toEqual([1, 2, 2, 3, 3]);
    expect(quorumOf(ConsensusFamily.CLIQUE, 4)).toBe(3);
  });

  it('derive "height stalled" from the block period', () => {
    expect(deriveThresholds({ consensus: ConsensusFamily.BFT, validators: 4, blockPeriodSeconds: 2 }).heightStalledSeconds).toBe(60);
    expect(deriveThresholds({ consensus: ConsensusFamily.BFT, validators: 4, blockPeriodSeconds: 15 }).heightStalledSeconds).toBe(180);
    const { template } = build(4, { blockPeriodSeconds: 15 });
    expect(alarmsNamed(template, 'did not advance in 180 s')).toHaveLength(4);
  });

  it('can be overridden', () => {
    const { template } = build(4, { minPeers: 1 });
    for (const a of alarmsNamed(template, 'fewer than')) expect(a.Properties.Threshold).toBe(1);
  });

  it('refuses bad input naming the prop and the fix', () => {
    const stack = new Stack(testApp(), 'Bad');
    const base = { tenantId: 'a', environmentId: 'b', consensus: ConsensusFamily.BFT, blockPeriodSeconds: 2 };
    expect(() => new EnvironmentMonitoring(stack, 'M1', { ...base, nodes: [] })).toThrow(/nodes is empty/);
    expect(
      () => new EnvironmentMonitoring(stack, 'M2', { ...base, nodes: [{ nodeId: 'n', validator: false, autoScalingGroupName: 'x' }] }),
    ).toThrow(/no node has validator: true/);
    const nodes = [{ nodeId: 'n', validator: true, autoScalingGroupName: 'x' }];
    expect(() => new EnvironmentMonitoring(stack, 'M3', { ...base, nodes, thresholds: { heightStalled: Duration.seconds(90) } })).toThrow(
      /thresholds.heightStalled is 90 s; use a whole number of minutes/,
    );
    expect(() => new EnvironmentMonitoring(stack, 'M4', { ...base, nodes, thresholds: { minPeers: -1 } })).toThrow(/thresholds.minPeers is -1/);
    expect(() => deriveThresholds({ consensus: ConsensusFamily.BFT, validators: 0, blockPeriodSeconds: 2 })).toThrow(/validators is 0/);
  });
});
