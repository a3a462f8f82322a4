#!/usr/bin/env node
// `npm start`: build when dist/ is missing or stale, supply development defaults for what neither
// the environment nor .env sets (docker's default storage needs a pfcon container; a fresh clone
// has none), then run the server with the given arguments (architecture.md §12). The job store
// needs no default of ours: STATE_DIR's own (`pman-state`, in the working directory) keeps it on
// this disk, across restarts. The server's own first line says where it listens, which backend,
// storage and job store it uses, and its "ready" line the command to try (src/banner.ts); on a
// terminal its lines are pino-pretty's, piped they are JSON.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mainJs = join(root, 'dist', 'src', 'main.js');

/** Newest modification time under `dir` (recursive), in ms. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

function needsBuild() {
  if (!existsSync(mainJs)) return true;
  const sources = Math.max(
    newestMtime(join(root, 'src')),
    statSync(join(root, 'tsconfig.json')).mtimeMs,
    statSync(join(root, 'tsconfig.build.json')).mtimeMs,
  );
  return sources > statSync(mainJs).mtimeMs;
}

function build() {
  process.stderr.write('npm start: building dist/ with tsc\n');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    process.stderr.write('npm start: the build failed\n');
    process.exit(result.status ?? 1);
  }
}

/** What .env in the working directory sets (main.js reads it again; we only look). */
function dotEnv() {
  const file = join(process.cwd(), '.env');
  return existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
}

/** Development defaults, only for variables neither the environment nor .env sets. */
function devDefaults() {
  const fromFile = dotEnv();
  const value = (name) => {
    const v = process.env[name] ?? fromFile[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const containerEnv = value('CONTAINER_ENV');
  if (containerEnv !== undefined && containerEnv !== 'docker' && containerEnv !== 'podman')
    return {};
  const extra = {};
  const storageType = value('STORAGE_TYPE') ?? 'host';
  if (value('STORAGE_TYPE') === undefined) extra.STORAGE_TYPE = 'host';
  if (storageType === 'host' && value('STOREBASE') === undefined) {
    const storeBase = join(process.cwd(), 'CHRIS_REMOTE_FS');
    mkdirSync(storeBase, { recursive: true });
    extra.STOREBASE = storeBase;
  }
  if (Object.keys(extra).length > 0) {
    const text = Object.entries(extra)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    process.stderr.write(`npm start: development defaults ${text}\n`);
  }
  return extra;
}

if (needsBuild()) build();
const child = spawn(process.execPath, [mainJs, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, ...devDefaults() },
});
// Pass stop signals on, so the server drains as it would when run directly.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
// `kill <npm pid>` stops npm's `sh -c`, which does not pass the signal on and leaves us orphaned:
// treat losing our parent as a SIGTERM, so the server never outlives `npm start`.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) child.kill('SIGTERM');
}, 1000).unref();
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
});
