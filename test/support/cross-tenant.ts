/**
 * A small IAM reach checker for synthesized templates: can an Allow statement of one tenant
 * environment's roles match a resource of another tenant's environment (same account, region,
 * environment id and node ids)?
 *
 * It evaluates each statement the way IAM would for a concrete request against the other
 * environment's resources ("probes": its node instance and peer interface, node key, chain
 * manifest and credential secrets, registration parameter, authorizer function, log group, file
 * system, key, Auto Scaling group, metric namespace). Resource ARNs are resolved with the stack's
 * pseudo parameters; a `Ref` / `Fn::GetAtt` to the stack's own resources becomes an opaque token
 * that no other environment's ARN can match. Conditions on keys the probe models (resource tags,
 * `cloudwatch:namespace`, `ec2:Vpc`, access point) are evaluated; conditions on keys it does not
 * model count as satisfiable (conservative: a false alarm, never a missed match). NotAction and
 * NotResource count as matching everything.
 *
 * Besides reach, it checks the structural rules: no AWS managed policy on any role, every tag
 * condition names this tenant and this environment, PutMetricData only into this environment's
 * namespace, and no `ssm:GetParameter*` on `*`.
 */
import { chainManifestSecretName, nodeKeySecretName } from '../../lib/contracts/node-secrets';
import { credentialSecretName } from '../../lib/contracts/credential-format';
import { EnvironmentTags } from '../../lib/contracts/tags';
import { REGISTRATION_PREFIX } from '../../lib/contracts/registration-format';
import { nodeMetricNamespace } from '../../lib/contracts/metric-names';

/** A CloudFormation template as JSON. */
export interface TemplateJson {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** Where a template's resources live and whose they are. */
export interface Owner {
  readonly tenantId: string;
  readonly environmentId: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

/** One resource of another environment, and the request context an action on it carries. */
export interface Probe {
  readonly what: string;
  readonly arn: string;
  readonly actions: readonly string[];
  /** Condition keys this probe models, with the request's value (absent key = undefined). */
  readonly context: Readonly<Record<string, string | undefined>>;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const OPAQUE = '\u0000own-resource\u0000';

/** Resolves a CloudFormation value to a string; references to the stack's own resources become opaque. */
export function resolveValue(v: unknown, o: Owner): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object') {
    const x = v as Record<string, unknown>;
    if ('Ref' in x) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': o.partition,
        'AWS::Region': o.region,
        'AWS::AccountId': o.account,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[x.Ref as string] ?? `${OPAQUE}${String(x.Ref)}${OPAQUE}`;
    }
    if ('Fn::Sub' in x && typeof x['Fn::Sub'] === 'string') {
      return (x['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_m, name: string) => resolveValue({ Ref: name }, o));
    }
    if ('Fn::Join' in x) {
      const [sep, parts] = x['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => resolveValue(p, o)).join(sep);
    }
    return `${OPAQUE}${JSON.stringify(x)}${OPAQUE}`;
  }
  return OPAQUE;
}

/** IAM wildcard match (`*`, `?`), case-sensitive for ARNs and values, insensitive for actions. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, ignoreCase ? 'is' : 's');
  return re.test(value);
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether a statement's condition block can hold for a request on the probe. */
function conditionHolds(condition: Statement['Condition'], probe: Probe, o: Owner): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, raw] of Object.entries(entries)) {
      if (!(key in probe.context)) continue; // not modelled: may hold
      const actual = probe.context[key];
      const values = list(raw).map((v) => resolveValue(v, o));
      const ifExists = operator.endsWith('IfExists');
      if (actual === undefined) {
        if (ifExists) continue;
        return false;
      }
      const op = operator.replace(/IfExists$/, '');
      const ok =
        op === 'StringEquals' || op === 'Bool'
          ? values.some((v) => v === actual)
          : // ArnEquals takes wildcards like ArnLike (IAM treats the two alike); StringEquals does not.
            op === 'StringLike' || op === 'ArnLike' || op === 'ArnEquals'
            ? values.some((v) => wildcardMatch(v, actual))
            : op === 'StringNotEquals'
              ? values.every((v) => v !== actual)
              : true; // other operators: not modelled, may hold
      if (!ok) return false;
    }
  }
  return true;
}

