/**
 * Hand-written baseline for the synth benchmark (issue #6): ONE default tenant environment
 * (4 Besu QBFT validators, no ingress) written with plain aws-cdk-lib constructs, the way a CDK
 * engineer would write it without this library. It imports nothing from lib/ or lambda/.
 *
 * It creates the same CloudFormation resources as `TenantEnvironmentStack` with a default
 * environment (test/template/baseline-parity.test.ts keeps the two in step), with the same L2
 * constructs the library uses (Vpc, InterfaceVpcEndpoint, efs.FileSystem + AccessPoint,
 * AutoScalingGroup + LaunchTemplate, NodejsFunction, AwsCustomResource, CustomResource, Alarm,
 * Dashboard, BackupPlan, kms.Key, sns.Topic, StringParameter) and construct ids chosen like the
 * library's, so logical ids match too. What it does NOT do is what the library adds on top:
 * config validation, chain-spec resolution and defaults, threshold derivation, construct-level
 * validations (the 500-resource check), cdk-nag acknowledgments and checkov metadata, and its
 * own wrapper constructs beyond plain grouping scopes. Values the library derives (quorum, peer
 * addresses, thresholds) are computed here the simple way, for this one shape of environment.
 */
import { cpSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Aws, AssetHashType, CfnResource, CustomResourceProviderBase, DockerImage, Duration, RemovalPolicy, Stack, StackProps, Tags, CustomResource } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

const HERE = __dirname;
const NO_DOCKER = DockerImage.fromRegistry('no-docker-bundling-is-used');
/** Local "bundling" by copying (the bench skips bundling; this keeps a full synth working too). */
const copyTo = (source: string, subdir = '') => ({
  image: NO_DOCKER,
  local: {
    tryBundle(outputDir: string): boolean {
      cpSync(source, path.join(outputDir, subdir), { recursive: true });
      return true;
    },
  },
});
const NAMESPACE_PREFIX = 'BlockchainTenancy';
const IMAGE_REPOSITORY = 'blockchain-tenancy/besu';
const IMAGE_TAG = '26.8.0';
const GATE_PORT = 8080;
const P2P_PORT = 30303;
const NODES = ['validator-1', 'validator-2', 'validator-3', 'validator-4'];

export interface BaselineEnvironmentStackProps extends StackProps {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly cidr: string;
}

/** `acme` + `dev` -> `AcmeDev` (the library's stack naming). */
export function baselineStackName(tenantId: string, environmentId: string): string {
  const pascal = (s: string) => s.split('-').filter(Boolean).map((p) => p[0].toUpperCase() + p.slice(1)).join('');
  return pascal(tenantId) + pascal(environmentId);
}

interface Node {
  readonly id: string;
  readonly policy: iam.ManagedPolicy;
  readonly userData: ec2.UserData;
  readonly group: autoscaling.AutoScalingGroup;
  readonly fileSystem: efs.FileSystem;
}

export class BaselineEnvironmentStack extends Stack {
  constructor(scope: Construct, props: BaselineEnvironmentStackProps) {
    const { tenantId, environmentId, cidr } = props;
    const name = baselineStackName(tenantId, environmentId);
    super(scope, name, {
      ...props,
      stackName: name,
      description: `Isolated blockchain environment "${environmentId}" of tenant "${tenantId}" (blockchain-tenancy)`,
      tags: { 'blockchain-tenancy:tenant': tenantId, 'blockchain-tenancy:environment': environmentId },
    });
    const t = `${tenantId}/${environmentId}`;
    const NAMESPACE = `${NAMESPACE_PREFIX}/${t}`;
    const env = new Construct(this, 'Environment');
    // Stack tags only reach CloudFormation at deploy time; these put the tags in the template
    // (IAM conditions of the management API match on them).
    Tags.of(env).add('blockchain-tenancy:tenant', tenantId);
    Tags.of(env).add('blockchain-tenancy:environment', environmentId);
    const retain = RemovalPolicy.RETAIN;
    const secretArn = (name: string) =>
      this.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const viaSecretsManager = { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } };
    const role = (scope: Construct, id: string, principal: string, description: string, statements: iam.PolicyStatement[], awsManaged: string[] = []) => {
      const box = new Construct(scope, id);
      const policy = new iam.ManagedPolicy(box, 'Policy', { description, statements });
      const r = new iam.Role(box, 'Role', {
        assumedBy: new iam.ServicePrincipal(principal),
        description,
        managedPolicies: [policy, ...awsManaged.map((n) => iam.ManagedPolicy.fromAwsManagedPolicyName(n))],
      });
      return { role: r, policy };
    };

