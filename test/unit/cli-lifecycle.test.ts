import { describe, expect, it } from 'vitest';
import { EXIT, LifecycleArgs, UsageError, parseCommandLine } from '../../bin/cli';
import { ApiAnswer, ApiRequest, ApiUnreachable, Terminal, runLifecycle } from '../../bin/lifecycle-commands';
import {
  Deployment,
  LocalInputError,
  applyMergePatch,
  checkNode,
  checkPatch,
  deploymentsTable,
  environmentFromFile,
  environmentFromTenantsFile,
  exportTenantsConfig,
  mergePatchBetween,
  planImport,
  renderPlan,
} from '../../bin/lifecycle';

const ENV = { BLOCKCHAIN_TENANCY_ENDPOINT: 'https://abc.execute-api.eu-west-1.amazonaws.com/v1', AWS_REGION: 'eu-west-1' };
const parse = (...argv: string[]) => parseCommandLine(argv, ENV);
const lifecycle = (...argv: string[]): LifecycleArgs => {
  const line = parse(...argv);
  if (line.kind !== 'lifecycle') throw new Error(`not a lifecycle command: ${line.kind}`);
  return line.args;
};
const usage = (...argv: string[]): string => {
  try {
    parse(...argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error('accepted');
};
/** The problems of a LocalInputError thrown by `fn`. */
const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LocalInputError);
    return (e as LocalInputError).problems;
  }
  throw new Error('accepted');
};
const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LocalInputError);
    return (e as Error).message;
  }
  throw new Error('accepted');
};

