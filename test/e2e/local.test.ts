import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonRpcProvider, Wallet, WebSocketProvider, parseEther } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gethBinary } from '../support/geth';
import { venvBin } from '../support/moto';

/** pid -> parent pid of every process on the machine. */
const parents = () =>
  new Map(
    execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]),
  );
const descendants = (root: number): number[] => {
  const tree = parents();
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of tree) {
      if (parent !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(root);
  return out;
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A config whose acme/dev runs geth Clique: a validator of acme and a member node of globex. */
function writeConfig(config: string): void {
  writeFileSync(
    config,
    JSON.stringify({
      tenants: [
        { id: 'other', environments: [{ id: 'prod', cidr: '10.20.0.0/16' }] },
        {
          id: 'acme',
          environments: [
            { id: 'qa', cidr: '10.10.0.0/16' },
            {
              id: 'dev',
              cidr: '10.11.0.0/16',
              chain: {
                client: 'geth',
                consensus: 'clique',
                chainId: 31337,
                blockPeriodSeconds: 1,
                members: [{ id: 'acme' }, { id: 'globex' }],
                nodes: [
                  { id: 'validator-1', member: 'acme', role: 'validator' },
                  { id: 'globex-1', member: 'globex', role: 'member' },
                ],
              },
            },
          ],
        },
      ],
    }),
  );
}

// `blockchain-tenancy local` as a developer runs it: a real process started from the CLI, with a
// config whose environment runs geth Clique (two members, a validator and a member node). The
// test reads what it prints, uses the printed credential through the printed gate URLs with real
// clients, and stops it with SIGINT (Ctrl-C): every process it started must be gone, every port
// closed and its chain data removed.
describe('blockchain-tenancy local', () => {
  let dir: string;
  let proc: ChildProcess;
  let stdout = '';
  let stderr = '';
  let exit: Promise<number | null>;
  const nodes: Record<string, { http: string; ws: string }> = {};
  let credential: { id: string; secret: string };
  let developerKey: string;
  let apiEnv: Record<string, string>;

  const portOpen = (url: string) =>
    new Promise<boolean>((resolve) => {
      const u = new URL(url);
      const s = connect(Number(u.port), u.hostname);
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
  const rpc = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }) });
    return { status: res.status, text: await res.text() };
  };

  beforeAll(async () => {
    // The binaries the command needs, built or installed once per machine (bounded here, not in the command).
    gethBinary();
    venvBin('moto');
    dir = mkdtempSync(join(tmpdir(), 'local-cli-'));
    const config = join(dir, 'tenants.json');
    writeConfig(config);
    proc = spawn(process.execPath, ['--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), 'local', '--config', config, '--tenant=acme', '--env', 'dev'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exit = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.stdout!.on('data', (d: Buffer) => (stdout += d));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d));
    const deadline = Date.now() + 180_000;
    while (!/^ready\. /m.test(stdout)) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`local did not become ready (exit ${proc.exitCode}):\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const m of stdout.matchAll(/^ {2}([a-z0-9-]+) \(member [a-z]+, [a-z]+\): (http:\/\/127\.0\.0\.1:\d+\/) {2}(ws:\/\/127\.0\.0\.1:\d+\/ws)$/gm)) nodes[m[1]] = { http: m[2], ws: m[3] };
    const c = /^first app credential (bt[a-z2-7]{24}) for member acme, expires \S+:\n {2}secret: ([A-Za-z0-9_-]{43})$/m.exec(stdout)!;
    credential = { id: c[1], secret: c[2] };
    developerKey = /^ {2}private key: (0x[0-9a-f]{64})$/m.exec(stdout)![1];
    apiEnv = Object.fromEntries([...(/^ {2}export (.*)$/m.exec(stdout)![1].matchAll(/([A-Z_]+)=(\S+)/g))].map((m) => [m[1], m[2]]));
  }, 300_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGKILL');
      for (const pid of descendants(proc.pid!)) process.kill(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the environment it runs, each node URL through its gate, a first credential and the management API', () => {
    expect(stdout).toMatch(/^blockchain-tenancy local: acme\/dev on geth 1\.13\.15 \(clique, chain id 31337, 1 s blocks, 2 nodes\)$/m);
    expect(stdout).not.toContain('note:'); // geth is the environment's own client: nothing stands in
    expect(Object.keys(nodes)).toEqual(['validator-1', 'globex-1']);
    // Ready-to-paste URLs for the credential's member's nodes only; the secret printed once.
    expect(stdout).toContain(`  validator-1: ${nodes['validator-1'].http.replace('://', `://${credential.id}:${credential.secret}@`)}`);
    expect(stdout).toContain(`  validator-1: ${nodes['validator-1'].ws.replace('://', `://${credential.id}:${credential.secret}@`)}`);
    expect(stdout).not.toContain(`globex-1: http://${credential.id}`);
    expect(stdout.split(credential.secret).length - 1).toBe(3);
    expect(apiEnv.BLOCKCHAIN_TENANCY_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it('answers eth_blockNumber through the gate with the printed credential (ethers, HTTP and WebSocket), and a raw call with its header', async () => {
    const provider = new JsonRpcProvider(nodes['validator-1'].http.replace('://', `://${credential.id}:${credential.secret}@`), undefined, { staticNetwork: true });
    expect(await provider.getBlockNumber()).toBeGreaterThanOrEqual(1);
    expect(Number((await provider.getNetwork()).chainId)).toBe(31337);
    const basic = `Basic ${Buffer.from(`${credential.id}:${credential.secret}`).toString('base64')}`;
    const raw = await rpc(nodes['validator-1'].http, { authorization: basic });
    expect(raw.status).toBe(200);
    expect(JSON.parse(raw.text)).toMatchObject({ jsonrpc: '2.0', id: 1, result: expect.stringMatching(/^0x[0-9a-f]+$/) });
    const ws = new WebSocketProvider(nodes['validator-1'].ws.replace('://', `://${credential.id}:${credential.secret}@`));
    const block = await new Promise<number>((resolve, reject) => {
      void ws.on('block', resolve);
      setTimeout(() => reject(new Error('no newHeads within 15 s')), 15_000);
    });
    expect(block).toBeGreaterThanOrEqual(1);
    await ws.destroy();
    // The developer account is funded in the local genesis: a signed transfer through the gate is mined.
    const wallet = new Wallet(developerKey, provider);
    const to = Wallet.createRandom().address;
    const receipt = await (await wallet.sendTransaction({ to, value: parseEther('1') })).wait();
    expect(receipt?.status).toBe(1);
    expect(await provider.getBalance(to)).toBe(parseEther('1'));
    provider.destroy();
  });

  it('refuses calls without a credential, with a wrong secret, and on another member\'s node (401), as the gate does in AWS', async () => {
    const refusedBody = (text: string) => {
      // The gate answers refusals with a JSON-RPC error body once it has one; never with a result.
      if (text) expect(JSON.parse(text)).not.toHaveProperty('result');
    };
    const none = await rpc(nodes['validator-1'].http);
    expect(none.status).toBe(401);
    refusedBody(none.text);
    const wrong = await rpc(nodes['validator-1'].http, { authorization: `Basic ${Buffer.from(`${credential.id}:${'A'.repeat(43)}`).toString('base64')}` });
    expect(wrong.status).toBe(401);
    refusedBody(wrong.text);
    const otherMember = await rpc(nodes['globex-1'].http, { authorization: `Basic ${Buffer.from(`${credential.id}:${credential.secret}`).toString('base64')}` });
    expect(otherMember.status).toBe(401);
    refusedBody(otherMember.text);
  });

  it('serves the management API to the real CLI with the printed environment (SigV4 checked)', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, ['--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), ...args], { env: { PATH: process.env.PATH, HOME: '/nonexistent', ...apiEnv } });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => (out += d));
        p.stderr.on('data', (d: Buffer) => (err += d));
        p.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
      });
    const list = await cli('credentials', 'list', 'acme/dev', '--json');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(credential.id);
    expect(list.stdout).not.toContain(credential.secret);
    const created = await cli('credentials', 'create', 'acme/dev', '--member=globex');
    expect(created.code).toBe(0);
    const globex = /credential (bt[a-z2-7]{24}) for member globex[^\n]*\nsecret: (\S+)/.exec(created.stdout)!;
    const basic = `Basic ${Buffer.from(`${globex[1]}:${globex[2]}`).toString('base64')}`;
    expect((await rpc(nodes['globex-1'].http, { authorization: basic })).status).toBe(200);
    expect((await rpc(nodes['validator-1'].http, { authorization: basic })).status).toBe(401);
    const revoked = await cli('credentials', 'revoke', 'acme/dev', globex[1]);
    expect([revoked.code, revoked.stdout]).toEqual([0, expect.stringMatching(new RegExp(`${globex[1]}\\s+globex\\s+\\S+\\s+true`))]);
    const unsigned = await fetch(`${apiEnv.BLOCKCHAIN_TENANCY_ENDPOINT}/environments`);
    expect([unsigned.status, await unsigned.json()]).toEqual([403, { message: 'Missing Authentication Token' }]);
  });

  it('stops on SIGINT: every process it started exits, every port closes, its chain data is removed', async () => {
    const children = descendants(proc.pid!);
    const names = children.map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        return '';
      }
    });
    expect(names.filter((n) => n.includes('geth-1.13.15/bin/geth'))).toHaveLength(2);
    expect(names.filter((n) => n.includes('node-gate'))).toHaveLength(2);
    expect(names.filter((n) => n.includes('moto_server'))).toHaveLength(1);
    const dataDir = /--datadir=(\S+?)\/validator-1\//.exec(names.join('\n'))![1];
    expect(existsSync(dataDir)).toBe(true);
    const urls = [...Object.values(nodes).map((n) => n.http), apiEnv.BLOCKCHAIN_TENANCY_ENDPOINT];
    for (const u of urls) expect(await portOpen(u)).toBe(true);

    proc.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(stderr).toContain('blockchain-tenancy local: SIGINT; stopping every process');
    expect(stderr).toContain('stopped; temporary files removed');
    // Each child is gone once the command has exited; tsx's esbuild helper (a grandchild that
    // exists only when running from source) leaves when its parent's pipe closes, so allow 5 s.
    const gone = Date.now() + 5000;
    while (children.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(children.filter(alive).map((pid) => `${pid} ${names[children.indexOf(pid)]}`)).toEqual([]);
    for (const u of urls) expect(await portOpen(u)).toBe(false);
    expect(existsSync(dataDir)).toBe(false);
  }, 60_000);
});

