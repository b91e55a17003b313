/**
 * Runs the CLI's control-plane commands (`environments create|update|delete|status|deployments`,
 * `nodes add|remove`, `config export|import`) against the management API: each is a few requests
 * (read the stored config, check the file, send the change, follow the deployment). The requests
 * and the terminal are passed in ({@link ApiRequest}, {@link Terminal}), so bin/blockchain-tenancy.ts
 * wires SigV4-signed HTTPS and the process, and unit tests drive it directly.
 */
import { createHash } from 'node:crypto';
import { EXIT, LifecycleArgs } from './cli';
import {
  Deployment,
  JsonObject,
  LocalInputError,
  TERMINAL,
  checkNode,
  checkPatch,
  deploymentHeading,
  deploymentsTable,
  duration,
  environmentFromFile,
  environmentFromTenantsFile,
  environmentsOf,
  exportTenantsConfig,
  outcomeLine,
  planImport,
  readJsonFile,
  renderPlan,
  transitionLine,
  transitionsOf,
} from './lifecycle';
import { parseTenantsConfig } from '../lib/config/tenant-config';
import { TenantConfigError } from '../lib/config/config-error';

/** An answer of the API (any status). */
export interface ApiAnswer {
  readonly status: number;
  readonly body: JsonObject;
}

/** Sends one request (path below the API base, with its query); throws {@link ApiUnreachable} when there is no answer. */
export type ApiRequest = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers?: Readonly<Record<string, string>>) => Promise<ApiAnswer>;

/** No answer from the API (or no credentials): exit 3; the message says why and what to check. */
export class ApiUnreachable extends Error {
  /**
   * @param sent whether the request may have reached the API (false: no credentials, nothing
   * left this machine; then no retry hint is printed)
   */
  constructor(
    message: string,
    public readonly sent = true,
  ) {
    super(message);
    this.name = 'ApiUnreachable';
  }
}

/** A refusal of the API (4xx/5xx): exit 1. */
class ApiRefused extends Error {
  constructor(
    public readonly answer: ApiAnswer,
    public readonly hint?: string,
  ) {
    const err = (answer.body.error ?? answer.body) as { message?: string; field?: string };
    super(`${answer.status} ${err.message ?? ''}${err.field ? ` (field: ${err.field})` : ''}${hint ? `\n${hint}` : ''}`);
    this.name = 'ApiRefused';
  }
}

/** What the commands need of the process. */
export interface Terminal {
  /** A line (or lines) on stdout. */
  out(text: string): void;
  /** A line on stderr. */
  err(text: string): void;
  /** Shows (or, with undefined, clears) a one-line spinner on stderr; a no-op when stderr is not a terminal. */
  spin(text: string | undefined): void;
  now(): number;
  sleep(ms: number): Promise<void>;
  readFile(path: string): string;
  writeFile(path: string, text: string): void;
  /** A new idempotency key. */
  newKey(): string;
}

const PROG = 'blockchain-tenancy';

/** A stored config without its `id` (the environment's id is in the path). */
function withoutId(config: unknown): JsonObject {
  const out = { ...((config ?? {}) as JsonObject) };
  delete out.id;
  return out;
}

/** Runs one control-plane command; returns the exit code. */
export async function runLifecycle(args: LifecycleArgs, request: ApiRequest, term: Terminal): Promise<number> {
  const run = new Runner(args, request, term);
  try {
    return await run.command();
  } catch (e) {
    term.spin(undefined);
    if (e instanceof LocalInputError) {
      term.err(`${PROG}: ${e.message}`);
      return EXIT.USAGE;
    }
    if (e instanceof ApiRefused) {
      if (args.json) term.out(JSON.stringify({ status: e.answer.status, ...e.answer.body }, null, 2));
      else term.err(`${PROG}: ${e.message}`);
      return EXIT.API_ERROR;
    }
    if (e instanceof ApiUnreachable) {
      term.err(`${PROG}: ${e.message}${run.retryHint && e.sent ? `\n${run.retryHint}` : ''}`);
      return EXIT.UNREACHABLE;
    }
    throw e;
  }
}

class Runner {
  /** Printed with an unreachable API: how to retry without a second deployment, or to follow the running one. */
  public retryHint?: string;
  private readonly env: string;
  private readonly base: string;

  constructor(
    private readonly args: LifecycleArgs,
    private readonly request: ApiRequest,
    private readonly term: Terminal,
  ) {
    this.env = `${args.tenantId}/${args.environmentId}`;
    this.base = `/environments/${args.tenantId}/${args.environmentId}`;
  }

