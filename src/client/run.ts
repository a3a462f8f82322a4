// Runs one client command in this process: PMAN_URL / PMAN_TOKEN from the environment, stdout and
// stderr, stdin for `submit -`, Ctrl-C ending a followed stream. main.ts calls it for `pman <command>`.
import { readFile } from 'node:fs/promises';
import { runCommand } from './commands.js';
import type { ClientCommand } from './commands.js';
import { PmanClient } from './http.js';

export const DEFAULT_PMAN_URL = 'http://127.0.0.1:5010';

type Env = Readonly<Record<string, string | undefined>>;

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin)
    parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(parts).toString('utf8');
}

export async function runClientCommand(cmd: ClientCommand, env: Env): Promise<number> {
  const url = env.PMAN_URL?.trim() || DEFAULT_PMAN_URL;
  const token = env.PMAN_TOKEN?.trim() || undefined;
  const client = new PmanClient({ url, ...(token !== undefined && { token }) });
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  // `pman events | head`: a reader that closes the pipe is no error — stop the stream and end
  // quietly instead of dying on an unhandled EPIPE.
  let pipeClosed = false;
  const onStdoutError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE') throw err;
    pipeClosed = true;
    abort.abort();
  };
  process.stdout.on('error', onStdoutError);
  try {
    const code = await runCommand(cmd, client, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      isTTY: process.stdout.isTTY,
      now: () => new Date(),
      readInput: (file) => (file === '-' ? readStdin() : readFile(file, 'utf8')),
      signal: abort.signal,
    });
    return pipeClosed ? 0 : code;
  } finally {
    process.off('SIGINT', onSigint);
    process.stdout.off('error', onStdoutError);
  }
}
