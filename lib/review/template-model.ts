/**
 * Pure readers over a synthesized CloudFormation template (JSON), for the review report. No CDK
 * synthesis here: the input is the template the user would deploy.
 */

export interface CfnTemplate {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; Metadata?: Record<string, unknown> }>;
}

type Props = Record<string, unknown>;
const ref = (v: unknown): string | undefined => {
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return o.Ref;
    if (Array.isArray(o['Fn::GetAtt'])) return String((o['Fn::GetAtt'] as unknown[])[0]);
  }
  return undefined;
};
const of = (t: CfnTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type) as [string, { Type: string; Properties: Props; DeletionPolicy?: string; Metadata?: Record<string, unknown> }][];
/** A readable name for a logical id: the construct path is not in the template, so strip the hash. */
export const shortName = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

/** One security-group rule. */
export interface SecurityGroupRule {
  readonly group: string;
  readonly direction: 'in' | 'out';
  readonly peer: string;
  readonly protocol: string;
  readonly ports: string;
  readonly description: string;
}

export function securityGroupRules(t: CfnTemplate): SecurityGroupRule[] {
  const rows: SecurityGroupRule[] = [];
  const peerOf = (p: Props, direction: 'in' | 'out') =>
    (direction === 'in' ? ref(p.SourceSecurityGroupId) : ref(p.DestinationSecurityGroupId)) ??
    (p.CidrIp as string | undefined) ??
    (p.CidrIpv6 as string | undefined) ??
    (p.SourcePrefixListId || p.DestinationPrefixListId ? 'prefix list (S3)' : '?');
  const ports = (p: Props) => (p.IpProtocol === '-1' ? 'all' : p.FromPort === p.ToPort ? String(p.FromPort) : `${p.FromPort}-${p.ToPort}`);
  for (const [direction, type] of [['in', 'AWS::EC2::SecurityGroupIngress'], ['out', 'AWS::EC2::SecurityGroupEgress']] as const) {
    for (const [, r] of of(t, type)) {
      const p = r.Properties;
      if (p.CidrIp === '255.255.255.255/32' && p.IpProtocol === 'icmp') continue; // CDK's "no egress" placeholder
      rows.push({ group: shortName(ref(p.GroupId) ?? '?'), direction, peer: shortName(String(peerOf(p, direction))), protocol: String(p.IpProtocol), ports: ports(p), description: String(p.Description ?? '') });
    }
  }
  for (const [id, r] of of(t, 'AWS::EC2::SecurityGroup')) {
    for (const p of (r.Properties.SecurityGroupIngress as Props[] | undefined) ?? []) {
      rows.push({ group: shortName(id), direction: 'in', peer: shortName(String(peerOf(p, 'in'))), protocol: String(p.IpProtocol), ports: ports(p), description: String(p.Description ?? '') });
    }
  }
  return rows;
}

/** What the internet can reach. */
export interface Exposure {
  readonly loadBalancers: { readonly id: string; readonly scheme: string }[];
  readonly listeners: { readonly port: number; readonly protocol: string; readonly sslPolicy?: string; readonly action: string }[];
  readonly openRules: SecurityGroupRule[];
  readonly wafRules: string[];
  readonly wafAssociated: boolean;
}