  public async command(): Promise<number> {
    const a = this.args;
    switch (a.command) {
      case 'environments create':
        return this.create();
      case 'environments update':
        return this.update();
      case 'environments delete':
        return this.started(await this.call('DELETE', `${this.base}${a.purge ? `?purge=true&confirm=${encodeURIComponent(a.environmentId)}` : ''}`), a.purge ? 'delete (purge: data destroyed)' : 'delete (data kept)');
      case 'environments status':
        return this.status();
      case 'environments deployments': {
        const answer = await this.call('GET', `${this.base}/deployments`);
        const list = (answer.deployments ?? []) as Deployment[];
        this.term.out(a.json ? JSON.stringify(answer, null, 2) : list.length ? deploymentsTable(list) : `no deployments of ${this.env} (an environment deployed with \`cdk deploy\` has none)`);
        return EXIT.OK;
      }
      case 'nodes add': {
        const node = readJsonFile(a.file!, '--file', this.term.readFile);
        if (node === null || typeof node !== 'object' || Array.isArray(node)) checkNode(node, a.tenantId, a.environmentId, a.file!, {});
        const stored = await this.storedConfig();
        checkNode(node, a.tenantId, a.environmentId, a.file!, stored);
        return this.started(await this.call('POST', `${this.base}/nodes`, node), `add node ${String((node as JsonObject).id)}`);
      }
      case 'nodes remove':
        return this.started(await this.call('DELETE', `${this.base}/nodes/${encodeURIComponent(a.nodeId!)}`), `remove node ${a.nodeId}`);
      case 'config export':
        return this.exportConfig();
      case 'config import':
        return this.importConfig();
    }
  }

  private async create(): Promise<number> {
    const a = this.args;
    const body = a.file !== undefined
      ? environmentFromFile(readJsonFile(a.file, '--file', this.term.readFile), a.tenantId, a.environmentId, a.file)
      : environmentFromTenantsFile(readJsonFile(a.fromConfig!, '--from-config', this.term.readFile), a.tenantId, a.environmentId, a.fromConfig!);
    const key = a.idempotencyKey ?? this.term.newKey();
    const source = a.file !== undefined ? `--file ${a.file}` : `--from-config ${a.fromConfig}`;
    this.retryHint = `the environment may or may not have been created: run the same command again with --idempotency-key ${key} (${PROG} environments create ${this.env} ${source} --idempotency-key ${key}); it answers the first deployment instead of starting another`;
    const answer = await this.call('POST', this.base, body, { 'idempotency-key': key });
    this.retryHint = undefined;
    return this.started(answer, 'create', key);
  }

  private async update(): Promise<number> {
    const a = this.args;
    const patch = readJsonFile(a.file!, '--file', this.term.readFile);
    checkPatch(patch, a.tenantId, a.environmentId, a.file!); // shape first: a bad file sends nothing at all
    checkPatch(patch, a.tenantId, a.environmentId, a.file!, await this.storedConfig());
    return this.started(await this.call('PATCH', this.base, patch), 'update');
  }

  /** The stored config of the environment (GET .../config). */
  private async storedConfig(): Promise<JsonObject> {
    const answer = await this.call('GET', `${this.base}/config`);
    return (answer.config ?? {}) as JsonObject;
  }

  /** Prints the answer of a request that started a deployment; follows it with --wait. */
  private async started(answer: JsonObject, what: string, idempotencyKey?: string): Promise<number> {
    const id = String(answer.deploymentId);
    const version = answer.configVersion !== undefined ? `, config version ${String(answer.configVersion)}` : '';
    if (!this.args.json) {
      this.term.out(`${this.env}: ${what} requested: deployment ${id} ${String(answer.status ?? 'queued')}${version}`);
      if (idempotencyKey) this.term.out(`idempotency key: ${idempotencyKey} (a retry with --idempotency-key ${idempotencyKey} answers this deployment instead of starting another)`);
    }
    if (!this.args.wait) {
      if (this.args.json) this.term.out(JSON.stringify({ ...answer, ...(idempotencyKey ? { idempotencyKey } : {}) }, null, 2));
      else this.term.out(`follow it: ${PROG} environments status ${this.env} --deployment ${id} --wait`);
      return EXIT.OK;
    }
    const { code, deployment } = await this.follow(id);
    if (this.args.json) this.term.out(JSON.stringify({ ...answer, ...(idempotencyKey ? { idempotencyKey } : {}), deployment }, null, 2));
    return code;
  }

