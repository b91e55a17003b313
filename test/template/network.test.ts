import { readFileSync } from 'node:fs';
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { BlockchainEnvironment, EnvironmentTags, Ports } from '../../lib';
import { buildTenantApp, templates, testApp } from '../support/synth';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

const { stacks } = buildTenantApp(JSON.parse(readFileSync('test/fixtures/large-tenants.json', 'utf8')));
const byName = templates(stacks);
/** The fixture's environments with `ingress` (the others must have no internet path). */
const withIngress = new Set(['AcmeProd', 'GlobexProdUs', 'InitechQa']);
const resourcesOf = (t: Template) => t.toJSON().Resources as Resources;
const ofType = (t: Template, type: string) => Object.entries(resourcesOf(t)).filter(([, r]) => r.Type === type);
const logicalIdOfType = (t: Template, type: string, idPart: string) => {
  const hits = ofType(t, type).filter(([id]) => id.includes(idPart));
  expect(hits, `${type} with "${idPart}"`).toHaveLength(1);
  return hits[0][0];
};

describe('each environment stack', () => {
  it('is named <Tenant><Environment> and tagged with tenant and environment', () => {
    expect([...byName.keys()]).toEqual(['AcmeDev', 'AcmeProd', 'GlobexStaging', 'GlobexProdUs', 'InitechQa']);
    const prod = stacks.find((s) => s.stackName === 'AcmeProd')!;
    expect(prod.tags.tagValues()).toMatchObject({
      [EnvironmentTags.TENANT]: 'acme',
      [EnvironmentTags.ENVIRONMENT]: 'prod',
      'blockchain-tenancy:tenant-name': 'Acme Corp',
    });
    expect(prod.region).toBe('eu-west-1');
    expect(prod.account).toBe('123456789012');
  });

  it.each([...byName.entries()])('%s has exactly one VPC, no NAT, no peering, nothing imported', (_name, t) => {
    t.resourceCountIs('AWS::EC2::VPC', 1);
    for (const type of [
      'AWS::EC2::NatGateway',
      'AWS::EC2::VPCPeeringConnection',
      'AWS::EC2::TransitGatewayAttachment',
      'AWS::EC2::EgressOnlyInternetGateway',
      'AWS::EC2::VPNGateway',
    ]) {
      t.resourceCountIs(type, 0);
    }
    expect(JSON.stringify(t.toJSON())).not.toContain('Fn::ImportValue');
  });

  it.each([...byName.entries()])('%s opens only 443 and 80 to the internet, on the load balancer group, and only with ingress', (name, t) => {
    const ingressGroup = logicalIdOfType(t, 'AWS::EC2::SecurityGroup', 'SecurityGroupsIngress');
    const open = ofType(t, 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties!)
      .filter((p) => p.CidrIp === '0.0.0.0/0' || p.CidrIpv6 === '::/0')
      .map((p) => ({ group: (p.GroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0], from: p.FromPort, to: p.ToPort }));
    expect(withIngress.has(name), 'fixture: ingress').toBe(stacks.find((s) => s.stackName === name)!.blockchainEnvironment.ingress !== undefined);
    expect(open).toEqual(
      withIngress.has(name)
        ? [
            { group: ingressGroup, from: 443, to: 443 },
            { group: ingressGroup, from: 80, to: 80 },
          ]
        : [],
    );
    // No group carries inline rules that could hide an open port.
    for (const [, sg] of ofType(t, 'AWS::EC2::SecurityGroup')) {
      expect(sg.Properties!.SecurityGroupIngress).toBeUndefined();
    }
  });

  it.each([...byName.entries()])('%s has no egress to the internet from any group', (_name, t) => {
    let prefixListRules = 0;
    for (const [, r] of ofType(t, 'AWS::EC2::SecurityGroupEgress')) {
      const p = r.Properties!;
      if (p.DestinationPrefixListId !== undefined) {
        // The one rule that names no group: nodes to S3 through the gateway endpoint, by the
        // region's S3 prefix list (looked up at deploy time).
        expect(p).toMatchObject({ FromPort: 443, ToPort: 443, IpProtocol: 'tcp', Description: 'Nodes reach S3 via the gateway endpoint' });
        expect((p.GroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]).toMatch(/SecurityGroupsNodePeer/);
        expect(JSON.stringify(p.DestinationPrefixListId)).toMatch(/S3PrefixList/);
        prefixListRules++;
      } else if (p.CidrIp !== undefined) {
        // allowAllOutbound: false renders CDK's "disallow all" placeholder (ICMP type 252 to a
        // broadcast address), never a real destination.
        expect(p).toMatchObject({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 });
      } else {
        expect(p.DestinationSecurityGroupId).toBeDefined();
      }
      expect(p.CidrIpv6).toBeUndefined();
    }
    expect(prefixListRules).toBe(1);
    for (const [, sg] of ofType(t, 'AWS::EC2::SecurityGroup')) {
      expect(sg.Properties!.SecurityGroupEgress).toBeUndefined();
    }
  });

  it.each([...byName.entries()].filter(([name]) => !withIngress.has(name)))('%s (no ingress) has no internet path at all: no gateway, no public subnet, no route', (_name, t) => {
    for (const type of ['AWS::EC2::InternetGateway', 'AWS::EC2::VPCGatewayAttachment', 'AWS::EC2::Route', 'AWS::EC2::EIP']) t.resourceCountIs(type, 0);
    expect(ofType(t, 'AWS::EC2::Subnet').map(([id]) => id).filter((id) => !id.includes('VpcPrivateSubnet'))).toEqual([]);
    expect(ofType(t, 'AWS::EC2::RouteTable').map(([id]) => id).filter((id) => !id.includes('VpcPrivateSubnet'))).toEqual([]);
    expect(ofType(t, 'AWS::EC2::Subnet').length).toBeGreaterThanOrEqual(2);
  });

  it.each([...byName.entries()].filter(([name]) => withIngress.has(name)))('%s routes 0.0.0.0/0 only from the public (load balancer) subnets', (_name, t) => {
    t.resourceCountIs('AWS::EC2::InternetGateway', 1);
    const routes = ofType(t, 'AWS::EC2::Route').map(([, r]) => r.Properties!);
    const publicTables = ofType(t, 'AWS::EC2::RouteTable')
      .filter(([id]) => id.includes('VpcIngressSubnet'))
      .map(([id]) => id);
    const privateTables = ofType(t, 'AWS::EC2::RouteTable')
      .filter(([id]) => id.includes('VpcPrivateSubnet'))
      .map(([id]) => id);
    expect(privateTables.length).toBeGreaterThanOrEqual(2);
    expect(publicTables.length).toBe(privateTables.length);
    for (const route of routes) {
      expect(publicTables).toContain((route.RouteTableId as { Ref: string }).Ref);
      expect(route.GatewayId).toBeDefined();
    }
    expect(routes).toHaveLength(publicTables.length);
    // The private subnets never auto-assign public IPs, and neither do the public ones.
    for (const [, subnet] of ofType(t, 'AWS::EC2::Subnet')) {
      expect(subnet.Properties!.MapPublicIpOnLaunch).toBe(false);
    }
  });

  it.each([...byName.entries()])('%s writes encrypted flow logs with retention and closes the default group', (_name, t) => {
    const key = logicalIdOfType(t, 'AWS::KMS::Key', 'EnvironmentKey');
    const logGroup = logicalIdOfType(t, 'AWS::Logs::LogGroup', 'FlowLogs');
    t.hasResource('AWS::Logs::LogGroup', {
      Properties: { KmsKeyId: { 'Fn::GetAtt': [key, 'Arn'] }, RetentionInDays: Match.anyValue() },
      DeletionPolicy: Match.anyValue(),
    });
    t.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: logGroup },
    });
    t.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
    // The flow log role has no inline policy; its managed policy writes to this group only.
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            // Sorted: cdk.json's @aws-cdk/aws-iam:minimizePolicies sorts and merges statements.
            Action: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] },
          }),
        ],
      },
    });
  });

  it.each([...byName.entries()])('%s has its own rotating, retained KMS key', (name, t) => {
    t.resourceCountIs('AWS::KMS::Key', 1);
    const destroy = name === 'GlobexStaging';
    t.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, PendingWindowInDays: 30 },
      DeletionPolicy: destroy ? 'Delete' : 'Retain',
      UpdateReplacePolicy: destroy ? 'Delete' : 'Retain',
    });
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: destroy ? 'Delete' : 'Retain' });
  });

  it.each([...byName.entries()])('%s reaches AWS APIs through private endpoints on 443 from nodes and functions only', (name, t) => {
    const endpointsGroup = logicalIdOfType(t, 'AWS::EC2::SecurityGroup', 'SecurityGroupsEndpoints');
    const nodePeer = logicalIdOfType(t, 'AWS::EC2::SecurityGroup', 'SecurityGroupsNodePeer');
    const functions = logicalIdOfType(t, 'AWS::EC2::SecurityGroup', 'SecurityGroupsFunctions');
    const interfaces = ofType(t, 'AWS::EC2::VPCEndpoint').filter(([, r]) => r.Properties!.VpcEndpointType === 'Interface');
    // 8 base endpoints + EC2 (peer interface attach) + ECR API + ECR Docker (client images).
    void name;
    expect(interfaces).toHaveLength(11);
    for (const [, r] of interfaces) {
      expect(r.Properties!.PrivateDnsEnabled).toBe(true);
      expect(r.Properties!.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [endpointsGroup, 'GroupId'] }]);
    }
    t.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 1);
    const intoEndpoints = ofType(t, 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties!)
      .filter((p) => (p.GroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] === endpointsGroup)
      .map((p) => [(p.SourceSecurityGroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0], p.FromPort, p.ToPort]);
    expect(intoEndpoints.sort()).toEqual([
      [functions, 443, 443],
      [nodePeer, 443, 443],
    ].sort());
  });

  it.each([...byName.entries()])('%s lets the S3 gateway endpoint reach only OS repositories, ECR layers and its own node programs', (name, t) => {
    const [[, endpoint]] = ofType(t, 'AWS::EC2::VPCEndpoint').filter(([, r]) => r.Properties!.VpcEndpointType === 'Gateway');
    const statements = (endpoint.Properties!.PolicyDocument as { Statement: { Sid: string; Effect: string; Action: string; Principal: unknown; Resource: unknown }[] }).Statement;
    const stack = stacks.find((s) => s.stackName === name)!;
    const bucket = (b: string) => stack.resolve(`arn:${stack.partition}:s3:::${b}/*`) as unknown;
    const expected: Record<string, unknown[]> = { AmazonLinuxRepositories: [bucket(`al2023-repos-${stack.region}-de612dc2`)] };
    if (stack.blockchainEnvironment.network.interfaceEndpoints['ecr.dkr']) expected.EcrImageLayers = [bucket(`prod-${stack.region}-starport-layer-bucket`)];
    for (const s of statements) {
      expect(s).toMatchObject({ Effect: 'Allow', Action: 's3:GetObject', Principal: { AWS: '*' } });
    }
    const programs = statements.find((s) => s.Sid === 'EnvironmentNodePrograms');
    expect(programs, 'node programs').toBeDefined();
    // Exactly the two node-program objects of this stack's own asset bucket, by key.
    const objects = JSON.stringify(programs!.Resource);
    expect(objects).toContain('cdk-hnb659fds-assets-');
    expect(objects.match(/\.zip/g)).toHaveLength(2);
    expect(Object.fromEntries(statements.filter((s) => s.Sid !== 'EnvironmentNodePrograms').map((s) => [s.Sid, [s.Resource].flat()]))).toEqual(expected);
  });

  it('keeps the private subnets (node addresses, mount targets) where they are when ingress is added', () => {
    const cidrs = (ingress: boolean) => {
      const stack = new Stack(testApp(), 'Plan', { env: { region: 'eu-west-1' } });
      new BlockchainEnvironment(stack, 'Env', {
        tenantId: 'acme',
        environmentId: 'dev',
        cidr: '10.40.0.0/16',
        chain: {},
        ...(ingress ? { ingress: { certificate: acm.Certificate.fromCertificateArn(stack, 'C', 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6b8a1e-1111-4c3e-9a55-2f0d7d0c1a2b') } } : {}),
      });
      return Object.fromEntries(
        ofType(Template.fromStack(stack), 'AWS::EC2::Subnet')
          .filter(([id]) => id.includes('VpcPrivateSubnet'))
          .map(([id, r]) => [id, r.Properties!.CidrBlock]),
      );
    };
    const without = cidrs(false);
    expect(Object.keys(without)).toHaveLength(2);
    expect(cidrs(true)).toEqual(without);
  });

  it('uses 3 availability zones when the config lists 3', () => {
    const t = byName.get('AcmeProd')!;
    t.resourceCountIs('AWS::EC2::Subnet', 6);
    t.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'eu-west-1c' });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 731 });
  });

  it('keeps node traffic inside the environment', () => {
    const t = byName.get('AcmeDev')!;
    const gate = logicalIdOfType(t, 'AWS::EC2::SecurityGroup', 'SecurityGroupsNodeGate');
    const ingress = logicalIdOfType(t, 'AWS::EC2::SecurityGroup', 'SecurityGroupsIngress');
    const peer = logicalIdOfType(t, 'AWS::EC2::SecurityGroup', 'SecurityGroupsNodePeer');
    const fs = logicalIdOfType(t, 'AWS::EC2::SecurityGroup', 'SecurityGroupsFileSystem');
    const rules = ofType(t, 'AWS::EC2::SecurityGroupIngress')
      .map(([, r]) => r.Properties!)
      .filter((p) => p.SourceSecurityGroupId)
      .map((p) => ({
        to: (p.GroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0],
        from: (p.SourceSecurityGroupId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0],
        proto: p.IpProtocol,
        port: p.FromPort,
      }));
    expect(rules).toEqual(
      expect.arrayContaining([
        { to: gate, from: ingress, proto: 'tcp', port: Ports.NODE_GATE },
        { to: peer, from: peer, proto: 'tcp', port: Ports.P2P },
        { to: peer, from: peer, proto: 'udp', port: Ports.P2P },
        { to: fs, from: peer, proto: 'tcp', port: Ports.NFS },
      ]),
    );
    // The gate is reachable from the load balancer only.
    expect(rules.filter((r) => r.to === gate)).toHaveLength(1);
  });

  it('tags every taggable resource with tenant and environment', () => {
    const t = byName.get('GlobexProdUs')!;
    for (const type of ['AWS::EC2::VPC', 'AWS::EC2::SecurityGroup', 'AWS::KMS::Key', 'AWS::EC2::Subnet', 'AWS::Logs::LogGroup']) {
      t.allResourcesProperties(type, {
        Tags: Match.arrayWith([
          { Key: EnvironmentTags.ENVIRONMENT, Value: 'prod-us' },
          { Key: EnvironmentTags.TENANT, Value: 'globex' },
        ]),
      });
    }
  });
});