    // --- key -----------------------------------------------------------------------------------
    const key = new kms.Key(env, 'Key', {
      description: `Blockchain environment ${t}: logs, node storage, secrets`,
      alias: `alias/blockchain-tenancy/${t}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      removalPolicy: retain,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );

    // --- network ---------------------------------------------------------------------------------
    const network = new Construct(env, 'Network');
    const vpc = new ec2.Vpc(network, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs: 2,
      natGateways: 0,
      // No ingress: no internet path (the public subnets' address space stays reserved).
      createInternetGateway: false,
      restrictDefaultSecurityGroup: true,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      subnetConfiguration: [
        { name: 'Ingress', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false, reserved: true },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    const privateSubnets: ec2.SubnetSelection = { subnetGroupName: 'Private' };
    const flowLogGroup = new logs.LogGroup(network, 'FlowLogs', { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: retain });
    const flowLogRole = new iam.Role(network, 'FlowLogRole', {
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': this.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }) },
        },
      }),
      description: 'VPC flow logs delivery to the environment flow log group',
    });
    flowLogRole.addManagedPolicy(
      new iam.ManagedPolicy(network, 'FlowLogPolicy', {
        description: 'Write VPC flow logs to the environment flow log group only',
        statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'], resources: [flowLogGroup.logGroupArn] })],
      }),
    );
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup, flowLogRole.withoutPolicyUpdates()),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    const sgScope = new Construct(network, 'SecurityGroups');
    const sg = (id: string, description: string) => new ec2.SecurityGroup(sgScope, id, { vpc, description, allowAllOutbound: false, disableInlineRules: true });
    const ingressSg = sg('Ingress', 'Internet-facing load balancer: HTTPS in, node gate out');
    const gateSg = sg('NodeGate', 'Node auth gate: reachable only from the load balancer');
    const peerSg = sg('NodePeer', 'Blockchain nodes: peer-to-peer within this environment only');
    const fsSg = sg('FileSystem', 'EFS mount targets: NFS from this environment nodes only');
    const fnSg = sg('Functions', 'Lambda functions in the VPC: AWS APIs through endpoints only');
    const endpointSg = sg('Endpoints', 'Interface VPC endpoints: HTTPS from nodes and functions only');
    ingressSg.connections.allowTo(gateSg, ec2.Port.tcp(GATE_PORT), 'Load balancer to node auth gate');
    peerSg.connections.allowInternally(ec2.Port.tcp(P2P_PORT), 'Peer-to-peer between nodes of this environment');
    peerSg.connections.allowInternally(ec2.Port.udp(P2P_PORT), 'Peer-to-peer between nodes of this environment');
    peerSg.connections.allowTo(fsSg, ec2.Port.tcp(2049), 'Nodes mount their EFS storage');
    peerSg.connections.allowTo(endpointSg, ec2.Port.tcp(443), 'Nodes call AWS APIs via endpoints');
    fnSg.connections.allowTo(endpointSg, ec2.Port.tcp(443), 'Functions call AWS APIs via endpoints');

    const s3Endpoint = vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [privateSubnets] });
    const s3Reads = (sid: string, resources: string[]) =>
      s3Endpoint.addToPolicy(new iam.PolicyStatement({ sid, principals: [new iam.AnyPrincipal()], actions: ['s3:GetObject'], resources }));
    s3Reads('AmazonLinuxRepositories', [`arn:${this.partition}:s3:::al2023-repos-${this.region}-de612dc2/*`]);
    s3Reads('EcrImageLayers', [`arn:${this.partition}:s3:::prod-${this.region}-starport-layer-bucket/*`]);
    // CDK's default-SG provider: its own log group instead of AWSLambdaBasicExecutionRole.
    const restrict = this.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider') as CustomResourceProviderBase;
    const restrictLogs = new logs.LogGroup(network, 'DefaultSecurityGroupProviderLogs', { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: retain });
    (restrict.node.findChild('Role') as CfnResource).addPropertyDeletionOverride('ManagedPolicyArns');
    (restrict.node.findChild('Handler') as CfnResource).addPropertyOverride('LoggingConfig', { LogGroup: restrictLogs.logGroupName });
    restrict.addToRolePolicy({ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [restrictLogs.logGroupArn, `${restrictLogs.logGroupArn}:*`] });
    const endpoints: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
      SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
      Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
      Ec2: ec2.InterfaceVpcEndpointAwsService.EC2,
      Ecr: ec2.InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    };
    for (const [id, service] of Object.entries(endpoints)) {
      vpc.addInterfaceEndpoint(`${id}Endpoint`, { service, subnets: privateSubnets, securityGroups: [endpointSg], open: false, privateDnsEnabled: true });
    }

    // --- nodes: S3 prefix list lookup, keys custom resource, backup, one ASG + EFS per node -------
    const nodesScope = new Construct(env, 'Nodes');
    const prefixListLogs = new logs.LogGroup(nodesScope, 'S3PrefixListLogs', { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: retain });
    const prefixListIdentity = role(nodesScope, 'S3PrefixListIdentity', 'lambda.amazonaws.com', 'Looks up the region S3 prefix list id at deploy time', [
      new iam.PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] }),
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [prefixListLogs.logGroupArn] }),
    ]);
    const prefixListCall: cr.AwsSdkCall = {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${this.region}.s3`] }] },
      physicalResourceId: cr.PhysicalResourceId.of(`s3-prefix-list-${this.region}`),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    const prefixList = new cr.AwsCustomResource(nodesScope, 'S3PrefixList', {
      onCreate: prefixListCall,
      onUpdate: prefixListCall,
      installLatestAwsSdk: false,
      role: prefixListIdentity.role,
      logGroup: prefixListLogs,
    });
    peerSg.addEgressRule(ec2.Peer.prefixList(prefixList.getResponseField('PrefixLists.0.PrefixListId')), ec2.Port.tcp(443), 'Nodes reach S3 via the gateway endpoint');

    // Fixed peer addresses: round-robin over the private subnets, from the top of each subnet down.
    const subnets = vpc.isolatedSubnets;
    const peerIp = (k: number) => {
      const [base, bits] = subnets[k % subnets.length].ipv4CidrBlock.split('/');
      const start = base.split('.').reduce((a, o) => a * 256 + Number(o), 0);
      const n = start + 2 ** (32 - Number(bits)) - 2 - Math.floor(k / subnets.length);
      return [24, 16, 8, 0].map((b) => (n >>> b) & 255).join('.');
    };

    const keysScope = new Construct(nodesScope, 'Keys');
    const nodePrefix = `blockchain-tenancy/${t}/nodes/`;
    const keysLogs = new logs.LogGroup(keysScope, 'Logs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: key, removalPolicy: retain });
    const keysIdentity = role(keysScope, 'Identity', 'lambda.amazonaws.com', `Creates node keys and the chain manifest of ${t}`, [
      new iam.PolicyStatement({
        sid: 'NodeSecretsOfThisEnvironment',
        actions: ['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:TagResource'],
        resources: [secretArn(`${nodePrefix}*`)],
      }),
      new iam.PolicyStatement({ sid: 'EnvironmentKeyViaSecretsManager', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn], conditions: viaSecretsManager }),
      new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [keysLogs.logGroupArn, `${keysLogs.logGroupArn}:*`] }),
    ]);
    const keysFunction = new nodejs.NodejsFunction(keysScope, 'Function', {
      entry: path.join(HERE, 'handlers', 'node-keys.ts'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(5),
      role: keysIdentity.role,
      logGroup: keysLogs,
      description: `Node keys and chain manifest of ${t}`,
      bundling: { minify: true, sourceMap: false, target: 'node22', externalModules: ['@aws-sdk/*'], forceDockerBundling: false },
    });
    const keys = new CustomResource(keysScope, 'Resource', {
      serviceToken: keysFunction.functionArn,
      resourceType: 'Custom::BlockchainNodeKeys',
      properties: {
        TenantId: tenantId,
        EnvironmentId: environmentId,
        KmsKeyId: key.keyArn,
        Client: 'besu',
        Consensus: 'qbft',
        ChainId: '1337',
        BlockPeriodSeconds: '2',
        FreeGas: 'true',
        P2pPort: String(P2P_PORT),
        Nodes: NODES.map((id, k) => ({ Id: id, Ip: peerIp(k), Validator: 'true' })),
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const vault = new backup.BackupVault(nodesScope, 'BackupVault', { encryptionKey: key, removalPolicy: retain });
    const backupPlan = backup.BackupPlan.daily35DayRetention(nodesScope, 'BackupPlan', vault);
    const image = `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${IMAGE_REPOSITORY}:${IMAGE_TAG}`;
    const machineImage = ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 });

    const nodes: Node[] = NODES.map((id, k) => {
      const scope = new Construct(nodesScope, id);
      const subnet = subnets[k % subnets.length];
      const ip = peerIp(k);
      const fileSystem = new efs.FileSystem(scope, 'Storage', {
        vpc,
        vpcSubnets: { subnets: [subnet] },
        securityGroup: fsSg,
        encrypted: true,
        kmsKey: key,
        performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
        throughputMode: efs.ThroughputMode.ELASTIC,
        enableAutomaticBackups: false,
        allowAnonymousAccess: true,
        removalPolicy: retain,
        fileSystemName: `${tenantId}-${environmentId}-${id}`,
      });
      fileSystem.addToResourcePolicy(
        new iam.PolicyStatement({ sid: 'DenyNonTls', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['*'], conditions: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      fileSystem.addToResourcePolicy(
        new iam.PolicyStatement({ sid: 'NoRootAccess', effect: iam.Effect.DENY, principals: [new iam.AnyPrincipal()], actions: ['elasticfilesystem:ClientRootAccess'], resources: ['*'] }),
      );
      const accessPoint = fileSystem.addAccessPoint('Data', {
        path: `/${id}`,
        posixUser: { uid: '1000', gid: '1000' },
        createAcl: { ownerUid: '1000', ownerGid: '1000', permissions: '750' },
      });
      const peerInterface = new ec2.CfnNetworkInterface(scope, 'PeerInterface', {
        subnetId: subnet.subnetId,
        privateIpAddress: ip,
        groupSet: [peerSg.securityGroupId],
        description: `Stable peer address of ${t}/${id}`,
      });
      const keySecret = `${nodePrefix}${id}/key`;
      const manifestSecret = `${nodePrefix}chain-manifest`;
      const identity = role(
        scope,
        'Identity',
        'ec2.amazonaws.com',
        `Node ${id} of ${t}: its own key, storage and peer address`,
        [
          new iam.PolicyStatement({ sid: 'OwnKeyAndChainManifest', actions: ['secretsmanager:GetSecretValue'], resources: [secretArn(`${keySecret}-??????`), secretArn(`${manifestSecret}-??????`)] }),
          new iam.PolicyStatement({ sid: 'DecryptOwnSecretsViaSecretsManager', actions: ['kms:Decrypt'], resources: [key.keyArn], conditions: viaSecretsManager }),
          new iam.PolicyStatement({
            sid: 'MountOwnStorage',
            actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
            resources: [fileSystem.fileSystemArn],
            conditions: { StringEquals: { 'elasticfilesystem:AccessPointArn': accessPoint.accessPointArn } },
          }),
          new iam.PolicyStatement({
            sid: 'AttachOwnPeerInterface',
            actions: ['ec2:AttachNetworkInterface'],
            resources: [
              this.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: peerInterface.ref }),
              this.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' }),
            ],
            conditions: {
              StringEquals: { 'aws:ResourceTag/blockchain-tenancy:tenant': tenantId, 'aws:ResourceTag/blockchain-tenancy:environment': environmentId, 'aws:ResourceTag/blockchain-tenancy:node': id },
            },
          }),
          new iam.PolicyStatement({
            sid: 'PullClientImage',
            actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
            resources: [this.formatArn({ service: 'ecr', resource: 'repository', resourceName: 'blockchain-tenancy/*' })],
          }),
          new iam.PolicyStatement({ sid: 'RegistryLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
          new iam.PolicyStatement({ sid: 'PublishNodeMetrics', actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': NAMESPACE } } }),
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
        ],
      );

      const userData = ec2.UserData.forLinux();
      userData.addCommands(
        'set -euo pipefail',
        'exec > >(logger -t blockchain-node) 2>&1',
        'dnf install -y --setopt=install_weak_deps=False docker amazon-efs-utils jq',
        'systemctl enable --now docker',
        'TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
        'INSTANCE_ID=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)',
        `aws ec2 attach-network-interface --region ${this.region} --network-interface-id ${peerInterface.ref} --instance-id "$INSTANCE_ID" --device-index 1 || true`,
        'mkdir -p /var/lib/blockchain',
        `grep -q ${fileSystem.fileSystemId} /etc/fstab || echo "${fileSystem.fileSystemId}:/ /var/lib/blockchain efs _netdev,tls,iam,accesspoint=${accessPoint.accessPointId} 0 0" >> /etc/fstab`,
        'mount -a -t efs',
        'umask 077',
        `aws secretsmanager get-secret-value --region ${this.region} --secret-id ${keySecret} --query SecretString --output text | jq -r .privateKey | sed 's/^0x//' > /var/lib/blockchain/key`,
        `aws secretsmanager get-secret-value --region ${this.region} --secret-id ${manifestSecret} --query SecretString --output text > /run/chain-manifest.json`,
        'jq .genesis /run/chain-manifest.json > /var/lib/blockchain/genesis.json',
        'jq .staticNodes /run/chain-manifest.json > /var/lib/blockchain/static-nodes.json',
        `SIGNER_ADDRESS=$(jq -r '.nodes[] | select(.id == "${id}") | .address' /run/chain-manifest.json)`,
        'chown -R 1000:1000 /var/lib/blockchain',
        `REGISTRY=$(echo "${image}" | cut -d/ -f1)`,
        `aws ecr get-login-password --region ${this.region} | docker login --username AWS --password-stdin "$REGISTRY"`,
        'docker rm -f blockchain-client 2>/dev/null || true',
        `docker run -d --name blockchain-client --restart unless-stopped --network host -v /var/lib/blockchain:/data ${image} ` +
          `--data-path=/data/besu --genesis-file=/data/genesis.json --node-private-key-file=/data/key --static-nodes-file=/data/static-nodes.json ` +
          `--discovery-enabled=false --p2p-host=${ip} --p2p-interface=0.0.0.0 --p2p-port=${P2P_PORT} --rpc-http-enabled --rpc-http-host=127.0.0.1 ` +
          `--rpc-http-port=8545 --rpc-http-api=ETH,NET,WEB3,QBFT --rpc-ws-enabled --rpc-ws-host=127.0.0.1 --rpc-ws-port=8546 --rpc-ws-api=ETH,NET,WEB3 ` +
          `--host-allowlist=localhost,127.0.0.1 --min-gas-price=0 --sync-mode=FULL`,
      );

      const launchTemplate = new ec2.LaunchTemplate(scope, 'LaunchTemplate', {
        machineImage,
        instanceType: new ec2.InstanceType('t4g.medium'),
        role: identity.role,
        userData,
        securityGroup: gateSg,
        requireImdsv2: true,
        httpPutResponseHopLimit: 2,
        detailedMonitoring: true,
        ebsOptimized: true,
        blockDevices: [
          {
            deviceName: '/dev/xvda',
            volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, kmsKey: key, volumeType: ec2.EbsDeviceVolumeType.GP3, deleteOnTermination: true }),
          },
        ],
      });
      launchTemplate.addSecurityGroup(peerSg);
      const group = new autoscaling.AutoScalingGroup(scope, 'Group', {
        vpc,
        vpcSubnets: { subnets: [subnet] },
        launchTemplate,
        minCapacity: 1,
        maxCapacity: 1,
        groupMetrics: [autoscaling.GroupMetrics.all()],
        healthChecks: autoscaling.HealthChecks.ec2(),
      });
      group.node.addDependency(keys);
      for (const target of [group, fileSystem, peerInterface]) {
        Tags.of(target).add('blockchain-tenancy:node', id);
        Tags.of(target).add('blockchain-tenancy:member', 'default');
      }
      return { id, policy: identity.policy, userData, group, fileSystem };
    });
    const backupIdentity = role(nodesScope, 'BackupIdentity', 'backup.amazonaws.com', `AWS Backup of the node storage of ${t}`, [
      new iam.PolicyStatement({
        actions: ['elasticfilesystem:Backup', 'elasticfilesystem:DescribeTags'],
        resources: [this.formatArn({ service: 'elasticfilesystem', resource: 'file-system', resourceName: '*' })],
        conditions: { StringEquals: { 'aws:ResourceTag/blockchain-tenancy:tenant': tenantId, 'aws:ResourceTag/blockchain-tenancy:environment': environmentId } },
      }),
      new iam.PolicyStatement({ actions: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'], resources: [vault.backupVaultArn] }),
      new iam.PolicyStatement({ actions: ['kms:DescribeKey', 'kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
      new iam.PolicyStatement({ actions: ['kms:CreateGrant'], resources: [key.keyArn], conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } }),
    ]);
    backupPlan.addSelection('NodeStorage', { role: backupIdentity.role.withoutPolicyUpdates(), resources: nodes.map((n) => backup.BackupResource.fromEfsFileSystem(n.fileSystem)) });

    // --- app credentials: argon2 layer, authorizer, issuer ----------------------------------------
    const credentials = new Construct(env, 'Credentials');
    const credentialPrefix = `blockchain-tenancy/${t}/credentials/`;
    const credentialSecrets = secretArn(`${credentialPrefix}*`);
    const argon2 = path.join(HERE, '..', '..', 'node_modules', 'argon2');
    const layer = new lambda.LayerVersion(credentials, 'Argon2', {
      // The same third-party package the real layer carries; bundling is skipped in the bench.
      code: lambda.Code.fromAsset(argon2, { assetHashType: AssetHashType.SOURCE, bundling: copyTo(argon2, 'nodejs/node_modules/argon2') }),
      compatibleRuntimes: [lambda.Runtime.NODEJS_24_X, lambda.Runtime.NODEJS_22_X],
      compatibleArchitectures: [lambda.Architecture.ARM_64, lambda.Architecture.X86_64],
      description: 'argon2 (native, linux glibc prebuilds)',
    });
    const credentialFunction = (id: 'Authorizer' | 'Issuer', statements: iam.PolicyStatement[], environment: Record<string, string>) => {
      const logGroup = new logs.LogGroup(credentials, `${id}Logs`, { encryptionKey: key, retention: logs.RetentionDays.ONE_YEAR, removalPolicy: retain });
      const description = `${id} of the app credentials of ${t}`;
      const identity = role(
        credentials,
        `${id}Identity`,
        'lambda.amazonaws.com',
        description,
        [
          ...statements,
          new iam.PolicyStatement({
            sid: 'DecryptOwnEnvironmentVariables',
            actions: ['kms:Decrypt'],
            resources: [key.keyArn],
            conditions: { StringEquals: { 'kms:EncryptionContext:aws:lambda:FunctionArn': this.formatArn({ service: 'lambda', resource: 'function', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
          }),
          new iam.PolicyStatement({ sid: 'OwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`] }),
          new iam.PolicyStatement({ actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'], resources: ['*'] }),
          new iam.PolicyStatement({
            actions: ['ec2:CreateNetworkInterface'],
            resources: [
              this.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' }),
              ...vpc.selectSubnets(privateSubnets).subnets.map((sn) => this.formatArn({ service: 'ec2', resource: 'subnet', resourceName: sn.subnetId })),
              this.formatArn({ service: 'ec2', resource: 'security-group', resourceName: fnSg.securityGroupId }),
            ],
          }),
          new iam.PolicyStatement({
            actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
            resources: [this.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' })],
            conditions: { ArnEquals: { 'ec2:Vpc': this.formatArn({ service: 'ec2', resource: 'vpc', resourceName: vpc.vpcId }) } },
          }),
        ],
      );
      const fn = new nodejs.NodejsFunction(credentials, id, {
        entry: path.join(HERE, 'handlers', `${id.toLowerCase()}.ts`),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: 512,
        timeout: Duration.seconds(10),
        role: identity.role,
        logGroup,
        layers: [layer],
        vpc,
        vpcSubnets: privateSubnets,
        securityGroups: [fnSg],
        environment: { TENANT_ID: tenantId, ENVIRONMENT_ID: environmentId, ...environment },
        environmentEncryption: key,
        ...(id === 'Authorizer' ? { reservedConcurrentExecutions: 10 } : {}),
        description,
        bundling: { minify: true, sourceMap: false, target: 'node22', externalModules: ['@aws-sdk/*', 'argon2'], forceDockerBundling: false },
      });
      return { fn, logGroup };
    };
    const authorizer = credentialFunction(
      'Authorizer',
      [
        new iam.PolicyStatement({ sid: 'ReadOwnEnvironmentCredentials', actions: ['secretsmanager:GetSecretValue'], resources: [credentialSecrets] }),
        new iam.PolicyStatement({ sid: 'DecryptViaSecretsManager', actions: ['kms:Decrypt'], resources: [key.keyArn], conditions: viaSecretsManager }),
      ],
      { NODE_MEMBERS: JSON.stringify(Object.fromEntries(NODES.map((id) => [id, 'default']))), ALLOW_TTL_SECONDS: '60' },
    );
    new logs.MetricFilter(credentials, 'AuthorizerDenies', {
      logGroup: authorizer.logGroup,
      metricNamespace: NAMESPACE,
      metricName: 'AuthorizerDenies',
      filterPattern: logs.FilterPattern.all(logs.FilterPattern.stringValue('$.msg', '=', 'authorize'), logs.FilterPattern.stringValue('$.outcome', '!=', 'allowed')),
      metricValue: '1',
      dimensions: { Tenant: '$.tenant', Environment: '$.environment' },
    });
    const issuer = credentialFunction(
      'Issuer',
      [
        new iam.PolicyStatement({
          sid: 'ManageOwnEnvironmentCredentials',
          actions: ['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:TagResource'],
          resources: [credentialSecrets],
        }),
        new iam.PolicyStatement({ sid: 'ListCredentials', actions: ['secretsmanager:ListSecrets'], resources: ['*'] }),
        new iam.PolicyStatement({ sid: 'EncryptViaSecretsManager', actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn], conditions: viaSecretsManager }),
      ],
      { KMS_KEY_ID: key.keyArn, DEFAULT_LIFETIME_DAYS: '90', MAX_LIFETIME_DAYS: '365' },
    ).fn;

    // --- node services: gate + metric publisher from S3, and their permissions --------------------
    const program = (id: string, dir: string) =>
      new s3assets.Asset(env, id, {
        path: path.join(HERE, 'programs', dir),
        assetHashType: AssetHashType.SOURCE,
        bundling: copyTo(path.join(HERE, 'programs', dir)),
      });
    const gateProgram = program('NodeGateProgram', 'node-gate');
    const metricsProgram = program('NodeMetricsProgram', 'node-metrics');
    const unit = (name: string, description: string, envFile: string) =>
      [
        `cat > /etc/systemd/system/${name}.service <<'UNIT'`,
        '[Unit]',
        `Description=${description}`,
        'After=network-online.target docker.service',
        '[Service]',
        `EnvironmentFile=${envFile}`,
        `ExecStart=/usr/bin/node-24 /opt/blockchain-tenancy/${name}/index.js`,
        'Restart=always',
        'RestartSec=2',
        'DynamicUser=yes',
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        '[Install]',
        'WantedBy=multi-user.target',
        'UNIT',
      ].join('\n');
    for (const node of nodes) {
      node.policy.addStatements(
        new iam.PolicyStatement({ sid: 'InvokeEnvironmentAuthorizer', actions: ['lambda:InvokeFunction'], resources: [authorizer.fn.functionArn] }),
        new iam.PolicyStatement({
          sid: 'DownloadNodePrograms',
          actions: ['s3:GetObject'],
          resources: [gateProgram.bucket.arnForObjects(gateProgram.s3ObjectKey), metricsProgram.bucket.arnForObjects(metricsProgram.s3ObjectKey)],
        }),
      );
      node.userData.addCommands(
        'dnf install -y --setopt=install_weak_deps=False nodejs24',
        '/usr/bin/node-24 --version',
        'mkdir -p /opt/blockchain-tenancy/node-gate /opt/blockchain-tenancy/node-metrics /etc/blockchain-tenancy',
        `aws s3 cp --region ${this.region} ${gateProgram.s3ObjectUrl} /tmp/node-gate.zip && unzip -o /tmp/node-gate.zip -d /opt/blockchain-tenancy/node-gate`,
        `aws s3 cp --region ${this.region} ${metricsProgram.s3ObjectUrl} /tmp/node-metrics.zip && unzip -o /tmp/node-metrics.zip -d /opt/blockchain-tenancy/node-metrics`,
        `printf 'NODE_ID=%s\\nAUTHORIZER_FUNCTION=%s\\nGATE_PORT=%s\\nAWS_REGION=%s\\nBT_TENANT=%s\\nBT_ENVIRONMENT=%s\\n' '${node.id}' '${authorizer.fn.functionName}' '${GATE_PORT}' '${this.region}' '${tenantId}' '${environmentId}' > /etc/blockchain-tenancy/gate.env`,
        `printf 'BT_TENANT=%s\\nBT_ENVIRONMENT=%s\\nBT_NODE=%s\\nAWS_REGION=%s\\n' '${tenantId}' '${environmentId}' '${node.id}' '${this.region}' > /etc/blockchain-tenancy/metrics.env`,
        unit('node-gate', 'blockchain-tenancy node auth gate', '/etc/blockchain-tenancy/gate.env'),
        unit('node-metrics', 'blockchain-tenancy node metric publisher', '/etc/blockchain-tenancy/metrics.env'),
        'systemctl daemon-reload && systemctl enable --now node-gate node-metrics',
      );
    }

    // --- alarm topic, dashboard and alarms -------------------------------------------------------
    const topic = new sns.Topic(env, 'AlarmTopic', { displayName: `Blockchain ${t} alarms`, masterKey: key, enforceSSL: true });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    const monitoring = new Construct(env, 'Monitoring');
    const quorum = Math.ceil((2 * NODES.length) / 3);
    const minPeers = quorum - 1;
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (name: string, description: string, props: Omit<cloudwatch.AlarmProps, 'alarmDescription'>) => {
      const a = new cloudwatch.Alarm(monitoring, `Alarm${name.replace(/[^A-Za-z0-9]/g, '')}`, { ...props, alarmDescription: `${t}: ${description}` });
      a.addAlarmAction(new actions.SnsAction(topic));
      a.addOkAction(new actions.SnsAction(topic));
      alarms.push(a);
    };
    const nodeMetric = (node: string, metricName: string, statistic: string, props: cloudwatch.MetricOptions = {}) =>
      new cloudwatch.Metric({
        namespace: NAMESPACE,
        metricName,
        dimensionsMap: { Tenant: tenantId, Environment: environmentId, Node: node },
        statistic,
        period: Duration.minutes(1),
        ...props,
      });
    const dashboard = new cloudwatch.Dashboard(monitoring, 'Dashboard', { dashboardName: `blockchain-${tenantId}-${environmentId}`, defaultInterval: Duration.hours(3) });
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${tenantId} / ${environmentId}\n${NODES.length} validators (BFT), quorum ${quorum}, tolerates ${NODES.length - quorum} faulty; alarms: peers < ${minPeers}, height not advancing for 60 s.`,
        width: 24,
        height: 2,
      }),
    );
    const heights: cloudwatch.IMetric[] = [];
    const peers: cloudwatch.IMetric[] = [];
    const inService: cloudwatch.IMetric[] = [];
    const gateLatency: cloudwatch.IMetric[] = [];
    const cacheHits: cloudwatch.IMetric[] = [];
    for (const node of nodes) {
      const { id } = node;
      heights.push(nodeMetric(id, 'BlockHeight', 'Maximum', { label: id }));
      const peerCount = nodeMetric(id, 'PeerCount', 'Minimum');
      peers.push(peerCount.with({ label: id }));
      const groupInService = new cloudwatch.Metric({
        namespace: 'AWS/AutoScaling',
        metricName: 'GroupInServiceInstances',
        dimensionsMap: { AutoScalingGroupName: node.group.autoScalingGroupName },
        statistic: 'Minimum',
        period: Duration.minutes(1),
      });
      inService.push(groupInService.with({ label: id }));
      alarm(`${id}/NotInService`, `node ${id} has no instance in service for 5 minutes`, {
        metric: groupInService,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm(`${id}/RpcDown`, `node ${id} client JSON-RPC not answering (or the publisher is silent) for 3 minutes`, {
        metric: nodeMetric(id, 'RpcUp', 'Minimum'),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm(`${id}/HeightStalled`, `node ${id} block height did not advance in 60 s`, {
        metric: new cloudwatch.MathExpression({
          expression: 'DIFF(h)',
          usingMetrics: { h: nodeMetric(id, 'BlockHeight', 'Maximum', { period: Duration.seconds(60) }) },
          period: Duration.seconds(60),
          label: `${id} blocks per window`,
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      alarm(`${id}/PeersBelowQuorum`, `validator ${id} has fewer than ${minPeers} peers (quorum ${quorum})`, {
        metric: peerCount,
        threshold: minPeers,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Block height', left: heights, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Peers', left: peers, leftAnnotations: [{ value: minPeers, label: 'min peers for quorum', color: '#d62728' }], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Nodes in service', left: inService, width: 8 }),
    );
    nodes.forEach(({ id }, i) => {
      const p99 = nodeMetric(id, 'GateLatency', 'p99', { period: Duration.minutes(5) });
      gateLatency.push(p99.with({ label: id }));
      cacheHits.push(
        new cloudwatch.MathExpression({
          expression: `100 * FILL(h${i}, 0) / (FILL(h${i}, 0) + FILL(m${i}, 0) + 0.000001)`,
          usingMetrics: {
            [`h${i}`]: nodeMetric(id, 'GateCacheHits', 'Sum', { period: Duration.minutes(5) }),
            [`m${i}`]: nodeMetric(id, 'GateCacheMisses', 'Sum', { period: Duration.minutes(5) }),
          },
          label: id,
          period: Duration.minutes(5),
        }),
      );
      alarm(`${id}/GateLatency`, `node ${id} gate p99 latency high for 15 minutes`, {
        metric: p99,
        threshold: 1000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Gate latency p99 (ms)', left: gateLatency, width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Gate cache hit ratio (%)', left: cacheHits, width: 12, leftYAxis: { min: 0, max: 100 } }),
    );
    const authorizerP99 = authorizer.fn.metricDuration({ statistic: 'p99', period: Duration.minutes(5) });
    alarm('Authorizer/Duration', 'authorizer p99 duration', {
      metric: authorizerP99,
      threshold: 2000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const denies = new cloudwatch.Metric({
      namespace: NAMESPACE,
      metricName: 'AuthorizerDenies',
      dimensionsMap: { Tenant: tenantId, Environment: environmentId },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    alarm('Authorizer/Denies', 'many denied credentials (stuffing, a leaked id, or a dApp with a revoked credential)', {
      metric: denies,
      threshold: 100,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    [authorizer.fn, issuer].forEach((fn, i) =>
      alarm(`Function${i}/Errors`, `function ${i === 0 ? 'authorizer' : i} errors`, {
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Authorizer',
        left: [authorizer.fn.metricInvocations(), authorizer.fn.metricErrors(), authorizer.fn.metricThrottles()],
        right: [authorizerP99],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Authorizer denies', left: [denies], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Function errors', left: [issuer.metricErrors()], width: 8 }),
    );
    const efsMetric = (fs: efs.FileSystem, metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/EFS', metricName, dimensionsMap: { FileSystemId: fs.fileSystemId }, statistic, label, period: Duration.minutes(5) });
    for (const node of nodes) {
      alarm(`${node.id}/EfsIoLimit`, `node ${node.id} storage near its I/O limit`, {
        metric: efsMetric(node.fileSystem, 'PercentIOLimit', 'Maximum', node.id),
        threshold: 90,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Node storage (bytes)', left: nodes.map((n) => efsMetric(n.fileSystem, 'StorageBytes', 'Average', n.id)), width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Node storage I/O limit (%)', left: nodes.map((n) => efsMetric(n.fileSystem, 'PercentIOLimit', 'Maximum', n.id)), width: 12 }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }));

    // --- registration for the management API ----------------------------------------------------
    new ssm.StringParameter(new Construct(env, 'Registration'), 'Parameter', {
      parameterName: `/blockchain-tenancy/environments/${t}`,
      description: `blockchain-tenancy environment ${t}`,
      stringValue: this.toJsonString({
        tenantId,
        environmentId,
        stackName: this.stackName,
        region: this.region,
        account: this.account,
        vpcId: vpc.vpcId,
        kmsKeyArn: key.keyArn,
        credentialSecretPrefix: credentialPrefix,
        nodes: Object.fromEntries(NODES.map((id) => [id, 'default'])),
        issuerFunctionArn: issuer.functionArn,
      }),
      tier: ssm.ParameterTier.STANDARD,
    });
  }
}