/** Every Allow statement of the roles' policies in a template, with where it comes from. */
export function allowStatements(t: TemplateJson): { where: string; statement: Statement }[] {
  const out: { where: string; statement: Statement }[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const docs: { where: string; doc: unknown }[] = [];
    if (r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy') docs.push({ where: id, doc: r.Properties?.PolicyDocument });
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of list(r.Properties?.Policies) as { PolicyName: string; PolicyDocument: unknown }[]) docs.push({ where: `${id}/${p.PolicyName}`, doc: p.PolicyDocument });
    }
    for (const { where, doc } of docs) {
      for (const s of list((doc as { Statement?: unknown })?.Statement) as Statement[]) {
        if (s.Effect === 'Allow') out.push({ where: `${where}${s.Sid ? `[${s.Sid}]` : ''}`, statement: s });
      }
    }
  }
  return out;
}

/** The resources of `victim` that another environment's roles must not reach. */
export function probesOf(victim: Owner, nodeIds: readonly string[]): Probe[] {
  const { tenantId: t, environmentId: e, partition: p, region: r, account: a } = victim;
  const arn = (service: string, resource: string) => `arn:${p}:${service}:${r}:${a}:${resource}`;
  const envTags = { [`aws:ResourceTag/${EnvironmentTags.TENANT}`]: t, [`aws:ResourceTag/${EnvironmentTags.ENVIRONMENT}`]: e };
  const probes: Probe[] = [];
  for (const node of nodeIds) {
    const nodeTags = { ...envTags, [`aws:ResourceTag/${EnvironmentTags.NODE}`]: node, [`aws:ResourceTag/${EnvironmentTags.FUNCTION}`]: undefined };
    probes.push(
      {
        what: `${t}/${e} instance of node ${node}`,
        arn: arn('ec2', 'instance/i-0123456789abcdef0'),
        actions: ['ec2:AttachNetworkInterface', 'ec2:StartInstances', 'ec2:StopInstances', 'ec2:RebootInstances', 'ec2:TerminateInstances'],
        context: nodeTags,
      },
      {
        what: `${t}/${e} peer interface of node ${node}`,
        arn: arn('ec2', 'network-interface/eni-0123456789abcdef0'),
        actions: ['ec2:AttachNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        context: { ...nodeTags, 'ec2:Vpc': arn('ec2', 'vpc/vpc-0other000000000000') },
      },
      {
        what: `${t}/${e} key of node ${node}`,
        arn: arn('secretsmanager', `secret:${nodeKeySecretName(t, e, node)}-AbCdEf`),
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret'],
        context: envTags,
      },
      {
        what: `${t}/${e} file system of node ${node}`,
        arn: arn('elasticfilesystem', 'file-system/fs-0123456789abcdef0'),
        actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite', 'elasticfilesystem:ClientRootAccess', 'elasticfilesystem:Backup'],
        context: { ...nodeTags, 'elasticfilesystem:AccessPointArn': arn('elasticfilesystem', 'access-point/fsap-0other00000000000') },
      },
      {
        what: `${t}/${e} Auto Scaling group of node ${node}`,
        arn: arn('autoscaling', `autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${t}-${e}-${node}`),
        actions: ['autoscaling:SuspendProcesses', 'autoscaling:ResumeProcesses', 'autoscaling:UpdateAutoScalingGroup'],
        context: nodeTags,
      },
    );
  }
  probes.push(
    {
      // Creating an interface (or an instance) in another environment's subnet would put a
      // workload into its network.
      what: `${t}/${e} private subnet`,
      arn: arn('ec2', 'subnet/subnet-0other000000000000'),
      actions: ['ec2:CreateNetworkInterface', 'ec2:RunInstances'],
      context: envTags,
    },
    {
      what: `${t}/${e} security group`,
      arn: arn('ec2', 'security-group/sg-0other000000000000'),
      actions: ['ec2:CreateNetworkInterface', 'ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupEgress'],
      context: envTags,
    },
    {
      what: `${t}/${e} chain manifest`,
      arn: arn('secretsmanager', `secret:${chainManifestSecretName(t, e)}-AbCdEf`),
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      context: envTags,
    },
    {
      what: `${t}/${e} app credential`,
      arn: arn('secretsmanager', `secret:${credentialSecretName(t, e, 'btaaaaaaaaaaaaaaaaaaaaaaaa')}-AbCdEf`),
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret'],
      context: envTags,
    },
    {
      what: `${t}/${e} registration`,
      arn: arn('ssm', `parameter${REGISTRATION_PREFIX}${t}/${e}`),
      actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:PutParameter'],
      context: envTags,
    },
    {
      what: `${t}/${e} authorizer function`,
      arn: arn('lambda', `function:${t}-${e}-authorizer`),
      actions: ['lambda:InvokeFunction', 'lambda:UpdateFunctionCode'],
      context: { ...envTags, [`aws:ResourceTag/${EnvironmentTags.FUNCTION}`]: undefined },
    },
    {
      what: `${t}/${e} credential issuer function`,
      arn: arn('lambda', `function:${t}-${e}-issuer`),
      actions: ['lambda:InvokeFunction', 'lambda:UpdateFunctionCode'],
      context: { ...envTags, [`aws:ResourceTag/${EnvironmentTags.FUNCTION}`]: 'credential-issuer' },
    },
    {
      what: `${t}/${e} authorizer log group (its deny lines feed alarms)`,
      arn: arn('logs', `log-group:${t}-${e}-authorizer-logs:log-stream:x`),
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:CreateLogGroup'],
      context: envTags,
    },
    {
      what: `${t}/${e} key`,
      arn: arn('kms', 'key/00000000-0000-0000-0000-000000000000'),
      actions: ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:CreateGrant'],
      context: envTags,
    },
    {
      what: `${t}/${e} metrics (block height, RPC up, gate)`,
      arn: '*',
      actions: ['cloudwatch:PutMetricData'],
      context: { 'cloudwatch:namespace': nodeMetricNamespace(t, e) },
    },
  );
  return probes;
}

/** Allow statements of `template` (owned by `owner`) that can act on one of `probes`. */
export function crossTenantReach(template: TemplateJson, owner: Owner, probes: readonly Probe[]): string[] {
  const found: string[] = [];
  for (const { where, statement: s } of allowStatements(template)) {
    const actions = s.NotAction !== undefined ? ['*'] : list(s.Action).map((a) => resolveValue(a, owner));
    const resources = s.NotResource !== undefined ? ['*'] : list(s.Resource).map((x) => resolveValue(x, owner));
    for (const probe of probes) {
      const action = probe.actions.find((pa) => actions.some((a) => wildcardMatch(a, pa, true)));
      if (!action) continue;
      if (!resources.some((pattern) => probe.arn === '*' ? pattern === '*' : wildcardMatch(pattern, probe.arn))) continue;
      if (!conditionHolds(s.Condition, probe, owner)) continue;
      found.push(`${where} allows ${action} on ${probe.what}`);
    }
  }
  return found;
}

/** The structural rules every tenant environment's roles keep (see the file comment). */
export function structuralProblems(template: TemplateJson, owner: Owner): string[] {
  const problems: string[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    for (const arn of list(r.Properties?.ManagedPolicyArns).map((a) => resolveValue(a, owner))) {
      if (/:iam::aws:policy\//.test(arn)) problems.push(`${id} carries the AWS managed policy ${arn.replace(/^.*:policy\//, '')}`);
    }
  }
  const tenantKey = `aws:ResourceTag/${EnvironmentTags.TENANT}`;
  const environmentKey = `aws:ResourceTag/${EnvironmentTags.ENVIRONMENT}`;
  for (const { where, statement: s } of allowStatements(template)) {
    const actions = list(s.Action).map((a) => resolveValue(a, owner));
    const resources = list(s.Resource).map((x) => resolveValue(x, owner));
    const keys = Object.values(s.Condition ?? {}).flatMap((e) => Object.keys(e));
    if (keys.some((k) => k.startsWith('aws:ResourceTag/blockchain-tenancy:'))) {
      const equals = s.Condition?.StringEquals ?? {};
      if (equals[tenantKey] !== owner.tenantId || equals[environmentKey] !== owner.environmentId) {
        problems.push(`${where} has a tag condition that does not name tenant ${owner.tenantId} and environment ${owner.environmentId}`);
      }
    }
    if (actions.some((a) => wildcardMatch(a, 'cloudwatch:PutMetricData', true))) {
      const ns = s.Condition?.StringEquals?.['cloudwatch:namespace'];
      if (ns !== nodeMetricNamespace(owner.tenantId, owner.environmentId)) problems.push(`${where} may put metric data outside ${nodeMetricNamespace(owner.tenantId, owner.environmentId)}`);
    }
    if (resources.includes('*') && actions.some((a) => ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'].some((p) => wildcardMatch(a, p, true)))) {
      problems.push(`${where} allows ssm:GetParameter* on *`);
    }
  }
  return problems;
}
