/**
 * The `blockchain-tenancy` CLI (pure parts: the command table, argument parsing with
 * `node:util`'s parseArgs, help texts, output formatting, error descriptions, the request plan).
 * bin/blockchain-tenancy.ts wires it to SigV4-signed HTTPS and to the local environment.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import { ID_PATTERN } from '../lib/contracts/ids';

/**
 * Exit codes. API_ERROR is also a deployment that failed (`--wait`, `environments status`);
 * TIMEOUT: `--wait` gave up before the deployment finished (it goes on in AWS).
 */
export const EXIT = { OK: 0, API_ERROR: 1, USAGE: 2, UNREACHABLE: 3, TIMEOUT: 4 } as const;

const PROG = 'blockchain-tenancy';

/** One option of a command. */
interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Placeholder of the value in help texts, e.g. `URL`. */
  readonly value?: string;
  readonly help: string;
}

/** The options every API command takes. */
const API_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  endpoint: { type: 'string', value: 'URL', help: 'management API base URL (or BLOCKCHAIN_TENANCY_ENDPOINT), e.g. https://<api-id>.execute-api.<region>.amazonaws.com/v1' },
  region: { type: 'string', value: 'REGION', help: 'signing region (or AWS_REGION), e.g. eu-west-1' },
  profile: { type: 'string', value: 'NAME', help: 'AWS profile for credentials (default credential chain otherwise)' },
  json: { type: 'boolean', help: 'print JSON instead of a table' },
};

/** One command: its words, positional arguments, own options and help. */
export interface CommandSpec {
  /** The command words, e.g. `credentials create`. */
  readonly name: string;
  /** Positional arguments in help notation, e.g. `<tenant>/<env>`. */
  readonly args: readonly string[];
  /** One line for the global usage. */
  readonly brief: string;
  readonly summary: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Calls the management API (takes --endpoint, --region, --profile, --json). */
  readonly api: boolean;
  readonly details?: string;
  readonly examples: readonly string[];
  /** The exit-code line of its help. @default - that of the API commands (or of `local`) */
  readonly exitCodes?: string;
}

const ENV_ARG = '<tenant>/<env>';

/** Options of the commands that can follow their deployment to the end. */
const WAIT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  wait: { type: 'boolean', help: 'follow the deployment until it is ready or failed: one line per status change, with its time; exit code by outcome' },
  timeout: { type: 'string', value: 'SECONDS', help: `with --wait: give up after this long (exit 4; the deployment goes on in AWS), default ${3600} (1 h)` },
  interval: { type: 'string', value: 'SECONDS', help: 'with --wait: seconds between two status requests, 1-300, default 5' },
};

const WAIT_EXIT_CODES =
  'exit codes: 0 ok (with --wait: the deployment is ready), 1 the API refused the request or the deployment failed (its CloudFormation reason is printed), 2 usage error or an invalid file (nothing was sent), 3 API unreachable or no AWS credentials, 4 --wait timed out (the deployment goes on in AWS)';

