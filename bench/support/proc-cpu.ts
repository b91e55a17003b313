/**
 * CPU time of a process (all its threads: user + system) from /proc/<pid>/stat, in microseconds.
 * CPU per request is robust to other jobs on the machine; wall-clock requests/s is not.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;
/** Clock ticks per second of /proc times (getconf CLK_TCK). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of `pid` in µs (10 ms resolution with the usual 100 ticks/s). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which is in parentheses and may contain spaces): state is
  // field 3, utime field 14, stime field 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return (ticks * 1e6) / clockTicks();
}

/** Samples several processes' CPU at the start and end of a window. */
export function cpuWindow(pids: Record<string, number>): () => Record<string, number> {
  const start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMicros(pid)]));
  return () => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMicros(pid) - start[k]]));
}
