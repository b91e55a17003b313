/**
 * `blockchain-tenancy local`: reads the environment from the config file, finds geth 1.13.15 and
 * moto, starts the local environment (lib/local/local-environment.ts), prints its endpoints and a
 * first app credential, and runs until SIGINT / SIGTERM (Ctrl-C), which stops every process it
 * started and removes its temporary files. Loaded on demand by bin/blockchain-tenancy.ts only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LocalArgs } from '../../bin/cli';
import { TenantConfigError } from '../config/config-error';
import { EnvironmentConfig, TenantsConfig, parseTenantsConfig } from '../config/tenant-config';
import { LocalEnvironment, localChainFor, startLocalEnvironment } from './local-environment';

const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;
const REPO = join(__dirname, '..', '..');

class LocalUsageError extends Error {}

/** The tenant environment named by the options (default: the first tenant's first environment). */
export function selectEnvironment(config: TenantsConfig, tenant?: string, env?: string): { tenantId: string; environmentId: string; environment: EnvironmentConfig } {
  const t = tenant === undefined ? config.tenants[0] : config.tenants.find((x) => x.id === tenant);
  if (!t) throw new LocalUsageError(`--tenant ${tenant}: no such tenant in the config; its tenants are ${config.tenants.map((x) => x.id).join(', ')}`);
  const e = env === undefined ? t.environments[0] : t.environments.find((x) => x.id === env);
  if (!e) throw new LocalUsageError(`--env ${env}: tenant ${t.id} has no such environment; its environments are ${t.environments.map((x) => x.id).join(', ')}`);
  return { tenantId: t.id, environmentId: e.id, environment: e };
}