/** The control-plane commands (they need the control plane enabled in the management stack). */
const LIFECYCLE_NOTE = 'Needs the control plane of the management API (README "Control plane"); without it the API answers 404 ControlPlaneDisabled.';

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'environments list',
    brief: 'list the deployed environments',
    args: [],
    summary: 'List the registered (deployed) environments.',
    options: {},
    api: true,
    examples: [`${PROG} environments list`, `${PROG} environments list --json`],
  },
  {
    name: 'environments create',
    brief: 'create an environment (a deployment in AWS)',
    args: [ENV_ARG],
    summary: 'Store a new environment\'s config and start its deployment (CodeBuild runs this library\'s CDK app on it); prints the deployment id.',
    options: {
      file: { type: 'string', value: 'FILE', help: 'one environment\'s config (the schema of an entry of tenants.json\'s "environments"); its "id", if any, must be <env>' },
      'from-config': { type: 'string', value: 'FILE', help: 'take <tenant>/<env> out of a tenants.json instead' },
      'idempotency-key': { type: 'string', value: 'KEY', help: 'makes a retry safe: the same key and config within 24 h answer the first deployment instead of starting another (1-128 of A-Z a-z 0-9 _ . : -); default: a new key, printed with the result' },
      ...WAIT_OPTIONS,
    },
    api: true,
    details: [
      'The file is checked with the default app\'s own parser before anything is sent: every problem is printed with its',
      'field path (exit 2). Give exactly one of --file and --from-config. If the request gets no answer (exit 3), run',
      'the same command again with the printed --idempotency-key: it cannot create a second deployment.',
      LIFECYCLE_NOTE,
    ].join('\n'),
    examples: [`${PROG} environments create acme/qa --file qa.json --wait`, `${PROG} environments create acme/dev --from-config tenants.json`, `${PROG} environments create acme/qa --file qa.json --idempotency-key 5b0c9a1e-retry`],
    exitCodes: WAIT_EXIT_CODES,
  },
  {
    name: 'environments update',
    brief: "change an environment's config (JSON Merge Patch)",
    args: [ENV_ARG],
    summary: "Change a stored environment's config with a JSON Merge Patch (RFC 7396) and start its deployment.",
    options: { file: { type: 'string', value: 'FILE', help: 'the patch: the fields to change with their new values, null removes a field, arrays are replaced whole; {} deploys the stored config again (required)' }, ...WAIT_OPTIONS },
    api: true,
    details: [
      'The CLI reads the stored config (GET .../config), applies the patch and checks the result with the default',
      'app\'s parser before it sends the patch: problems are printed with their path in the patched config (exit 2).',
      'Changes that would replace a node\'s file system or fork the chain (genesis, consensus, chain id, client,',
      'validator set) are refused by the API (422 ChangeRefused) with the reason.',
      LIFECYCLE_NOTE,
    ].join('\n'),
    examples: [`${PROG} environments update acme/dev --file patch.json --wait`, `echo '{"credentials": {"defaultLifetimeDays": 30}}' > patch.json`],
    exitCodes: WAIT_EXIT_CODES,
  },
  {
    name: 'environments delete',
    brief: 'delete an environment (keeps its data unless --purge)',
    args: [ENV_ARG],
    summary: "Delete an environment's stack. Its data (file systems, key, logs, secrets) is kept as its removalPolicy says; --purge destroys it.",
    options: {
      purge: { type: 'boolean', help: 'destroy the data too (file systems, key, logs, secrets); needs --confirm <env>' },
      confirm: { type: 'string', value: 'ENV', help: 'with --purge: the environment id again, to confirm that its data is destroyed' },
      ...WAIT_OPTIONS,
    },
    api: true,
    details: `--purge cannot be undone: the chain's data on the nodes' file systems is gone. ${LIFECYCLE_NOTE}`,
    examples: [`${PROG} environments delete acme/qa --wait`, `${PROG} environments delete acme/qa --purge --confirm qa --wait`],
    exitCodes: WAIT_EXIT_CODES,
  },
  {
    name: 'environments status',
    brief: "an environment's deployment status (--wait follows it)",
    args: [ENV_ARG],
    summary: "Show the status of an environment's latest deployment (or --deployment ID) and its transitions; --wait follows it to the end.",
    options: { deployment: { type: 'string', value: 'ID', help: 'this deployment instead of the latest' }, ...WAIT_OPTIONS },
    api: true,
    details: [
      'One line per status change (queued, deploying, ready or failed) with its time; a failed deployment prints its',
      'CloudFormation reason (the first *_FAILED event\'s ResourceStatusReason). On a terminal, a spinner shows that',
      '--wait is still waiting. Without --wait: exit 0 for queued, deploying and ready, 1 for failed.',
      LIFECYCLE_NOTE,
    ].join('\n'),
    examples: [`${PROG} environments status acme/dev --wait`, `${PROG} environments status acme/dev --deployment <id> --wait --timeout 1800`, `${PROG} environments status acme/dev --json`],
    exitCodes: WAIT_EXIT_CODES,
  },
  {
    name: 'environments deployments',
    brief: "an environment's deployment history",
    args: [ENV_ARG],
    summary: "List an environment's deployments, newest first: action, status, config version, times and failure reason.",
    options: {},
    api: true,
    details: LIFECYCLE_NOTE,
    examples: [`${PROG} environments deployments acme/dev`, `${PROG} environments deployments acme/dev --json`],
  },
  {
    name: 'nodes list',
    brief: "list an environment's nodes",
    args: [ENV_ARG],
    summary: "List an environment's nodes with owner, state and endpoints.",
    options: {},
    api: true,
    examples: [`${PROG} nodes list acme/dev`],
  },
  ...(['start', 'stop', 'reboot'] as const).map(
    (verb): CommandSpec => ({
      name: `nodes ${verb}`,
      brief: `${verb} a node`,
      args: [ENV_ARG, '<node>'],
      summary: `${verb[0].toUpperCase()}${verb.slice(1)} one node of an environment (its EC2 instance).`,
      options: {},
      api: true,
      examples: [`${PROG} nodes ${verb} acme/dev validator-1`],
    }),
  ),
  {
    name: 'nodes add',
    brief: 'add a node (a deployment in AWS)',
    args: [ENV_ARG],
    summary: 'Add one node to an environment and start its deployment.',
    options: { file: { type: 'string', value: 'FILE', help: 'the node\'s config, the schema of an entry of "chain.nodes": id, member, role, and optionally instanceType, architecture, group (required)' }, ...WAIT_OPTIONS },
    api: true,
    details: [
      'The CLI reads the stored config and checks it with the node added (default app\'s parser) before it sends the node;',
      'problems of the node are printed with their field in the node file (exit 2). A new validator changes the validator',
      'set, which the API refuses (422): add members here, and validators through the consensus voting API.',
      LIFECYCLE_NOTE,
    ].join('\n'),
    examples: [`${PROG} nodes add acme/dev --file node.json --wait`, `echo '{"id": "member-3", "member": "acme", "role": "member"}' > node.json`],
    exitCodes: WAIT_EXIT_CODES,
  },
  {
    name: 'nodes remove',
    brief: 'remove a node (a deployment in AWS)',
    args: [ENV_ARG, '<node>'],
    summary: 'Remove one node from an environment and start its deployment (its file system is kept as the removalPolicy says).',
    options: { ...WAIT_OPTIONS },
    api: true,
    details: LIFECYCLE_NOTE,
    examples: [`${PROG} nodes remove acme/dev member-3 --wait`],
    exitCodes: WAIT_EXIT_CODES,
  },
  {
    name: 'credentials create',
    brief: 'create an app credential (secret shown once)',
    args: [ENV_ARG],
    summary: 'Create an app credential for a member; prints its secret and ready URLs once.',
    options: {
      member: { type: 'string', value: 'MEMBER', help: 'the member the credential belongs to (required); it opens that member\'s nodes only' },
      days: { type: 'string', value: 'N', help: 'lifetime in days (default: the environment\'s default, 90 unless configured)' },
      description: { type: 'string', value: 'TEXT', help: 'a note for listings, e.g. the dApp\'s name' },
    },
    api: true,
    details: 'The secret is shown once and never stored (only its argon2id hash is kept): copy it when it is printed.',
    examples: [`${PROG} credentials create acme/dev --member acme --days 30`, `${PROG} credentials create acme/dev --member=acme --description="wallet backend"`],
  },
  {
    name: 'credentials list',
    brief: 'list credentials (never secrets)',
    args: [ENV_ARG],
    summary: "List an environment's credentials (ids, owners, expiry; never secrets).",
    options: { member: { type: 'string', value: 'MEMBER', help: "only this member's credentials" } },
    api: true,
    examples: [`${PROG} credentials list acme/dev --member acme`],
  },
  {
    name: 'credentials revoke',
    brief: 'revoke a credential',
    args: [ENV_ARG, '<credential-id>'],
    summary: 'Revoke a credential (gates stop accepting it within their cache time, 30 s by default).',
    options: {},
    api: true,
    examples: [`${PROG} credentials revoke acme/dev bt3k...`],
  },
  {
    name: 'credentials regenerate',
    brief: 'give a credential a new secret (shown once)',
    args: [ENV_ARG, '<credential-id>'],
    summary: 'Give a credential a new secret (the old one stops working); prints it once.',
    options: {},
    api: true,
    examples: [`${PROG} credentials regenerate acme/dev bt3k...`],
  },
  {
    name: 'config export',
    brief: 'write every stored environment as a tenants.json',
    args: [],
    summary: "Read every stored environment's config and write them in the tenants.json shape (checked with the default app's parser before writing).",
    options: { out: { type: 'string', value: 'FILE', help: 'write to FILE (replaced) instead of printing it' } },
    api: true,
    details: [
      'Environments deployed with `cdk deploy` and a tenants.json, not through the control plane, have no stored config',
      'and are listed on stderr as skipped. The file has no "management" section and no tenant display names (neither is',
      'stored with an environment).',
      LIFECYCLE_NOTE,
    ].join('\n'),
    examples: [`${PROG} config export --out tenants.json`, `${PROG} config export > backup.json`],
  },
  {
    name: 'config import',
    brief: "create or update each environment of a tenants.json",
    args: ['<file>'],
    summary: 'Create or update every environment of a tenants.json: compares each with its stored config, prints the plan, then applies it.',
    options: { 'dry-run': { type: 'boolean', help: 'print the plan only; send nothing that changes anything' }, ...WAIT_OPTIONS },
    api: true,
    details: [
      'The file is checked with the default app\'s parser first (field paths as in the file; exit 2). Environments of the',
      'file that are not stored are created; stored ones that differ get the JSON Merge Patch from the stored config to the',
      'file\'s; equal ones are left alone, so importing the same file twice changes nothing. Environments stored but not in',
      'the file are left alone (delete them with `environments delete`). "management" and tenant display names are not',
      'stored by the control plane and are ignored. Stops at the first refused request (exit 1); what it applied stays.',
      LIFECYCLE_NOTE,
    ].join('\n'),
    examples: [`${PROG} config import tenants.json --dry-run`, `${PROG} config import tenants.json --wait`],
    exitCodes: WAIT_EXIT_CODES,
  },
  {
    name: 'local',
    brief: 'run an environment on this machine (dApp development)',
    args: [],
    summary: "Run an environment on this machine for dApp development: the environment's chain on geth 1.13.15, the real node gate per node, the real authorizer and issuer on a local Secrets Manager (moto), and the management API.",
    options: {
      config: { type: 'string', value: 'FILE', help: 'tenant config file (default tenants.json)' },
      tenant: { type: 'string', value: 'ID', help: 'tenant id (default: the first tenant of the file)' },
      env: { type: 'string', value: 'ID', help: 'environment id (default: the tenant\'s first environment)' },
    },
    api: false,
    details: [
      'Chain: the environment\'s own genesis and client arguments (this library\'s builders) when its client is geth',
      '(Clique); for Besu and GoQuorum, which do not run here, the same node ids, members, roles and chain id on',
      'geth Clique, and the start-up output says so in a "note:" line. Needs geth 1.13.15 and moto: in the repository',
      'scripts/ensure-geth.sh (builds geth once, ~2 min) and scripts/ensure-venv.sh moto; otherwise set',
      'BLOCKCHAIN_TENANCY_GETH and BLOCKCHAIN_TENANCY_MOTO_SERVER, or put geth and moto_server on PATH.',
      'Prints every node\'s HTTP and WebSocket URL through its gate, a first app credential (shown once), a developer',
      'account funded in the local genesis, and the management API URL with the key pair that signs for it; then',
      'runs until Ctrl-C (SIGINT) or SIGTERM, which stops every process it started and removes its temporary files.',
    ].join('\n'),
    examples: [`${PROG} local`, `${PROG} local --config tenants.json --tenant acme --env dev`, 'npm run local -- --tenant acme --env dev'],
  },
];