describe('blockchain-tenancy local refuses a bad config before starting anything (exit 2)', () => {
  const run = (...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), 'local', ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      p.stderr.on('data', (d: Buffer) => (err += d));
      p.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
    });

  it.each([
    [['--config', '/nonexistent/tenants.json'], 'blockchain-tenancy local: --config /nonexistent/tenants.json: cannot read it (ENOENT); pass the tenant config file, e.g. --config tenants.json'],
    [['--tenant', 'initech'], 'blockchain-tenancy local: --tenant initech: no such tenant in the config; its tenants are acme'],
    [['--env', 'prod'], 'blockchain-tenancy local: --env prod: tenant acme has no such environment; its environments are dev'],
    [['--config', 'test/fixtures/production-tenants.json', '--tenant', 'acme', '--env', 'nope'], expect.stringMatching(/^blockchain-tenancy local: --env nope: tenant acme has no such environment; its environments are /)],
    [['--config', 'package.json'], expect.stringMatching(/^blockchain-tenancy local: Invalid tenant configuration in package\.json \(\d+ problems\):\n {2}- name: unknown field/)],
    [['extra'], expect.stringMatching(/^blockchain-tenancy: unexpected argument "extra" for "local", which takes no arguments/)],
    [['--tenant'], expect.stringMatching(/^blockchain-tenancy: --tenant needs a value/)],
  ])('%j', async (args, message) => {
    const out = await run(...(args as string[]));
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*$/, '').trim()).toEqual(message);
  });
});

