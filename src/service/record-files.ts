// The job record files an older pman-ts kept under STATE_DIR, read once by the importer
// (legacy-records.ts): per jid one `<jid>.json` (the JobInfo) plus one `<jid>.log` (its logs; the
// oldest format kept them inside the json), written through temporary `*.tmp` names.
import { chmod, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JOB_STATUSES } from '../domain/job.js';
import type { JobInfo, JobStatus } from '../domain/job.js';

const INFO = '.json';
const LOGS = '.log';
const TEMP = '.tmp';

/** A record file as loaded: `logs` only in files written before the logs moved to their own file. */
export interface StoredRecord {
  info: JobInfo;
  at: string;
  legacyLogs?: string;
}

/** jids may hold any character but '/' (memory backend); encoding keeps file names safe. */
function baseName(jid: string): string {
  return encodeURIComponent(jid).replace(/^\./, '%2E');
}

export class RecordFiles {
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /**
   * Creates the directory 0700, or tightens an existing one the server owns; one it does not own
   * and others can enter is only warned about (the operator's volume, the operator's call).
   */
  static async open(dir: string, warn: (message: string) => void): Promise<RecordFiles> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { mode, uid } = await stat(dir);
    if ((mode & 0o077) !== 0) {
      const octal = (mode & 0o777).toString(8).padStart(4, '0');
      const owned = uid === process.getuid?.();
      const tightened =
        owned &&
        (await chmod(dir, 0o700).then(
          () => true,
          () => false,
        ));
      warn(
        tightened
          ? `STATE_DIR was accessible to group or others (mode ${octal}); changed to 0700`
          : `STATE_DIR is accessible to group or others (mode ${octal}) and this server cannot change it: job records and logs there are readable by others; make it 0700`,
      );
    }
    const files = new RecordFiles(dir);
    await files.#removeTemporaries();
    return files;
  }

  /** Every readable record, in no particular order; torn and foreign files are skipped. */
  async loadAll(): Promise<StoredRecord[]> {
    const loaded: StoredRecord[] = [];
    for (const entry of await readdir(this.#dir)) {
      if (!entry.endsWith(INFO)) continue;
      try {
        const record = toStored(JSON.parse(await readFile(join(this.#dir, entry), 'utf8')));
        if (record !== undefined) loaded.push(record);
      } catch {
        // A half-written or foreign file must not stop start-up; the engine is the truth anyway.
      }
    }
    return loaded;
  }

  /** The captured logs; '' when the file is gone. */
  async readLogs(jid: string): Promise<string> {
    return readFile(this.#path(jid, LOGS), 'utf8').catch(() => '');
  }

  /**
   * Moves a record's files into `dir` (the importer's imported-records/), info first: a crash
   * half-way leaves at most a lone log file behind, which loadAll() never reads.
   */
  async moveTo(jid: string, dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const suffix of [INFO, LOGS]) {
      const from = this.#path(jid, suffix);
      await rename(from, join(dir, baseName(jid) + suffix)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      });
    }
  }

  #path(jid: string, suffix: string): string {
    return join(this.#dir, baseName(jid) + suffix);
  }

  /** Leftovers of writes a crash interrupted. */
  async #removeTemporaries(): Promise<void> {
    for (const entry of await readdir(this.#dir)) {
      if (entry.endsWith(TEMP)) await rm(join(this.#dir, entry), { force: true });
    }
  }
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** Narrows a parsed file to a record; anything else is ignored rather than trusted. */
function toStored(value: unknown): StoredRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { info, logs, at } = value as Record<string, unknown>;
  if (typeof info !== 'object' || info === null || !isString(at)) return undefined;
  if (logs !== undefined && !isString(logs)) return undefined;
  const i = info as Record<string, unknown>;
  const command = i.command;
  if (
    !isString(i.name) ||
    !isString(i.image) ||
    !Array.isArray(command) ||
    !command.every(isString) ||
    !JOB_STATUSES.includes(i.status as JobStatus) ||
    !isString(i.message) ||
    !isString(i.timestamp)
  ) {
    return undefined;
  }
  const stored: StoredRecord = {
    info: {
      name: i.name,
      image: i.image,
      command,
      status: i.status as JobStatus,
      message: i.message,
      timestamp: i.timestamp,
    },
    at,
  };
  if (logs !== undefined) stored.legacyLogs = logs;
  return stored;
}