describe('parsing of the control-plane commands', () => {
  it('reads each command into its arguments', () => {
    expect(lifecycle('environments', 'create', 'acme/qa', '--file', 'qa.json', '--wait')).toMatchObject({
      command: 'environments create',
      tenantId: 'acme',
      environmentId: 'qa',
      file: 'qa.json',
      wait: { timeoutSeconds: 3600, intervalSeconds: 5 },
    });
    expect(lifecycle('environments', 'create', 'acme/dev', '--from-config=tenants.json', '--idempotency-key', 'k-1')).toMatchObject({ fromConfig: 'tenants.json', idempotencyKey: 'k-1' });
    expect(lifecycle('environments', 'create', 'acme/dev', '--from-config=tenants.json').wait).toBeUndefined();
    expect(lifecycle('environments', 'update', 'acme/dev', '--file', 'p.json')).toMatchObject({ command: 'environments update', file: 'p.json' });
    expect(lifecycle('environments', 'delete', 'acme/qa')).toMatchObject({ purge: false });
    expect(lifecycle('environments', 'delete', 'acme/qa', '--purge', '--confirm', 'qa')).toMatchObject({ purge: true });
    expect(lifecycle('environments', 'status', 'acme/dev', '--deployment', 'd-20261129190000000-0a1b2c3d', '--wait', '--timeout', '60', '--interval', '1')).toMatchObject({
      deploymentId: 'd-20261129190000000-0a1b2c3d',
      wait: { timeoutSeconds: 60, intervalSeconds: 1 },
    });
    expect(lifecycle('environments', 'deployments', 'acme/dev', '--json')).toMatchObject({ command: 'environments deployments', json: true });
    expect(lifecycle('nodes', 'add', 'acme/dev', '--file', 'node.json')).toMatchObject({ command: 'nodes add', file: 'node.json' });
    expect(lifecycle('nodes', 'remove', 'acme/dev', 'member-3', '--wait')).toMatchObject({ command: 'nodes remove', nodeId: 'member-3' });
    expect(lifecycle('config', 'export', '--out', 'x.json')).toMatchObject({ command: 'config export', out: 'x.json' });
    expect(lifecycle('config', 'import', 'tenants.json', '--dry-run')).toMatchObject({ command: 'config import', file: 'tenants.json', dryRun: true });
  });

  it.each([
    [['environments', 'create', 'acme/qa'], /needs the environment's config: --file FILE \(one environment's config\) or --from-config tenants\.json/],
    [['environments', 'create', 'acme/qa', '--file', 'a', '--from-config', 'b'], /give one of them/],
    [['environments', 'create', 'acme/qa', '--file', 'a', '--idempotency-key', 'has space'], /--idempotency-key "has space" must be 1-128 characters/],
    [['environments', 'create', 'acme/qa', '--file', 'a', '--timeout', '60'], /--timeout applies to --wait only; add --wait/],
    [['environments', 'status', 'acme/qa', '--wait', '--timeout', '0'], /--timeout must be a whole number of seconds from 1 to 86400 \(got "0"\)/],
    [['environments', 'status', 'acme/qa', '--wait', '--interval', '1.5'], /--interval must be a whole number of seconds from 1 to 300/],
    [['environments', 'delete', 'acme/qa', '--purge'], /--purge destroys acme\/qa's data .* cannot be undone; to confirm, repeat the environment id: --purge --confirm qa/],
    [['environments', 'delete', 'acme/qa', '--purge', '--confirm', 'dev'], /--confirm "dev" does not match the environment acme\/qa; to destroy its data write --confirm qa; nothing was sent/],
    [['environments', 'delete', 'acme/qa', '--confirm', 'qa'], /--confirm confirms --purge only/],
    [['environments', 'update', 'acme/qa'], /"environments update" needs --file FILE/],
    [['nodes', 'add', 'acme/qa'], /"nodes add" needs --file FILE: the node's config/],
    [['nodes', 'remove', 'acme/qa'], /"nodes remove" needs <node> after the environment/],
    [['nodes', 'remove', 'acme/qa', 'Member_3'], /"Member_3" is not a node id/],
    [['config', 'import'], /"config import" needs the tenants\.json to import/],
    [['config', 'export', 'acme/dev'], /unexpected argument "acme\/dev" for "config export"/],
    [['config', 'frob'], /unknown command "config frob"; config commands are export, import/],
  ])('refuses %j before sending anything', (argv, message) => {
    expect(usage(...argv)).toMatch(message);
  });
});

describe('environment files are checked with parseTenantsConfig (field paths of the file)', () => {
  it('returns the body with its id, paths relative to the environment', () => {
    expect(environmentFromFile({ cidr: '10.20.0.0/16' }, 'acme', 'qa', 'qa.json')).toEqual({ id: 'qa', cidr: '10.20.0.0/16' });
    expect(problemsOf(() => environmentFromFile({ cidr: '10.0.0.0/8', removalPolicy: 'keep', chain: { nodes: [{ id: 'v1', member: 'acme', role: 'boss' }] } }, 'acme', 'qa', 'qa.json'))).toEqual([
      'cidr: "10.0.0.0/8" has prefix /8; a VPC takes /16 to /24, e.g. "10.10.0.0/16"',
      'removalPolicy: must be one of "retain", "destroy", got "keep"',
      'chain.nodes[0].role: must be one of "validator", "member", got "boss"',
    ]);
    expect(problemsOf(() => environmentFromFile({ id: 'dev', cidr: '10.20.0.0/16' }, 'acme', 'qa', 'qa.json'))).toEqual(['id: "dev" is not the environment of the command line (acme/qa); set "id": "qa" or remove it']);
    expect(problemsOf(() => environmentFromFile({ cidr: '10.20.0.0/16', colour: 'red' }, 'acme', 'qa', 'qa.json'))[0]).toMatch(/^colour: unknown field/);
    expect(messageOf(() => environmentFromFile({ tenants: [] }, 'acme', 'qa', 'all.json'))).toMatch(/holds a whole tenants\.json; use --from-config all\.json/);
    expect(messageOf(() => environmentFromFile([1], 'acme', 'qa', 'qa.json'))).toMatch(/must hold one environment's config .* got an array/);
  });

  it('takes one environment out of a tenants.json, after checking the whole file', () => {
    const file = { tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16' }, { id: 'qa', cidr: '10.11.0.0/16', removalPolicy: 'destroy' }] }] };
    expect(environmentFromTenantsFile(file, 'acme', 'qa', 't.json')).toEqual({ id: 'qa', cidr: '10.11.0.0/16', removalPolicy: 'destroy' });
    expect(messageOf(() => environmentFromTenantsFile(file, 'acme', 'prod', 't.json'))).toBe('--from-config t.json: tenant acme has no environment "prod"; its environments are dev, qa');
    expect(messageOf(() => environmentFromTenantsFile(file, 'globex', 'dev', 't.json'))).toBe('--from-config t.json: no tenant "globex"; its tenants are acme');
    const overlap = { tenants: [{ id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16' }, { id: 'qa', cidr: '10.10.0.0/20' }] }] };
    expect(problemsOf(() => environmentFromTenantsFile(overlap, 'acme', 'dev', 't.json'))).toEqual([expect.stringMatching(/^tenants\[0\]\.environments\[1\]\.cidr: "10\.10\.0\.0\/20" overlaps tenants\[0\]\.environments\[0\]\.cidr/)]);
  });

  it('checks a patch by itself, then the patched config', () => {
    const stored = { id: 'dev', cidr: '10.10.0.0/16', credentials: { defaultLifetimeDays: 90 } };
    expect(checkPatch({ credentials: { defaultLifetimeDays: 30 } }, 'acme', 'dev', 'p.json', stored)).toEqual({ id: 'dev', cidr: '10.10.0.0/16', credentials: { defaultLifetimeDays: 30 } });
    expect(problemsOf(() => checkPatch({ cidr: null }, 'acme', 'dev', 'p.json', stored))).toEqual(['cidr: must be a string, got nothing (the field is missing)']);
    expect(problemsOf(() => checkPatch({ id: 'prod' }, 'acme', 'dev', 'p.json'))[0]).toMatch(/^id: an environment cannot be renamed/);
    // {} deploys the stored config again (the API's redeploy).
    expect(checkPatch({}, 'acme', 'dev', 'p.json', stored)).toEqual(stored);
    expect(messageOf(() => checkPatch('x', 'acme', 'dev', 'p.json'))).toMatch(/JSON Merge Patch \(RFC 7396\)/);
  });

  it('checks a node with the environment it joins: its own fields by their name in the node file', () => {
    const stored = { id: 'dev', cidr: '10.10.0.0/16', chain: { members: [{ id: 'acme' }], nodes: [1, 2, 3, 4].map((i) => ({ id: `validator-${i}`, member: 'acme', role: 'validator' })) } };
    expect(checkNode({ id: 'member-1', member: 'acme', role: 'member' }, 'acme', 'dev', 'n.json', stored)).toEqual({ id: 'member-1', member: 'acme', role: 'member' });
    expect(problemsOf(() => checkNode({ id: 'member-1', member: 'acme', role: 'boss', instanceType: 7 }, 'acme', 'dev', 'n.json', stored))).toEqual([
      'role: must be one of "validator", "member", got "boss"',
      'instanceType: must be a string, got number 7',
    ]);
    expect(problemsOf(() => checkNode({ id: 'validator-2', member: 'acme', role: 'member' }, 'acme', 'dev', 'n.json', stored))).toEqual(['id: acme/dev already has a node "validator-2"; give the new node another id']);
    expect(problemsOf(() => checkNode({ id: 'member-1', member: 'globex', role: 'member' }, 'acme', 'dev', 'n.json', stored))[0]).toMatch(/^member: .*globex/);
    // The chain's default nodes (4 validators of member "default") when the config lists none.
    expect(checkNode({ id: 'member-1', member: 'default', role: 'member' }, 'acme', 'dev', 'n.json', { id: 'dev', cidr: '10.10.0.0/16' })).toMatchObject({ id: 'member-1' });
  });
});

describe('JSON Merge Patch (RFC 7396)', () => {
  it('applies the examples of RFC 7396 appendix A', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [['a', 'b'], ['c', 'd'], ['c', 'd']],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) expect(applyMergePatch(target, patch)).toEqual(result);
  });

  it('computes the patch between two configs, which applied gives the second', () => {
    const from = { id: 'dev', cidr: '10.10.0.0/16', removalPolicy: 'retain', chain: { chainId: 7, nodes: [{ id: 'a' }] }, credentials: { defaultLifetimeDays: 90 } };
    const to = { id: 'dev', cidr: '10.10.0.0/16', chain: { chainId: 7, nodes: [{ id: 'a' }, { id: 'b' }] }, credentials: { defaultLifetimeDays: 30 }, ecrEndpoints: true };
    const patch = mergePatchBetween(from, to);
    expect(patch).toEqual({ removalPolicy: null, chain: { nodes: [{ id: 'a' }, { id: 'b' }] }, credentials: { defaultLifetimeDays: 30 }, ecrEndpoints: true });
    expect(applyMergePatch(from, patch)).toEqual(to);
    expect(mergePatchBetween(to, { ...to })).toEqual({});
  });
});

describe('config import plan and config export', () => {
  const file = {
    tenants: [
      { id: 'acme', environments: [{ id: 'dev', cidr: '10.10.0.0/16' }, { id: 'qa', cidr: '10.11.0.0/16', ecrEndpoints: true }] },
      { id: 'globex', environments: [{ id: 'dev', cidr: '10.12.0.0/16' }] },
    ],
  };

  it('creates what is not stored, patches what differs, leaves equal ones alone', () => {
    const stored = new Map([
      ['acme/dev', { id: 'dev', cidr: '10.10.0.0/16' }],
      ['acme/qa', { id: 'qa', cidr: '10.11.0.0/16', removalPolicy: 'destroy' }],
    ]);
    const steps = planImport(file, stored);
    expect(steps).toEqual([
      { tenantId: 'acme', environmentId: 'dev', action: 'unchanged', changes: [] },
      { tenantId: 'acme', environmentId: 'qa', action: 'update', body: { removalPolicy: null, ecrEndpoints: true }, changes: ['ecrEndpoints', 'removalPolicy (removed)'] },
      { tenantId: 'globex', environmentId: 'dev', action: 'create', body: { id: 'dev', cidr: '10.12.0.0/16' }, changes: [] },
    ]);
    expect(renderPlan(steps)).toBe(
      ['acme/dev     unchanged', 'acme/qa      update     ecrEndpoints, removalPolicy (removed)', 'globex/dev   create     (not stored yet)', 'plan: 1 to create, 1 to update, 1 to leave unchanged'].join('\n'),
    );
  });

  it('exports stored configs in the tenants.json shape, checked with parseTenantsConfig', () => {
    const entries = [
      { tenantId: 'acme', environmentId: 'dev', config: { cidr: '10.10.0.0/16' } },
      { tenantId: 'globex', environmentId: 'dev', config: { cidr: '10.12.0.0/16' } },
      { tenantId: 'acme', environmentId: 'qa', config: { cidr: '10.11.0.0/16', ecrEndpoints: true } },
    ];
    expect(exportTenantsConfig(entries)).toEqual(file);
    expect(problemsOf(() => exportTenantsConfig([...entries, { tenantId: 'initech', environmentId: 'dev', config: { cidr: '10.10.0.0/16' } }]))[0]).toMatch(/overlaps/);
  });
});

/** A scripted API: answers by "METHOD path" from queues (the last answer repeats); records requests. */
function fakeApi(script: Record<string, (ApiAnswer | 'unreachable')[]>) {
  const sent: { method: string; path: string; body?: unknown; headers?: Readonly<Record<string, string>> }[] = [];
  const request: ApiRequest = async (method, path, body, headers) => {
    sent.push({ method, path, body, headers });
    const queue = script[`${method} ${path}`];
    if (!queue) return { status: 404, body: { error: { code: 'NotFound', message: `no ${method} ${path}` } } };
    const next = queue.length > 1 ? queue.shift()! : queue[0];
    if (next === 'unreachable') throw new ApiUnreachable('http://127.0.0.1:1 refused the connection (ECONNREFUSED 127.0.0.1:1)');
    return next;
  };
  return { request, sent };
}

/** A terminal with a fake clock: sleeping advances it. */
function fakeTerminal(files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const spins: (string | undefined)[] = [];
  let clock = Date.UTC(2026, 10, 29, 19, 0, 0);
  const term: Terminal = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    spin: (t) => spins.push(t),
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    readFile: (p) => {
      if (!(p in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return files[p];
    },
    writeFile: (p, t) => {
      files[p] = t;
    },
    newKey: () => '11111111-2222-3333-4444-555555555555',
  };
  return { term, out, err, spins, files };
}

const deployment = (status: Deployment['status'], history: Deployment['status'][], reason?: string): ApiAnswer => ({
  status: 200,
  body: {
    deploymentId: 'd-1',
    tenantId: 'acme',
    environmentId: 'qa',
    action: 'create',
    configVersion: 1,
    status,
    createdAt: '2026-11-29T19:00:00.000Z',
    updatedAt: '2026-11-29T19:00:00.000Z',
    stackName: 'AcmeQa',
    ...(reason ? { reason } : {}),
    history: history.map((s, i) => ({ status: s, at: `2026-11-29T19:0${i}:00.000Z`, ...(s === 'failed' && reason ? { reason } : {}) })),
  },
});

describe('runLifecycle (scripted API, fake clock)', () => {
  const args = (argv: string[]) => lifecycle(...argv);

  it('status --wait prints each transition once with its time and exits 0 when ready', async () => {
    const api = fakeApi({
      'GET /environments/acme/qa/deployments': [{ status: 200, body: { deployments: [deployment('queued', ['queued']).body] } }],
      'GET /environments/acme/qa/deployments/d-1': [deployment('queued', ['queued']), deployment('deploying', ['queued', 'deploying']), deployment('deploying', ['queued', 'deploying']), deployment('ready', ['queued', 'deploying', 'ready'])],
    });
    const t = fakeTerminal();
    expect(await runLifecycle(args(['environments', 'status', 'acme/qa', '--wait']), api.request, t.term)).toBe(EXIT.OK);
    expect(t.out).toEqual([
      'deployment d-1: create acme/qa, config version 1, stack AcmeQa',
      '2026-11-29 19:00:00Z  queued',
      '2026-11-29 19:01:00Z  deploying',
      '2026-11-29 19:02:00Z  ready',
      'acme/qa: ready (deployment d-1)',
    ]);
    expect(t.spins).toContain('deploying 10s (deployment d-1)');
    expect(t.spins.at(-1)).toBeUndefined();
  });

  it('a failed deployment prints the CloudFormation reason and exits 1', async () => {
    const reason = 'Resource handler returned message: "The requested instance type t4g.nano is not supported" (RequestToken: x, HandlerErrorCode: InvalidRequest)';
    const api = fakeApi({ 'GET /environments/acme/qa/deployments/d-1': [deployment('failed', ['queued', 'deploying', 'failed'], reason)] });
    const t = fakeTerminal();
    expect(await runLifecycle(args(['environments', 'status', 'acme/qa', '--deployment', 'd-1', '--wait']), api.request, t.term)).toBe(EXIT.API_ERROR);
    expect(t.out).toContain(`2026-11-29 19:02:00Z  failed: ${reason}`);
    expect(t.err).toEqual([`acme/qa: deployment d-1 failed: ${reason}`]);
  });

  it('gives up after --timeout with exit 4, saying the deployment goes on and how to follow it', async () => {
    const api = fakeApi({ 'GET /environments/acme/qa/deployments/d-1': [deployment('deploying', ['queued', 'deploying'])] });
    const t = fakeTerminal();
    expect(await runLifecycle(args(['environments', 'status', 'acme/qa', '--deployment', 'd-1', '--wait', '--timeout', '30', '--interval', '7']), api.request, t.term)).toBe(EXIT.TIMEOUT);
    expect(t.err).toEqual([
      'blockchain-tenancy: gave up waiting after 30s (--timeout 30): deployment d-1 is still deploying; it goes on in AWS. Follow it: blockchain-tenancy environments status acme/qa --deployment d-1 --wait',
    ]);
    // 0, 7, 14, 21, 28, 30 s: the last sleep is cut to the timeout.
    expect(api.sent).toHaveLength(6);
  });

  it('create sends the file with a generated idempotency key, prints it, and prints how to retry when unreachable', async () => {
    const files = { 'qa.json': JSON.stringify({ cidr: '10.20.0.0/16' }) };
    const ok = fakeApi({ 'POST /environments/acme/qa': [{ status: 201, body: { deploymentId: 'd-1', environment: { tenantId: 'acme', environmentId: 'qa' }, configVersion: 1, status: 'queued' } }] });
    const t = fakeTerminal(files);
    expect(await runLifecycle(args(['environments', 'create', 'acme/qa', '--file', 'qa.json']), ok.request, t.term)).toBe(EXIT.OK);
    expect(ok.sent).toEqual([{ method: 'POST', path: '/environments/acme/qa', body: { id: 'qa', cidr: '10.20.0.0/16' }, headers: { 'idempotency-key': '11111111-2222-3333-4444-555555555555' } }]);
    expect(t.out[0]).toBe('acme/qa: create requested: deployment d-1 queued, config version 1');
    expect(t.out[1]).toMatch(/^idempotency key: 11111111-2222-3333-4444-555555555555 \(a retry with --idempotency-key/);
    const down = fakeApi({ 'POST /environments/acme/qa': ['unreachable'] });
    const t2 = fakeTerminal(files);
    expect(await runLifecycle(args(['environments', 'create', 'acme/qa', '--file', 'qa.json', '--idempotency-key', 'my-key-1']), down.request, t2.term)).toBe(EXIT.UNREACHABLE);
    expect(t2.err[0]).toContain('run the same command again with --idempotency-key my-key-1 (blockchain-tenancy environments create acme/qa --file qa.json --idempotency-key my-key-1)');
    // No credentials: nothing left the machine, so no retry hint.
    const t3 = fakeTerminal(files);
    const noCredentials: ApiRequest = async () => Promise.reject(new ApiUnreachable('no AWS credentials (CredentialsProviderError: ...)', false));
    expect(await runLifecycle(args(['environments', 'create', 'acme/qa', '--file', 'qa.json']), noCredentials, t3.term)).toBe(EXIT.UNREACHABLE);
    expect(t3.err).toEqual(['blockchain-tenancy: no AWS credentials (CredentialsProviderError: ...)']);
  });

  it('a bad file sends nothing (exit 2); 409 names the running deployment and how to wait for it', async () => {
    const api = fakeApi({});
    const t = fakeTerminal({ 'qa.json': '{"cidr": "10.20.0.0/8"' });
    expect(await runLifecycle(args(['environments', 'create', 'acme/qa', '--file', 'qa.json']), api.request, t.term)).toBe(EXIT.USAGE);
    expect(t.err[0]).toMatch(/^blockchain-tenancy: --file qa\.json: not valid JSON/);
    const t2 = fakeTerminal({});
    expect(await runLifecycle(args(['environments', 'create', 'acme/qa', '--file', 'none.json']), api.request, t2.term)).toBe(EXIT.USAGE);
    expect(t2.err[0]).toBe('blockchain-tenancy: --file none.json: cannot read it (ENOENT); give the path of a JSON file');
    expect(api.sent).toEqual([]);
    const busy = fakeApi({
      'GET /environments/acme/qa/config': [{ status: 200, body: { tenantId: 'acme', environmentId: 'qa', configVersion: 1, config: { id: 'qa', cidr: '10.20.0.0/16' } } }],
      'PATCH /environments/acme/qa': [{ status: 409, body: { error: { code: 'DeploymentInProgress', message: 'deployment d-20261129190000000-0a1b2c3d of acme/qa is running; one deployment runs per environment at a time' } } }],
    });
    const t3 = fakeTerminal({ 'p.json': '{"ecrEndpoints": true}' });
    expect(await runLifecycle(args(['environments', 'update', 'acme/qa', '--file', 'p.json']), busy.request, t3.term)).toBe(EXIT.API_ERROR);
    expect(t3.err[0]).toBe(
      'blockchain-tenancy: 409 deployment d-20261129190000000-0a1b2c3d of acme/qa is running; one deployment runs per environment at a time\nwait for it to finish: blockchain-tenancy environments status acme/qa --deployment d-20261129190000000-0a1b2c3d --wait; then run this command again',
    );
  });

  it('deployments prints the history table', () => {
    expect(deploymentsTable([deployment('failed', ['queued', 'failed'], 'boom').body as unknown as Deployment]).split('\n')).toEqual([
      'DEPLOYMENTID  ACTION  STATUS  CONFIG  CREATED               UPDATED               REASON',
      'd-1           create  failed  1       2026-11-29 19:00:00Z  2026-11-29 19:00:00Z  boom',
    ]);
  });
});