  private async status(): Promise<number> {
    const a = this.args;
    let id = a.deploymentId;
    if (id === undefined) {
      const list = ((await this.call('GET', `${this.base}/deployments`)).deployments ?? []) as Deployment[];
      if (list.length === 0) {
        this.term.err(`${PROG}: ${this.env} has no deployments: it was never created through the API (an environment deployed with \`cdk deploy\` has none); \`${PROG} environments create ${this.env} --file FILE\` creates one`);
        return EXIT.API_ERROR;
      }
      id = list[0].deploymentId;
    }
    if (a.wait) {
      const { code, deployment } = await this.follow(id);
      if (a.json) this.term.out(JSON.stringify(deployment, null, 2));
      return code;
    }
    const d = await this.deployment(id);
    if (a.json) this.term.out(JSON.stringify(d, null, 2));
    else {
      this.term.out(deploymentHeading(d));
      for (const t of transitionsOf(d)) this.term.out(transitionLine(t));
      if (TERMINAL.includes(d.status)) this.term.out(outcomeLine(d));
      else this.term.out(`still ${d.status}; follow it: ${PROG} environments status ${this.env} --deployment ${id} --wait`);
    }
    return d.status === 'failed' ? EXIT.API_ERROR : EXIT.OK;
  }

  private async deployment(id: string): Promise<Deployment> {
    return (await this.call('GET', `${this.base}/deployments/${encodeURIComponent(id)}`)) as unknown as Deployment;
  }

  /**
   * Follows a deployment to ready or failed: one line per transition (from its history, so a
   * transition between two requests is not missed), a spinner between them on a terminal; gives up
   * after --timeout (exit 4).
   */
  private async follow(id: string, prefix = ''): Promise<{ code: number; deployment: Deployment }> {
    const { timeoutSeconds, intervalSeconds } = this.args.wait!;
    const start = this.term.now();
    let printed = 0;
    const quiet = this.args.json;
    this.retryHint = `the deployment ${id} goes on in AWS; follow it again: ${PROG} environments status ${this.env} --deployment ${id} --wait`;
    for (let first = true; ; first = false) {
      const d = await this.deployment(id);
      if (first && !quiet) this.term.out(`${prefix}${deploymentHeading(d)}`);
      const transitions = transitionsOf(d);
      if (!quiet && transitions.length > printed) {
        this.term.spin(undefined);
        for (const t of transitions.slice(printed)) this.term.out(`${prefix}${transitionLine(t)}`);
        printed = transitions.length;
      }
      if (TERMINAL.includes(d.status)) {
        this.term.spin(undefined);
        if (!quiet) (d.status === 'ready' ? this.term.out : this.term.err).call(this.term, `${prefix}${outcomeLine(d)}`);
        this.retryHint = undefined;
        return { code: d.status === 'ready' ? EXIT.OK : EXIT.API_ERROR, deployment: d };
      }
      const elapsed = this.term.now() - start;
      if (elapsed >= timeoutSeconds * 1000) {
        this.term.spin(undefined);
        this.term.err(`${PROG}: ${prefix}gave up waiting after ${duration(elapsed)} (--timeout ${timeoutSeconds}): deployment ${id} is still ${d.status}; it goes on in AWS. Follow it: ${PROG} environments status ${this.env} --deployment ${id} --wait`);
        this.retryHint = undefined;
        return { code: EXIT.TIMEOUT, deployment: d };
      }
      if (!quiet) this.term.spin(`${prefix}${d.status} ${duration(elapsed)} (deployment ${id})`);
      await this.term.sleep(Math.min(intervalSeconds * 1000, timeoutSeconds * 1000 - elapsed));
    }
  }

  private async exportConfig(): Promise<number> {
    const a = this.args;
    const listed = ((await this.call('GET', '/environments')).environments ?? []) as { tenantId: string; environmentId: string }[];
    const entries: { tenantId: string; environmentId: string; config: JsonObject }[] = [];
    const skipped: string[] = [];
    for (const e of listed) {
      const answer = await this.request('GET', `/environments/${e.tenantId}/${e.environmentId}/config`);
      const error = answer.body.error as { code?: string; message?: string } | undefined;
      if (answer.status === 404 && error?.code !== 'ControlPlaneDisabled') {
        skipped.push(`${e.tenantId}/${e.environmentId} (${error?.message ?? 'no stored config'})`);
        continue;
      }
      if (answer.status >= 300) throw new ApiRefused(answer);
      entries.push({ tenantId: e.tenantId, environmentId: e.environmentId, config: withoutId(answer.body.config) });
    }
    // Deployed with `cdk deploy` and a tenants.json (never through the control plane), or deleted.
    for (const s of skipped) this.term.err(`${PROG}: skipped ${s}`);
    if (entries.length === 0) {
      this.term.err(`${PROG}: no environment has a stored config, so there is nothing to export${a.out ? ` and ${a.out} was not written` : ''}`);
      return EXIT.API_ERROR;
    }
    const text = `${JSON.stringify(exportTenantsConfig(entries), null, 2)}\n`;
    if (a.out === undefined) {
      this.term.out(text.trimEnd());
    } else {
      try {
        this.term.writeFile(a.out, text);
      } catch (e) {
        throw new LocalInputError(`--out ${a.out}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a writable path`);
      }
      const tenants = new Set(entries.map((e) => e.tenantId)).size;
      if (a.json) this.term.out(JSON.stringify({ out: a.out, environments: entries.map((e) => `${e.tenantId}/${e.environmentId}`), skipped }, null, 2));
      else this.term.out(`wrote ${entries.length} environment${entries.length === 1 ? '' : 's'} of ${tenants} tenant${tenants === 1 ? '' : 's'} to ${a.out}`);
    }
    return EXIT.OK;
  }

