// CPU time of a process from /proc (user + system), to say who spent the machine's cores during a
// measured window: the server, or the engine (dockerd) behind it.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100;

/** User + system CPU of `pid` so far, in ms; 0 when it cannot be read. */
export async function cpuMs(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The pid of the local dockerd, when there is one on this machine. */
export function dockerdPid(): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile('pidof', ['dockerd'], (err, out) => {
      const pid = Number(out.trim().split(/\s+/)[0]);
      resolve(err === null && Number.isInteger(pid) && pid > 0 ? pid : undefined);
    });
  });
}

/** CPU ms spent by each pid while `work` ran. */
export async function cpuDuring<T>(
  pids: Record<string, number | undefined>,
  work: () => Promise<T>,
): Promise<{ value: T; cpu: Record<string, number> }> {
  const names = Object.keys(pids);
  const before = await Promise.all(names.map((n) => cpuMs(pids[n])));
  const value = await work();
  const after = await Promise.all(names.map((n) => cpuMs(pids[n])));
  const cpu: Record<string, number> = {};
  names.forEach((n, i) => (cpu[n] = (after[i] ?? 0) - (before[i] ?? 0)));
  return { value, cpu };
}
