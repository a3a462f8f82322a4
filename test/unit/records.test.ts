import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/domain/job.js';
import { JobRecords } from '../../src/service/records.js';
import type { JobRecord } from '../../src/service/records.js';

function record(
  name: string,
  at: string,
  status: JobInfo['status'] = 'finishedSuccessfully',
): JobRecord {
  return {
    info: { name, image: 'img', command: ['a', 'b'], status, message: 'exited', timestamp: at },
    logs: `logs of ${name}\n`,
    at,
  };
}

const dirs: string[] = [];
async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pman-ts-records-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('JobRecords in memory', () => {
  it('keeps the first pinned record per jid', async () => {
    const records = await JobRecords.open();
    await records.pin('a', record('a', '2024-01-01T00:00:00Z', 'finishedWithError'));
    await records.pin('a', record('a', '2024-01-02T00:00:00Z', 'finishedSuccessfully'));
    expect(records.get('a')?.info.status).toBe('finishedWithError');
  });

  it('drops records and lists the rest oldest first', async () => {
    const records = await JobRecords.open();
    await records.pin('b', record('b', '2024-01-01T00:00:00Z'));
    await records.pin('a', record('a', '2024-01-02T00:00:00Z'));
    await records.drop('b');
    await records.drop('never-there');
    expect(records.get('b')).toBeUndefined();
    expect(records.all().map((r) => r.info.name)).toEqual(['a']);
  });

  it('caps the number of records, dropping the oldest first', async () => {
    const records = await JobRecords.open(undefined, { maxCount: 3 });
    for (const [i, name] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      await records.pin(name, record(name, `2024-01-0${i + 1}T00:00:00Z`));
    }
    expect(records.all().map((r) => r.info.name)).toEqual(['c', 'd', 'e']);
  });
});

describe('JobRecords under STATE_DIR', () => {
  it('survives a restart, with odd jids as safe file names', async () => {
    const dir = await stateDir();
    const first = await JobRecords.open(dir);
    await first.pin('chris-jid-1', record('chris-jid-1', '2024-01-01T00:00:00Z'));
    await first.pin('..', record('..', '2024-01-02T00:00:00Z'));
    await first.pin('é ✓?', record('é ✓?', '2024-01-03T00:00:00Z'));
    const files = await readdir(dir);
    expect(files.every((f) => !f.startsWith('.') && /\.(json|log)$/.test(f))).toBe(true);

    const second = await JobRecords.open(dir);
    expect(second.all().map((r) => r.info.name)).toEqual(['chris-jid-1', '..', 'é ✓?']);
    const { logs, ...head } = record('chris-jid-1', '2024-01-01T00:00:00Z');
    expect(second.get('chris-jid-1')).toEqual(head);
    expect(await second.logs('chris-jid-1')).toBe(logs);
  });

  it('forgets dropped records across a restart', async () => {
    const dir = await stateDir();
    const first = await JobRecords.open(dir);
    await first.pin('x', record('x', '2024-01-01T00:00:00Z'));
    await first.drop('x');
    expect((await JobRecords.open(dir)).get('x')).toBeUndefined();
  });

  it('ignores torn or foreign files instead of failing start-up', async () => {
    const dir = await stateDir();
    await writeFile(join(dir, 'torn.json'), '{"info": ');
    await writeFile(join(dir, 'foreign.json'), '{"hello": "world"}');
    await writeFile(join(dir, 'ok.json'), JSON.stringify(record('ok', '2024-01-01T00:00:00Z')));
    const records = await JobRecords.open(dir);
    expect(records.all().map((r) => r.info.name)).toEqual(['ok']);
    expect(await records.logs('ok')).toBe('logs of ok\n');
  });

  it('creates a missing state directory', async () => {
    const dir = join(await stateDir(), 'nested', 'state');
    const records = await JobRecords.open(dir);
    await records.pin('a', record('a', '2024-01-01T00:00:00Z'));
    expect((await readdir(dir)).sort()).toEqual(['a.json', 'a.log']);
  });
});