  private async importConfig(): Promise<number> {
    const a = this.args;
    const raw = readJsonFile(a.file!, 'config import', this.term.readFile);
    try {
      parseTenantsConfig(raw, a.file);
    } catch (e) {
      if (!(e instanceof TenantConfigError)) throw e;
      throw new LocalInputError(`config import ${a.file}: invalid tenant configuration (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}; nothing was sent)`, e.problems);
    }
    const stored = new Map<string, JsonObject>();
    for (const { tenantId, environmentId } of environmentsOf(raw)) {
      const answer = await this.request('GET', `/environments/${tenantId}/${environmentId}/config`);
      if (answer.status === 404 && (answer.body.error as { code?: string } | undefined)?.code !== 'ControlPlaneDisabled') continue;
      if (answer.status >= 300) throw new ApiRefused(answer);
      stored.set(`${tenantId}/${environmentId}`, { id: environmentId, ...withoutId(answer.body.config) });
    }
    const steps = planImport(raw, stored);
    if (a.json && a.dryRun) {
      this.term.out(JSON.stringify({ plan: steps.map(({ tenantId, environmentId, action, changes }) => ({ tenantId, environmentId, action, changes })) }, null, 2));
      return EXIT.OK;
    }
    if (!a.json) this.term.out(renderPlan(steps));
    if (a.dryRun) {
      this.term.out('dry run: nothing was sent');
      return EXIT.OK;
    }
    const results: JsonObject[] = [];
    const started: { env: string; deploymentId: string }[] = [];
    for (const s of steps) {
      const env = `${s.tenantId}/${s.environmentId}`;
      if (s.action === 'unchanged') {
        results.push({ tenantId: s.tenantId, environmentId: s.environmentId, action: s.action });
        continue;
      }
      const path = `/environments/${env}`;
      // The key is the hash of the environment and its config: importing the same file again after
      // a lost answer cannot start a second deployment.
      const key = s.action === 'create' ? `import-${createHash('sha256').update(`${env}\n${JSON.stringify(s.body)}`).digest('hex').slice(0, 40)}` : undefined;
      this.retryHint = `run the same import again: it compares with the stored configs${key ? ' and retries creations with the same idempotency key' : ''}, so nothing is applied twice`;
      const answer = s.action === 'create' ? await this.call('POST', path, s.body, { 'idempotency-key': key! }) : await this.call('PATCH', path, s.body);
      this.retryHint = undefined;
      const id = String(answer.deploymentId);
      results.push({ tenantId: s.tenantId, environmentId: s.environmentId, action: s.action, ...answer });
      started.push({ env, deploymentId: id });
      if (!a.json) this.term.out(`${env}: ${s.action} requested: deployment ${id} ${String(answer.status ?? 'queued')}`);
    }
    let code: number = EXIT.OK;
    if (a.wait) {
      for (const s of started) {
        const [tenantId, environmentId] = s.env.split('/');
        const sub = new Runner({ ...a, tenantId, environmentId }, this.request, this.term);
        const out = await sub.follow(s.deploymentId, `${s.env}: `);
        (results.find((r) => `${String(r.tenantId)}/${String(r.environmentId)}` === s.env) as JsonObject).deployment = out.deployment;
        if (out.code !== EXIT.OK && code === EXIT.OK) code = out.code;
      }
    }
    if (a.json) this.term.out(JSON.stringify({ results }, null, 2));
    else if (started.length === 0) this.term.out('nothing to do: every environment of the file equals its stored config');
    return code;
  }

  /** Sends a request; a refusal throws {@link ApiRefused} (with a hint for the common ones). */
  private async call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers?: Readonly<Record<string, string>>): Promise<JsonObject> {
    const answer = await this.request(method, path, body, headers);
    if (answer.status < 300) return answer.body;
    const err = (answer.body.error ?? {}) as { code?: string; message?: string };
    let hint: string | undefined;
    if (err.code === 'DeploymentInProgress') {
      const running = /\bdeployment ([A-Za-z0-9_.:-]+) of /.exec(err.message ?? '')?.[1];
      hint = `wait for it to finish: ${PROG} environments status ${this.env}${running ? ` --deployment ${running}` : ''} --wait; then run this command again`;
    }
    throw new ApiRefused(answer, hint);
  }
}
