/**
 * The `blockchain-tenancy` CLI (pure parts: argument parsing, output formatting, the request
 * plan). bin/blockchain-tenancy.ts wires it to SigV4-signed HTTPS.
 */
import { ID_PATTERN_BODY } from '../lib/contracts/ids';

/** `<tenant>/<env>`: two ids (lib/contracts/ids.ts). */
const ENVIRONMENT_PATH = new RegExp(`^${ID_PATTERN_BODY}/${ID_PATTERN_BODY}$`);

export const EXIT = { OK: 0, API_ERROR: 1, USAGE: 2, UNREACHABLE: 3 } as const;

export const USAGE = `usage: blockchain-tenancy <command> [options]

commands:
  environments list
  nodes list <tenant>/<env>
  nodes start|stop|reboot <tenant>/<env> <node>
  credentials create <tenant>/<env> --member <member> [--days N] [--description TEXT]
  credentials list <tenant>/<env> [--member <member>]
  credentials revoke <tenant>/<env> <credential-id>
  credentials regenerate <tenant>/<env> <credential-id>

options:
  --endpoint URL   management API base URL (or BLOCKCHAIN_TENANCY_ENDPOINT), e.g. https://api.example.com/v1
  --region REGION  signing region (or AWS_REGION)
  --profile NAME   AWS profile for credentials (default credential chain otherwise)
  --json           print JSON instead of a table

exit codes: 0 ok, 1 the API refused the request (4xx/5xx), 2 usage error, 3 API unreachable or no AWS credentials`;

export interface Plan {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: Record<string, unknown>;
  readonly kind: 'environments' | 'nodes' | 'node-action' | 'credential' | 'credentials' | 'credential-secret';
}

export interface ParsedArgs {
  readonly plan: Plan;
  readonly endpoint?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly json: boolean;
}

export class UsageError extends Error {}

/** Parses argv (without node and script). Throws UsageError with a message naming the fix. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') flags.json = true;
    else if (a.startsWith('--')) {
      const name = a.slice(2);
      if (!['endpoint', 'region', 'profile', 'member', 'days', 'description'].includes(name)) throw new UsageError(`unknown option ${a}`);
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      flags[name] = v;
    } else positional.push(a);
  }
  const [group, verb, target, id] = positional;
  const envPath = () => {
    if (!target || !ENVIRONMENT_PATH.test(target)) throw new UsageError(`give the environment as <tenant>/<env>, e.g. acme/dev (got ${target ?? 'nothing'})`);
    return `/environments/${target}`;
  };
  const need = (what: string, v: string | undefined) => {
    if (!v) throw new UsageError(`${what} is missing`);
    return encodeURIComponent(v);
  };
  let plan: Plan;
  if (group === 'environments' && verb === 'list') plan = { method: 'GET', path: '/environments', kind: 'environments' };
  else if (group === 'nodes' && verb === 'list') plan = { method: 'GET', path: `${envPath()}/nodes`, kind: 'nodes' };
  else if (group === 'nodes' && ['start', 'stop', 'reboot'].includes(verb)) plan = { method: 'POST', path: `${envPath()}/nodes/${need('the node id', id)}/${verb}`, kind: 'node-action' };
  else if (group === 'credentials' && verb === 'create') {
    if (typeof flags.member !== 'string') throw new UsageError('credentials create needs --member <member>');
    const days = flags.days === undefined ? undefined : Number(flags.days);
    if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new UsageError(`--days must be a whole number of days >= 1 (got ${flags.days})`);
    plan = {
      method: 'POST',
      path: `${envPath()}/credentials`,
      kind: 'credential-secret',
      body: { memberId: flags.member, ...(days !== undefined ? { lifetimeDays: days } : {}), ...(typeof flags.description === 'string' ? { description: flags.description } : {}) },
    };
  } else if (group === 'credentials' && verb === 'list') {
    plan = { method: 'GET', path: `${envPath()}/credentials${typeof flags.member === 'string' ? `?memberId=${encodeURIComponent(flags.member)}` : ''}`, kind: 'credentials' };
  } else if (group === 'credentials' && verb === 'revoke') plan = { method: 'DELETE', path: `${envPath()}/credentials/${need('the credential id', id)}`, kind: 'credential' };
  else if (group === 'credentials' && verb === 'regenerate') plan = { method: 'POST', path: `${envPath()}/credentials/${need('the credential id', id)}/regenerate`, kind: 'credential-secret' };
  else throw new UsageError(positional.length ? `unknown command "${positional.slice(0, 2).join(' ')}"` : 'no command given');
  const endpoint = (flags.endpoint as string | undefined) ?? env.BLOCKCHAIN_TENANCY_ENDPOINT;
  const region = (flags.region as string | undefined) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return { plan, json: flags.json === true, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}), ...(typeof flags.profile === 'string' ? { profile: flags.profile } : {}) };
}

/** Renders rows as an aligned text table. */
export function table(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === undefined ? '' : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (vals: readonly string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Human output of a successful answer. */
export function render(kind: Plan['kind'], body: Record<string, unknown>): string {
  switch (kind) {
    case 'environments':
      return table(body.environments as Record<string, unknown>[], ['tenantId', 'environmentId', 'region', 'stackName', 'domainName']);
    case 'nodes':
      return table(body.nodes as Record<string, unknown>[], ['nodeId', 'memberId', 'state', 'instanceId', 'privateIp']);
    case 'node-action':
      return `${body.action} requested for ${body.nodeId} (${(body.instanceIds as string[]).join(', ')})`;
    case 'credentials':
      return table(body.credentials as Record<string, unknown>[], ['id', 'memberId', 'createdAt', 'expiresAt', 'revoked', 'description']);
    case 'credential': {
      const c = body.credential as Record<string, unknown>;
      return table([c], ['id', 'memberId', 'expiresAt', 'revoked', 'revokedAt']);
    }
    case 'credential-secret': {
      const c = body.credential as Record<string, unknown>;
      const urls = (body.urls as { node: string; https?: string; wss?: string }[] | undefined) ?? [];
      return [
        `credential ${c.id} for member ${c.memberId}, expires ${c.expiresAt}`,
        `secret: ${body.secret}`,
        ...urls.flatMap((u) => (u.https ? [`${u.node}: ${u.https}`, `${u.node}: ${u.wss}`] : [`${u.node}: (no public endpoint: the environment has no ingress)`])),
        'The secret is shown once and is not stored anywhere: copy it now.',
      ].join('\n');
    }
  }
}