describe('two environments in one app', () => {
  it('share no VPC, security group, key or any other resource', () => {
    const [a, b] = [byName.get('AcmeDev')!, byName.get('AcmeProd')!];
    const physical = (t: Template) =>
      new Set(
        Object.values(resourcesOf(t)).flatMap((r) =>
          JSON.stringify(r.Properties ?? {}).match(/(vpc|sg|subnet|key)-[0-9a-f]{8,}/g) ?? [],
        ),
      );
    // No hard-coded ids of the other stack's resources, and no references across stacks.
    expect([...physical(a)]).toEqual([]);
    expect([...physical(b)]).toEqual([]);
    for (const t of [a, b]) {
      const ids = new Set([...Object.keys(resourcesOf(t)), ...Object.keys(t.toJSON().Parameters ?? {})]);
      const refs = JSON.stringify(t.toJSON().Resources).match(/"(?:Ref|Fn::GetAtt)":\s*\[?"([A-Za-z0-9]+)"/g) ?? [];
      for (const ref of refs) {
        const id = /"([A-Za-z0-9]+)"$/.exec(ref)![1];
        if (id.startsWith('AWS')) continue;
        expect(ids.has(id) || id === 'BootstrapVersion', `${ref} resolves in its own stack`).toBe(true);
      }
    }
    // Keys are distinct resources with distinct aliases.
    const alias = (t: Template) => ofType(t, 'AWS::KMS::Alias')[0][1].Properties!.AliasName;
    expect(alias(a)).toBe('alias/blockchain-tenancy/acme/dev');
    expect(alias(b)).toBe('alias/blockchain-tenancy/acme/prod');
  });
});

describe('BlockchainEnvironment props validation', () => {
  const make = (props: Partial<ConstructorParameters<typeof BlockchainEnvironment>[2]>) => {
    const stack = new Stack(testApp(), 'S');
    return new BlockchainEnvironment(stack, 'Env', { tenantId: 'acme', environmentId: 'dev', ...props });
  };

  it('names the prop, the value and the fix', () => {
    expect(() => make({ tenantId: 'Acme' })).toThrow(/tenantId "Acme" is not valid; use 2-24 characters/);
    expect(() => make({ environmentId: 'x' })).toThrow(/environmentId "x" is not valid/);
    expect(() => make({ cidr: '10.0.0.0/8' })).toThrow(/cidr "10.0.0.0\/8" is \/8; use a \/16 to \/24 block/);
    expect(() => make({ cidr: 'ten' })).toThrow(/cidr "ten" is not an IPv4 CIDR block/);
    expect(() => make({ maxAzs: 4 })).toThrow(/maxAzs is 4 zone\(s\); use 2 or 3/);
    expect(() => make({ maxAzs: 2, availabilityZones: ['a', 'b'] })).toThrow(/either availabilityZones or maxAzs/);
  });

  it('uses a key passed in instead of creating one, and exposes connections on 443', () => {
    const stack = new Stack(testApp(), 'S');
    const key = new kms.Key(stack, 'Shared', { enableKeyRotation: true, removalPolicy: RemovalPolicy.RETAIN });
    const env = new BlockchainEnvironment(stack, 'Env', { tenantId: 'acme', environmentId: 'dev', encryptionKey: key });
    expect(env.encryptionKey).toBe(key);
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 1);
    expect(env.connections.defaultPort?.toString()).toBe('443');
    expect(env.connections.securityGroups).toEqual([env.securityGroups.ingress]);
  });
});
