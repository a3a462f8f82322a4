// The files of JobRecords under STATE_DIR: a private directory (0700), and per jid one small
// `<jid>.json` (the JobInfo) plus one `<jid>.log` (the captured logs, read only when asked), each
// 0600, written exclusively to a fresh temporary name and renamed into place.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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

  /** Size in bytes of a record's log file; 0 when it has none. */
  async logBytes(jid: string): Promise<number> {
    return stat(this.#path(jid, LOGS)).then(
      (s) => s.size,
      () => 0,
    );
  }

  /** Logs first, then the info: an info file on disk always has its logs complete beside it. */
  async write(jid: string, info: { info: JobInfo; at: string }, logs: string): Promise<void> {
    await this.#writeExclusive(this.#path(jid, LOGS), logs);
    await this.#writeExclusive(this.#path(jid, INFO), JSON.stringify(info));
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

  /** Info first, so a crash half-way leaves no record whose logs are missing. */
  async remove(jid: string): Promise<void> {
    await rm(this.#path(jid, INFO), { force: true });
    await rm(this.#path(jid, LOGS), { force: true });
  }

  #path(jid: string, suffix: string): string {
    return join(this.#dir, baseName(jid) + suffix);
  }

  /**
   * `wx` on a fresh random name: never follows a link or reuses a file someone else put there;
   * the rename is atomic, so a crash never leaves a torn record behind.
   */
  async #writeExclusive(target: string, text: string): Promise<void> {
    const temp = `${target}.${randomBytes(6).toString('hex')}${TEMP}`;
    await writeFile(temp, text, { flag: 'wx', mode: 0o600 });
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
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
