import { ArnFormat, Duration, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CpuArchitecture, NodeRole, ResolvedChainNode, ResolvedChainSpec } from '../chain/chain-spec';
import { chainManifestSecretName, nodeKeySecretName } from '../contracts/node-secrets';
import { BlockchainClient, ConsensusProtocol } from '../chain/protocols';
import { EnvironmentTags } from '../contracts/tags';
import { EnvironmentSecurityGroups } from '../network/environment-security-groups';
import { NodeMetrics, nodeMetricNamespace } from '../contracts/metric-names';
import { nodeMetric } from '../operations/node-metric';
import { nagArn } from '../security/nag-ids';
import { SinglePolicyRole } from '../security/single-policy-role';
import { NODE_DATA_DIR, clientArguments, gethLayout } from './client-command';
import { acknowledgeFinding, skipCheckov } from '../security/acknowledge';

/** Props of {@link BlockchainNode}. */
export interface BlockchainNodeProps {
  readonly tenantId: string;
  readonly environmentId: string;
  /** The node (resolved: instance type and architecture set). */
  readonly node: ResolvedChainNode;
  /** The resolved chain. */
  readonly chain: ResolvedChainSpec;
  readonly vpc: ec2.IVpc;
  /** The private isolated subnet the node lives in (its availability zone). */
  readonly subnet: ec2.ISubnet;
  /**
   * A fixed peer address in `subnet` for the node's peer interface.
   * @default - AWS assigns a free address of `subnet` when the peer interface is created; it stays
   * with the interface (whose logical id derives from the node id) for the interface's life, and
   * the node reads it from the chain manifest at boot
   */
  readonly peerIp?: string;
  readonly securityGroups: EnvironmentSecurityGroups;
  /** The environment key (storage, secrets). */
  readonly encryptionKey: kms.IKey;
  /** Full image URI of the client, e.g. `<account>.dkr.ecr.<region>.amazonaws.com/blockchain-tenancy/besu:26.8.0`. */
  readonly image: string;
  /** Removal policy of the node's storage. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One blockchain node: a self-healing Auto Scaling group of one instance (IMDSv2 only,
 * encrypted root volume, detailed monitoring, no SSH key: SSM Session Manager), its own
 * encrypted EFS file system with an access point (TLS + IAM mount, elastic throughput, AWS
 * Backup, RETAIN), a peer network interface whose address survives instance replacement, and an
 * instance role limited to its own key, its own storage and its own environment. JSON-RPC listens on 127.0.0.1 only.
 */
export class BlockchainNode extends Construct implements ec2.IConnectable {
  public readonly nodeId: string;
  public readonly memberId: string;
  public readonly validator: boolean;
  /** The node's group (its nested stack), if any. */
  public readonly group?: string;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly role: iam.IRole;
  /** The node role's one customer-managed policy: add node permissions here (no inline policies). */
  public readonly policy: iam.ManagedPolicy;
  public readonly userData: ec2.UserData;
  public readonly fileSystem: efs.FileSystem;
  /** The access point the node mounts (its own root directory and POSIX identity). */
  public readonly accessPoint: efs.AccessPoint;
  /** The node's peer network interface (its address outlives the node's instances). */
  public readonly peerInterface: ec2.CfnNetworkInterface;
  /** The node's stable peer address (a deploy-time value unless `peerIp` was given). */
  public readonly peerIp: string;
  /** The node's instances (gate and peer groups). */
  public readonly connections: ec2.Connections;
  private readonly tenantId: string;
  private readonly environmentId: string;

