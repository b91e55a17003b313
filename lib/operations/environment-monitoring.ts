import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ConsensusFamily, DerivedThresholds, deriveThresholds } from './alarm-thresholds';
import { NodeMetrics } from '../contracts/metric-names';
import { nodeMetric } from './node-metric';

/** A node as the monitoring sees it. */
export interface MonitoredNode {
  /** Node id (dimension of its custom metrics). */
  readonly nodeId: string;
  /** Whether the node is a validator (peer-count alarm applies to validators). */
  readonly validator: boolean;
  /** Name of the node's Auto Scaling group (group metrics must be enabled on it). */
  readonly autoScalingGroupName: string;
  /**
   * The node's EFS file system id, for storage and I/O widgets and alarms.
   * @default - no file system widgets for this node
   */
  readonly fileSystemId?: string;
  /**
   * The target group of the node's gate: its unhealthy-target alarm lives with the node's alarms.
   * @default - none (or listed in `targetGroups`)
   */
  readonly targetGroup?: elbv2.IApplicationTargetGroup;
  /**
   * Where the node's alarms live, e.g. its node group's nested stack (keeps the environment
   * stack under CloudFormation's resource limit). Alarms there get explicit names
   * (`blockchain-<tenant>-<env>-<node>-<Alarm>`) so the dashboard can show them without
   * cross-stack outputs.
   * @default - this construct
   */
  readonly scope?: Construct;
}

/** CloudWatch takes at most 100 metrics and expressions in one graph. */
const MAX_GRAPH_METRICS = 100;
/** Alarms per alarm-status widget (kept to the graph limit). */
const MAX_STATUS_ALARMS = 100;

/** Splits items into runs of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Overrides of the derived alarm thresholds. */
export interface MonitoringThresholds {
  /**
   * A validator with fewer connected peers than this alarms.
   * @default - quorum - 1 (derived from the consensus and validator count)
   */
  readonly minPeers?: number;
  /**
   * The chain height must advance within this window.
   * @default - max(60 s, 10 block periods rounded up to a minute)
   */
  readonly heightStalled?: Duration;
  /**
   * Load balancer 5xx responses (ELB + target) per 5 minutes that alarm.
   * @default 10
   */
  readonly loadBalancer5xxPer5Minutes?: number;
  /**
   * WAF blocked requests per 5 minutes that alarm (a sign of an attack or a misbehaving dApp).
   * @default 1000
   */
  readonly wafBlockedPer5Minutes?: number;
  /**
   * p99 authorizer duration that alarms (argon2id verification is slow on purpose).
   * @default Duration.seconds(2)
   */
  readonly authorizerP99?: Duration;
  /**
   * EFS PercentIOLimit that alarms.
   * @default 90
   */
  readonly efsPercentIoLimit?: number;
  /**
   * Denied authorizations per 5 minutes that alarm (credential stuffing, a leaked id, a dApp
   * with a revoked credential).
   * @default 100
   */
  readonly authorizerDeniesPer5Minutes?: number;
  /**
   * p99 latency of requests through a node gate that alarms.
   * @default Duration.seconds(1)
   */
  readonly gateP99?: Duration;
}

/** Props of {@link EnvironmentMonitoring}. */
export interface EnvironmentMonitoringProps {
  readonly tenantId: string;
  readonly environmentId: string;
  /** Consensus family, for quorum. */
  readonly consensus: ConsensusFamily;
  /** Target block period in seconds. */
  readonly blockPeriodSeconds: number;
  /** The nodes. */
  readonly nodes: readonly MonitoredNode[];
  /**
   * The internet-facing load balancer.
   * @default - no load balancer widgets or alarms
   */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  /**
   * Target groups that belong to no node in `nodes` (a node's own goes in its `targetGroup`), by a
   * stable name: each alarms as `<name>/Unhealthy`.
   * @default - none
   */
  readonly targetGroups?: Readonly<Record<string, elbv2.IApplicationTargetGroup>>;
  /**
   * Name of the WAFv2 web ACL in front of the load balancer (its CloudWatch metric name).
   * @default - no WAF widgets or alarms
   */
  readonly webAclMetricName?: string;
  /**
   * The environment's authorizer function.
   * @default - no authorizer widgets or alarms
   */
  readonly authorizer?: lambda.IFunction;
  /**
   * Denied authorizations (CredentialStore.metricAuthorizerDenies()).
   * @default - no denies widget or alarm
   */
  readonly authorizerDenies?: cloudwatch.IMetric;
  /**
   * Other functions of the environment whose errors alarm, by a stable name (e.g. `Issuer`): each
   * alarms as `<name>/Errors`.
   * @default - none
   */
  readonly functions?: Readonly<Record<string, lambda.IFunction>>;
  /**
   * Where alarms (and their recovery) are sent.
   * @default - alarms only show on the dashboard and in the console
   */
  readonly alarmTopic?: sns.ITopic;
  /** Threshold overrides. */
  readonly thresholds?: MonitoringThresholds;
}

