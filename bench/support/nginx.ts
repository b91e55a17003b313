/**
 * nginx as the gate benchmark's yardstick (issue #17): what a plain, well-kept reverse proxy costs
 * in front of the same node, on the same cores, in the same run. Installed from Debian's packages
 * when missing (root only: `apt-get update` once, then `apt-get install nginx`, falling back to
 * `nginx-light`), configured in a temporary directory and run as a child process (`daemon off`),
 * stopped afterwards. Nothing in /etc/nginx is read or changed.
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/moto';

/** Where the nginx binary is, or why there is none. */
export type NginxBinary = { readonly path: string; readonly version: string } | { readonly unavailable: string };

/** The nginx binary on PATH or in the usual sbin directories (nothing is installed). */
export function findNginx(): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin']) {
    const p = join(dir, 'nginx');
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function versionOf(path: string): string {
  // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
  const r = spawnSync(path, ['-v'], { encoding: 'utf8' });
  return /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? 'unknown';
}

/**
 * The nginx binary, installed from Debian's packages first if there is none (as root, with apt-get;
 * the package lists are updated once, before the install). Never throws: when nginx cannot be had,
 * says why, and the benchmark leaves the nginx rows out.
 */
export function ensureNginx(log: (line: string) => void = (l) => console.error(l)): NginxBinary {
  const found = findNginx();
  if (found) return { path: found, version: versionOf(found) };
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) return { unavailable: 'nginx is not installed and there is no apt-get to install it with (install nginx and re-run)' };
  if (process.getuid?.() !== 0) return { unavailable: 'nginx is not installed, and installing it needs root (run `sudo apt-get install -y nginx` and re-run)' };
  log('nginx is not installed: installing it from the Debian packages (apt-get update, apt-get install nginx) ...');
  const apt = (args: string[]) =>
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
      // apt's output goes to stderr: the benchmark's stdout is its JSON result.
      stdio: ['ignore', 2, 2],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 15 * 60_000,
    }).status === 0;
  if (!apt(['update'])) return { unavailable: 'nginx is not installed and `apt-get update` failed (see its output above)' };
  // Debian 12's `nginx` package holds the binary (`nginx-light` is nginx plus a module); on older
  // releases `nginx` pulls in nginx-core. Either serves the plain reverse proxy used here.
  for (const pkg of ['nginx', 'nginx-light']) {
    if (apt(['install', '-y', '--no-install-recommends', pkg])) {
      const installed = findNginx();
      if (installed) return { path: installed, version: versionOf(installed) };
    }
  }
  return { unavailable: 'nginx is not installed and `apt-get install nginx` / `nginx-light` failed (see its output above)' };
}

export interface NginxUpstreams {
  /** The node's HTTP JSON-RPC, host:port (e.g. 127.0.0.1:8545). */
  readonly http: string;
  /** The node's WebSocket JSON-RPC, host:port (served on its path "/"). */
  readonly ws: string;
}

/**
 * The configuration: a plain reverse proxy, no checks. One worker process: the gate is a single
 * Node.js thread, so one nginx worker gives both proxies the same CPU budget (nginx's default
 * `auto` would use every core and compete with the node and the load client for them). HTTP goes
 * over keep-alive upstream connections (`upstream` with `keepalive`, HTTP/1.1, the hop-by-hop
 * Connection header cleared), as the gate's own pool does; keep-alive request limits are raised
 * so neither side closes connections mid-run (nginx's default closes them every 1,000 requests).
 * WebSocket on /ws (as the gate serves it) is proxied with the Upgrade and Connection headers to
 * the node's WebSocket endpoint. No access log (the gate keeps none per request either).
 */
export function nginxConfig(dir: string, port: number, upstreams: NginxUpstreams): string {
  return `# Written by bench/support/nginx.ts for the gate benchmark (a yardstick, not a deployment).
# One worker: the gate is one Node.js thread, so both proxies get the same CPU budget.
worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  upstream node_http {
    server ${upstreams.http};
    keepalive 64;
    keepalive_requests 10000000;
    keepalive_timeout 300s;
  }
  upstream node_ws {
    server ${upstreams.ws};
  }
  server {
    listen 127.0.0.1:${port};
    location = /ws {
      proxy_pass http://node_ws/;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
    location / {
      proxy_pass http://node_http;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export interface NginxProcess {
  readonly port: number;
  readonly version: string;
  /** The master and its worker: their CPU time together is nginx's. */
  readonly pids: readonly number[];
  readonly config: string;
  stop(): Promise<void>;
}

/** Child processes of `pid` (from /proc: the 4th field of /proc/<child>/stat is the parent). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(e));
    } catch {
      // gone in between
    }
  }
  return out;
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Starts nginx (`nginx -p <dir> -c <conf> -e <error log>`) in front of the node and waits until it accepts connections and its worker runs. */
export async function startNginx(binary: { path: string; version: string }, upstreams: NginxUpstreams): Promise<NginxProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  const port = await freePort();
  const config = nginxConfig(dir, port, upstreams);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, config);
  const errorLog = join(dir, 'error.log');
  const logText = () => (existsSync(errorLog) ? readFileSync(errorLog, 'utf8').slice(-2000) : '');
  // Check the configuration first: a clear error instead of a process that exits.
  try {
    execFileSync(binary.path, ['-t', '-q', '-p', dir, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx refused the benchmark configuration: ${stderr.trim() || (e as Error).message}`);
  }
  const proc: ChildProcess = spawn(binary.path, ['-p', dir, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'inherit', 'inherit'] });
  let exited: string | undefined;
  proc.once('exit', (code, signal) => (exited = `nginx exited (${signal ?? code}) ${logText()}`));
  const deadline = Date.now() + 15_000;
  let workers: number[] = [];
  for (;;) {
    if (exited) throw new Error(exited);
    workers = childrenOf(proc.pid!);
    if (workers.length > 0 && (await canConnect(port))) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not start within 15 s: ${logText()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    version: binary.version,
    pids: [proc.pid!, ...workers],
    config,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM'); // fast shutdown: the master stops its worker, then exits
        const timer = setTimeout(() => {
          for (const pid of [proc.pid!, ...workers]) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        }, 5000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