const GROUPS = ['environments', 'nodes', 'credentials', 'config'] as const;

export const USAGE = `usage: ${PROG} <command> [arguments] [options]

commands:
${COMMANDS.map((c) => `  ${[c.name, ...c.args].join(' ').padEnd(52)} ${c.brief}`).join('\n')}

options of every API command:
${optionLines(API_OPTIONS)}

  -h, --help       this text; \`${PROG} <command> --help\` explains one command
  --version        print the version

exit codes: 0 ok, 1 the API refused the request (4xx/5xx), 2 usage error, 3 API unreachable or no AWS credentials,
  4 \`--wait\` timed out; with --wait (and \`environments status\`) 1 is also a failed deployment`;

function optionLines(options: Readonly<Record<string, OptionSpec>>): string {
  return Object.entries(options)
    .map(([name, o]) => `  ${`--${name}${o.value ? ` ${o.value}` : ''}`.padEnd(22)} ${o.help}`)
    .join('\n');
}

/** The help text of one command. */
export function commandHelp(cmd: CommandSpec): string {
  const own = Object.keys(cmd.options);
  return [
    `usage: ${PROG} ${[cmd.name, ...cmd.args].join(' ')}${own.length ? ' [options]' : ''}${cmd.api ? ' [--endpoint URL] [--region REGION] [--profile NAME] [--json]' : ''}`,
    '',
    cmd.summary,
    ...(cmd.details ? ['', cmd.details] : []),
    ...(cmd.args.includes(ENV_ARG) ? ['', `${ENV_ARG}  the environment, tenant id and environment id, e.g. acme/dev`] : []),
    ...(own.length ? ['', 'options:', optionLines(cmd.options)] : []),
    ...(cmd.api ? ['', 'API options:', optionLines(API_OPTIONS)] : []),
    '',
    'examples:',
    ...cmd.examples.map((e) => `  ${e}`),
    '',
    cmd.exitCodes ?? (cmd.api
      ? 'exit codes: 0 ok, 1 the API refused the request (4xx/5xx), 2 usage error, 3 API unreachable or no AWS credentials'
      : 'exit codes: 0 stopped cleanly (Ctrl-C), 1 the environment failed to start or a process died, 2 usage error'),
  ].join('\n');
}