describe('blockchain-tenancy local interrupted during start-up', () => {
  it('stops what it started so far on SIGINT, removes its files and exits 0', async () => {
    gethBinary();
    venvBin('moto');
    const dir = mkdtempSync(join(tmpdir(), 'local-cli-'));
    writeConfig(join(dir, 'tenants.json'));
    const proc = spawn(process.execPath, ['--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), 'local', '--config', join(dir, 'tenants.json'), '--env=dev', '--tenant=acme'], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d));
    let stdout = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d));
    const exit = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    try {
      // Interrupt once the first geth runs (moto is up, the chain is starting).
      const deadline = Date.now() + 120_000;
      let started: number[] = [];
      let dataDir: string | undefined;
      while (Date.now() < deadline && !dataDir) {
        started = descendants(proc.pid!);
        const cmdlines = started.map((pid) => (existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') : ''));
        dataDir = /geth-1\.13\.15\/bin\/geth --datadir=(\S+?)\/validator-1\//.exec(cmdlines.join('\n'))?.[1];
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(dataDir).toMatch(/blockchain-tenancy-local-/);
      expect(existsSync(dataDir!)).toBe(true);
      proc.kill('SIGINT');
      expect(await exit).toBe(0);
      expect(stderr).toContain('blockchain-tenancy local: SIGINT during start-up; everything started is stopped and temporary files removed');
      expect(stdout).toBe(''); // never "ready", no credential printed
      const gone = Date.now() + 5000;
      while (started.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(started.filter(alive)).toEqual([]);
      expect(existsSync(dataDir!)).toBe(false);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('blockchain-tenancy local when one of its processes dies', () => {
  it('stops everything else, says which process died with its log tail, and exits 1', async () => {
    gethBinary();
    venvBin('moto');
    const dir = mkdtempSync(join(tmpdir(), 'local-cli-'));
    writeConfig(join(dir, 'tenants.json'));
    const proc = spawn(process.execPath, ['--import', 'tsx', join('bin', 'blockchain-tenancy.ts'), 'local', '--config', join(dir, 'tenants.json'), '--tenant', 'acme', '--env', 'dev'], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d));
    proc.stderr.on('data', (d: Buffer) => (stderr += d));
    const exit = new Promise<number | null>((resolve) => proc.once('exit', resolve));
    try {
      const deadline = Date.now() + 180_000;
      while (!/^ready\. /m.test(stdout)) {
        if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`local did not become ready:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const children = descendants(proc.pid!);
      const cmd = (pid: number) => (existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ') : '');
      const geth = children.find((pid) => /geth-1\.13\.15\/bin\/geth --datadir=\S+\/globex-1\//.test(cmd(pid)))!;
      process.kill(geth, 'SIGKILL');
      expect(await exit).toBe(1);
      expect(stderr).toMatch(/blockchain-tenancy local: geth globex-1 exited on its own \(signal SIGKILL\); its log ends with:\n/);
      expect(stderr).toContain('stopped; temporary files removed');
      const gone = Date.now() + 5000;
      while (children.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
      expect(children.filter(alive)).toEqual([]);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
