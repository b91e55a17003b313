import { ArnFormat, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ChainSpec } from '../chain/chain-spec';
import { ConsensusProtocol, isBft } from '../chain/protocols';
import { nodeProgramAsset } from '../assets/bundled-assets';
import { credentialSecretPrefix } from '../contracts/credential-format';
import { CredentialStore } from '../credentials/credential-store';
import { EnvironmentRegistration } from './environment-registration';
import { EnvironmentIngress } from '../ingress/environment-ingress';
import { NodeFleet } from '../nodes/node-fleet';
import { gateHealthBlockAge, installNodeServices } from '../nodes/node-services';
import { ConsensusFamily } from '../operations/alarm-thresholds';
import { EnvironmentMonitoring, MonitoringThresholds } from '../operations/environment-monitoring';
import { ID_PATTERN } from '../config/tenant-config';
import { EnvironmentNetwork } from '../network/environment-network';
import { EnvironmentSecurityGroups } from '../network/environment-security-groups';
import { Ports } from '../contracts/ports';
import { EnvironmentTags } from '../contracts/tags';

/** Props of {@link BlockchainEnvironment}. */
export interface BlockchainEnvironmentProps {
  /** Tenant id: 2-24 chars of a-z, 0-9 and '-', starting with a letter. */
  readonly tenantId: string;
  /** Environment id, unique within the tenant: 2-24 chars of a-z, 0-9 and '-'. */
  readonly environmentId: string;
  /**
   * IPv4 CIDR of the environment's own VPC (/16 to /24). Give every environment its own block.
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;
  /**
   * Explicit availability zones (2 or 3) of the stack's region.
   * @default - `maxAzs` zones of the stack's region
   */
  readonly availabilityZones?: readonly string[];
  /**
   * Number of availability zones when `availabilityZones` is not set (2 or 3).
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * The environment's customer-managed KMS key (flow logs, node storage, secrets).
   * @default - a new key with rotation on, retained on stack deletion
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Retention of the VPC flow logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;
  /**
   * Removal policy of stateful resources (key, logs, and later secrets and file systems).
   * Use DESTROY only for throwaway test environments.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Add ECR interface endpoints so nodes can pull client images from ECR.
   * @default false
   */
  readonly ecrEndpoints?: boolean;
  /**
   * The environment's blockchain: client, consensus, members and nodes. Validated at synth.
   * @default - no nodes (network only)
   */
  readonly chain?: ChainSpec;
  /**
   * Dashboard and alarms of the environment (created when `chain` is set).
   * @default - a dashboard and alarms with derived thresholds, no SNS topic
   */
  readonly monitoring?: BlockchainMonitoringOptions;
  /**
   * App credentials (created when `chain` is set).
   * @default - 90-day default lifetime, 365-day maximum, 14 s authorizer cache (a revoked credential stops working within 30 s)
   */
  readonly credentials?: CredentialOptions;
  /**
   * The internet-facing load balancer with WAF and TLS in front of the node gates. Needs a
   * certificate; without `ingress` nothing in the environment is reachable from the internet.
   * @default - no load balancer
   */
  readonly ingress?: IngressOptions;
}

/** App credential options of a {@link BlockchainEnvironment}. */
export interface CredentialOptions {
  /** @default 90 */
  readonly defaultLifetimeDays?: number;
  /** @default 365 */
  readonly maxLifetimeDays?: number;
  /**
   * How long the authorizer caches an allow (seconds), at most AUTHORIZER_ALLOW_TTL_SECONDS (the
   * revocation bound, lib/contracts/revocation.ts). @default 14
   */
  readonly allowCacheSeconds?: number;
  /**
   * The authorizer's reserved concurrency: this environment's bounded share of the account's
   * Lambda concurrency (see `CredentialStoreProps.authorizerReservedConcurrency`).
   * @default 10
   */
  readonly authorizerReservedConcurrency?: number;
}

/** Ingress options of a {@link BlockchainEnvironment}. */
export interface IngressOptions {
  /**
   * Certificate for the environment's host names.
   * @default - DNS-validated for `domainName` and `*.domainName` in `hostedZone` (both required then)
   */
  readonly certificate?: acm.ICertificate;
  /** Environment domain: node `n` answers at `n.<domainName>`. @default - path routing only */
  readonly domainName?: string;
  /** Zone for the node records. @default - no records */
  readonly hostedZone?: route53.IHostedZone;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** WAF limit per IP per 5 minutes. @default 3000 */
  readonly rateLimitPerIp?: number;
  /** WAF limit per credential per 5 minutes. @default 6000 */
  readonly rateLimitPerCredential?: number;
}

/** Monitoring options of a {@link BlockchainEnvironment}. */
export interface BlockchainMonitoringOptions {
  /** Where alarms go. @default - no notifications */
  readonly alarmTopic?: sns.ITopic;
  /** Threshold overrides. @default - derived from consensus, validators and block period */
  readonly thresholds?: MonitoringThresholds;
}

