// The store's architecture rules (.dependency-cruiser.cjs): only src/store loads better-sqlite3, and
// src/store imports neither the wire, the service nor a backend. A fixture tree with each forbidden
// import fails naming its rule and file; the same tree without them passes.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const CLI = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

const ALLOWED: Record<string, string> = {
  'src/domain/job.ts': 'export const job = 1;',
  'src/store/runs.ts':
    "import type { Database } from 'better-sqlite3';\nimport { job } from '../domain/job.js';\nexport type Db = Database;\nexport const runs = job;",
  'src/service/jobs.ts': "import { runs } from '../store/runs.js';\nexport const jobs = runs;",
  'src/http/app.ts': 'export const app = 1;',
  'src/backends/memory.ts': 'export const memory = 1;',
};

const FORBIDDEN = [
  {
    rule: 'only-store-imports-sqlite',
    file: 'src/service/bad-sqlite.ts',
    source: "import Database from 'better-sqlite3';\nexport const bad = Database;",
  },
  {
    rule: 'only-store-imports-sqlite',
    file: 'src/http/bad-sqlite-types.ts',
    source: "import type { Statement } from 'better-sqlite3';\nexport type Bad = Statement;",
  },
  {
    rule: 'store-imports-upper-layers',
    file: 'src/store/bad-http.ts',
    source: "import { app } from '../http/app.js';\nexport const bad = app;",
  },
  {
    rule: 'store-imports-upper-layers',
    file: 'src/store/bad-backend.ts',
    source: "import { memory } from '../backends/memory.js';\nexport const bad = memory;",
  },
];

const dirs: string[] = [];

async function fixtureTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pman-store-arch-'));
  dirs.push(dir);
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await copyFile(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  for (const [file, source] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), `${source}\n`);
  }
  return dir;
}

/** `npm run arch` in `cwd`: its exit code and the "error <rule>: <from> →" lines. */
async function cruise(cwd: string): Promise<{ exitCode: number; found: string[] }> {
  let exitCode = 0;
  let output: string;
  try {
    output = (
      await promisify(execFile)(process.execPath, [CLI, 'src', '--config', CONFIG], { cwd })
    ).stdout;
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: unknown };
    if (typeof failed.code !== 'number' || typeof failed.stdout !== 'string') throw err;
    exitCode = failed.code;
    output = failed.stdout;
  }
  const found = [...output.matchAll(/^[ \t]*error (\S+): (\S+) →/gm)].map(
    ([, rule = '', from = '']) => `${rule} ${from}`,
  );
  return { exitCode, found };
}

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('store architecture rules', () => {
  it('pass a tree where only src/store loads better-sqlite3', async () => {
    const result = await cruise(await fixtureTree(ALLOWED));
    expect(result).toEqual({ exitCode: 0, found: [] });
  }, 60_000);

  it('fail on each forbidden import, naming its rule and file', async () => {
    const bad = Object.fromEntries(FORBIDDEN.map((f) => [f.file, f.source]));
    const result = await cruise(await fixtureTree({ ...ALLOWED, ...bad }));
    expect(result.exitCode).toBeGreaterThan(0);
    for (const { rule, file } of FORBIDDEN) expect(result.found).toContain(`${rule} ${file}`);
  }, 60_000);
});
