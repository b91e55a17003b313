import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import {
  BlockchainClient,
  BlockchainEnvironment,
  COMPATIBILITY,
  ChainSpec,
  ConsensusProtocol,
  EnvironmentTags,
  NodeRole,
  SupportLevel,
  nodeSubnetIndex,
  placeNodes,
  validatorSpreadWarning,
} from '../../lib';
import { testApp } from '../support/synth';

const app = testApp();
const runnable = COMPATIBILITY.filter((e) => e.level !== SupportLevel.UNSUPPORTED);
const stacks = runnable.map((row, i) => {
  const stack = new Stack(app, `Row${i}`);
  const env = new BlockchainEnvironment(stack, 'Env', {
    tenantId: 'acme',
    environmentId: `row${i}`,
    cidr: `10.${20 + i}.0.0/16`,
    chain: { client: row.client, consensus: row.consensus, allowDeprecated: row.level === SupportLevel.DEPRECATED },
  });
  return { row, stack, env };
}).map((s) => ({ ...s, template: Template.fromStack(s.stack) }));

describe.each(stacks.map((s) => [`${s.row.client} + ${s.row.consensus}`, s] as const))('%s', (_name, { row, stack, env, template }) => {
  const nodeCount = env.nodes!.nodes.length;

  it('runs every node as a self-healing ASG of one from a hardened launch template', () => {
    template.resourcePropertiesCountIs('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1', MaxSize: '1' }, nodeCount);
    template.allResourcesProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: Match.objectLike({ HttpTokens: 'required' }),
        Monitoring: { Enabled: true },
        BlockDeviceMappings: [Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) })],
        KeyName: Match.absent(),
      }),
    });
  });

  it('gives every node its own encrypted, elastic file system with a TLS-only policy and an access point, retained and backed up', () => {
    template.resourceCountIs('AWS::EFS::FileSystem', nodeCount);
    const key = stack.resolve(env.encryptionKey.keyArn);
    template.allResources('AWS::EFS::FileSystem', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        Encrypted: true,
        KmsKeyId: key,
        ThroughputMode: 'elastic',
        FileSystemPolicy: Match.objectLike({
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        }),
      }),
    });
    template.resourceCountIs('AWS::EFS::AccessPoint', nodeCount);
    // The file-system policy allows nobody anything by itself: mounting needs an identity allow
    // (the node's own role, through its access point); nobody gets root access.
    for (const fs of Object.values(template.findResources('AWS::EFS::FileSystem'))) {
      const statements = fs.Properties.FileSystemPolicy.Statement as { Effect: string; Action: unknown }[];
      expect(statements.filter((st) => st.Effect === 'Allow')).toEqual([]);
      expect(statements).toEqual(expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 'elasticfilesystem:ClientRootAccess' })]));
    }
    const nodePolicy = JSON.stringify(Object.values(template.findResources('AWS::IAM::ManagedPolicy')).find((p) => JSON.stringify(p).includes('MountOwnStorage')));
    expect(nodePolicy).toContain('elasticfilesystem:AccessPointArn');
    const selections = Object.values(template.findResources('AWS::Backup::BackupSelection'));
    expect(selections).toHaveLength(1);
    expect(selections[0].Properties.BackupSelection.Resources).toHaveLength(nodeCount);
  });

  it('binds JSON-RPC to 127.0.0.1 only and gives each node its own peer interface, addressed by AWS', () => {
    const userData = JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'));
    if (row.client === BlockchainClient.BESU) {
      expect(userData).toContain('--rpc-http-host=127.0.0.1');
      expect(userData).toContain('--rpc-ws-host=127.0.0.1');
    } else {
      expect(userData).toContain('--http.addr=127.0.0.1');
      expect(userData).toContain('--ws.addr=127.0.0.1');
    }
    expect(userData).not.toMatch(/0\.0\.0\.0:854[56]|--(rpc-http-host|http\.addr)=0\.0\.0\.0/);
    const interfaces = Object.values(template.findResources('AWS::EC2::NetworkInterface'));
    expect(interfaces).toHaveLength(nodeCount);
    // No fixed address (AWS assigns one per interface: no collisions, nothing positional); the
    // manifest gets each interface's address at deploy.
    expect(interfaces.map((r) => r.Properties.PrivateIpAddress)).toEqual(interfaces.map(() => undefined));
    expect(JSON.stringify(template.findResources('Custom::BlockchainNodeKeys'))).toContain('PrimaryPrivateIpAddress');
    expect(userData).not.toMatch(/--(p2p-host|nat=extip:)\d/);
  });

  it('generates keys and genesis at deploy time with only public inputs', () => {
    template.hasResourceProperties('Custom::BlockchainNodeKeys', {
      Client: row.client,
      Consensus: row.consensus,
      Nodes: Match.arrayWith([Match.objectLike({ Id: 'validator-1', Validator: 'true' })]),
    });
  });

  it('tags node groups and storage with node and member', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.arrayWith([
        { Key: EnvironmentTags.MEMBER, PropagateAtLaunch: true, Value: 'default' },
        { Key: EnvironmentTags.NODE, PropagateAtLaunch: true, Value: 'validator-1' },
      ]),
    });
  });

  it(`${row.level === SupportLevel.SUPPORTED ? 'does not warn' : 'warns with the reason'} at synth`, () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('.*'));
    if (row.level === SupportLevel.SUPPORTED) expect(warnings).toEqual([]);
    else expect(warnings.map((w) => String(w.entry.data))).toEqual(expect.arrayContaining([expect.stringContaining(row.reason.slice(0, 40))]));
  });

  if (row.consensus === ConsensusProtocol.RAFT) {
    it('opens Raft 50400 between nodes only', () => {
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 50400, ToPort: 50400, IpProtocol: 'tcp' });
    });
  }
});