/** The help text of a command group, e.g. `credentials`. */
function groupHelp(group: string): string {
  const cmds = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return [
    `usage: ${PROG} ${group} <${cmds.map((c) => c.name.split(' ')[1]).join('|')}> ...`,
    '',
    ...cmds.map((c) => `  ${[c.name, ...c.args].join(' ').padEnd(52)} ${c.brief}`),
    '',
    `\`${PROG} ${group} <command> --help\` explains one command.`,
  ].join('\n');
}

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

/** Options of `local`. */
export interface LocalArgs {
  readonly config: string;
  readonly tenant?: string;
  readonly environment?: string;
}

/** How `--wait` follows a deployment. */
export interface WaitArgs {
  /** Give up (exit 4) after this many seconds. */
  readonly timeoutSeconds: number;
  /** Seconds between two status requests. */
  readonly intervalSeconds: number;
}

/** The control-plane commands (several requests each; bin/lifecycle-commands.ts runs them). */
export type LifecycleCommand =
  | 'environments create'
  | 'environments update'
  | 'environments delete'
  | 'environments status'
  | 'environments deployments'
  | 'nodes add'
  | 'nodes remove'
  | 'config export'
  | 'config import';

/** What a control-plane command asks for (options checked; files not read yet). */
export interface LifecycleArgs {
  readonly command: LifecycleCommand;
  /** '' for the config commands. */
  readonly tenantId: string;
  readonly environmentId: string;
  /** --file (create, update, nodes add) or the file of `config import`. */
  readonly file?: string;
  readonly fromConfig?: string;
  readonly idempotencyKey?: string;
  readonly purge: boolean;
  readonly nodeId?: string;
  readonly deploymentId?: string;
  readonly out?: string;
  readonly dryRun: boolean;
  /** Set with --wait (and always for `environments status --wait`). */
  readonly wait?: WaitArgs;
  readonly endpoint: string;
  readonly region: string;
  readonly profile?: string;
  readonly json: boolean;
}

