import { CfnTemplate, Prices, checkovSkips, exposure, fixedMonthlyCost, rolePermissions, securityGroupRules, shortName, statefulResources } from './template-model';

/** An acknowledged cdk-nag finding (read from the construct tree). */
export interface Acknowledgment {
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

/** What the review found for one stack. */
export interface ReviewFindings {
  readonly nagErrors: string[];
  readonly nagWarnings: string[];
  readonly cfnLint: string[];
  readonly checkovFailed: string[];
}

const CREDENTIAL_MODEL = [
  'App credentials are `ID:SECRET` pairs with a 256-bit random secret, used as `https://ID:SECRET@<node>.<domain>/`',
  'and `wss://ID:SECRET@<node>.<domain>/ws`. The secret is returned once by the issuer; only a salted argon2id hash',
  '(m=19456 KiB, t=2, p=1) is kept, one Secrets Manager secret per credential under',
  '`blockchain-tenancy/<tenant>/<env>/credentials/`, encrypted with the environment key, with member, expiry and',
  "revocation. The node gate asks the environment's authorizer (which can read only this environment's credentials)",
  "and lets a credential reach only its own member's nodes; a revoked or expired credential stops working, over HTTP and",
  'on open WebSockets, within 30 s. Only an explicit list of standard dApp methods passes the gate (nothing that uses',
  'or reveals node keys or node state).',
].join(' ');

/**
 * Whether a cfn-lint finding line is an error (an `E` rule), not a warning or an informational
 * note: the review runner's lines are `<label><line>:<column>:<end line>:<end column>:<rule>:<message>`
 * (the parseable format after the template path), a bare line starts with the rule.
 */
export function isCfnLintError(line: string): boolean {
  return /:E\d{4}:|^E\d{4}/.test(line);
}

/** Renders the review report of one environment stack as Markdown. */
export function renderReport(input: {
  stackName: string;
  template: CfnTemplate;
  prices: Prices & { checked: string; source: string; usageNotes: string[] };
  acknowledgments: readonly Acknowledgment[];
  findings: ReviewFindings;
}): string {
  const { stackName, template, prices, acknowledgments, findings } = input;
  const e = exposure(template);
  const rules = securityGroupRules(template);
  const roles = rolePermissions(template);
  const stateful = statefulResources(template);
  const cost = fixedMonthlyCost(template, prices);
  const skips = checkovSkips(template);
  const ok = findings.nagErrors.length + findings.cfnLint.filter(isCfnLintError).length + findings.checkovFailed.length === 0;
  const L: string[] = [];
  const table = (head: string[], rows: (string | number)[][]) => {
    L.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
    for (const r of rows) L.push(`| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`);
    L.push('');
  };
  L.push(`# Review of ${stackName}`, '', `Result: **${ok ? 'PASS' : 'FAIL'}** (cdk-nag AwsSolutions, NIST 800-53 R5, HIPAA Security, PCI DSS 3.2.1; cfn-lint; checkov).`, '');
  L.push(`${Object.keys(template.Resources).length} resources.`, '');

  L.push('## Exposed to the internet', '');
  if (e.loadBalancers.length === 0) L.push('Nothing: this environment has no load balancer (no `ingress`).', '');
  else {
    table(['load balancer', 'scheme'], e.loadBalancers.map((l) => [l.id, l.scheme]));
    table(['listener port', 'protocol', 'TLS policy', 'default action'], e.listeners.map((l) => [l.port, l.protocol, l.sslPolicy ?? '-', l.action]));
    L.push(`WAF ${e.wafAssociated ? 'associated' : 'NOT associated'}; rules: ${e.wafRules.join(', ') || 'none'}.`, '');
  }
  table(['group', 'open port', 'from'], e.openRules.map((r) => [r.group, r.ports, r.peer]));

  L.push('## Security-group matrix', '');
  table(['group', 'direction', 'peer', 'protocol', 'ports', 'why'], rules.map((r) => [r.group, r.direction, r.peer, r.protocol, r.ports, r.description]));

  L.push('## IAM permissions per role', '');
  for (const r of roles) {
    L.push(`### ${r.role}`, '', `Trusted by: ${r.trustedBy.join(', ') || '-'}. AWS managed policies: ${r.awsManaged.join(', ') || 'none'}. Inline policies: ${r.inlinePolicies}.`, '');
    if (r.statements.length) table(['sid', 'actions', 'resources', 'conditions'], r.statements.map((s) => [s.sid ?? '', s.actions.join(', '), s.resources.join(', '), s.conditions ? 'yes' : '']));
  }

  L.push('## Encryption and retention of stateful resources', '');
  table(['resource', 'type', 'encryption', 'retention', 'on stack delete'], stateful.map((s) => [s.id, s.type, s.encryption, s.retention, s.onDelete]));

  L.push('## Credential model', '', CREDENTIAL_MODEL, '');

  L.push('## Architecture', '', '```mermaid', 'flowchart LR');
  if (e.loadBalancers.length) L.push('  dapp[dApp: ethers / web3.js] -- TLS --> waf[WAF] --> alb[ALB 443]');
  const asgs = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup').map(([id]) => shortName(id).replace(/^EnvironmentNodes/, '').replace(/GroupASG$/, ''));
  for (const n of asgs) {
    const id = n.replace(/[^A-Za-z0-9]/g, '');
    L.push(`  ${e.loadBalancers.length ? `alb --> gate${id}` : `gate${id}`}[gate ${n}] --> node${id}[client ${n} on 127.0.0.1] --> efs${id}[(EFS ${n})]`);
    L.push(`  gate${id} -. cache miss .-> authz[authorizer Lambda] -.-> sm[(Secrets Manager: argon2id hashes)]`);
  }
  L.push('  nodes[nodes] -- p2p 30303, own environment only --- nodes', '```', '');

  L.push(`## Estimated fixed monthly cost (${prices.source.split('(')[0].trim()}; prices checked ${prices.checked})`, '');
  table(['item', 'quantity', 'unit', 'unit price (USD)', 'monthly (USD)'], cost.lines.map((l) => [l.item, l.quantity, l.unit, l.unitPrice.toFixed(4), l.monthly.toFixed(2)]));
  L.push(`**Total fixed: ${cost.total.toFixed(2)} USD / month**${cost.unknownInstanceTypes.length ? ` (not priced: ${cost.unknownInstanceTypes.join(', ')})` : ''}.`, '');
  L.push('Usage-based, not included:', '', ...prices.usageNotes.map((n) => `- ${n}`), '');

  L.push('## Acknowledged findings and skipped checks', '', 'Grouped by reason; each sits next to the resource that causes it.', '');
  const groups = new Map<string, { rules: Set<string>; places: Set<string> }>();
  for (const a of [...acknowledgments.map((x) => ({ rule: x.rule, reason: x.reason, place: x.path })), ...skips.map((x) => ({ rule: `checkov ${x.id}`, reason: x.reason, place: x.resource }))]) {
    const g = groups.get(a.reason) ?? { rules: new Set<string>(), places: new Set<string>() };
    g.rules.add(a.rule.replace(/\[.*\]$/, '[...]'));
    g.places.add(a.place);
    groups.set(a.reason, g);
  }
  table(['rules', 'reason', 'places'], [...groups].map(([reason, g]) => [[...g.rules].sort().join(', '), reason, `${g.places.size}: ${[...g.places].slice(0, 3).join(', ')}${g.places.size > 3 ? ', ...' : ''}`]));

  L.push('## Tool output', '');
  for (const [name, lines] of [['cdk-nag errors', findings.nagErrors], ['cdk-nag warnings', findings.nagWarnings], ['cfn-lint', findings.cfnLint], ['checkov failed checks', findings.checkovFailed]] as const) {
    L.push(`- ${name}: ${lines.length === 0 ? 'none' : ''}`, ...lines.map((l) => `  - ${l}`));
  }
  L.push('');
  return L.join('\n');
}