describe('refused at synth with a message naming the prop and the fix', () => {
  const refused = COMPATIBILITY.filter((e) => e.level === SupportLevel.UNSUPPORTED);
  const make = (chain: ChainSpec) => () =>
    new BlockchainEnvironment(new Stack(testApp(), 'S'), 'Env', { tenantId: 'acme', environmentId: 'dev', chain });

  it.each(refused.map((r) => [`${r.client} + ${r.consensus}`, r] as const))('%s', (_n, r) => {
    expect(make({ client: r.client, consensus: r.consensus })).toThrow(new RegExp(`chain\\.consensus: ${r.client} cannot run "${r.consensus}"`));
  });

  it('deprecated combinations without the opt-in', () => {
    expect(make({ client: BlockchainClient.BESU, consensus: ConsensusProtocol.CLIQUE })).toThrow(/set chain\.allowDeprecated to true/);
  });

  it('a BFT network below 4 validators', () => {
    const nodes = [1, 2, 3].map((i) => ({ id: `v-${i}`, member: 'default', role: NodeRole.VALIDATOR }));
    expect(make({ nodes })).toThrow(/chain\.nodes: 3 validator\(s\) for qbft; a BFT network needs n >= 3f\+1/);
  });

  it('duplicate node ids and nodes of unknown members', () => {
    const nodes = [1, 2, 3, 4].map((i) => ({ id: `v-${i}`, member: 'default', role: NodeRole.VALIDATOR }));
    expect(make({ nodes: [...nodes, { id: 'v-1', member: 'default', role: NodeRole.MEMBER }] })).toThrow(/chain\.nodes\[4\]\.id: duplicate node id "v-1"/);
    expect(make({ nodes: [...nodes, { id: 'm-1', member: 'globex', role: NodeRole.MEMBER }] })).toThrow(/chain\.nodes\[4\]\.member: "globex" is not a member/);
  });
});