/** What the command line asks for. */
export type CommandLine =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version' }
  | { readonly kind: 'api'; readonly args: ParsedArgs }
  | { readonly kind: 'lifecycle'; readonly args: LifecycleArgs }
  | { readonly kind: 'local'; readonly args: LocalArgs };

/** Default and bounds of --timeout and --interval. */
export const WAIT_DEFAULTS = { timeoutSeconds: 3600, maxTimeoutSeconds: 86_400, intervalSeconds: 5, maxIntervalSeconds: 300 } as const;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const DEPLOYMENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** A usage error: the message names what is wrong and the fix; `command` says whose help applies. */
export class UsageError extends Error {
  constructor(
    message: string,
    public readonly command?: CommandSpec,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Every option of every command, with its type, so a first pass finds the command words. */
function allOptions() {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } };
  for (const c of COMMANDS) for (const [k, o] of Object.entries({ ...c.options, ...API_OPTIONS })) out[k] = { type: o.type };
  return out;
}

const ID = ID_PATTERN;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/**
 * Parses the command line (argv without node and script) with node:util's parseArgs: options as
 * `--opt value` or `--opt=value`, anywhere after the command words. Throws {@link UsageError}
 * naming the problem and the fix; refuses unknown options, repeated options and extra arguments.
 */
