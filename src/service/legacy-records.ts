// The one-time import of an older pman-ts's job records (<STATE_DIR>/<jid>.json + <jid>.log) into
// the job store: each becomes a finished run, then its files move to imported-records/, so a
// restart never imports twice (and a crash between the two is caught by the ledger's own check).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ledger } from '../store/ledger.js';
import { RecordFiles } from './record-files.js';

/** Where imported record files go, under STATE_DIR: kept, not deleted, for the operator. */
export const IMPORTED_DIR = 'imported-records';

/** Records imported per transaction (the ledger group-commits one turn's writes). */
const BATCH = 100;

/** Imports every readable record under `stateDir`; returns how many. Store errors are thrown. */
export async function importLegacyRecords(
  stateDir: string,
  ledger: Ledger,
  warn: (message: string) => void,
): Promise<number> {
  // Most starts have nothing to import: do not even open the record files then.
  const names = await readdir(stateDir).catch(() => [] as string[]);
  if (!names.some((name) => name.endsWith('.json'))) return 0;
  const files = await RecordFiles.open(stateDir, warn);
  const records = await files.loadAll();
  records.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const into = join(stateDir, IMPORTED_DIR);
  let imported = 0;
  for (let i = 0; i < records.length; i += BATCH) {
    const batch = records.slice(i, i + BATCH);
    const withLogs = await Promise.all(
      batch.map(async ({ info, at, legacyLogs }) => ({
        info,
        at,
        logs: legacyLogs ?? (await files.readLogs(info.name)),
      })),
    );
    // One turn, one transaction: thousands of records cost a few fsyncs, not thousands.
    await Promise.all(withLogs.map((record) => ledger.importRecord(record)));
    for (const { info } of batch) {
      try {
        await files.moveTo(info.name, into);
      } catch (err) {
        // Imported already: a second start skips it (the ledger knows it), so only warn.
        warn(`job record of "${info.name}" imported but not moved to ${into}: ${String(err)}`);
      }
    }
    imported += batch.length;
  }
  return imported;
}
