import { acknowledgeFinding, skipCheckov } from '../security/acknowledge';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { Ports } from '../contracts/ports';

/** Props of {@link EnvironmentSecurityGroups}. */
export interface EnvironmentSecurityGroupsProps {
  /** The environment's VPC. */
  readonly vpc: ec2.IVpc;
  /**
   * Port the node auth gate listens on; the only port the load balancer may reach on a node.
   * @default 8080
   */
  readonly gatePort?: number;
  /**
   * Peer-to-peer port between the environment's nodes (TCP and UDP).
   * @default 30303
   */
  readonly p2pPort?: number;
  /**
   * Open 443 (and 80, which only redirects) from the internet on the `ingress` group, for an
   * internet-facing load balancer. Without it no group of the environment is open to the internet.
   * @default false
   */
  readonly internetFacing?: boolean;
}

/**
 * The typed security groups of one environment. Every group denies all egress unless a rule
 * below opens it, and every rule names a peer group, never a CIDR, except the load balancer's
 * public 443 (and 80, which only redirects), which exist only when `internetFacing`.
 *
 * | group      | inbound                                   | outbound                          |
 * |------------|-------------------------------------------|-----------------------------------|
 * | ingress    | 443, 80 from the internet (internetFacing only) | gate port to nodeGate       |
 * | nodeGate   | gate port from ingress                    | -                                 |
 * | nodePeer   | p2p TCP+UDP from nodePeer                 | p2p to nodePeer, 443 to endpoints, NFS to fileSystem |
 * | fileSystem | NFS 2049 from nodePeer                    | -                                 |
 * | functions  | -                                         | 443 to endpoints                  |
 * | endpoints  | 443 from nodePeer and functions           | -                                 |
 *
 * Every node carries both `nodeGate` and `nodePeer`; Lambdas in the VPC carry `functions`.
 */
export class EnvironmentSecurityGroups extends Construct {
  /** The internet-facing load balancer. */
  public readonly ingress: ec2.SecurityGroup;
  /** The node auth gate, reachable only from the load balancer. */
  public readonly nodeGate: ec2.SecurityGroup;
  /** Node-to-node peer-to-peer traffic; also the identity of "a node of this environment". */
  public readonly nodePeer: ec2.SecurityGroup;
  /** EFS mount targets, reachable only from nodes (and workloads granted access deliberately). */
  public readonly fileSystem: ec2.SecurityGroup;
  /** Lambda functions that run inside the VPC (authorizer, custom resources). */
  public readonly functions: ec2.SecurityGroup;
  /** Interface VPC endpoints, reachable on 443 from nodes and functions only. */
  public readonly endpoints: ec2.SecurityGroup;
  /** Port of the node auth gate. */
  public readonly gatePort: number;
  /** Peer-to-peer port. */
  public readonly p2pPort: number;

  constructor(scope: Construct, id: string, props: EnvironmentSecurityGroupsProps) {
    super(scope, id);
    this.gatePort = validatePort('gatePort', props.gatePort ?? Ports.NODE_GATE);
    this.p2pPort = validatePort('p2pPort', props.p2pPort ?? Ports.P2P);
    if (this.gatePort === this.p2pPort) {
      throw new Error(`EnvironmentSecurityGroups: gatePort and p2pPort are both ${this.gatePort}; give them different ports`);
    }
    const { vpc } = props;
    const group = (groupId: string, description: string) =>
      new ec2.SecurityGroup(this, groupId, { vpc, description, allowAllOutbound: false, disableInlineRules: true });

    this.ingress = group('Ingress', 'Internet-facing load balancer: HTTPS in, node gate out');
    this.nodeGate = group('NodeGate', 'Node auth gate: reachable only from the load balancer');
    this.nodePeer = group('NodePeer', 'Blockchain nodes: peer-to-peer within this environment only');
    this.fileSystem = group('FileSystem', 'EFS mount targets: NFS from this environment nodes only');
    this.functions = group('Functions', 'Lambda functions in the VPC: AWS APIs through endpoints only');
    this.endpoints = group('Endpoints', 'Interface VPC endpoints: HTTPS from nodes and functions only');

    if (props.internetFacing) {
      this.ingress.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(Ports.HTTPS), 'HTTPS from clients');
      this.ingress.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(Ports.HTTP_REDIRECT), 'HTTP, answered only with a redirect to HTTPS');
      for (const port of [Ports.HTTPS, Ports.HTTP_REDIRECT]) {
        const rule = this.ingress.node.findChild(`from 0.0.0.0_0:${port}`);
        const reason =
          port === Ports.HTTPS
            ? 'The internet-facing load balancer serves dApps on 443 (TLS, WAF, app credentials checked at the node gate).'
            : 'Port 80 on the internet-facing load balancer only answers with a redirect to HTTPS.';
        acknowledgeFinding(rule, { id: 'AwsSolutions-EC23', reason });
        if (port === Ports.HTTP_REDIRECT) skipCheckov(rule, ['CKV_AWS_260'], reason);
      }
    }
    this.ingress.connections.allowTo(this.nodeGate, ec2.Port.tcp(this.gatePort), 'Load balancer to node auth gate');

    for (const port of [ec2.Port.tcp(this.p2pPort), ec2.Port.udp(this.p2pPort)]) {
      this.nodePeer.connections.allowInternally(port, 'Peer-to-peer between nodes of this environment');
    }
    this.nodePeer.connections.allowTo(this.fileSystem, ec2.Port.tcp(Ports.NFS), 'Nodes mount their EFS storage');
    this.nodePeer.connections.allowTo(this.endpoints, ec2.Port.tcp(Ports.HTTPS), 'Nodes call AWS APIs via endpoints');
    this.functions.connections.allowTo(this.endpoints, ec2.Port.tcp(Ports.HTTPS), 'Functions call AWS APIs via endpoints');
  }

  /**
   * Opens an extra node-to-node port within this environment (e.g. Raft's 50400).
   */
  public allowBetweenNodes(port: ec2.Port, description: string): void {
    this.nodePeer.connections.allowInternally(port, description);
  }

  /**
   * Lets nodes reach S3 (client images' layers, OS packages) on 443 through the gateway endpoint,
   * by the region's S3 managed prefix list: the one egress rule of the environment that does not
   * name a security group.
   */
  public allowNodesToS3(s3PrefixListId: string): void {
    this.nodePeer.addEgressRule(ec2.Peer.prefixList(s3PrefixListId), ec2.Port.tcp(443), 'Nodes reach S3 via the gateway endpoint');
  }
}

function validatePort(prop: string, port: number): number {
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new Error(`EnvironmentSecurityGroups: ${prop} is ${port}; use an unprivileged port from 1024 to 65535`);
  }
  return port;
}