export function parseCommandLine(argv: readonly string[], env: NodeJS.ProcessEnv = {}): CommandLine {
  // First pass (lenient): find the command words. Values of known options are consumed as values.
  const loose = parseNodeArgs({ args: [...argv], options: allOptions(), strict: false, allowPositionals: true });
  const words = loose.positionals;
  if (words[0] === 'help') {
    // `help`, `help credentials`, `help credentials create`: the same texts as --help.
    const topic = words.slice(1).join(' ');
    const cmd = COMMANDS.find((c) => c.name === topic);
    if (cmd) return { kind: 'help', text: commandHelp(cmd) };
    if ((GROUPS as readonly string[]).includes(topic)) return { kind: 'help', text: groupHelp(topic) };
    if (topic === '') return { kind: 'help', text: USAGE };
    throw new UsageError(`no help for "${topic}": it is not a command; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`);
  }
  const cmd = COMMANDS.find((c) => c.name === words.slice(0, c.name.split(' ').length).join(' '));
  if (!cmd) {
    if (words.length === 0) {
      if (loose.values.version === true) {
        strictParse(argv, { version: { type: 'boolean', help: '' } }, undefined);
        return { kind: 'version' };
      }
      if (loose.values.help === true) return { kind: 'help', text: USAGE };
      strictParse(argv, {}, undefined);
      throw new UsageError(`no command given; run \`${PROG} --help\` for the commands`);
    }
    const group = GROUPS.find((g) => g === words[0]);
    if (group) {
      if (loose.values.help === true && words.length === 1) return { kind: 'help', text: groupHelp(group) };
      const verbs = COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.split(' ')[1]);
      throw new UsageError(
        words.length === 1
          ? `"${group}" needs a command: ${verbs.join(', ')} (e.g. \`${PROG} ${group} ${verbs[0]} --help\`)`
          : `unknown command "${group} ${words[1]}"; ${group} commands are ${verbs.join(', ')}`,
      );
    }
    throw new UsageError(`unknown command "${words[0]}"; the commands are ${[...GROUPS, 'local'].join(', ')} (run \`${PROG} --help\`)`);
  }
  const values = strictParse(argv, { ...cmd.options, ...(cmd.api ? API_OPTIONS : {}) }, cmd);
  if (values.help === true) return { kind: 'help', text: commandHelp(cmd) };
  const positionals = words.slice(cmd.name.split(' ').length);
  if (positionals.length > cmd.args.length) {
    const extra = positionals.slice(cmd.args.length);
    throw new UsageError(
      `unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((e) => `"${e}"`).join(' ')} for "${cmd.name}", which takes ${cmd.args.length ? cmd.args.join(' ') : 'no arguments'}; remove ${extra.length > 1 ? 'them' : 'it'}, or quote a value that contains spaces (e.g. --description "two words")`,
      cmd,
    );
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  if (cmd.name === 'local') {
    return { kind: 'local', args: { config: str('config') ?? 'tenants.json', ...(str('tenant') ? { tenant: str('tenant') } : {}), ...(str('env') ? { environment: str('env') } : {}) } };
  }
  const [target, id] = positionals;
  const envPath = () => {
    if (target === undefined) throw new UsageError(`"${cmd.name}" needs the environment as ${ENV_ARG}, e.g. \`${PROG} ${cmd.name} acme/dev${cmd.args[1] ? ` ${cmd.args[1]}` : ''}\``, cmd);
    if (!/^[^/]+\/[^/]+$/.test(target) || !target.split('/').every((p) => ID.test(p))) {
      throw new UsageError(`"${target}" is not an environment; give it as ${ENV_ARG}, e.g. acme/dev (lowercase ids of 2-24 characters a-z, 0-9 and "-")`, cmd);
    }
    return `/environments/${target}`;
  };
  const need = () => {
    envPath();
    if (!id) throw new UsageError(`"${cmd.name}" needs ${cmd.args[1]} after the environment, e.g. \`${cmd.examples[0]}\``, cmd);
    return encodeURIComponent(id);
  };
  const [, verb] = cmd.name.split(' ');
  let plan: Plan | undefined;
  let lifecycle: Omit<LifecycleArgs, 'endpoint' | 'region' | 'profile' | 'json'> | undefined;
  const flag = (k: string) => values[k] === true;
  const seconds = (k: string, def: number, max: number, min = 1) => {
    const text = str(k);
    if (text === undefined) return def;
    if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${k} must be a whole number of seconds from ${min} to ${max} (got "${text}"), e.g. --${k} ${def}`, cmd);
    return Number(text);
  };
  const waitArgs = (always = false): WaitArgs | undefined => {
    if (!flag('wait') && !always) {
      for (const k of ['timeout', 'interval']) if (str(k) !== undefined) throw new UsageError(`--${k} applies to --wait only; add --wait, or remove --${k}`, cmd);
      return undefined;
    }
    return { timeoutSeconds: seconds('timeout', WAIT_DEFAULTS.timeoutSeconds, WAIT_DEFAULTS.maxTimeoutSeconds), intervalSeconds: seconds('interval', WAIT_DEFAULTS.intervalSeconds, WAIT_DEFAULTS.maxIntervalSeconds) };
  };
  const ids = () => {
    envPath();
    const [tenantId, environmentId] = target.split('/');
    return { tenantId, environmentId };
  };
  const base = { purge: false, dryRun: false };
  const needFile = (what: string) => {
    const file = str('file');
    if (file === undefined || file === '') throw new UsageError(`"${cmd.name}" needs --file FILE: ${what}, e.g. \`${cmd.examples[0]}\``, cmd);
    return file;
  };
  switch (cmd.name) {
    case 'environments create': {
      const at = ids();
      const file = str('file');
      const fromConfig = str('from-config');
      if ((file === undefined) === (fromConfig === undefined)) {
        throw new UsageError(
          file === undefined
            ? `"environments create" needs the environment's config: --file FILE (one environment's config) or --from-config tenants.json (take ${target} out of it), e.g. \`${PROG} environments create ${target} --file ${at.environmentId}.json\``
            : '--file and --from-config are two ways to give the config; give one of them',
          cmd,
        );
      }
      const key = str('idempotency-key');
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new UsageError(`--idempotency-key "${key}" must be 1-128 characters of A-Z a-z 0-9 _ . : - (e.g. a UUID); or leave it out and the CLI makes one`, cmd);
      lifecycle = { command: cmd.name, ...at, ...base, ...(file !== undefined ? { file } : {}), ...(fromConfig !== undefined ? { fromConfig } : {}), ...(key !== undefined ? { idempotencyKey: key } : {}), wait: waitArgs() };
      break;
    }
    case 'environments update':
      lifecycle = { command: cmd.name, ...ids(), ...base, file: needFile('the JSON Merge Patch of the config'), wait: waitArgs() };
      break;
    case 'environments delete': {
      const at = ids();
      const confirm = str('confirm');
      if (flag('purge') && confirm === undefined) {
        throw new UsageError(`--purge destroys ${target}'s data (file systems, key, logs, secrets) and cannot be undone; to confirm, repeat the environment id: --purge --confirm ${at.environmentId}`, cmd);
      }
      if (flag('purge') && confirm !== at.environmentId) {
        throw new UsageError(`--confirm "${confirm}" does not match the environment ${target}; to destroy its data write --confirm ${at.environmentId}; nothing was sent`, cmd);
      }
      if (!flag('purge') && confirm !== undefined) throw new UsageError('--confirm confirms --purge only; add --purge to destroy the data too, or remove --confirm to delete and keep the data', cmd);
      lifecycle = { command: cmd.name, ...at, ...base, purge: flag('purge'), wait: waitArgs() };
      break;
    }
    case 'environments status': {
      const deployment = str('deployment');
      if (deployment !== undefined && !DEPLOYMENT_ID.test(deployment)) throw new UsageError(`--deployment "${deployment}" is not a deployment id; take it from \`${PROG} environments deployments ${target}\``, cmd);
      lifecycle = { command: cmd.name, ...ids(), ...base, ...(deployment !== undefined ? { deploymentId: deployment } : {}), wait: waitArgs() };
      break;
    }
    case 'environments deployments':
      lifecycle = { command: cmd.name, ...ids(), ...base };
      break;
    case 'nodes add':
      lifecycle = { command: cmd.name, ...ids(), ...base, file: needFile("the node's config"), wait: waitArgs() };
      break;
    case 'nodes remove': {
      const nodeId = need();
      if (!ID.test(id)) throw new UsageError(`"${id}" is not a node id (2-24 characters of a-z, 0-9 and "-"); \`${PROG} nodes list ${target}\` lists them`, cmd);
      lifecycle = { command: cmd.name, ...ids(), ...base, nodeId: decodeURIComponent(nodeId), wait: waitArgs() };
      break;
    }
    case 'config export': {
      const out = str('out');
      if (out === '') throw new UsageError('--out needs a file name, e.g. --out tenants.json', cmd);
      lifecycle = { command: cmd.name, tenantId: '', environmentId: '', ...base, ...(out !== undefined ? { out } : {}) };
      break;
    }
    case 'config import':
      if (target === undefined || target === '') throw new UsageError(`"config import" needs the tenants.json to import, e.g. \`${PROG} config import tenants.json --dry-run\``, cmd);
      lifecycle = { command: cmd.name, tenantId: '', environmentId: '', ...base, file: target, dryRun: flag('dry-run'), wait: waitArgs() };
      break;
    case 'environments list':
      plan = { method: 'GET', path: '/environments', kind: 'environments' };
      break;
    case 'nodes list':
      plan = { method: 'GET', path: `${envPath()}/nodes`, kind: 'nodes' };
      break;
    case 'nodes start':
    case 'nodes stop':
    case 'nodes reboot':
      plan = { method: 'POST', path: `${envPath()}/nodes/${need()}/${verb}`, kind: 'node-action' };
      break;
    case 'credentials create': {
      const path = `${envPath()}/credentials`;
      const member = str('member');
      if (member === undefined) throw new UsageError('credentials create needs --member <member>: the member whose nodes the credential opens, e.g. --member acme', cmd);
      const daysText = str('days');
      const days = daysText === undefined ? undefined : Number(daysText);
      if (days !== undefined && (!/^\d+$/.test(daysText!) || days < 1)) throw new UsageError(`--days must be a whole number of days >= 1 (got "${daysText}"), e.g. --days 30`, cmd);
      const description = str('description');
      plan = { method: 'POST', path, kind: 'credential-secret', body: { memberId: member, ...(days !== undefined ? { lifetimeDays: days } : {}), ...(description !== undefined ? { description } : {}) } };
      break;
    }
    case 'credentials list': {
      const member = str('member');
      plan = { method: 'GET', path: `${envPath()}/credentials${member !== undefined ? `?memberId=${encodeURIComponent(member)}` : ''}`, kind: 'credentials' };
      break;
    }
    case 'credentials revoke':
      plan = { method: 'DELETE', path: `${envPath()}/credentials/${need()}`, kind: 'credential' };
      break;
    case 'credentials regenerate':
      plan = { method: 'POST', path: `${envPath()}/credentials/${need()}/regenerate`, kind: 'credential-secret' };
      break;
    default:
      throw new UsageError(`unknown command "${cmd.name}"`);
  }
  const endpoint = checkEndpoint(str('endpoint'), env.BLOCKCHAIN_TENANCY_ENDPOINT, cmd);
  const region = str('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region === undefined) throw new UsageError('no region: pass --region (the API\'s region, e.g. eu-west-1) or set AWS_REGION', cmd);
  if (!REGION.test(region)) throw new UsageError(`region "${region}" (${str('region') !== undefined ? '--region' : 'AWS_REGION'}) is not an AWS region code; write e.g. eu-west-1`, cmd);
  const profile = str('profile');
  const connection = { json: values.json === true, endpoint, region, ...(profile !== undefined ? { profile } : {}) };
  if (lifecycle) {
    const { wait, ...rest } = lifecycle;
    return { kind: 'lifecycle', args: { ...rest, ...(wait ? { wait } : {}), ...connection } };
  }
  return { kind: 'api', args: { plan: plan!, ...connection } };
}