/**
 * A CloudWatch dashboard and alarms for one environment: nodes in service, block height
 * advancing, peers vs. quorum, RPC liveness, load balancer 5xx and target health, WAF blocks,
 * authorizer errors and duration, EFS I/O, Lambda errors. Thresholds derive from the consensus
 * and validator count and can be overridden.
 */
export class EnvironmentMonitoring extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm, by a stable name (e.g. `validator-1/HeightStalled`). */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The thresholds in force (derived, then overridden). */
  public readonly thresholds: DerivedThresholds & { readonly heightStalledSeconds: number };

  private readonly alarmMap: Record<string, cloudwatch.Alarm> = {};
  /** What the alarm-status widgets show (alarms in other stacks referenced by name). */
  private readonly statusAlarms: cloudwatch.IAlarm[] = [];
  private readonly props: EnvironmentMonitoringProps;

  constructor(scope: Construct, id: string, props: EnvironmentMonitoringProps) {
    super(scope, id);
    this.props = props;
    if (props.nodes.length === 0) {
      throw new Error('EnvironmentMonitoring: nodes is empty; pass the environment nodes to monitor');
    }
    const validators = props.nodes.filter((n) => n.validator).length;
    if (validators === 0) {
      throw new Error('EnvironmentMonitoring: no node has validator: true; mark the validators so quorum can be derived');
    }
    const derived = deriveThresholds({ consensus: props.consensus, validators, blockPeriodSeconds: props.blockPeriodSeconds });
    const o = props.thresholds ?? {};
    if (o.minPeers !== undefined && (!Number.isInteger(o.minPeers) || o.minPeers < 0)) {
      throw new Error(`EnvironmentMonitoring: thresholds.minPeers is ${o.minPeers}; use a whole number >= 0`);
    }
    const heightStalledSeconds = o.heightStalled?.toSeconds() ?? derived.heightStalledSeconds;
    if (heightStalledSeconds < 60 || heightStalledSeconds % 60 !== 0) {
      throw new Error(
        `EnvironmentMonitoring: thresholds.heightStalled is ${heightStalledSeconds} s; use a whole number of minutes (>= 1), e.g. Duration.minutes(2)`,
      );
    }
    this.thresholds = { ...derived, minPeers: o.minPeers ?? derived.minPeers, heightStalledSeconds };
    this.alarms = this.alarmMap;

    const { tenantId, environmentId } = props;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `blockchain-${tenantId}-${environmentId}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          `# ${tenantId} / ${environmentId}\n` +
          `${validators} validators (${props.consensus.toUpperCase()}), quorum ${this.thresholds.quorum}, ` +
          `tolerates ${this.thresholds.toleratedFaults} faulty; alarms: peers < ${this.thresholds.minPeers}, ` +
          `height not advancing for ${heightStalledSeconds} s.`,
        width: 24,
        height: 2,
      }),
    );

    this.addNodeWidgets();
    this.addGateWidgets();
    this.addIngressWidgets();
    this.addFunctionWidgets();
    this.addStorageWidgets();
    const statusChunks = chunks(this.statusAlarms, MAX_STATUS_ALARMS);
    this.dashboard.addWidgets(
      ...statusChunks.map(
        (alarms, i) => new cloudwatch.AlarmStatusWidget({ title: statusChunks.length > 1 ? `Alarms (${i + 1}/${statusChunks.length})` : 'Alarms', alarms, width: 24 }),
      ),
    );
  }

  /** Graph widgets over per-node entries, split so that no graph has more than 100 metrics. */
  private nodeGraphs<T>(
    title: string,
    items: readonly T[],
    metricsPerItem: number,
    make: (items: readonly T[], title: string) => cloudwatch.GraphWidget,
  ): cloudwatch.GraphWidget[] {
    const runs = chunks(items, Math.max(1, Math.floor(MAX_GRAPH_METRICS / metricsPerItem)));
    return runs.map((run, i) => make(run, runs.length > 1 ? `${title} (${i + 1}/${runs.length})` : title));
  }

  private alarm(name: string, alarmProps: cloudwatch.CreateAlarmOptions & { metric: cloudwatch.IMetric }, scope?: Construct): cloudwatch.Alarm {
    const { metric, alarmDescription, ...rest } = alarmProps;
    const { tenantId, environmentId } = this.props;
    const alarmName = scope ? `blockchain-${tenantId}-${environmentId}-${name.replace(/\//g, '-')}` : undefined;
    // Construct ids keyed by the alarm's name (node id and what it watches), never a position;
    // "-" is kept so that node ids "a-1" and "a1" stay apart.
    const created = new cloudwatch.Alarm(scope ?? this, `Alarm-${name.replace(/[^A-Za-z0-9-]/g, '-')}`, {
      metric,
      ...rest,
      ...(alarmName ? { alarmName } : {}),
      alarmDescription: `${tenantId}/${environmentId}: ${alarmDescription ?? name}`,
    });
    if (this.props.alarmTopic) {
      created.addAlarmAction(new actions.SnsAction(this.props.alarmTopic));
      created.addOkAction(new actions.SnsAction(this.props.alarmTopic));
    }
    this.alarmMap[name] = created;
    this.statusAlarms.push(
      alarmName
        ? cloudwatch.Alarm.fromAlarmArn(
            this,
            `Shown-${name.replace(/[^A-Za-z0-9-]/g, '-')}`,
            Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarmName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          )
        : created,
    );
    return created;
  }

  private addNodeWidgets(): void {
    const { tenantId, environmentId, nodes } = this.props;
    const heights: cloudwatch.IMetric[] = [];
    const peers: cloudwatch.IMetric[] = [];
    const inService: cloudwatch.IMetric[] = [];
    for (const node of nodes) {
      const scope = { tenantId, environmentId, nodeId: node.nodeId };
      // Graphs get labelled copies; alarms use the plain metrics (a label would turn them into math).
      heights.push(nodeMetric(scope, NodeMetrics.BLOCK_HEIGHT, { label: node.nodeId }));
      const peerCount = nodeMetric(scope, NodeMetrics.PEER_COUNT);
      peers.push(peerCount.with({ label: node.nodeId }));
      const groupInService = new cloudwatch.Metric({
        namespace: 'AWS/AutoScaling',
        metricName: 'GroupInServiceInstances',
        dimensionsMap: { AutoScalingGroupName: node.autoScalingGroupName },
        statistic: cloudwatch.Stats.MINIMUM,
        period: Duration.minutes(1),
      });
      inService.push(groupInService.with({ label: node.nodeId }));

      this.alarm(`${node.nodeId}/NotInService`, {
        metric: groupInService,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `node ${node.nodeId} has no instance in service for 5 minutes`,
      }, node.scope);
      this.alarm(`${node.nodeId}/RpcDown`, {
        metric: nodeMetric(scope, NodeMetrics.RPC_UP),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `node ${node.nodeId} client JSON-RPC not answering (or the publisher is silent) for 3 minutes`,
      }, node.scope);
      // Height stalled: the max height in a window is no higher than in the window before.
      const windowHeight = nodeMetric(scope, NodeMetrics.BLOCK_HEIGHT, {
        period: Duration.seconds(this.thresholds.heightStalledSeconds),
      });
      this.alarm(`${node.nodeId}/HeightStalled`, {
        metric: new cloudwatch.MathExpression({
          expression: 'DIFF(h)',
          usingMetrics: { h: windowHeight },
          period: Duration.seconds(this.thresholds.heightStalledSeconds),
          label: `${node.nodeId} blocks per window`,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `node ${node.nodeId} block height did not advance in ${this.thresholds.heightStalledSeconds} s`,
      }, node.scope);
      if (node.validator) {
        this.alarm(`${node.nodeId}/PeersBelowQuorum`, {
          metric: peerCount,
          threshold: this.thresholds.minPeers,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 3,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
          alarmDescription: `validator ${node.nodeId} has fewer than ${this.thresholds.minPeers} peers (quorum ${this.thresholds.quorum})`,
        }, node.scope);
      }
    }
    this.dashboard.addWidgets(
      ...this.nodeGraphs('Block height', heights, 1, (left, title) => new cloudwatch.GraphWidget({ title, left: [...left], width: 8 })),
      ...this.nodeGraphs('Peers', peers, 1, (left, title) =>
        new cloudwatch.GraphWidget({
          title,
          left: [...left],
          leftAnnotations: [{ value: this.thresholds.minPeers, label: 'min peers for quorum', color: '#d62728' }],
          width: 8,
        }),
      ),
      ...this.nodeGraphs('Nodes in service', inService, 1, (left, title) => new cloudwatch.GraphWidget({ title, left: [...left], width: 8 })),
    );
  }

  private addGateWidgets(): void {
    const { tenantId, environmentId, nodes } = this.props;
    const o = this.props.thresholds ?? {};
    const latency: cloudwatch.IMetric[] = [];
    const ratio: cloudwatch.IMetric[] = [];
    nodes.forEach((node, i) => {
      const scope = { tenantId, environmentId, nodeId: node.nodeId };
      const p99 = nodeMetric(scope, NodeMetrics.GATE_LATENCY, { period: Duration.minutes(5) });
      latency.push(p99.with({ label: node.nodeId }));
      ratio.push(
        new cloudwatch.MathExpression({
          expression: `100 * FILL(h${i}, 0) / (FILL(h${i}, 0) + FILL(m${i}, 0) + 0.000001)`,
          usingMetrics: {
            [`h${i}`]: nodeMetric(scope, NodeMetrics.GATE_CACHE_HITS, { period: Duration.minutes(5) }),
            [`m${i}`]: nodeMetric(scope, NodeMetrics.GATE_CACHE_MISSES, { period: Duration.minutes(5) }),
          },
          label: node.nodeId,
          period: Duration.minutes(5),
        }),
      );
      this.alarm(`${node.nodeId}/GateLatency`, {
        metric: p99,
        threshold: (o.gateP99 ?? Duration.seconds(1)).toMilliseconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `node ${node.nodeId} gate p99 latency high for 15 minutes`,
      }, node.scope);
    });
    this.dashboard.addWidgets(
      ...this.nodeGraphs('Gate latency p99 (ms)', latency, 1, (left, title) => new cloudwatch.GraphWidget({ title, left: [...left], width: 12 })),
      // Each ratio is an expression over two metrics: three entries per node.
      ...this.nodeGraphs('Gate cache hit ratio (%)', ratio, 3, (left, title) => new cloudwatch.GraphWidget({ title, left: [...left], width: 12, leftYAxis: { min: 0, max: 100 } })),
    );
  }

  private addIngressWidgets(): void {
    const { loadBalancer, webAclMetricName } = this.props;
    // A node's own target group alarms with the node (and in its scope); other target groups
    // alarm under the name they are listed by.
    const listed = Object.entries(this.props.targetGroups ?? {});
    const targetGroups = [...listed.map(([, tg]) => tg), ...this.props.nodes.flatMap((n) => (n.targetGroup ? [n.targetGroup] : []))];
    const o = this.props.thresholds ?? {};
    const widgets: cloudwatch.IWidget[] = [];
    if (loadBalancer) {
      const five = Duration.minutes(5);
      const elb5xx = loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: five, statistic: 'Sum' });
      const target5xx = loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: five, statistic: 'Sum' });
      this.alarm('LoadBalancer/5xx', {
        metric: new cloudwatch.MathExpression({
          expression: 'FILL(e, 0) + FILL(t, 0)',
          usingMetrics: { e: elb5xx, t: target5xx },
          period: five,
          label: '5xx (ELB + target)',
        }),
        threshold: o.loadBalancer5xxPer5Minutes ?? 10,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'load balancer 5xx responses',
      });
      widgets.push(
        new cloudwatch.GraphWidget({
          title: 'Load balancer',
          left: [loadBalancer.metrics.requestCount({ period: five }), elb5xx, target5xx],
          right: [loadBalancer.metrics.targetResponseTime({ statistic: 'p99' })],
          width: 8,
        }),
      );
    }
    const unhealthyAlarm = {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    for (const [name, tg] of listed) {
      this.alarm(`${name}/Unhealthy`, {
        metric: tg.metrics.unhealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) }),
        ...unhealthyAlarm,
        alarmDescription: `target group ${name} has an unhealthy node gate for 3 minutes`,
      });
    }
    for (const n of this.props.nodes) {
      if (!n.targetGroup) continue;
      this.alarm(`${n.nodeId}/GateUnhealthy`, {
        metric: n.targetGroup.metrics.unhealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1) }),
        ...unhealthyAlarm,
        alarmDescription: `node ${n.nodeId} gate unhealthy behind the load balancer for 3 minutes`,
      }, n.scope);
    }
    widgets.push(
      ...this.nodeGraphs('Gate targets (healthy / unhealthy)', targetGroups, 2, (run, title) =>
        new cloudwatch.GraphWidget({
          title,
          left: run.map((tg) => tg.metrics.healthyHostCount()),
          right: run.map((tg) => tg.metrics.unhealthyHostCount()),
          width: 8,
        }),
      ),
    );
    if (webAclMetricName) {
      const blocked = new cloudwatch.Metric({
        namespace: 'AWS/WAFV2',
        metricName: 'BlockedRequests',
        dimensionsMap: { WebACL: webAclMetricName, Rule: 'ALL', Region: Stack.of(this).region },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
      this.alarm('Waf/Blocked', {
        metric: blocked,
        threshold: o.wafBlockedPer5Minutes ?? 1000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'WAF blocked an unusual number of requests',
      });
      widgets.push(new cloudwatch.GraphWidget({ title: 'WAF blocked requests', left: [blocked], width: 8 }));
    }
    if (widgets.length) this.dashboard.addWidgets(...widgets);
  }

  private addFunctionWidgets(): void {
    const { authorizer } = this.props;
    const functions = Object.entries(this.props.functions ?? {});
    const o = this.props.thresholds ?? {};
    const widgets: cloudwatch.IWidget[] = [];
    if (authorizer) {
      const p99 = authorizer.metricDuration({ statistic: 'p99', period: Duration.minutes(5) });
      this.alarm('Authorizer/Duration', {
        metric: p99,
        threshold: (o.authorizerP99 ?? Duration.seconds(2)).toMilliseconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'authorizer p99 duration',
      });
      widgets.push(
        new cloudwatch.GraphWidget({
          title: 'Authorizer',
          left: [authorizer.metricInvocations(), authorizer.metricErrors(), authorizer.metricThrottles()],
          right: [p99],
          width: 8,
        }),
      );
    }
    if (this.props.authorizerDenies) {
      this.alarm('Authorizer/Denies', {
        metric: this.props.authorizerDenies,
        threshold: o.authorizerDeniesPer5Minutes ?? 100,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'many denied credentials (stuffing, a leaked id, or a dApp with a revoked credential)',
      });
      widgets.push(new cloudwatch.GraphWidget({ title: 'Authorizer denies', left: [this.props.authorizerDenies], width: 8 }));
    }
    const all: [string, lambda.IFunction][] = [...(authorizer ? [['Authorizer', authorizer] as [string, lambda.IFunction]] : []), ...functions];
    for (const [name, fn] of all) {
      this.alarm(`${name}/Errors`, {
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `function ${name} errors`,
      });
    }
    if (functions.length) {
      widgets.push(new cloudwatch.GraphWidget({ title: 'Function errors', left: functions.map(([name, f]) => f.metricErrors({ label: name })), width: 8 }));
    }
    if (widgets.length) this.dashboard.addWidgets(...widgets);
  }

  private addStorageWidgets(): void {
    const o = this.props.thresholds ?? {};
    const withFs = this.props.nodes.filter((n) => n.fileSystemId);
    if (withFs.length === 0) return;
    const efs = (fs: string, metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/EFS', metricName, dimensionsMap: { FileSystemId: fs }, statistic, label, period: Duration.minutes(5) });
    for (const n of withFs) {
      this.alarm(`${n.nodeId}/EfsIoLimit`, {
        metric: efs(n.fileSystemId!, 'PercentIOLimit', 'Maximum', n.nodeId),
        threshold: o.efsPercentIoLimit ?? 90,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `node ${n.nodeId} storage near its I/O limit`,
      }, n.scope);
    }
    this.dashboard.addWidgets(
      ...this.nodeGraphs('Node storage (bytes)', withFs, 1, (run, title) =>
        new cloudwatch.GraphWidget({ title, left: run.map((n) => efs(n.fileSystemId!, 'StorageBytes', 'Average', n.nodeId)), width: 12 }),
      ),
      ...this.nodeGraphs('Node storage I/O limit (%)', withFs, 1, (run, title) =>
        new cloudwatch.GraphWidget({ title, left: run.map((n) => efs(n.fileSystemId!, 'PercentIOLimit', 'Maximum', n.nodeId)), width: 12 }),
      ),
    );
  }
}