describe('node placement', () => {
  it('puts numbered nodes in zones by their number and other ids by a hash of the id alone', () => {
    expect(['validator-1', 'validator-2', 'validator-3', 'validator-4', 'rpc-007'].map((id) => nodeSubnetIndex(id, 3))).toEqual([0, 1, 2, 0, 0]);
    expect(['validator-1', 'validator-2', 'validator-3', 'validator-4'].map((id) => nodeSubnetIndex(id, 2))).toEqual([0, 1, 0, 1]);
    // Pinned: a change here moves deployed nodes to another zone.
    expect(['node-a', 'node-b', 'node-c', 'node-d', 'node-e', 'alpha'].map((id) => nodeSubnetIndex(id, 3))).toEqual([0, 0, 0, 2, 1, 1]);
    // Other nodes, and the order of the list, do not matter.
    const subnets = ['10.0.128.0/18', '10.0.192.0/18', '10.0.64.0/18'];
    const all = placeNodes(['node-b', 'validator-2', 'node-a', 'node-e', 'validator-1'], subnets);
    expect(all).toEqual({ 'node-a': { subnet: 0 }, 'node-b': { subnet: 0 }, 'node-e': { subnet: 1 }, 'validator-1': { subnet: 0 }, 'validator-2': { subnet: 1 } });
    expect(placeNodes(['validator-1', 'node-e'], subnets)).toEqual({ 'node-e': all['node-e'], 'validator-1': all['validator-1'] });
  });

  it('warn when the validators crowd one zone more than they need to, naming them, the zone and the fix', () => {
    expect(validatorSpreadWarning(['validator-1', 'validator-2', 'validator-3', 'validator-4'], 3, ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'])).toBeUndefined();
    expect(validatorSpreadWarning(['node-a', 'node-b', 'node-c', 'node-d'], 3, ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'])).toBe(
      'chain.nodes: the validators are unevenly spread over the 3 availability zones (node-a, node-b, node-c in eu-west-1a; at most 2 per zone is possible), so losing one zone stops more validators than necessary. ' +
        "A node's zone derives from its id: ids ending in a number spread by that number (validator-1, validator-2, ... take the zones in turn). Name new validators that way; a deployed node keeps its zone.",
    );
  });

  it('refuse more nodes in a subnet than it has room for, naming the subnet, the nodes and the fix', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `n${i + 1}`);
    expect(() => placeNodes(ids, ['10.0.0.224/27', '10.0.0.192/27'])).toThrow(
      /10 nodes fall in private subnet 10\.0\.0\.224\/27 \(n1, n3, n5, n7, n9, \.\.\.\), which has room for 8; use a larger environment cidr/,
    );
  });
});

describe('CloudFormation resource limit', () => {
  it('refuses at synth an environment whose stack would exceed 500 resources, naming the prop and the fix', () => {
    const stack = new Stack(testApp(), 'Big', { env: { region: 'eu-west-1' } });
    const nodes = Array.from({ length: 30 }, (_, i) => ({ id: `node-${i}`, member: 'default', role: NodeRole.VALIDATOR }));
    new BlockchainEnvironment(stack, 'Env', { tenantId: 'acme', environmentId: 'big', chain: { nodes } });
    expect(() => Template.fromStack(stack)).toThrow(/chain\.nodes: 30 nodes in the environment's own stack make it \d+ CloudFormation resources \(the limit is 500; each node adds about \d+\)\. Keep at most about \d+ nodes there and put the others in node groups/);
  });
});

describe('deliberate access to a node\'s data', () => {
  it('grantDataRead opens NFS from the workload and read-only mount on that node\'s file system only', () => {
    const stack = new Stack(testApp(), 'Reader');
    const env = new BlockchainEnvironment(stack, 'Env', { tenantId: 'acme', environmentId: 'dev', chain: {} });
    const role = new iam.Role(stack, 'AnalyticsRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    const sg = new ec2.SecurityGroup(stack, 'AnalyticsGroup', { vpc: env.vpc, allowAllOutbound: false });
    const workload = Object.assign(role, { connections: new ec2.Connections({ securityGroups: [sg] }) });
    env.nodes!.nodes[1].grantDataRead(workload);
    const t = Template.fromStack(stack);
    const policy = JSON.stringify(t.findResources('AWS::IAM::Policy'));
    expect(policy).toContain('elasticfilesystem:ClientMount');
    expect(policy).not.toContain('elasticfilesystem:ClientWrite');
    expect(policy).toContain(stack.resolve(env.nodes!.nodes[1].fileSystem.fileSystemArn)['Fn::GetAtt'][0]);
    expect(policy).not.toContain(stack.resolve(env.nodes!.nodes[0].fileSystem.fileSystemArn)['Fn::GetAtt'][0]);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 2049, SourceSecurityGroupId: { 'Fn::GetAtt': [stack.getLogicalId(sg.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] } });
  });
});