export function exposure(t: CfnTemplate): Exposure {
  const acl = of(t, 'AWS::WAFv2::WebACL')[0];
  return {
    loadBalancers: of(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').map(([id, r]) => ({ id: shortName(id), scheme: String(r.Properties.Scheme ?? 'internal') })),
    listeners: of(t, 'AWS::ElasticLoadBalancingV2::Listener').map(([, r]) => ({
      port: Number(r.Properties.Port),
      protocol: String(r.Properties.Protocol),
      ...(r.Properties.SslPolicy ? { sslPolicy: String(r.Properties.SslPolicy) } : {}),
      action: String(((r.Properties.DefaultActions as Props[])?.[0] ?? {}).Type ?? '?'),
    })),
    openRules: securityGroupRules(t).filter((r) => r.direction === 'in' && (r.peer === '0.0.0.0/0' || r.peer === '::/0')),
    wafRules: acl ? ((acl[1].Properties.Rules as Props[]) ?? []).map((r) => String(r.Name)) : [],
    wafAssociated: of(t, 'AWS::WAFv2::WebACLAssociation').length > 0,
  };
}

/** Permissions of each role: its managed policies' statements. */
export interface RolePermissions {
  readonly role: string;
  readonly trustedBy: string[];
  readonly awsManaged: string[];
  readonly statements: { readonly sid?: string; readonly actions: string[]; readonly resources: string[]; readonly conditions: boolean }[];
  readonly inlinePolicies: number;
}

export function rolePermissions(t: CfnTemplate): RolePermissions[] {
  const managed = new Map(of(t, 'AWS::IAM::ManagedPolicy').map(([id, r]) => [id, r.Properties]));
  const inline = of(t, 'AWS::IAM::Policy');
  const list = (v: unknown) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
  return of(t, 'AWS::IAM::Role').map(([id, r]) => {
    const arns = list(r.Properties.ManagedPolicyArns);
    const statements = arns
      .map((a) => ref(a))
      .filter((a): a is string => !!a && managed.has(a))
      .flatMap((pid) => list((managed.get(pid)!.PolicyDocument as Props).Statement) as Props[])
      .map((s) => ({
        ...(s.Sid ? { sid: String(s.Sid) } : {}),
        actions: list(s.Action).map(String),
        resources: list(s.Resource).map((x) => (typeof x === 'string' ? x : (shortName(ref(x) ?? JSON.stringify(x).slice(0, 80))))),
        conditions: !!s.Condition,
      }));
    const trust = (list((r.Properties.AssumeRolePolicyDocument as Props | undefined)?.Statement) as Props[]).flatMap((s) => list((s.Principal as Props | undefined)?.Service));
    return {
      role: shortName(id),
      trustedBy: trust.map(String),
      awsManaged: arns.filter((a) => !ref(a)).map((a) => JSON.stringify(a).replace(/.*policy\//, '').replace(/["\]}]+$/, '')),
      statements,
      inlinePolicies: inline.filter(([, p]) => list(p.Properties.Roles).some((x) => ref(x) === id)).length,
    };
  });
}

/** A stateful resource and how it is protected. */
export interface StatefulResource {
  readonly id: string;
  readonly type: string;
  readonly encryption: string;
  readonly retention: string;
  readonly onDelete: string;
}

export function statefulResources(t: CfnTemplate): StatefulResource[] {
  const out: StatefulResource[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const p = (r.Properties ?? {}) as Props;
    const onDelete = r.DeletionPolicy ?? 'Delete';
    switch (r.Type) {
      case 'AWS::KMS::Key':
        out.push({ id: shortName(id), type: 'KMS key', encryption: p.EnableKeyRotation ? 'rotation on' : 'rotation OFF', retention: `${p.PendingWindowInDays ?? 30}-day deletion window`, onDelete });
        break;
      case 'AWS::Logs::LogGroup':
        out.push({ id: String(p.LogGroupName ?? shortName(id)), type: 'log group', encryption: p.KmsKeyId ? 'KMS (environment key)' : 'CloudWatch default', retention: p.RetentionInDays ? `${p.RetentionInDays} days` : 'never expires', onDelete });
        break;
      case 'AWS::EFS::FileSystem':
        out.push({ id: String(((p.FileSystemTags as Props[]) ?? []).find((x) => x.Key === 'Name')?.Value ?? shortName(id)), type: 'EFS file system', encryption: p.Encrypted ? (p.KmsKeyId ? 'KMS (environment key)' : 'AWS managed key') : 'NONE', retention: 'AWS Backup plan', onDelete });
        break;
      case 'AWS::S3::Bucket': {
        const alg = (((p.BucketEncryption as Props)?.ServerSideEncryptionConfiguration as Props[])?.[0]?.ServerSideEncryptionByDefault as Props)?.SSEAlgorithm;
        const days = (((p.LifecycleConfiguration as Props)?.Rules as Props[]) ?? [])[0]?.ExpirationInDays;
        out.push({ id: shortName(id), type: 'S3 bucket', encryption: String(alg ?? 'none'), retention: days ? `${days} days` : 'no expiry', onDelete });
        break;
      }
      case 'AWS::Backup::BackupVault':
        out.push({ id: shortName(id), type: 'backup vault', encryption: p.EncryptionKeyArn ? 'KMS (environment key)' : 'AWS managed key', retention: 'per plan rules', onDelete });
        break;
      case 'Custom::BlockchainNodeKeys':
        out.push({ id: 'node keys + chain manifest', type: 'Secrets Manager (created at deploy)', encryption: 'KMS (environment key)', retention: 'kept on update and delete', onDelete: 'Retain' });
        break;
    }
  }
  return out;
}

/** Monthly fixed-cost lines. */
export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitPrice: number;
  readonly monthly: number;
}

export interface Prices {
  readonly hoursPerMonth: number;
  readonly interfaceEndpointPerAzHour: number;
  readonly albHour: number;
  readonly albLcuHour: number;
  readonly publicIpv4Hour: number;
  readonly kmsKeyMonth: number;
  readonly secretMonth: number;
  readonly wafWebAclMonth: number;
  readonly wafRuleMonth: number;
  readonly cloudwatchAlarmMonth: number;
  readonly cloudwatchDashboardMonth: number;
  readonly cloudwatchCustomMetricMonth: number;
  readonly ebsGp3GbMonth: number;
  readonly ec2Hour: Readonly<Record<string, number>>;
}

export function fixedMonthlyCost(t: CfnTemplate, prices: Prices): { lines: CostLine[]; total: number; unknownInstanceTypes: string[] } {
  const h = prices.hoursPerMonth;
  const lines: CostLine[] = [];
  const add = (item: string, quantity: number, unit: string, unitPrice: number) => {
    if (quantity > 0) lines.push({ item, quantity, unit, unitPrice, monthly: round(quantity * unitPrice) });
  };
  const endpoints = of(t, 'AWS::EC2::VPCEndpoint').filter(([, r]) => r.Properties.VpcEndpointType === 'Interface');
  const endpointAzs = endpoints.reduce((a, [, r]) => a + ((r.Properties.SubnetIds as unknown[]) ?? []).length, 0);
  add(`interface VPC endpoints (${endpoints.length} x AZs)`, endpointAzs, 'endpoint-AZ-month', prices.interfaceEndpointPerAzHour * h);
  const albs = of(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
  add('application load balancer', albs.length, 'ALB-month', prices.albHour * h);
  add('load balancer capacity (1 LCU baseline)', albs.length, 'LCU-month', prices.albLcuHour * h);
  const albIps = albs.reduce((a, [, r]) => a + ((r.Properties.Subnets as unknown[]) ?? []).length, 0);
  add('public IPv4 addresses of the load balancer', albIps, 'IP-month', prices.publicIpv4Hour * h);
  add('KMS customer-managed keys', of(t, 'AWS::KMS::Key').length, 'key-month', prices.kmsKeyMonth);
  const acls = of(t, 'AWS::WAFv2::WebACL');
  add('WAF web ACL', acls.length, 'ACL-month', prices.wafWebAclMonth);
  add('WAF rules and managed rule groups', acls.reduce((a, [, r]) => a + ((r.Properties.Rules as unknown[]) ?? []).length, 0), 'rule-month', prices.wafRuleMonth);
  // Nodes: one instance per ASG (min = max = 1), instance type and root volume from its launch template.
  const templates = new Map(of(t, 'AWS::EC2::LaunchTemplate').map(([id, r]) => [id, r.Properties.LaunchTemplateData as Props]));
  const byType = new Map<string, number>();
  let ebsGb = 0;
  const unknown: string[] = [];
  for (const [, r] of of(t, 'AWS::AutoScaling::AutoScalingGroup')) {
    const lt = templates.get(ref((r.Properties.LaunchTemplate as Props)?.LaunchTemplateId) ?? '');
    const count = Number(r.Properties.MinSize ?? 0);
    if (!lt || count === 0) continue;
    const type = String(lt.InstanceType);
    byType.set(type, (byType.get(type) ?? 0) + count);
    for (const bd of (lt.BlockDeviceMappings as Props[]) ?? []) ebsGb += Number((bd.Ebs as Props)?.VolumeSize ?? 0) * count;
  }
  for (const [type, n] of [...byType].sort()) {
    const price = prices.ec2Hour[type];
    if (price === undefined) unknown.push(type);
    else add(`EC2 ${type} nodes`, n, 'instance-month', price * h);
  }
  add('EBS gp3 root volumes', ebsGb, 'GB-month', prices.ebsGp3GbMonth);
  const nodeKeys = of(t, 'Custom::BlockchainNodeKeys').reduce((a, [, r]) => a + ((r.Properties.Nodes as unknown[]) ?? []).length + 1, 0);
  add('Secrets Manager: node keys + chain manifest', nodeKeys, 'secret-month', prices.secretMonth);
  add('CloudWatch alarms', of(t, 'AWS::CloudWatch::Alarm').length, 'alarm-month', prices.cloudwatchAlarmMonth);
  add('CloudWatch dashboards', of(t, 'AWS::CloudWatch::Dashboard').length, 'dashboard-month', prices.cloudwatchDashboardMonth);
  add('custom node metrics (3 per node)', of(t, 'AWS::AutoScaling::AutoScalingGroup').length * 3, 'metric-month', prices.cloudwatchCustomMetricMonth);
  return { lines, total: round(lines.reduce((a, l) => a + l.monthly, 0)), unknownInstanceTypes: unknown };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** checkov skips recorded on resources (metadata written by acknowledgeRule / skipCheckov). */
export function checkovSkips(t: CfnTemplate): { resource: string; id: string; reason: string }[] {
  return Object.entries(t.Resources).flatMap(([id, r]) =>
    (((r.Metadata?.checkov as { skip?: { id: string; comment: string }[] } | undefined)?.skip) ?? []).map((s) => ({ resource: shortName(id), id: s.id, reason: s.comment })),
  );
}
