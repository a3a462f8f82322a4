// Runs the real server as its own process (so its RSS is its own): the compiled build when it
// compiles, else the sources through tsx. Reads RSS from /proc.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/engine/server-process.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Inside node_modules so the build resolves our dependencies and git ignores it; one per tree. */
function buildDir(tree: string): string {
  const id = createHash('sha256').update(tree).digest('hex').slice(0, 12);
  return path.join(ROOT, 'node_modules/.cache/pman-bench', tree === ROOT ? 'dist' : `dist-${id}`);
}

export interface Entry {
  /** Arguments for node that start the server. */
  args: string[];
  kind: 'build' | 'tsx';
}

/**
 * Compiles `tree`'s src/ with its tsconfig.build.json into a private directory; falls back to tsx.
 * `tree` is this checkout by default, or another one (a `git archive` of a baseline commit whose
 * node_modules links to ours) to measure two versions on the same machine.
 */
export async function prepareEntry(tree = ROOT): Promise<Entry> {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const out = buildDir(tree);
  await new Promise<void>((resolve) => {
    // tsc emits even with type errors elsewhere; a failed emit only means falling back to tsx.
    execFile(
      process.execPath,
      [tsc, '-p', 'tsconfig.build.json', '--outDir', out],
      { cwd: tree },
      () => resolve(),
    );
  });
  const main = path.join(out, 'src/main.js');
  if (existsSync(main)) return { args: [main], kind: 'build' };
  return { args: ['--import', 'tsx', path.join(tree, 'src/main.ts')], kind: 'tsx' };
}

export interface RunningServer {
  url: string;
  proc: ChildProcess;
  /** Resident set size of the server process, in MiB. */
  rssMiB(): Promise<number>;
  stop(): Promise<void>;
}

export async function startServer(
  entry: Entry,
  env: Record<string, string>,
): Promise<RunningServer> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [...entry.args, '--ip', '127.0.0.1', '--port', String(port)],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let errors = '';
  proc.stderr?.on('data', (d: Buffer) => {
    errors = (errors + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${errors}`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server did not become healthy: ${errors}`);
    }
    await delay(200);
  }
  return {
    url,
    proc,
    async rssMiB() {
      const status = await readFile(`/proc/${proc.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return Math.round((kb / 1024) * 10) / 10;
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), delay(10_000).then(() => false)]);
      if (!killed) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}
