import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ALB_MAX_IDLE_TIMEOUT_SECONDS, GATE_KEEP_ALIVE_SECONDS } from '../contracts/ports';
import { acknowledgeFinding, acknowledgeRule, skipCheckov } from '../security/acknowledge';
import { RegionalWebAcl } from '../security/web-acl';
import { listenerRulePriority, listenerRulePriorityClashes } from './rule-priority';

/** A node behind the load balancer. */
export interface IngressTarget {
  readonly nodeId: string;
  readonly memberId: string;
  /** The node's instances (an Auto Scaling group is such a target). */
  readonly target: elbv2.IApplicationLoadBalancerTarget;
  /**
   * Where this node's target group, listener rule and DNS record live, e.g. the nested stack of
   * its node group (keeps the environment stack under CloudFormation's resource limit).
   * @default - in this construct
   */
  readonly scope?: Construct;
}

/**
 * An Application Load Balancer takes at most 100 target groups (a quota AWS does not raise), and
 * every node has its own.
 */
export const MAX_INGRESS_NODES = 100;

/** Props of {@link EnvironmentIngress}. */
export interface EnvironmentIngressProps {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly vpc: ec2.IVpc;
  /** Public subnets of the load balancer. */
  readonly subnets: ec2.SubnetSelection;
  /** The load balancer's security group (443 and 80 open; gate port to nodes). */
  readonly securityGroup: ec2.ISecurityGroup;
  /**
   * TLS certificate of the environment's host names.
   * @default - a new DNS-validated certificate for `domainName` and `*.domainName` in `hostedZone`
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Environment domain: node `n` answers at `n.<domainName>`. Without it, nodes answer only on
   * the path fallback `https://<load balancer>/nodes/<n>/`.
   * @default - path-based routing only
   */
  readonly domainName?: string;
  /**
   * Hosted zone for the node records (alias A records to the load balancer).
   * @default - no DNS records
   */
  readonly hostedZone?: route53.IHostedZone;
  /** The nodes. */
  readonly targets: readonly IngressTarget[];
  /** Port of the node gate. */
  readonly gatePort: number;
  /** Key for the WAF log group. */
  readonly encryptionKey: kms.IKey;
  /**
   * Idle timeout: long enough for quiet WebSocket subscriptions.
   * @default Duration.minutes(60)
   */
  readonly idleTimeout?: Duration;
  /**
   * Load balancer deletion protection.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Requests per 5 minutes from one IP before WAF blocks it.
   * @default 3000
   */
  readonly rateLimitPerIp?: number;
  /**
   * Requests per 5 minutes with one Authorization header (one credential) before WAF blocks it.
   * @default 6000
   */
  readonly rateLimitPerCredential?: number;
  /** Removal policy of the access-log bucket and the WAF log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The environment's internet-facing entry: an ALB with HTTPS only (TLS 1.3/1.2 policy; port 80
 * answers with a redirect), invalid headers dropped, strictest desync mitigation, access logs to
 * an encrypted, TLS-only, private bucket with lifecycle; a WAFv2 web ACL (AWS common rules with
 * the 8 KB body rule counted so contract deployment works, known bad inputs, IP reputation, rate
 * limits per IP and per credential) with logging that redacts credentials; one target group per
 * node gate, routed by host name (`<node>.<domainName>`), or by path (`/nodes/<node>/`) when no
 * domain is given; anything else gets a bare 404. At most 100 nodes (target groups per load
 * balancer). A node's route (`<node>-Route`: target group, rule, record) and its rule priority
 * (a hash of the node id, see {@link listenerRulePriority}) depend on its id alone.
 */
export class EnvironmentIngress extends Construct {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly httpsListener: elbv2.ApplicationListener;
  public readonly webAcl: wafv2.CfnWebACL;
  public readonly accessLogBucket: s3.Bucket;
  /** Target group of each node. */
  public readonly targetGroups: Readonly<Record<string, elbv2.ApplicationTargetGroup>>;
  /** The CloudWatch metric name of the web ACL. */
  public readonly webAclMetricName: string;

