// importLegacyRecords: every STATE_DIR record becomes a finished run with its logs, the files move
// to imported-records/, and a second start imports nothing twice.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IMPORTED_DIR, importLegacyRecords } from '../../src/service/legacy-records.js';
import { Ledger } from '../../src/store/ledger.js';

const dirs: string[] = [];
const ledgers: Ledger[] = [];
afterEach(async () => {
  for (const ledger of ledgers.splice(0)) ledger.close();
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function stateDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pman-legacy-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string): Ledger {
  const ledger = Ledger.open(dir);
  ledgers.push(ledger);
  return ledger;
}

const info = (name: string, timestamp: string) => ({
  name,
  image: 'busybox',
  command: ['sh', '-c', 'exit 3'],
  status: 'finishedWithError',
  message: 'exit code 3',
  timestamp,
});

async function writeRecord(dir: string, name: string, at: string, logs?: string): Promise<void> {
  const body =
    logs === undefined ? { info: info(name, at), at } : { info: info(name, at), at, logs };
  await writeFile(join(dir, `${encodeURIComponent(name)}.json`), JSON.stringify(body));
}

describe('importLegacyRecords', () => {
  it('imports each record as a finished run with its logs, then moves its files', async () => {
    const dir = await stateDir();
    await writeRecord(dir, 'job-a', '2024-05-01T10:00:00.000Z');
    await writeFile(join(dir, 'job-a.log'), 'a says hi\n');
    // the oldest format: logs inside the json
    await writeRecord(dir, 'job-b', '2024-05-02T10:00:00.000Z', 'b says hi\n');
    await writeFile(join(dir, 'torn.json'), '{"info": ');
    const ledger = open(dir);
    const warnings: string[] = [];
    expect(await importLegacyRecords(dir, ledger, (m) => warnings.push(m))).toBe(2);
    const a = ledger.current('job-a');
    expect(a).toMatchObject({ run: 1, status: 'finishedWithError', message: 'exit code 3' });
    expect(ledger.log(a?.id ?? 0)).toBe('a says hi\n');
    expect(ledger.log(ledger.current('job-b')?.id ?? 0)).toBe('b says hi\n');
    expect((await readdir(join(dir, IMPORTED_DIR))).sort()).toEqual([
      'job-a.json',
      'job-a.log',
      'job-b.json',
    ]);
    expect((await readdir(dir)).filter((n) => n.startsWith('job-'))).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('a restart imports nothing twice (also when the files were not moved)', async () => {
    const dir = await stateDir();
    await writeRecord(dir, 'job-a', '2024-05-01T10:00:00.000Z', 'hi\n');
    const ledger = open(dir);
    await importLegacyRecords(dir, ledger, () => undefined);
    expect(await importLegacyRecords(dir, ledger, () => undefined)).toBe(0);
    // a crash after the import, before the move: the files are back, the ledger skips them
    await writeRecord(dir, 'job-a', '2024-05-01T10:00:00.000Z', 'hi\n');
    await importLegacyRecords(dir, ledger, () => undefined);
    expect(ledger.runsOf('job-a')).toHaveLength(1);
  });

  it('does nothing (and creates nothing) without records', async () => {
    const dir = await stateDir();
    const ledger = open(dir);
    expect(await importLegacyRecords(dir, ledger, () => undefined)).toBe(0);
    expect(await readdir(dir)).not.toContain(IMPORTED_DIR);
  });

  it('reads jids whose file names were encoded, and removes leftovers of torn writes', async () => {
    const dir = await stateDir();
    await writeRecord(dir, 'my job.1', '2024-05-01T10:00:00.000Z', 'spaced\n');
    const body = JSON.stringify({ info: info('.hidden', '2024-05-01T10:00:00.000Z'), at: 'x' });
    await writeFile(join(dir, '%2Ehidden.json'), body);
    await writeFile(join(dir, 'job-z.json.0a1b2c.tmp'), 'half');
    const ledger = open(dir);
    expect(await importLegacyRecords(dir, ledger, () => undefined)).toBe(2);
    expect(ledger.log(ledger.current('my job.1')?.id ?? 0)).toBe('spaced\n');
    expect(ledger.current('.hidden')?.status).toBe('finishedWithError');
    expect(await readdir(dir)).not.toContain('job-z.json.0a1b2c.tmp');
  });
});
