// Labels and the job list on the real Docker engine (issue 13): 30 jobs over 3 label values, each
// filter answers exactly its set, the labels are on the containers, and paging through the list
// while more jobs are created neither repeats nor skips a job.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireEngine } from './engine-available.js';
import { startServer, type ServerProcess } from './server-process.js';
import { shellJobBody } from './shell-job.js';

const engineUp = await requireEngine();
const TEAMS = ['red', 'green', 'blue'] as const;

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

interface JobsPage {
  jobs: Array<{ jid: string }>;
  next?: string;
}

describe.skipIf(!engineUp)('labels and GET /api/v1/jobs/ on Docker', () => {
  const run = `lbl-${randomBytes(3).toString('hex')}`;
  let storeBase: string;
  let server: ServerProcess;
  const byTeam = new Map<string, string[]>(TEAMS.map((team) => [team, []]));

  async function submit(id: string, labels: Record<string, string>): Promise<void> {
    await mkdir(path.join(storeBase, `key-${id}`, 'incoming'), { recursive: true });
    const res = await fetch(`${server.url}/api/v1/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(shellJobBody(id, 'true', { labels })),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }

  async function page(query: string): Promise<JobsPage> {
    const res = await fetch(`${server.url}/api/v1/jobs/${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as JobsPage;
  }

  beforeAll(async () => {
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-labels-'));
    server = await startServer({
      CONTAINER_ENV: 'docker',
      STORAGE_TYPE: 'host',
      STOREBASE: storeBase,
      JOB_LABELS: `pman-labels-run=${run}`,
      // Its own managed-by value: the list holds this suite's jobs only.
      INSTANCE_ID: run,
    });
    for (let i = 0; i < 30; i++) {
      const team = TEAMS[i % TEAMS.length] ?? 'red';
      const id = `${run}-${String(i).padStart(2, '0')}`;
      await submit(id, { team, parity: i % 2 === 0 ? 'even' : 'odd' });
      byTeam.get(team)?.push(id);
    }
  });

  afterAll(async () => {
    try {
      const names = docker('ps', '-aq', '--filter', `label=pman-labels-run=${run}`);
      if (names !== '') docker('rm', '-f', ...names.split('\n'));
    } catch {
      // nothing left
    }
    await server?.stop();
    await rm(storeBase, { recursive: true, force: true });
  });

  it('each label filter answers exactly its jobs, and the engine objects carry the labels', async () => {
    for (const team of TEAMS) {
      const expected = [...(byTeam.get(team) ?? [])].sort();
      expect((await page(`?label=team=${team}`)).jobs.map((j) => j.jid)).toEqual(expected);
      const onEngine = docker(
        'ps',
        '-a',
        '--filter',
        `label=pman-labels-run=${run}`,
        '--filter',
        `label=team=${team}`,
        '--format',
        '{{.Names}}',
      );
      expect(onEngine.split('\n').sort()).toEqual(expected);
    }
    const redEven = (await page('?label=team=red&label=parity=even')).jobs.map((j) => j.jid);
    expect(redEven).toEqual(
      (byTeam.get('red') ?? []).filter((id) => Number(id.slice(-2)) % 2 === 0).sort(),
    );
    expect((await page('?label=team=purple')).jobs).toEqual([]);
  });

  it('pages stay stable while jobs are created: no job of the start is repeated or skipped', async () => {
    const before = (await page('')).jobs.map((j) => j.jid);
    expect(before).toHaveLength(30);
    const seen: string[] = [];
    let cursor: string | undefined;
    let created = 0;
    do {
      const answer = await page(`?limit=7${cursor === undefined ? '' : `&cursor=${cursor}`}`);
      seen.push(...answer.jobs.map((j) => j.jid));
      cursor = answer.next;
      // Between pages, a job whose jid sorts before and one after the current position.
      await submit(`${run}-${String(created).padStart(2, '0')}a`, { team: 'late' });
      await submit(`${run}-zz${created}`, { team: 'late' });
      created++;
    } while (cursor !== undefined);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
  });
});