  constructor(scope: Construct, id: string, props: BlockchainNodeProps) {
    super(scope, id);
    const { node, chain, securityGroups: sgs } = props;
    const stack = Stack.of(this);
    this.nodeId = node.id;
    this.memberId = node.member;
    this.validator = node.role === NodeRole.VALIDATOR;
    if (node.group !== undefined) this.group = node.group;
    this.tenantId = props.tenantId;
    this.environmentId = props.environmentId;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // Storage: the node's own file system, reachable only from nodes' NFS group, mountable only
    // over TLS, and only by this node's role through its access point (unless granted).
    this.fileSystem = new efs.FileSystem(this, 'Storage', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.subnet] },
      securityGroup: sgs.fileSystem,
      encrypted: true,
      kmsKey: props.encryptionKey,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      // Backed up by the environment's AWS Backup plan (NodeFleet), not the default plan.
      enableAutomaticBackups: false,
      // The policy below replaces aws-cdk-lib's default one, which allows ClientWrite and
      // ClientRootAccess to every principal through a mount target. Here the policy only denies
      // (non-TLS access, root access); mounting needs an identity allow, which only this node's
      // role (through its access point) and deliberately granted readers have. Anonymous
      // (non-IAM) mounts are refused because a policy exists and allows no principal.
      allowAnonymousAccess: true,
      removalPolicy,
      fileSystemName: `${props.tenantId}-${props.environmentId}-${node.id}`,
    });
    this.fileSystem.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyNonTls',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['*'],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    this.fileSystem.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoRootAccess',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['elasticfilesystem:ClientRootAccess'],
        resources: ['*'],
      }),
    );
    const accessPoint = this.fileSystem.addAccessPoint('Data', {
      path: `/${node.id}`,
      // Besu's image runs as uid/gid 1000; the other clients run as root inside the container
      // and see the same POSIX identity through the access point.
      posixUser: { uid: '1000', gid: '1000' },
      createAcl: { ownerUid: '1000', ownerGid: '1000', permissions: '750' },
    });
    this.accessPoint = accessPoint;

    this.peerInterface = new ec2.CfnNetworkInterface(this, 'PeerInterface', {
      subnetId: props.subnet.subnetId,
      ...(props.peerIp !== undefined ? { privateIpAddress: props.peerIp } : {}),
      groupSet: [sgs.nodePeer.securityGroupId],
      description: `Stable peer address of ${props.tenantId}/${props.environmentId}/${node.id}`,
    });
    this.peerIp = props.peerIp ?? this.peerInterface.attrPrimaryPrivateIpAddress;

    const secretArn = (name: string) =>
      stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${name}-??????`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const identity = new SinglePolicyRole(this, 'Identity', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Node ${node.id} of ${props.tenantId}/${props.environmentId}: its own key, storage and peer address`,
      statements: [
        // Session Manager (no SSH key, no open port): what the SSM agent needs to register the
        // instance and open session channels through the ssm / ssmmessages / ec2messages
        // endpoints, instead of AmazonSSMManagedInstanceCore (which also reads every parameter of
        // the account: other tenants' registrations). None of these actions takes a resource.
        new iam.PolicyStatement({
          sid: 'SessionManagerAgent',
          actions: [
            'ssm:UpdateInstanceInformation',
            'ssmmessages:CreateControlChannel',
            'ssmmessages:CreateDataChannel',
            'ssmmessages:OpenControlChannel',
            'ssmmessages:OpenDataChannel',
            'ec2messages:AcknowledgeMessage',
            'ec2messages:DeleteMessage',
            'ec2messages:FailMessage',
            'ec2messages:GetEndpoint',
            'ec2messages:GetMessages',
            'ec2messages:SendReply',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'OwnKeyAndChainManifest',
          actions: ['secretsmanager:GetSecretValue'],
          resources: [
            secretArn(nodeKeySecretName(props.tenantId, props.environmentId, node.id)),
            secretArn(chainManifestSecretName(props.tenantId, props.environmentId)),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptOwnSecretsViaSecretsManager',
          actions: ['kms:Decrypt'],
          resources: [props.encryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` } },
        }),
        new iam.PolicyStatement({
          sid: 'MountOwnStorage',
          actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          resources: [this.fileSystem.fileSystemArn],
          conditions: { StringEquals: { 'elasticfilesystem:AccessPointArn': this.accessPoint.accessPointArn } },
        }),
        new iam.PolicyStatement({
          sid: 'AttachOwnPeerInterface',
          actions: ['ec2:AttachNetworkInterface'],
          resources: [
            stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: this.peerInterface.ref }),
            stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
          ],
          // Environment and node ids repeat across tenants: the tenant tag makes it this node's instance.
          conditions: {
            StringEquals: {
              [`aws:ResourceTag/${EnvironmentTags.TENANT}`]: props.tenantId,
              [`aws:ResourceTag/${EnvironmentTags.ENVIRONMENT}`]: props.environmentId,
              [`aws:ResourceTag/${EnvironmentTags.NODE}`]: node.id,
            },
          },
        }),
        new iam.PolicyStatement({
          sid: 'PullClientImage',
          actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
          resources: [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: 'blockchain-tenancy/*' })],
        }),
        new iam.PolicyStatement({ sid: 'RegistryLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
        new iam.PolicyStatement({
          sid: 'PublishNodeMetrics',
          actions: ['cloudwatch:PutMetricData'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': nodeMetricNamespace(props.tenantId, props.environmentId) } },
        }),
      ],
    });
    const role = identity.role;
    this.role = role;
    this.policy = identity.policy;
    skipCheckov(
      identity.policy,
      ['CKV_AWS_111'],
      "The Session Manager agent's writes (ssm:UpdateInstanceInformation, ssmmessages channels, ec2messages replies) take no resource in IAM; each acts only for the calling instance (its own registration, its own session channels).",
    );
    acknowledgeFinding(identity.policy, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "The Session Manager agent actions (ssm:UpdateInstanceInformation, ssmmessages, ec2messages), ecr:GetAuthorizationToken and cloudwatch:PutMetricData support no resource-level permissions; PutMetricData is bound by condition to this environment's own metric namespace.",
    });
    acknowledgeFinding(identity.policy, {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ecr', 'repository/blockchain-tenancy/*')}]`,
      reason: 'Client images live in the blockchain-tenancy/ repositories mirrored once per account (README "Client images").',
    });
    acknowledgeFinding(identity.policy, {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'ec2', 'instance/*')}]`,
      reason: "The replacement instance id is unknown before launch; the statement is bound by tags to this tenant's, this environment's, this node's instance.",
    });
    // The secret ARNs end in `-??????` (Secrets Manager's random suffix): no `*`, no IAM5 finding.

    this.userData = ec2.UserData.forLinux();
    this.userData.addCommands(...nodeBootScript({
      tenantId: props.tenantId,
      environmentId: props.environmentId,
      nodeId: node.id,
      region: stack.region,
      fileSystemId: this.fileSystem.fileSystemId,
      accessPointId: this.accessPoint.accessPointId,
      peerInterfaceId: this.peerInterface.ref,
      keySecret: nodeKeySecretName(props.tenantId, props.environmentId, node.id),
      manifestSecret: chainManifestSecretName(props.tenantId, props.environmentId),
      image: props.image,
      // The node's own address comes from the chain manifest at boot: nothing in the launch
      // template depends on a deploy-time address or on any other node.
      clientArgs: clientArguments(chain, '$PEER_IP', sgs.p2pPort, node.role),
      gethLayout: chain.client !== BlockchainClient.BESU,
      // Only a Clique signer seals with a keystore account; no other node unlocks a key.
      signerImport: chain.client !== BlockchainClient.BESU && chain.consensus === ConsensusProtocol.CLIQUE && node.role === NodeRole.VALIDATOR,
    }));

    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023({
        cpuType: node.architecture === CpuArchitecture.ARM64 ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
      }),
      instanceType: new ec2.InstanceType(node.instanceType),
      role,
      userData: this.userData,
      securityGroup: sgs.nodeGate,
      requireImdsv2: true,
      httpPutResponseHopLimit: 2,
      detailedMonitoring: true,
      ebsOptimized: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, kmsKey: props.encryptionKey, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }),
        },
      ],
    });
    launchTemplate.addSecurityGroup(sgs.nodePeer);

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: { subnets: [props.subnet] },
      launchTemplate,
      minCapacity: 1,
      maxCapacity: 1,
      groupMetrics: [autoscaling.GroupMetrics.all()],
      healthChecks: autoscaling.HealthChecks.ec2(),
    });
    acknowledgeFinding(this.autoScalingGroup, {
      id: 'AwsSolutions-AS3',
      reason: 'Node health is alarmed through EnvironmentMonitoring (in-service, RPC liveness, height) with an optional SNS topic; per-ASG scaling notifications add nothing for a group of one.',
    });
    this.connections = new ec2.Connections({ securityGroups: [sgs.nodeGate, sgs.nodePeer] });

    for (const target of [this.autoScalingGroup, this.fileSystem, this.peerInterface]) {
      Tags.of(target).add(EnvironmentTags.NODE, node.id);
      Tags.of(target).add(EnvironmentTags.MEMBER, node.member);
    }
  }

  /**
   * The node as a load balancer target. Unlike the Auto Scaling group itself, it does not open
   * the target port on every group of the instance: the environment's security groups already
   * allow exactly the load balancer to the gate group, and nothing to the peer group.
   */
  public asLoadBalancerTarget(): elbv2.IApplicationLoadBalancerTarget {
    const cfn = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    return {
      attachToApplicationTargetGroup(targetGroup: elbv2.IApplicationTargetGroup): elbv2.LoadBalancerTargetProps {
        cfn.addPropertyOverride('TargetGroupARNs', [targetGroup.targetGroupArn]);
        return { targetType: elbv2.TargetType.INSTANCE };
      },
    };
  }

  /**
   * Replaces the node's instance when its gate fails the load balancer health check (not only
   * when EC2 says the instance is impaired), after a grace period for the first boot.
   */
  public useLoadBalancerHealthCheck(gracePeriod = Duration.minutes(10)): void {
    const cfn = this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    cfn.healthCheckType = 'ELB';
    cfn.healthCheckGracePeriod = gracePeriod.toSeconds();
  }

  /**
   * Lets another workload read this node's data deliberately: NFS to the mount targets and
   * `elasticfilesystem:ClientMount` (read-only) on this file system. Nothing else reaches it.
   */
  public grantDataRead(grantee: iam.IGrantable & ec2.IConnectable): iam.Grant {
    grantee.connections.allowTo(this.fileSystem, ec2.Port.tcp(2049), `Read data of node ${this.nodeId}`);
    return this.fileSystem.grantRead(grantee);
  }

  /** The node's latest block height (Maximum per minute). */
  public metricBlockHeight(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return nodeMetric(this.metricScope(), NodeMetrics.BLOCK_HEIGHT, props);
  }

  /** The node's connected peers (Minimum per minute). */
  public metricPeerCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return nodeMetric(this.metricScope(), NodeMetrics.PEER_COUNT, props);
  }

  /** 1 when the node's JSON-RPC answers (Minimum per minute). */
  public metricRpcUp(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return nodeMetric(this.metricScope(), NodeMetrics.RPC_UP, props);
  }

  private metricScope() {
    return { tenantId: this.tenantId, environmentId: this.environmentId, nodeId: this.nodeId };
  }
}

/** Inputs of the node boot script. */
interface BootScriptInput {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly nodeId: string;
  readonly region: string;
  readonly fileSystemId: string;
  readonly accessPointId: string;
  readonly peerInterfaceId: string;
  readonly keySecret: string;
  readonly manifestSecret: string;
  readonly image: string;
  readonly clientArgs: readonly string[];
  /** geth / GoQuorum data layout: genesis init, node key, static peers. */
  readonly gethLayout: boolean;
  /** Import the node key as the Clique sealing account (Clique signers only). */
  readonly signerImport: boolean;
}

/** How long a node's boot waits for the chain manifest to list it: 180 tries, 10 s apart. */
export const MANIFEST_WAIT = { attempts: 180, intervalSeconds: 10 } as const;

/**
 * The node's boot script: attach the peer interface, mount the storage (TLS + IAM through the
 * access point), fetch the key and the chain manifest from Secrets Manager (never logged), and
 * run the client in a container with host networking (JSON-RPC bound to 127.0.0.1 by its flags).
 * The node's own peer address and its static peers come from the manifest, which lists every
 * node of the environment: the script holds no address, so adding or removing another node never
 * changes it (ADR 14). A node of a node group may boot before the deployment writes the manifest
 * entry for it: the script waits for that entry.
 */
export function nodeBootScript(i: BootScriptInput): string[] {
  const d = NODE_DATA_DIR;
  const host = gethLayout('/var/lib/blockchain');
  const ctr = gethLayout(d);
  return [
    'set -euo pipefail',
    'exec > >(logger -t blockchain-node) 2>&1',
    'dnf install -y --setopt=install_weak_deps=False docker amazon-efs-utils jq',
    'systemctl enable --now docker',
    'TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
    'INSTANCE_ID=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)',
    `aws ec2 attach-network-interface --region ${i.region} --network-interface-id ${i.peerInterfaceId} --instance-id "$INSTANCE_ID" --device-index 1 || true`,
    `mkdir -p /var/lib/blockchain`,
    `grep -q ${i.fileSystemId} /etc/fstab || echo "${i.fileSystemId}:/ /var/lib/blockchain efs _netdev,tls,iam,accesspoint=${i.accessPointId} 0 0" >> /etc/fstab`,
    'mount -a -t efs',
    'umask 077',
    `aws secretsmanager get-secret-value --region ${i.region} --secret-id ${i.keySecret} --query SecretString --output text | jq -r .privateKey | sed 's/^0x//' > /var/lib/blockchain/key`,
    `for attempt in $(seq 1 ${MANIFEST_WAIT.attempts}); do aws secretsmanager get-secret-value --region ${i.region} --secret-id ${i.manifestSecret} --query SecretString --output text > /run/chain-manifest.json && jq -e '.nodes[] | select(.id == "${i.nodeId}")' /run/chain-manifest.json > /dev/null && break; sleep ${MANIFEST_WAIT.intervalSeconds}; done`,
    `PEER_IP=$(jq -r '.nodes[] | select(.id == "${i.nodeId}") | .ip' /run/chain-manifest.json 2>/dev/null || true)`,
    `[[ "$PEER_IP" =~ ^[0-9]{1,3}(\\.[0-9]{1,3}){3}$ ]] || { echo "node ${i.nodeId}: the chain manifest ${i.manifestSecret} does not list this node with a peer address after ${(MANIFEST_WAIT.attempts * MANIFEST_WAIT.intervalSeconds) / 60} minutes; check the environment's Keys custom resource in the CloudFormation events" >&2; exit 1; }`,
    'jq .genesis /run/chain-manifest.json > /var/lib/blockchain/genesis.json',
    'jq .staticNodes /run/chain-manifest.json > /var/lib/blockchain/static-nodes.json',
    `SIGNER_ADDRESS=$(jq -r '.nodes[] | select(.id == "${i.nodeId}") | .address' /run/chain-manifest.json)`,
    'chown -R 1000:1000 /var/lib/blockchain',
    `REGISTRY=$(echo "${i.image}" | cut -d/ -f1)`,
    `aws ecr get-login-password --region ${i.region} | docker login --username AWS --password-stdin "$REGISTRY"`,
    ...(i.gethLayout
      ? [
          // geth / GoQuorum: genesis init once, node key as p2p key.
          `test -d ${host.datadir}/geth/chaindata || docker run --rm -v /var/lib/blockchain:${d} ${i.image} --datadir ${ctr.datadir} init ${ctr.genesis}`,
          `mkdir -p ${host.datadir}/geth && cp ${host.key} ${host.nodeKey} && cp /var/lib/blockchain/static-nodes.json ${host.staticNodes}`,
          // geth 1.13 reads static peers only from config.toml (same format as gethConfigToml).
          `jq -r '"[Node.P2P]\\nStaticNodes = " + (.staticNodes | tojson)' /run/chain-manifest.json > ${host.config}`,
        ]
      : []),
    ...(i.signerImport
      ? [
          // Clique signers: the same key as the sealing account (empty password, encrypted storage).
          `: > ${host.password}`,
          `ls ${host.keystore} 2>/dev/null | grep -qi "\${SIGNER_ADDRESS#0x}" || docker run --rm -v /var/lib/blockchain:${d} ${i.image} --datadir ${ctr.datadir} account import --password ${ctr.password} ${ctr.key}`,
        ]
      : []),
    ...(i.gethLayout ? ['chown -R 1000:1000 /var/lib/blockchain'] : []),
    'docker rm -f blockchain-client 2>/dev/null || true',
    `docker run -d --name blockchain-client --restart unless-stopped --network host -v /var/lib/blockchain:${d} ${i.image} ${i.clientArgs.map((a) => a.replace('$SIGNER_ADDRESS', '"$SIGNER_ADDRESS"').replace('$PEER_IP', '"$PEER_IP"')).join(' ')}`,
  ];
}
