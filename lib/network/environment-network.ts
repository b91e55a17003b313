import { CustomResourceProviderBase, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { parseIpv4Cidr } from '../config/cidr';
import { acknowledgeRule } from '../security/acknowledge';
import { acknowledgeDeployTimeFunction, confineProviderLogs } from '../security/deploy-time-function';
import { EnvironmentSecurityGroups } from './environment-security-groups';

/** Subnet group names of an environment VPC (part of construct ids: do not rename). */
export const SubnetGroups = {
  /**
   * Public subnets: only the internet-facing load balancer lives here. Without `internetFacing`
   * the group's address space stays reserved (so the private subnets keep their CIDRs when
   * ingress is added later) but no subnet, route or gateway is created.
   */
  INGRESS: 'Ingress',
  /** Private isolated subnets: nodes, EFS mount targets, Lambdas and endpoints. No route out. */
  PRIVATE: 'Private',
} as const;

/** Props of {@link EnvironmentNetwork}. */
export interface EnvironmentNetworkProps {
  /** IPv4 CIDR of the VPC, /16 to /24. */
  readonly cidr: string;
  /**
   * Explicit availability zones (2 or 3). They must belong to the stack's region.
   * @default - `maxAzs` zones of the stack's region
   */
  readonly availabilityZones?: readonly string[];
  /**
   * Number of availability zones when `availabilityZones` is not given (2 or 3). An
   * environment-agnostic stack can resolve at most 2 zones without an AWS lookup.
   * @default 2
   */
  readonly maxAzs?: number;
  /** Key that encrypts the flow log group. */
  readonly encryptionKey: kms.IKey;
  /**
   * Retention of the VPC flow logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly flowLogRetention?: logs.RetentionDays;
  /**
   * What happens to the flow log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Add ECR API and Docker interface endpoints (for client images pulled from ECR).
   * @default false
   */
  readonly ecrEndpoints?: boolean;
  /**
   * Create the public subnets and the internet gateway for an internet-facing load balancer.
   * Without it the environment has no internet path at all: no internet gateway, no public
   * subnet, no default route (the public subnets' address space stays reserved).
   * @default false
   */
  readonly internetFacing?: boolean;
  /**
   * Port of the node auth gate.
   * @default 8080
   */
  readonly gatePort?: number;
  /**
   * Peer-to-peer port between nodes.
   * @default 30303
   */
  readonly p2pPort?: number;
}

/**
 * One environment's isolated network: its own VPC (public subnets for the load balancer only,
 * and only when `internetFacing`; private isolated subnets for everything else, no NAT, no route
 * to the internet from private subnets), encrypted flow logs, a closed default security group,
 * an S3 gateway endpoint with a policy (OS repositories, ECR layers, this environment's assets),
 * the interface endpoints nodes and Lambdas need, and the typed security groups.
 */
export class EnvironmentNetwork extends Construct {
  /** The environment's VPC. */
  public readonly vpc: ec2.Vpc;
  /** The typed security groups. */
  public readonly securityGroups: EnvironmentSecurityGroups;
  /** The flow log group (encrypted with the environment key). */
  public readonly flowLogGroup: logs.LogGroup;
  /** The S3 gateway endpoint (its policy allows only what nodes need; see {@link allowS3ObjectReads}). */
  public readonly s3Endpoint: ec2.GatewayVpcEndpoint;
  /** Whether the VPC has public subnets and an internet gateway (for a load balancer). */
  public readonly internetFacing: boolean;
  /** Interface endpoints by service name (e.g. `secretsmanager`). */
  public readonly interfaceEndpoints: Readonly<Record<string, ec2.InterfaceVpcEndpoint>>;
  private readonly endpointMap: Record<string, ec2.InterfaceVpcEndpoint>;
  /** Selection of the private isolated subnets (nodes, Lambdas, mount targets). */
  public readonly privateSubnets: ec2.SubnetSelection = { subnetGroupName: SubnetGroups.PRIVATE };
  /** Selection of the public subnets (load balancer only; empty unless `internetFacing`). */
  public readonly ingressSubnets: ec2.SubnetSelection = { subnetGroupName: SubnetGroups.INGRESS };

  constructor(scope: Construct, id: string, props: EnvironmentNetworkProps) {
    super(scope, id);
    const cidr = parseIpv4Cidr(props.cidr);
    if (typeof cidr === 'string') {
      throw new Error(`EnvironmentNetwork: cidr "${props.cidr}" ${cidr}`);
    }
    if (cidr.prefix < 16 || cidr.prefix > 24) {
      throw new Error(`EnvironmentNetwork: cidr "${props.cidr}" is /${cidr.prefix}; use a /16 to /24 block, e.g. "10.10.0.0/16"`);
    }
    if (props.availabilityZones !== undefined && props.maxAzs !== undefined) {
      throw new Error('EnvironmentNetwork: set either availabilityZones or maxAzs, not both');
    }
    const azCount = props.availabilityZones?.length ?? props.maxAzs ?? 2;
    if (!Number.isInteger(azCount) || azCount < 2 || azCount > 3) {
      throw new Error(
        `EnvironmentNetwork: ${props.availabilityZones ? 'availabilityZones has' : 'maxAzs is'} ${azCount} zone(s); use 2 or 3 availability zones`,
      );
    }

    this.internetFacing = props.internetFacing ?? false;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr),
      ...(props.availabilityZones ? { availabilityZones: [...props.availabilityZones] } : { maxAzs: azCount }),
      natGateways: 0,
      createInternetGateway: this.internetFacing,
      restrictDefaultSecurityGroup: true,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      subnetConfiguration: [
        // Reserved (not created) without ingress: same address plan either way, so adding ingress
        // later does not move the private subnets (nodes' peer addresses, mount targets).
        { name: SubnetGroups.INGRESS, subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false, reserved: !this.internetFacing },
        { name: SubnetGroups.PRIVATE, subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    for (const subnet of this.vpc.publicSubnets) {
      acknowledgeRule(
        subnet,
        'VPCNoUnrestrictedRouteToIGW',
        'Public subnets hold only the internet-facing load balancer, which needs a route to the internet gateway. ' +
          'Nodes, functions and file systems sit in isolated subnets with no default route.',
      );
    }
    // CDK's own provider that closes the default security group runs only at deploy time; it
    // logs to its own group only (no AWS managed policy on its role).
    const restrictProvider = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    const restrictHandler = restrictProvider?.node.tryFindChild('Handler');
    if (restrictHandler) acknowledgeDeployTimeFunction(restrictHandler, 'closes the default security group, aws-cdk-lib');
    if (restrictProvider instanceof CustomResourceProviderBase) {
      confineProviderLogs(restrictProvider, this, 'DefaultSecurityGroupProviderLogs', props.encryptionKey, props.removalPolicy ?? RemovalPolicy.RETAIN);
    }

    this.flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      encryptionKey: props.encryptionKey,
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // A role with one customer-managed policy (no inline policy), trusted only by this
    // account's flow logs, writing only to this group.
    const stack = Stack.of(this);
    const flowLogRole = new iam.Role(this, 'FlowLogRole', {
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }) },
        },
      }),
      description: 'VPC flow logs delivery to the environment flow log group',
    });
    flowLogRole.addManagedPolicy(
      new iam.ManagedPolicy(this, 'FlowLogPolicy', {
        description: 'Write VPC flow logs to the environment flow log group only',
        statements: [
          new iam.PolicyStatement({
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            resources: [this.flowLogGroup.logGroupArn],
          }),
        ],
      }),
    );
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup, flowLogRole.withoutPolicyUpdates()),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.securityGroups = new EnvironmentSecurityGroups(this, 'SecurityGroups', {
      vpc: this.vpc,
      internetFacing: this.internetFacing,
      ...(props.gatePort !== undefined ? { gatePort: props.gatePort } : {}),
      ...(props.p2pPort !== undefined ? { p2pPort: props.p2pPort } : {}),
    });

    this.s3Endpoint = this.vpc.addGatewayEndpoint('S3Endpoint', {
      service: ec2.GatewayVpcEndpointAwsService.S3,
      subnets: [this.privateSubnets],
    });
    // The endpoint policy replaces the default "any principal, any bucket": nodes read only the
    // buckets below (and this environment's node programs, added by allowS3ObjectReads).
    const region = stack.region;
    // Amazon Linux 2023 package repositories (dnf: docker, amazon-efs-utils, jq, Node.js) are
    // served from the AWS-owned regional bucket al2023-repos-<region>-de612dc2.
    this.allowS3ObjectReads('AmazonLinuxRepositories', [`arn:${stack.partition}:s3:::al2023-repos-${region}-de612dc2/*`]);
    // ECR image layers: allowed by addEndpoint when the ECR Docker endpoint is added.

    const services: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
      SsmMessages: ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
      Ec2Messages: ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
      SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
      Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
      ...(props.ecrEndpoints
        ? { Ecr: ec2.InterfaceVpcEndpointAwsService.ECR, EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER }
        : {}),
    };
    this.endpointMap = {};
    this.interfaceEndpoints = this.endpointMap;
    for (const [name, service] of Object.entries(services)) {
      this.addEndpoint(`${name}Endpoint`, service);
    }
  }

  /**
   * Lets principals in the VPC read these S3 objects through the gateway endpoint (the endpoint
   * allows nothing else): e.g. this environment's CDK asset objects that nodes download at boot.
   * Identity policies still decide who may read them; the endpoint only bounds what any
   * principal in the VPC can reach.
   */
  public allowS3ObjectReads(sid: string, objectArns: readonly string[]): void {
    this.s3Endpoint.addToPolicy(
      new iam.PolicyStatement({ sid, principals: [new iam.AnyPrincipal()], actions: ['s3:GetObject'], resources: [...objectArns] }),
    );
  }

  /**
   * Adds an interface endpoint (private DNS, in the private subnets, behind the endpoints group)
   * unless one for the same service exists; returns it.
   */
  public addEndpoint(id: string, service: ec2.InterfaceVpcEndpointAwsService): ec2.InterfaceVpcEndpoint {
    const existing = this.endpointMap[service.shortName];
    if (existing) return existing;
    const endpoint = this.vpc.addInterfaceEndpoint(id, {
      service,
      subnets: this.privateSubnets,
      securityGroups: [this.securityGroups.endpoints],
      open: false,
      privateDnsEnabled: true,
    });
    this.endpointMap[service.shortName] = endpoint;
    if (service.shortName === ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER.shortName) {
      // Image pulls through the ECR endpoints download the layers from the AWS-owned regional
      // bucket prod-<region>-starport-layer-bucket, through the S3 gateway endpoint.
      const stack = Stack.of(this);
      this.allowS3ObjectReads('EcrImageLayers', [`arn:${stack.partition}:s3:::prod-${stack.region}-starport-layer-bucket/*`]);
    }
    return endpoint;
  }
}
