import { Annotations, Aws, CfnResource, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ChainSpec, NodeRole, ResolvedChainNode, ResolvedChainSpec, resolveChainSpec } from '../chain/chain-spec';
import { CLIENT_PINS } from '../chain/client-pins';
import { ConsensusProtocol } from '../chain/protocols';
import { EnvironmentNetwork } from '../network/environment-network';
import { acknowledgeDeployTimeFunction } from '../security/deploy-time-function';
import { SinglePolicyRole } from '../security/single-policy-role';
import { BlockchainNode } from './blockchain-node';
import { NodeKeys } from './node-keys';
import { placeNodes, validatorSpreadWarning } from './node-placement';
import { acknowledgeFinding } from '../security/acknowledge';
import { EnvironmentTags } from '../contracts/tags';
import { nagArn } from '../security/nag-ids';

/** Props of {@link NodeFleet}. */
export interface NodeFleetProps {
  readonly tenantId: string;
  readonly environmentId: string;
  /** The environment's network. */
  readonly network: EnvironmentNetwork;
  /** The environment key. */
  readonly encryptionKey: kms.IKey;
  /** The chain: client, consensus, members, nodes. */
  readonly chain: ChainSpec;
  /**
   * Full client image URI.
   * @default - the pinned image of the client in this account's private ECR (see CLIENT_PINS)
   */
  readonly clientImage?: string;
  /** Removal policy of node storage. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** CloudFormation's limit of resources per stack (a nested stack has its own). */
export const MAX_RESOURCES_PER_STACK = 500;

/**
 * The environment's nodes: validates the chain at synth (combination, BFT size, ids, members),
 * places every node in a subnet derived from its own id (never from its position in the list),
 * creates one {@link BlockchainNode} per node (each with a peer interface whose address AWS
 * assigns once and keeps), and generates keys, genesis and the peer list at deploy. Nodes with a
 * `group` live in that group's nested stack (`Group-<group>`), so an environment can hold more
 * nodes than one stack's 500 resources allow; every stack is checked against that limit at synth.
 */
export class NodeFleet extends Construct {
  /** The nodes, in config order. */
  public readonly nodes: readonly BlockchainNode[];
  /** The chain with defaults applied. */
  public readonly chain: ResolvedChainSpec;
  /** The deploy-time keys and genesis. */
  public readonly keys: NodeKeys;
  /** The AWS Backup plan of the nodes' storage. */
  public readonly backupPlan: backup.BackupPlan;
  /** The role AWS Backup uses for this environment's selections (this environment's file systems only). */
  public readonly backupRole: iam.IRole;
  /** The nested stack of each node group, by group id (empty when no node has a group). */
  public readonly groupStacks: Readonly<Record<string, NestedStack>>;
  private readonly encryptionKey: kms.IKey;
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: NodeFleetProps) {
    super(scope, id);
    const { resolved, problems } = resolveChainSpec(props.chain, 'chain');
    if (!resolved) {
      throw new Error(`NodeFleet (${props.tenantId}/${props.environmentId}): invalid chain:\n  - ${problems.join('\n  - ')}`);
    }
    this.chain = resolved;
    this.encryptionKey = props.encryptionKey;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    resolved.warnings.forEach((w, i) => Annotations.of(this).addWarningV2(`blockchain-tenancy:chain-warning-${i}`, w));

    const { network } = props;
    const sgs = network.securityGroups;
    if (resolved.consensus === ConsensusProtocol.RAFT) {
      sgs.allowBetweenNodes(ec2.Port.tcp(50400), 'GoQuorum Raft between nodes of this environment');
    }
    network.addEndpoint('Ec2Endpoint', ec2.InterfaceVpcEndpointAwsService.EC2);
    network.addEndpoint('EcrEndpoint', ec2.InterfaceVpcEndpointAwsService.ECR);
    network.addEndpoint('EcrDockerEndpoint', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER);
    sgs.allowNodesToS3(this.lookUpS3PrefixList());

    const subnets = network.vpc.isolatedSubnets;
    // A node's subnet derives from its own id and its peer address is assigned by AWS to its own
    // peer interface: nothing of a node depends on the other nodes (ADR 14).
    const placement = placeNodes(
      resolved.nodes.map((n) => n.id),
      subnets.map((s) => s.ipv4CidrBlock),
    );
    const spread = validatorSpreadWarning(
      resolved.nodes.filter((n) => n.role === NodeRole.VALIDATOR).map((n) => n.id),
      subnets.length,
      subnets.map((s) => s.availabilityZone),
    );
    if (spread) Annotations.of(this).addWarningV2('blockchain-tenancy:validator-zone-spread', spread);
    const pin = CLIENT_PINS[resolved.client];
    const image = props.clientImage ?? `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${pin.repository}:${pin.tag}`;
    // One AWS Backup plan for the environment's node storage: daily, kept 35 days, in a vault
    // encrypted with the environment key.
    const vault = new backup.BackupVault(this, 'BackupVault', {
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.backupPlan = backup.BackupPlan.daily35DayRetention(this, 'BackupPlan', vault);
    // AWS Backup's role for this environment's selections, instead of the account-wide AWS managed
    // AWSBackupServiceRolePolicyForBackup (every resource type, every resource of the account):
    // back up only file systems tagged with this tenant and environment, into this vault, with
    // this environment's key.
    const stack = Stack.of(this);
    const backupIdentity = new SinglePolicyRole(this, 'BackupIdentity', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `AWS Backup of the node storage of ${props.tenantId}/${props.environmentId}`,
      statements: [
        new iam.PolicyStatement({
          sid: 'BackUpOwnEnvironmentFileSystems',
          actions: ['elasticfilesystem:Backup', 'elasticfilesystem:DescribeTags'],
          resources: [stack.formatArn({ service: 'elasticfilesystem', resource: 'file-system', resourceName: '*' })],
          conditions: { StringEquals: { [`aws:ResourceTag/${EnvironmentTags.TENANT}`]: props.tenantId, [`aws:ResourceTag/${EnvironmentTags.ENVIRONMENT}`]: props.environmentId } },
        }),
        new iam.PolicyStatement({ sid: 'IntoOwnVault', actions: ['backup:DescribeBackupVault', 'backup:CopyIntoBackupVault'], resources: [vault.backupVaultArn] }),
        new iam.PolicyStatement({ sid: 'OwnEnvironmentKey', actions: ['kms:DescribeKey', 'kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.encryptionKey.keyArn] }),
        new iam.PolicyStatement({
          sid: 'GrantsForAwsBackupOnOwnKey',
          actions: ['kms:CreateGrant'],
          resources: [props.encryptionKey.keyArn],
          conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
        }),
      ],
    });
    acknowledgeFinding(backupIdentity.policy, {
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, 'elasticfilesystem', 'file-system/*')}]`,
      reason: "File systems of node groups live in nested stacks and are added over time: bound by tag condition to this tenant's and this environment's file systems.",
    });
    // Immutable: BackupSelection would otherwise attach the AWS managed policy to the role it is given.
    this.backupRole = backupIdentity.role.withoutPolicyUpdates();
    const groupStacks: Record<string, NestedStack> = {};
    const scopeOf = (node: ResolvedChainNode): Construct => {
      if (node.group === undefined) return this;
      groupStacks[node.group] ??= new NestedStack(this, `Group-${node.group}`, {
        description: `blockchain-tenancy ${props.tenantId}/${props.environmentId}: node group ${node.group}`,
      });
      return groupStacks[node.group];
    };
    this.groupStacks = groupStacks;
    this.nodes = resolved.nodes.map(
      (node) =>
        new BlockchainNode(scopeOf(node), node.id, {
          tenantId: props.tenantId,
          environmentId: props.environmentId,
          node,
          chain: resolved,
          vpc: network.vpc,
          subnet: subnets[placement[node.id].subnet],
          securityGroups: sgs,
          encryptionKey: props.encryptionKey,
          image,
          ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
        }),
    );
    // The peer list (static nodes) is the environment's, written at deploy into the chain
    // manifest from every node's peer address; each node reads it at boot, so a node added or
    // removed changes the manifest only, never another node's launch template.
    this.keys = new NodeKeys(this, 'Keys', {
      tenantId: props.tenantId,
      environmentId: props.environmentId,
      encryptionKey: props.encryptionKey,
      chain: resolved,
      peerAddresses: Object.fromEntries(this.nodes.map((n) => [n.nodeId, n.peerIp])),
      p2pPort: sgs.p2pPort,
      ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
    });
    // Nodes of the environment stack start after the manifest exists. A node group's nested stack
    // cannot wait for it (the manifest reads the group's peer addresses: a cycle); its nodes' boot
    // scripts wait until the manifest lists them.
    for (const n of this.nodes) {
      if (n.group === undefined) n.autoScalingGroup.node.addDependency(this.keys.resource);
    }
    // CloudFormation allows 500 resources per stack (and per nested stack): refuse at synth with
    // the fix, before CDK's own generic error, and before a deploy would fail.
    this.node.addValidation({ validate: () => this.resourceLimitProblems() });
    const ungrouped = this.nodes.filter((n) => n.group === undefined);
    if (ungrouped.length) {
      this.backupPlan.addSelection('NodeStorage', {
        role: this.backupRole,
        resources: ungrouped.map((n) => backup.BackupResource.fromEfsFileSystem(n.fileSystem)),
      });
    }
    // Each group backs its own file systems up in the environment's plan (no cross-stack lists).
    for (const [group, groupStack] of Object.entries(groupStacks)) {
      new backup.BackupSelection(groupStack, 'NodeStorage', {
        backupPlan: this.backupPlan,
        role: this.backupRole,
        resources: this.nodes.filter((n) => n.group === group).map((n) => backup.BackupResource.fromEfsFileSystem(n.fileSystem)),
      });
    }
  }

  /**
   * Where resources that belong to one node (its alarms, its load balancer target) should live:
   * its group's nested stack, or undefined for nodes in the environment stack.
   */
  public groupScopeOf(node: BlockchainNode): NestedStack | undefined {
    return node.group === undefined ? undefined : this.groupStacks[node.group];
  }

  /** Problems with the 500-resources-per-stack limit, naming the fix. */
  private resourceLimitProblems(): string[] {
    const parent = Stack.of(this);
    const count = (s: Stack) => s.node.findAll().filter((c) => c instanceof CfnResource && Stack.of(c) === s).length;
    const problems: string[] = [];
    const groups = Object.keys(this.groupStacks);
    // Nodes in the environment stack: what one of them costs (its construct, its alarms, its routes).
    const ungrouped = this.nodes.filter((n) => n.group === undefined);
    const total = count(parent);
    if (total > MAX_RESOURCES_PER_STACK && ungrouped.length > 0) {
      const first = ungrouped[0].nodeId;
      // Its construct, its route (target group, rule, record) and its alarms, all keyed by its id.
      const marks = [`/${first}/`, `/${first}-Route/`, `/Alarm-${first}-`];
      const perNode = Math.max(
        1,
        parent.node.findAll().filter((c) => c instanceof CfnResource && Stack.of(c) === parent && marks.some((m) => c.node.path.includes(m))).length,
      );
      const fit = Math.max(1, ungrouped.length - Math.ceil((total - MAX_RESOURCES_PER_STACK) / perNode));
      problems.push(
        `chain.nodes: ${ungrouped.length} nodes in the environment's own stack make it ${total} CloudFormation resources (the limit is ${MAX_RESOURCES_PER_STACK}; each node adds about ${perNode}). ` +
          `Keep at most about ${fit} nodes there and put the others in node groups (chain.nodes[].group, e.g. "group-1"; each group is its own nested stack of up to about ${Math.floor((MAX_RESOURCES_PER_STACK - 10) / perNode)} nodes), ` +
          'or split the members\' nodes across several environments. Moving a deployed node into a group replaces its instance and its file system: group new nodes only.',
      );
    }
    for (const group of groups) {
      const stack = this.groupStacks[group];
      const members = this.nodes.filter((n) => n.group === group).length;
      const resources = count(stack);
      if (resources <= MAX_RESOURCES_PER_STACK) continue;
      const perNode = Math.ceil(resources / members);
      problems.push(
        `chain.nodes: node group "${group}" has ${members} nodes, which make its nested stack ${resources} CloudFormation resources (the limit is ${MAX_RESOURCES_PER_STACK}; each node adds about ${perNode}). ` +
          `Put at most about ${Math.floor((MAX_RESOURCES_PER_STACK - 10) / perNode)} nodes in one group: give the newest nodes another group (chain.nodes[].group). Moving a deployed node to another group replaces its instance and its file system.`,
      );
    }
    return problems;
  }

  /** The validators. */
  public get validators(): readonly BlockchainNode[] {
    return this.nodes.filter((n) => n.validator);
  }

  /**
   * The region's S3 managed prefix list id, looked up at deploy time (it differs per region and
   * cannot be known offline at synth).
   */
  private lookUpS3PrefixList(): string {
    const stack = Stack.of(this);
    const call: cr.AwsSdkCall = {
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${stack.region}.s3`] }] },
      physicalResourceId: cr.PhysicalResourceId.of(`s3-prefix-list-${stack.region}`),
      outputPaths: ['PrefixLists.0.PrefixListId'],
    };
    const logGroup = new logs.LogGroup(this, 'S3PrefixListLogs', {
      encryptionKey: this.encryptionKey,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: this.removalPolicy,
    });
    const identity = new SinglePolicyRole(this, 'S3PrefixListIdentity', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Looks up the region S3 prefix list id at deploy time',
      statements: [
        new iam.PolicyStatement({ actions: ['ec2:DescribeManagedPrefixLists'], resources: ['*'] }),
        new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
      ],
    });
    acknowledgeFinding(identity.policy, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ec2:DescribeManagedPrefixLists supports no resource-level permissions; the call is read-only and runs at deploy time.',
    });
    const lookup = new cr.AwsCustomResource(this, 'S3PrefixList', {
      onCreate: call,
      onUpdate: call,
      installLatestAwsSdk: false,
      role: identity.role,
      logGroup,
    });
    const singleton = stack.node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
    if (singleton) {
      acknowledgeDeployTimeFunction(singleton, 'S3 prefix-list lookup, aws-cdk-lib AwsCustomResource');
    }
    return lookup.getResponseField('PrefixLists.0.PrefixListId');
  }
}