/** The strict pass: parses argv against a command's options; turns parseArgs errors into UsageErrors. */
function strictParse(argv: readonly string[], options: Readonly<Record<string, OptionSpec>>, cmd: CommandSpec | undefined): Record<string, string | boolean | undefined> {
  const spec: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [k, o] of Object.entries(options)) spec[k] = { type: o.type };
  const where = cmd ? `"${cmd.name}"` : `${PROG} without a command`;
  const known = Object.keys(options).map((k) => `--${k}`);
  let parsed;
  try {
    parsed = parseNodeArgs({ args: [...argv], options: spec, strict: true, allowPositionals: true, tokens: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const option = /'(-[^' ]+)/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const hint = closest(option.replace(/^-+/, '').split('=')[0], Object.keys(options));
      throw new UsageError(
        `unknown option ${option} for ${where}${hint ? `; did you mean --${hint}?` : ''}. ${known.length ? `It takes ${known.join(', ')}` : 'It takes no options'} (and --help)${cmd ? `: see \`${PROG} ${cmd.name} --help\`` : ''}`,
        cmd,
      );
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = option.split(' ')[0];
      const type = spec[name.replace(/^-+/, '')]?.type;
      throw new UsageError(
        type === 'boolean'
          ? `${name} is a switch and takes no value; write ${name} alone`
          : `${name} needs a value: write ${name} VALUE or ${name}=VALUE (a value starting with "-" only as ${name}=-VALUE)`,
        cmd,
      );
    }
    throw new UsageError(err.message, cmd);
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== 'option') continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once; give it once`, cmd);
    seen.add(t.name);
  }
  return parsed.values as Record<string, string | boolean | undefined>;
}