  constructor(scope: Construct, id: string, props: EnvironmentIngressProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const ipLimit = props.rateLimitPerIp ?? 3000;
    const credentialLimit = props.rateLimitPerCredential ?? 6000;
    for (const [prop, v] of [['rateLimitPerIp', ipLimit], ['rateLimitPerCredential', credentialLimit]] as const) {
      if (!Number.isInteger(v) || v < 10 || v > 2_000_000_000) {
        throw new Error(`EnvironmentIngress: ${prop} is ${v}; WAF rate limits are whole numbers from 10 to 2,000,000,000 requests per 5 minutes`);
      }
    }
    const idle = (props.idleTimeout ?? Duration.minutes(60)).toSeconds();
    if (idle < 1 || idle > ALB_MAX_IDLE_TIMEOUT_SECONDS) {
      throw new Error(
        `EnvironmentIngress: idleTimeout is ${idle} s; an Application Load Balancer takes 1 to ${ALB_MAX_IDLE_TIMEOUT_SECONDS} s (the node gate keeps connections open ${GATE_KEEP_ALIVE_SECONDS} s, longer than any of them)`,
      );
    }
    if (Token.isUnresolved(Stack.of(this).region)) {
      throw new Error(
        'EnvironmentIngress: the stack has no explicit region; load balancer access logs are delivered by a region-specific principal, so set env.region on the stack (config: environments[].region)',
      );
    }
    if (props.targets.length === 0) throw new Error('EnvironmentIngress: targets is empty; pass the nodes to route to');
    if (props.targets.length > MAX_INGRESS_NODES) {
      throw new Error(
        `EnvironmentIngress: ${props.targets.length} nodes need ${props.targets.length} target groups, and an Application Load Balancer takes at most ${MAX_INGRESS_NODES} (an AWS quota that cannot be raised); ` +
          `put at most ${MAX_INGRESS_NODES} nodes in an environment with ingress, or split the nodes across environments`,
      );
    }
    if (props.hostedZone && !props.domainName) throw new Error('EnvironmentIngress: hostedZone needs domainName; set domainName to the environment domain in that zone');
    if (!props.certificate && !(props.domainName && props.hostedZone)) {
      throw new Error('EnvironmentIngress: no certificate; pass certificate (an imported ACM certificate), or domainName and hostedZone for a DNS-validated one');
    }
    let certificate = props.certificate;
    if (!certificate) {
      const created = new acm.Certificate(this, 'Certificate', {
        domainName: props.domainName!,
        subjectAlternativeNames: [`*.${props.domainName}`],
        validation: acm.CertificateValidation.fromDns(props.hostedZone),
      });
      skipCheckov(
        created,
        ['CKV2_AWS_71'],
        `Nodes answer at <node>.${props.domainName}, one name per node (up to ${MAX_INGRESS_NODES}): the wildcard covers exactly one label under this environment's own domain, ` +
          "so adding a node needs no new certificate (ACM's default quota is 10 names per certificate).",
      );
      certificate = created;
    }

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED, // ALB access logs support SSE-S3 only
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy,
    });
    const selfLogging = 'This bucket receives the load balancer access logs; logging its own access would recurse. CloudTrail data events cover it where required.';
    acknowledgeFinding(this.accessLogBucket, { id: 'AwsSolutions-S1', reason: selfLogging });
    acknowledgeRule(this.accessLogBucket, 'S3BucketLoggingEnabled', selfLogging, ['CKV_AWS_18']);
    acknowledgeRule(this.accessLogBucket, 'S3DefaultEncryptionKMS', 'Elastic Load Balancing writes access logs only to buckets encrypted with SSE-S3 (AWS docs: "enable access logs").');
    acknowledgeRule(this.accessLogBucket, 'S3BucketReplicationEnabled', 'Access logs are kept one year in the region; cross-region replication is an operator choice, not a default.');

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      internetFacing: true,
      securityGroup: props.securityGroup,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.STRICTEST,
      idleTimeout: props.idleTimeout ?? Duration.minutes(60),
      deletionProtection: props.deletionProtection ?? true,
      http2Enabled: true,
    });
    this.loadBalancer.logAccessLogs(this.accessLogBucket, `${props.tenantId}/${props.environmentId}`);

    this.httpsListener = this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false, // the ingress group already opens 443
      defaultAction: elbv2.ListenerAction.fixedResponse(404),
    });
    const redirect = this.loadBalancer.addListener('HttpRedirect', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      open: false,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
    acknowledgeRule(redirect, 'ELBv2ACMCertificateRequired', 'Port 80 serves no content: its only action is a permanent redirect to the HTTPS listener, which uses the ACM certificate.');
    if (props.deletionProtection === false) {
      acknowledgeRule(this.loadBalancer, 'ELBDeletionProtectionEnabled', 'Deletion protection was turned off explicitly for this environment (deletionProtection: false), e.g. a throwaway test environment.', ['CKV_AWS_150']);
    }

    const clashes = listenerRulePriorityClashes(props.targets.map((t) => t.nodeId));
    if (clashes.length) throw new Error(`EnvironmentIngress: ${clashes.join('; ')}`);
    const groups: Record<string, elbv2.ApplicationTargetGroup> = {};
    for (const t of props.targets) {
      // Everything of one node's route (target group, listener rule, DNS record) lives under
      // `<node>-Route`, keyed by node id (never by list position: ids are a contract), in its node
      // group's stack when it has one, in this construct otherwise.
      const route = new Construct(t.scope ?? this, `${t.nodeId}-Route`);
      const tg = new elbv2.ApplicationTargetGroup(route, 'Target', {
        vpc: props.vpc,
        port: props.gatePort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targets: [t.target],
        healthCheck: { path: '/health', healthyHttpCodes: '200', interval: Duration.seconds(15), healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
        deregistrationDelay: Duration.seconds(30),
      });
      groups[t.nodeId] = tg;
      // One rule per node (an ALB takes 100 rules by default): its host name under the
      // environment domain, or the path fallback when there is no domain. The priority is a hash
      // of the node id (listenerRulePriority), unique in this listener (checked above).
      const host = props.domainName ? `${t.nodeId}.${props.domainName}` : undefined;
      new elbv2.ApplicationListenerRule(route, 'Rule', {
        listener: this.httpsListener,
        priority: listenerRulePriority(t.nodeId),
        conditions: [host ? elbv2.ListenerCondition.hostHeaders([host]) : elbv2.ListenerCondition.pathPatterns([`/nodes/${t.nodeId}`, `/nodes/${t.nodeId}/*`])],
        targetGroups: [tg],
      });
      if (host && props.hostedZone) {
        new route53.ARecord(route, 'Record', {
          zone: props.hostedZone,
          recordName: host,
          target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(this.loadBalancer)),
        });
      }
    }
    this.targetGroups = groups;

    this.webAclMetricName = `blockchain-${props.tenantId}-${props.environmentId}`;
    this.webAcl = new RegionalWebAcl(this, 'Waf', {
      name: this.webAclMetricName,
      description: `Blockchain environment ${props.tenantId}/${props.environmentId}`,
      resourceArn: this.loadBalancer.loadBalancerArn,
      rateLimitPerIp: ipLimit,
      rateLimitPerCredential: credentialLimit,
      // Contract deployment sends bodies over 8 KB: count that rule, never block it.
      countLargeBodies: true,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    }).webAcl;
  }

  /** Load balancer 5xx responses (its own plus the targets'). */
  public metricHttp5xx(props?: cloudwatch.MetricOptions): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'FILL(e, 0) + FILL(t, 0)',
      usingMetrics: {
        e: this.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, props),
        t: this.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, props),
      },
      label: '5xx',
    });
  }
}