/** A geth 1.13.x binary: BLOCKCHAIN_TENANCY_GETH, the repository's build script, or geth on PATH. */
function findGeth(): string {
  const fromEnv = process.env.BLOCKCHAIN_TENANCY_GETH;
  const script = join(REPO, 'scripts', 'ensure-geth.sh');
  const candidate = fromEnv ?? (existsSync(script) ? execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 }).trim() : 'geth');
  let version = '';
  try {
    version = execFileSync(candidate, ['version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    throw new Error(`no geth at ${candidate}: install geth 1.13.15 (the last release that seals Clique), e.g. \`go install -ldflags=-checklinkname=0 github.com/ethereum/go-ethereum/cmd/geth@v1.13.15\`, and put it on PATH or set BLOCKCHAIN_TENANCY_GETH to its path`);
  }
  if (!/^Version: 1\.13\./m.test(version)) {
    throw new Error(`${candidate} is geth ${/^Version: (\S+)/m.exec(version)?.[1] ?? 'of unknown version'}; Clique needs 1.13.x (1.14+ is proof-of-stake only): set BLOCKCHAIN_TENANCY_GETH to a geth 1.13.15`);
  }
  return candidate;
}

/** moto's server: BLOCKCHAIN_TENANCY_MOTO_SERVER, the repository's pinned venv, or moto_server on PATH. */
function findMoto(): string {
  const fromEnv = process.env.BLOCKCHAIN_TENANCY_MOTO_SERVER;
  if (fromEnv) return fromEnv;
  const script = join(REPO, 'scripts', 'ensure-venv.sh');
  if (existsSync(script)) return join(execFileSync('bash', [script, 'moto'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 }).trim(), 'moto_server');
  try {
    execFileSync('moto_server', ['--help'], { stdio: 'ignore' });
    return 'moto_server';
  } catch {
    throw new Error('no moto_server: `pip install "moto[server]"` (a local Secrets Manager and SSM), then put moto_server on PATH or set BLOCKCHAIN_TENANCY_MOTO_SERVER to its path');
  }
}

/** What `local` prints once everything answers. The credential's secret appears here only. */
export function describeLocalEnvironment(env: LocalEnvironment, credential: { id: string; secret: string; memberId: string; expiresAt: string }): string {
  const own = env.nodes.filter((n) => n.member === credential.memberId);
  const c = env.chain.chain;
  return [
    `blockchain-tenancy local: ${env.tenantId}/${env.environmentId} on geth 1.13.15 (${c.consensus}, chain id ${c.chainId}, ${c.blockPeriodSeconds} s blocks, ${env.nodes.length} node${env.nodes.length === 1 ? '' : 's'})`,
    ...(env.chain.substitution ? [`note: ${env.chain.substitution}`] : []),
    '',
    'nodes (through each node\'s gate; every call needs an app credential of the node\'s member):',
    ...env.nodes.map((n) => `  ${n.id} (member ${n.member}, ${n.role}): ${n.httpUrl}  ${n.wsUrl}`),
    '',
    `first app credential ${credential.id} for member ${credential.memberId}, expires ${credential.expiresAt}:`,
    `  secret: ${credential.secret}`,
    ...own.flatMap((n) => [`  ${n.id}: ${n.httpUrl.replace('://', `://${credential.id}:${credential.secret}@`)}`, `  ${n.id}: ${n.wsUrl.replace('://', `://${credential.id}:${credential.secret}@`)}`]),
    '  The secret is shown once and is not stored anywhere (only its argon2id hash): copy it now.',
    '',
    'developer account (funded in this local genesis only; a throwaway key, never use it anywhere else):',
    `  address: ${env.developerAccount.address}`,
    `  private key: ${env.developerAccount.privateKey}`,
    '',
    `management API: ${env.managementEndpoint} (SigV4 with this local key pair; more credentials: blockchain-tenancy credentials create ${env.tenantId}/${env.environmentId} --member <member>)`,
    `  export BLOCKCHAIN_TENANCY_ENDPOINT=${env.managementEndpoint} AWS_REGION=${env.apiCredentials.region} AWS_ACCESS_KEY_ID=${env.apiCredentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${env.apiCredentials.secretAccessKey}`,
    '',
    'ready. Ctrl-C stops every process and removes the chain data.',
  ].join('\n');
}

/** Runs `blockchain-tenancy local`; resolves with the exit code once stopped. */
export async function runLocalCommand(args: LocalArgs): Promise<number> {
  let selected;
  try {
    const path = resolve(args.config);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new LocalUsageError(`--config ${args.config}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); pass the tenant config file, e.g. --config tenants.json`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new LocalUsageError(`--config ${args.config}: not JSON (${(e as Error).message})`);
    }
    selected = selectEnvironment(parseTenantsConfig(raw, args.config), args.tenant, args.environment);
    localChainFor(selected.environment);
  } catch (e) {
    if (e instanceof LocalUsageError || e instanceof TenantConfigError) {
      console.error(`blockchain-tenancy local: ${e.message}`);
      return EXIT.USAGE;
    }
    throw e;
  }

  let env: LocalEnvironment | undefined;
  let stopping = false;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (resolveDone = r));
  const shutdown = (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`blockchain-tenancy local: ${why}; stopping every process ...`);
    void (env?.stop() ?? Promise.resolve()).then(() => {
      console.error('blockchain-tenancy local: stopped; temporary files removed');
      resolveDone(code);
    });
  };
  // A signal during start-up aborts it: what was started is stopped and temporary files removed.
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => (env ? shutdown(EXIT.OK, signal) : abort.abort(signal));
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const geth = findGeth();
    const motoServer = findMoto();
    console.error(`blockchain-tenancy local: starting ${selected.tenantId}/${selected.environmentId} (moto, geth, gates, management API) ...`);
    env = await startLocalEnvironment({ ...selected, geth, motoServer, signal: abort.signal });
  } catch (e) {
    if (abort.signal.aborted) {
      console.error(`blockchain-tenancy local: ${String(abort.signal.reason)} during start-up; everything started is stopped and temporary files removed`);
      return EXIT.OK;
    }
    console.error(`blockchain-tenancy local: the environment did not start: ${(e as Error).message}`);
    return EXIT.FAILED;
  }
  // Ctrl-C in a terminal signals the children too: a child that dies of it is not a failure, so
  // its exit is judged a moment later, once our own SIGINT handler has run.
  env.onProcessExit((name, how, log) => {
    setTimeout(() => shutdown(EXIT.FAILED, `${name} exited on its own (${how}); its log ends with:\n${log.split('\n').slice(-15).join('\n')}`), 300);
  });
  const firstMember = env.nodes[0].member;
  const created = await env.credentials.create({ memberId: firstMember, description: 'blockchain-tenancy local' });
  console.log(describeLocalEnvironment(env, { id: created.credential.id, secret: created.secret, memberId: firstMember, expiresAt: created.credential.expiresAt }));
  return done;
}