/**
 * One tenant's isolated, permissioned blockchain environment.
 *
 * It owns its VPC (no peering, nothing shared with other environments), a customer-managed KMS
 * key and the typed security groups; the ingress, node fleet and credentials build on these.
 * Its `connections` are those of the internet-facing load balancer (HTTPS, 443).
 */
export class BlockchainEnvironment extends Construct implements ec2.IConnectable {
  /** Tenant id. */
  public readonly tenantId: string;
  /** Environment id. */
  public readonly environmentId: string;
  /** The environment's network (VPC, endpoints, flow logs). */
  public readonly network: EnvironmentNetwork;
  /** The environment's VPC. */
  public readonly vpc: ec2.IVpc;
  /** The environment's typed security groups. */
  public readonly securityGroups: EnvironmentSecurityGroups;
  /** The environment's KMS key. */
  public readonly encryptionKey: kms.IKey;
  /** Removal policy applied to stateful resources. */
  public readonly removalPolicy: RemovalPolicy;
  /** The load balancer's connections (clients connect on 443). */
  public readonly connections: ec2.Connections;
  /** The node fleet, when `chain` is set. */
  public readonly nodes?: NodeFleet;
  /** Dashboard and alarms, when `chain` is set. */
  public readonly monitoring?: EnvironmentMonitoring;
  /** App credentials (issuer + authorizer), when `chain` is set. */
  public readonly credentials?: CredentialStore;
  /** The load balancer, WAF and TLS, when `ingress` is set. */
  public readonly ingress?: EnvironmentIngress;
  /** The environment's registration for the management API. */
  public readonly registration: EnvironmentRegistration;

