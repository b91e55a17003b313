/**
 * Child processes of the local environment: started with their logs kept in memory (the last
 * 16 KB, for failure messages; never printed unless asked), stopped together, and reported when
 * one dies on its own. Runtime code of `blockchain-tenancy local`; lib/index.ts never imports it.
 */
import { ChildProcess, SpawnOptions, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

/** One started process. */
export interface ManagedProcess {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last 16 KB of its stdout and stderr. */
  log(): string;
  /** Whether it has exited. */
  exited(): boolean;
  /** Stops it with `signal`, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Processes started together and stopped together. */
export class ProcessGroup {
  private readonly procs: ManagedProcess[] = [];
  private stopping = false;
  private onExit?: (p: ManagedProcess, code: number | null, signal: NodeJS.Signals | null) => void;
  private output?: (p: ManagedProcess, text: string) => void;

  /** Every process started so far. */
  public get processes(): readonly ManagedProcess[] {
    return this.procs;
  }

  /** Called when a process exits while the group is not stopping (it died on its own). */
  public onUnexpectedExit(fn: (p: ManagedProcess, code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.onExit = fn;
  }

  /** Called with everything a process of the group writes (stdout and stderr), as it writes it. */
  public onOutput(fn: (p: ManagedProcess, text: string) => void): void {
    this.output = fn;
  }

  /** Starts a process; `stopSignal` is what stops it cleanly (geth: SIGINT). */
  public start(name: string, command: string, args: readonly string[], options: SpawnOptions = {}, stopSignal: NodeJS.Signals = 'SIGTERM'): ManagedProcess {
    if (this.stopping) throw new Error(`not starting ${name}: the processes are being stopped`);
    const child = spawn(command, [...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const keep = (d: Buffer) => {
      const text = d.toString();
      log = (log + text).slice(-16_384);
      this.output?.(managed, text);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let failedToStart: Error | undefined;
    child.on('error', (e) => {
      failedToStart = e;
      keep(Buffer.from(`\n${name}: ${e.message}\n`));
    });
    const exitedPromise = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const managed: ManagedProcess = {
      name,
      process: child,
      pid: child.pid ?? -1,
      log: () => log,
      exited: () => child.exitCode !== null || child.signalCode !== null || failedToStart !== undefined,
      stop: async (signal = stopSignal, graceMs = 5000) => {
        if (managed.exited()) return;
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exitedPromise;
        clearTimeout(timer);
      },
    };
    child.once('exit', (code, signal) => {
      if (!this.stopping) this.onExit?.(managed, code, signal);
    });
    this.procs.push(managed);
    return managed;
  }

  /** Stops every process (in reverse start order, all at once) and waits for them to exit. */
  public async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.procs].reverse().map((p) => p.stop()));
  }
}

/**
 * Polls `check` until it returns true. Throws after `timeoutMs`, or as soon as `proc` exits,
 * with its log tail, so a failed start says why.
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, proc?: ManagedProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not ready yet
    }
    if (proc?.exited()) throw new Error(`${what}: ${proc.name} exited (code ${proc.process.exitCode ?? proc.process.signalCode}); its log ends with:\n${tail(proc.log())}`);
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${Math.round(timeoutMs / 1000)} s${proc ? `; ${proc.name}'s log ends with:\n${tail(proc.log())}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The last `lines` lines of a log. */
export function tail(log: string, lines = 15): string {
  return log.split('\n').slice(-lines).join('\n');
}
