// Issue 10, items 11 and 12: records bounded by bytes as well as count, logs kept on disk under
// STATE_DIR and read when asked; STATE_DIR private (0700), record files 0600 written exclusively.
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { JobInfo } from '../../src/domain/job.js';
import { JobRecords, MEMORY_RECORD_BYTES } from '../../src/service/records.js';
import type { JobRecord } from '../../src/service/records.js';

function record(name: string, i: number, logs = `logs of ${name}\n`): JobRecord {
  const at = new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString();
  const info: JobInfo = {
    name,
    image: 'img',
    command: ['true'],
    status: 'finishedSuccessfully',
    message: 'exited',
    timestamp: at,
  };
  return { info, logs, at };
}

const dirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pman-ts-records-bounds-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const KiB = 'x'.repeat(1023) + '\n';

describe('records under STATE_DIR keep their logs on disk', () => {
  it('reads the logs from their file when asked, also after a restart', async () => {
    const dir = await scratch();
    const first = await JobRecords.open(dir);
    await first.pin('a', record('a', 1, 'captured\n'));
    expect(first.get('a')).not.toHaveProperty('logs');
    await writeFile(join(dir, 'a.log'), 'changed on disk\n');
    expect(await first.logs('a')).toBe('changed on disk\n');

    const second = await JobRecords.open(dir);
    await writeFile(join(dir, 'a.log'), 'changed after the restart\n');
    // Not loaded at start: the file is read only now.
    expect(await second.logs('a')).toBe('changed after the restart\n');
  });

  it('moves the logs of a record written by an older version into their own file', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'old.json'), JSON.stringify(record('old', 1, 'legacy\n')));
    const records = await JobRecords.open(dir);
    expect(await records.logs('old')).toBe('legacy\n');
    expect(JSON.parse(await readFile(join(dir, 'old.json'), 'utf8'))).not.toHaveProperty('logs');
  });
});

describe('records are bounded by bytes', () => {
  it('with STATE_DIR: the oldest records and their files go first', async () => {
    const dir = await scratch();
    const records = await JobRecords.open(dir, { maxBytes: 3 * 1024 + 3 * 200 });
    for (const [i, name] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      await records.pin(name, record(name, i, KiB));
    }
    expect(records.all().map((r) => r.info.name)).toEqual(['c', 'd', 'e']);
    expect(records.bytes).toBeLessThanOrEqual(3 * 1024 + 3 * 200);
    expect((await readdir(dir)).sort()).toEqual([
      'c.json',
      'c.log',
      'd.json',
      'd.log',
      'e.json',
      'e.log',
    ]);
  });

  it('with STATE_DIR: a restart under a smaller budget drops the oldest', async () => {
    const dir = await scratch();
    const first = await JobRecords.open(dir);
    for (const [i, name] of ['a', 'b', 'c'].entries()) await first.pin(name, record(name, i, KiB));
    const second = await JobRecords.open(dir, { maxBytes: 1024 + 200 });
    expect(second.all().map((r) => r.info.name)).toEqual(['c']);
  });

  it('without STATE_DIR the heap holds at most 64 MiB of logs by default', async () => {
    const records = await JobRecords.open();
    const MiB = KiB.repeat(1024);
    for (let i = 0; i < 70; i++) await records.pin(`j${i}`, record(`j${i}`, i, MiB));
    expect(records.size).toBeLessThan(70);
    expect(records.bytes).toBeLessThanOrEqual(MEMORY_RECORD_BYTES);
    expect(records.has('j69')).toBe(true);
    expect(records.has('j0')).toBe(false);
  });

  it('one record larger than the whole budget keeps the last bytes of its logs', async () => {
    const records = await JobRecords.open(undefined, { maxBytes: 1024 });
    await records.pin('big', record('big', 1, `first\n${KiB.repeat(4)}last\n`));
    expect(records.has('big')).toBe(true);
    expect(records.bytes).toBeLessThanOrEqual(1024);
    expect(await records.logs('big')).toMatch(/last\n$/);
  });
});

describe('STATE_DIR is private', () => {
  it('is created 0700 and its files are 0600', async () => {
    const dir = join(await scratch(), 'state');
    const records = await JobRecords.open(dir);
    await records.pin('a', record('a', 1));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const file of await readdir(dir)) {
      expect({ file, mode: (await stat(join(dir, file))).mode & 0o777 }).toEqual({
        file,
        mode: 0o600,
      });
    }
  });

  it('an existing group/world-accessible one of ours is made 0700, with a warning', async () => {
    const dir = join(await scratch(), 'state');
    await mkdir(dir);
    await chmod(dir, 0o755);
    const warnings: string[] = [];
    await JobRecords.open(dir, { warn: (m) => warnings.push(m) });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(warnings).toEqual([
      'STATE_DIR was accessible to group or others (mode 0755); changed to 0700',
    ]);
  });

  it('never writes through a link planted where a record file or its temporary goes', async () => {
    const dir = await scratch();
    const outside = join(await scratch(), 'victim');
    await writeFile(outside, 'untouched');
    // The old writer used the predictable temporary `<file>.<pid>.tmp` and followed links there.
    await symlink(outside, join(dir, `a.json.${process.pid}.tmp`));
    await symlink(outside, join(dir, 'a.log'));
    const records = await JobRecords.open(dir);
    await records.pin('a', record('a', 1, 'mine\n'));
    expect(await readFile(outside, 'utf8')).toBe('untouched');
    expect(await records.logs('a')).toBe('mine\n');
  });

  it('removes temporaries a crash left behind', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'a.json.0123abcd.tmp'), '{"info": ');
    await JobRecords.open(dir);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('RECORDS_MAX_BYTES', () => {
  it('is the old name of HISTORY_MAX_BYTES, read as a byte count; unset = unbounded', () => {
    expect(
      loadConfig({ CONTAINER_ENV: 'memory', RECORDS_MAX_BYTES: '1048576' }).historyMaxBytes,
    ).toBe(1_048_576);
    expect(loadConfig({ CONTAINER_ENV: 'memory' }).historyMaxBytes).toBeUndefined();
  });

  it('refuses anything but a non-negative integer, naming the variable', () => {
    expect(() => loadConfig({ CONTAINER_ENV: 'memory', RECORDS_MAX_BYTES: '512Mi' })).toThrow(
      /RECORDS_MAX_BYTES/,
    );
  });
});