  constructor(scope: Construct, id: string, props: BlockchainEnvironmentProps) {
    super(scope, id);
    for (const prop of ['tenantId', 'environmentId'] as const) {
      if (!ID_PATTERN.test(props[prop])) {
        throw new Error(
          `BlockchainEnvironment: ${prop} "${props[prop]}" is not valid; use 2-24 characters of a-z, 0-9 and "-", starting with a letter and not ending with "-"`,
        );
      }
    }
    this.tenantId = props.tenantId;
    this.environmentId = props.environmentId;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.encryptionKey = props.encryptionKey ?? this.createKey();

    this.network = new EnvironmentNetwork(this, 'Network', {
      cidr: props.cidr ?? '10.0.0.0/16',
      encryptionKey: this.encryptionKey,
      removalPolicy: this.removalPolicy,
      ...(props.availabilityZones !== undefined ? { availabilityZones: props.availabilityZones } : {}),
      ...(props.maxAzs !== undefined ? { maxAzs: props.maxAzs } : {}),
      ...(props.flowLogRetention !== undefined ? { flowLogRetention: props.flowLogRetention } : {}),
      ...(props.ecrEndpoints !== undefined ? { ecrEndpoints: props.ecrEndpoints } : {}),
      // No load balancer, no internet path: no gateway, no public subnet, no open group.
      internetFacing: props.chain !== undefined && props.ingress !== undefined,
    });
    this.vpc = this.network.vpc;
    this.securityGroups = this.network.securityGroups;
    this.connections = new ec2.Connections({
      securityGroups: [this.securityGroups.ingress],
      defaultPort: ec2.Port.tcp(Ports.HTTPS),
    });

    // --- nodes (issue: node fleets) -----------------------------------------------------------
    if (props.chain) {
      this.nodes = new NodeFleet(this, 'Nodes', {
        tenantId: this.tenantId,
        environmentId: this.environmentId,
        network: this.network,
        encryptionKey: this.encryptionKey,
        chain: props.chain,
        removalPolicy: this.removalPolicy,
      });
      // --- application layer: credentials, node gates, ingress ------------------------------
      const fleet = this.nodes;
      this.credentials = new CredentialStore(this, 'Credentials', {
        tenantId: this.tenantId,
        environmentId: this.environmentId,
        vpc: this.vpc,
        subnets: this.network.privateSubnets,
        securityGroup: this.securityGroups.functions,
        encryptionKey: this.encryptionKey,
        nodeMembers: Object.fromEntries(fleet.nodes.map((n) => [n.nodeId, n.memberId])),
        removalPolicy: this.removalPolicy,
        ...(props.credentials?.defaultLifetimeDays !== undefined ? { defaultLifetimeDays: props.credentials.defaultLifetimeDays } : {}),
        ...(props.credentials?.maxLifetimeDays !== undefined ? { maxLifetimeDays: props.credentials.maxLifetimeDays } : {}),
        ...(props.credentials?.allowCacheSeconds !== undefined ? { allowCacheSeconds: props.credentials.allowCacheSeconds } : {}),
        ...(props.credentials?.authorizerReservedConcurrency !== undefined ? { authorizerReservedConcurrency: props.credentials.authorizerReservedConcurrency } : {}),
      });
      const gateAsset = nodeProgramAsset(this, 'NodeGateProgram', 'node-gate');
      const metricsAsset = nodeProgramAsset(this, 'NodeMetricsProgram', 'node-metrics');
      // Nodes download these two objects of this environment's CDK assets at boot, through the
      // S3 gateway endpoint (its policy allows them and the OS repositories, nothing else).
      this.network.allowS3ObjectReads('EnvironmentNodePrograms', [
        gateAsset.bucket.arnForObjects(gateAsset.s3ObjectKey),
        metricsAsset.bucket.arnForObjects(metricsAsset.s3ObjectKey),
      ]);
      for (const node of fleet.nodes) {
        installNodeServices(node, {
          tenantId: this.tenantId,
          environmentId: this.environmentId,
          gateAsset,
          metricsAsset,
          authorizer: this.credentials.authorizer,
          gatePort: this.securityGroups.gatePort,
          rpcClient: fleet.chain.client,
          ...(gateHealthBlockAge(fleet.chain) !== undefined ? { healthMaxBlockAgeSeconds: gateHealthBlockAge(fleet.chain) } : {}),
        });
      }
      if (props.ingress) {
        this.ingress = new EnvironmentIngress(this, 'Ingress', {
          tenantId: this.tenantId,
          environmentId: this.environmentId,
          vpc: this.vpc,
          subnets: this.network.ingressSubnets,
          securityGroup: this.securityGroups.ingress,
          encryptionKey: this.encryptionKey,
          gatePort: this.securityGroups.gatePort,
          targets: fleet.nodes.map((n) => {
            const scope = fleet.groupScopeOf(n);
            return { nodeId: n.nodeId, memberId: n.memberId, target: n.asLoadBalancerTarget(), ...(scope ? { scope } : {}) };
          }),
          removalPolicy: this.removalPolicy,
          ...props.ingress,
        });
        fleet.nodes.forEach((n) => n.useLoadBalancerHealthCheck());
      }
      this.monitoring = new EnvironmentMonitoring(this, 'Monitoring', {
        tenantId: this.tenantId,
        environmentId: this.environmentId,
        consensus: consensusFamily(fleet.chain.consensus),
        blockPeriodSeconds: fleet.chain.blockPeriodSeconds,
        nodes: fleet.nodes.map((n) => {
          // Nodes of a node group keep their alarms (and gate target alarm) in the group's stack.
          const scope = fleet.groupScopeOf(n);
          const targetGroup = this.ingress?.targetGroups[n.nodeId];
          return {
            nodeId: n.nodeId,
            validator: n.validator,
            autoScalingGroupName: n.autoScalingGroup.autoScalingGroupName,
            fileSystemId: n.fileSystem.fileSystemId,
            ...(scope ? { scope } : {}),
            ...(targetGroup ? { targetGroup } : {}),
          };
        }),
        authorizer: this.credentials.authorizer,
        authorizerDenies: this.credentials.metricAuthorizerDenies(),
        functions: { Issuer: this.credentials.issuer },
        ...(this.ingress
          ? {
              loadBalancer: this.ingress.loadBalancer,
              webAclMetricName: this.ingress.webAclMetricName,
            }
          : {}),
        alarmTopic: props.monitoring?.alarmTopic ?? this.createAlarmTopic(),
        ...(props.monitoring?.thresholds ? { thresholds: props.monitoring.thresholds } : {}),
      });
    }

    // --- registration for the management API -----------------------------------------------
    const stack = Stack.of(this);
    this.registration = new EnvironmentRegistration(this, 'Registration', {
      value: {
        tenantId: this.tenantId,
        environmentId: this.environmentId,
        stackName: stack.stackName,
        region: stack.region,
        account: stack.account,
        vpcId: this.vpc.vpcId,
        kmsKeyArn: this.encryptionKey.keyArn,
        credentialSecretPrefix: credentialSecretPrefix(this.tenantId, this.environmentId),
        nodes: Object.fromEntries((this.nodes?.nodes ?? []).map((n) => [n.nodeId, n.memberId])),
        ...(this.credentials ? { issuerFunctionArn: this.credentials.issuer.functionArn } : {}),
        ...(props.ingress?.domainName ? { domainName: props.ingress.domainName } : {}),
        ...(this.ingress ? { loadBalancerDnsName: this.ingress.loadBalancer.loadBalancerDnsName } : {}),
      },
    });

    Tags.of(this).add(EnvironmentTags.TENANT, this.tenantId);
    Tags.of(this).add(EnvironmentTags.ENVIRONMENT, this.environmentId);
  }

  /** The default alarm topic: encrypted with the environment key, TLS-only publishers. */
  private createAlarmTopic(): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Blockchain ${this.tenantId}/${this.environmentId} alarms`,
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    // CloudWatch alarms publish to the encrypted topic.
    this.encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return topic;
  }

  private createKey(): kms.Key {
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'Key', {
      description: `Blockchain environment ${this.tenantId}/${this.environmentId}: logs, node storage, secrets`,
      alias: `alias/blockchain-tenancy/${this.tenantId}/${this.environmentId}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: this.removalPolicy,
    });
    // CloudWatch Logs may use the key only for this account's log groups in this region.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );
    return key;
  }
}

function consensusFamily(consensus: ConsensusProtocol): ConsensusFamily {
  if (isBft(consensus)) return ConsensusFamily.BFT;
  return consensus === ConsensusProtocol.RAFT ? ConsensusFamily.RAFT : ConsensusFamily.CLIQUE;
}