/** Checks the API endpoint (from --endpoint or the environment variable): an https URL, or http on loopback. */
function checkEndpoint(flag: string | undefined, fromEnv: string | undefined, cmd: CommandSpec): string {
  const value = flag ?? fromEnv;
  const source = flag !== undefined ? '--endpoint' : 'BLOCKCHAIN_TENANCY_ENDPOINT';
  const example = 'e.g. https://abc123defg.execute-api.eu-west-1.amazonaws.com/v1 (the Endpoint output of the BlockchainManagement stack)';
  if (value === undefined || value === '') throw new UsageError(`no endpoint: pass --endpoint URL or set BLOCKCHAIN_TENANCY_ENDPOINT, ${example}`, cmd);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source} "${value}" is not a URL; give the management API's base URL, ${example}`, cmd);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UsageError(`${source} "${value}" must use https:// (http:// only for a local API on 127.0.0.1 or localhost); ${example}`, cmd);
  }
  if (url.search || url.hash || url.username || url.password) throw new UsageError(`${source} "${url.origin}${url.pathname}..." must be a plain base URL without query, fragment or user info`, cmd);
  return value;
}

/** The allowed name closest to `name`, when it is plausibly a typo. */
function closest(name: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const a of allowed) {
    const row = Array.from({ length: a.length + 1 }, (_, i) => i);
    for (let i = 1; i <= name.length; i++) {
      let prev = row[0];
      row[0] = i;
      for (let j = 1; j <= a.length; j++) {
        const tmp = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (name[i - 1] === a[j - 1] ? 0 : 1));
        prev = tmp;
      }
    }
    if (row[a.length] < bestDistance) {
      best = a;
      bestDistance = row[a.length];
    }
  }
  return bestDistance <= 2 ? best : undefined;
}

/** The package version (package.json next to bin/ in the repository, or to dist/bin when installed). */
export function packageVersion(start = __dirname): string {
  for (let dir = start, i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PROG && pkg.version) return pkg.version;
    } catch {
      // not here
    }
  }
  return 'unknown';
}

interface ErrorWithCause {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly address?: string;
  readonly port?: number;
  readonly hostname?: string;
  readonly cause?: unknown;
  readonly errors?: readonly unknown[];
}

const TLS_CODES = /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME|EPROTO/;

/**
 * Explains why a request to the API did not get an answer: fetch only says "fetch failed"; the
 * cause (connection refused at address:port, a host name that does not resolve, a TLS failure, a
 * timeout) is in its `cause`. Returns one line with the cause and what to check.
 */
export function describeFetchError(error: unknown, url: URL): string {
  const top = error as ErrorWithCause;
  let cause = (top?.cause ?? top) as ErrorWithCause;
  // Several addresses (IPv4 + IPv6): an AggregateError; the first says enough.
  if (cause?.errors?.length && !cause.code) cause = cause.errors[0] as ErrorWithCause;
  else if (cause?.errors?.length) cause = { ...(cause.errors[0] as ErrorWithCause), code: cause.code };
  const code = cause?.code ?? '';
  const where = `${url.origin}`;
  const check = `check --endpoint (or BLOCKCHAIN_TENANCY_ENDPOINT: ${url.origin}${url.pathname})`;
  if (top?.name === 'TimeoutError' || top?.name === 'AbortError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') {
    return `${where} did not answer in time (${code || top?.name}): ${check}, and that nothing (proxy, firewall, VPN) blocks HTTPS to it`;
  }
  if (code === 'ECONNREFUSED') {
    return `${where} refused the connection (ECONNREFUSED ${cause.address ?? url.hostname}:${cause.port ?? (url.port || (url.protocol === 'https:' ? 443 : 80))}): nothing listens there; ${check} and the port`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `the host name ${cause.hostname ?? url.hostname} does not resolve (${code}${code === 'EAI_AGAIN' ? ': DNS did not answer' : ''}): ${check}; it is the Endpoint output of the BlockchainManagement stack (or your custom domain, with its DNS record)`;
  }
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') {
    return `${where} closed the connection (${code}): ${check}; an http:// URL for an https:// API (or the reverse) does this too`;
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return `${where} is unreachable from this machine (${code} ${cause.address ?? url.hostname}): check your network route to it and ${check.slice(6)}`;
  }
  if (TLS_CODES.test(code) || /certificate|tls|ssl/i.test(cause?.message ?? '')) {
    return `TLS with ${where} failed (${code || 'TLS error'}: ${cause?.message ?? 'no detail'}): the server's certificate is not trusted for ${url.hostname}; check the custom domain's ACM certificate and DNS record, or set NODE_EXTRA_CA_CERTS for a private CA`;
  }
  return `${where} is unreachable (${[code, cause?.message].filter(Boolean).join(': ') || top?.message || 'no detail'}): ${check}`;
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
