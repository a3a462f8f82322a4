// The architecture check (`npm run arch`, .dependency-cruiser.cjs) fails on each forbidden import
// of a small fixture tree, passes on that tree's allowed imports, and passes on the real src.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CONFIG = path.join(ROOT, '.dependency-cruiser.cjs');
const CLI = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: string;
  from: string;
}

interface CruiseResult {
  /** depcruise's exit code: the number of errors, as CI sees it. */
  exitCode: number;
  violations: Violation[];
  output: string;
}

/** Runs the check exactly as `npm run arch` does (same reporter, same exit code), from `cwd`. */
async function cruise(cwd: string): Promise<CruiseResult> {
  const args = [CLI, 'src', '--config', CONFIG];
  let exitCode = 0;
  let output: string;
  try {
    output = (await promisify(execFile)(process.execPath, args, { cwd })).stdout;
  } catch (err) {
    const failed = err as { code?: unknown; stdout?: unknown };
    if (typeof failed.code !== 'number' || typeof failed.stdout !== 'string') throw err;
    exitCode = failed.code;
    output = failed.stdout;
  }
  return { exitCode, violations: violationsOf(output), output };
}

/** The `err` reporter's lines: "  error <rule>: <from> → <to>" (a cycle continues below). */
function violationsOf(output: string): Violation[] {
  return [...output.matchAll(/^[ \t]*error (\S+): (\S+) →/gm)].map(([, rule = '', from = '']) => ({
    rule,
    from,
  }));
}

/** Files of the fixture tree: every layer, each backend, and only allowed imports. */
const ALLOWED: Record<string, string> = {
  'src/domain/job.ts': 'export const job = 1;',
  'src/domain/spec.ts': "import { job } from './job.js';\nexport const spec = job;",
  'src/backends/backend.ts':
    "import type { spec } from '../domain/spec.js';\nexport type Port = typeof spec;",
  'src/backends/shared/engine.ts':
    "import type Docker from 'dockerode';\nimport { job } from '../../domain/job.js';\nexport type Engine = Docker;\nexport const shared = job;",
  'src/backends/docker/docker.ts':
    "import type Docker from 'dockerode';\nimport { shared } from '../shared/engine.js';\nexport type D = Docker;\nexport const docker = shared;",
  'src/backends/swarm/swarm.ts':
    "import { shared } from '../shared/engine.js';\nexport const swarm = shared;",
  'src/backends/kubernetes/kubernetes.ts':
    "import type { V1Job } from '@kubernetes/client-node';\nexport type K = V1Job;\nexport const kubernetes = 1;",
  'src/backends/slurm/slurm.ts':
    "import { job } from '../../domain/job.js';\nexport const slurm = job;",
  // Podman is the Docker backend on Podman's Docker-compatible API: it may reuse docker/.
  'src/backends/podman/podman.ts':
    "import { docker } from '../docker/docker.js';\nexport const podman = docker;",
  'src/backends/memory.ts': "import { job } from '../domain/job.js';\nexport const memory = job;",
  'src/backends/registry.ts':
    "export const open = (kind: string): Promise<unknown> =>\n  kind === 'docker' ? import('./docker/docker.js') : import('./memory.js');",
  'src/service/jobs.ts':
    "import type { Port } from '../backends/backend.js';\nimport { spec } from '../domain/spec.js';\nexport type S = Port;\nexport const jobs = spec;",
  'src/http/app.ts':
    "import { Hono } from 'hono';\nimport { open } from '../backends/registry.js';\nimport { jobs } from '../service/jobs.js';\nexport const app = [new Hono(), open, jobs];",
};

/**
 * One forbidden import per case: the file that holds it, and the rule that must name it; `with`
 * adds files the case needs (the other half of a cycle).
 */
const FORBIDDEN: Array<{
  rule: string;
  file: string;
  source: string;
  with?: Record<string, string>;
}> = [
  {
    rule: 'domain-imports-only-domain',
    file: 'src/domain/bad-builtin.ts',
    source: "import { readFile } from 'node:fs/promises';\nexport const bad = readFile;",
  },
  {
    rule: 'domain-imports-only-domain',
    file: 'src/domain/bad-npm.ts',
    source: "import { z } from 'zod';\nexport const bad = z;",
  },
  {
    rule: 'domain-imports-only-domain',
    file: 'src/domain/bad-layer.ts',
    source: "import type { S } from '../service/jobs.js';\nexport type Bad = S;",
  },
  {
    rule: 'backend-imports-another-backend',
    file: 'src/backends/docker/bad.ts',
    source: "import { swarm } from '../swarm/swarm.js';\nexport const bad = swarm;",
  },
  {
    rule: 'backend-imports-another-backend',
    file: 'src/backends/kubernetes/bad.ts',
    source: "import { memory } from '../memory.js';\nexport const bad = memory;",
  },
  {
    rule: 'backend-imports-another-backend',
    file: 'src/backends/slurm/bad.ts',
    source: "import { docker } from '../docker/docker.js';\nexport const bad = docker;",
  },
  {
    rule: 'podman-imports-a-backend-but-docker',
    file: 'src/backends/podman/bad.ts',
    source: "import { swarm } from '../swarm/swarm.js';\nexport const bad = swarm;",
  },
  {
    rule: 'memory-backend-imports-another-backend',
    file: 'src/backends/memory.ts',
    source: "import { docker } from './docker/docker.js';\nexport const memory = docker;",
  },
  {
    rule: 'shared-imports-a-backend',
    file: 'src/backends/shared/bad.ts',
    source:
      "import { kubernetes } from '../kubernetes/kubernetes.js';\nexport const bad = kubernetes;",
  },
  {
    rule: 'http-imports-backend-internals',
    file: 'src/http/bad.ts',
    source: "import { shared } from '../backends/shared/engine.js';\nexport const bad = shared;",
  },
  {
    rule: 'service-imports-http',
    file: 'src/service/bad.ts',
    source: "import { app } from '../http/app.js';\nexport const bad = app;",
  },
  {
    rule: 'service-imports-backend-internals',
    file: 'src/service/bad-internals.ts',
    source: "import { memory } from '../backends/memory.js';\nexport const bad = memory;",
  },
  {
    rule: 'only-kubernetes-imports-its-client',
    file: 'src/backends/shared/bad-kube.ts',
    source: "import type { V1Pod } from '@kubernetes/client-node';\nexport type Bad = V1Pod;",
  },
  {
    rule: 'only-engine-backends-import-dockerode',
    file: 'src/service/bad-docker.ts',
    source: "import Docker from 'dockerode';\nexport const bad = Docker;",
  },
  {
    rule: 'only-http-imports-hono',
    file: 'src/backends/docker/bad-hono.ts',
    source:
      "import { HTTPException } from 'hono/http-exception';\nexport const bad = HTTPException;",
  },
  {
    rule: 'no-circular',
    file: 'src/service/cycle-a.ts',
    source: "import { b } from './cycle-b.js';\nexport const a = (): number => b();",
    with: {
      'src/service/cycle-b.ts':
        "import { a } from './cycle-a.js';\nexport const b = (): number => a();",
    },
  },
];

/** A tree of `files` in a temporary directory that resolves packages from this repository. */
async function fixtureTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pman-arch-'));
  await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await copyFile(path.join(ROOT, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
  for (const [file, source] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), `${source}\n`);
  }
  return dir;
}

describe('architecture check', () => {
  const dirs: string[] = [];
  let clean: string;
  let bad: string;

  beforeAll(async () => {
    clean = await fixtureTree(ALLOWED);
    const injected = Object.fromEntries(
      FORBIDDEN.flatMap((f) => [[f.file, f.source], ...Object.entries(f.with ?? {})]),
    );
    bad = await fixtureTree({ ...ALLOWED, ...injected });
    dirs.push(clean, bad);
  });
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('passes a tree that only makes allowed imports', async () => {
    const result = await cruise(clean);
    expect(result.exitCode, result.output).toBe(0);
  }, 60_000);

  it('fails on each deliberately bad import, naming its rule and file', async () => {
    const result = await cruise(bad);
    expect(result.exitCode).toBeGreaterThan(0);
    const found = result.violations.map((v) => `${v.rule} ${v.from}`);
    for (const { rule, file } of FORBIDDEN) expect(found).toContain(`${rule} ${file}`);
  }, 60_000);

  it('passes on the real src', async () => {
    const result = await cruise(ROOT);
    expect(result.exitCode, result.output).toBe(0);
  }, 60_000);
});
