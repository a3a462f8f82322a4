// JobRecords: terminal snapshots of jobs (api.md §9 "terminal statuses are final", §10, §11, §16 #13).
// In memory, and one JSON file per jid under STATE_DIR when it is set.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JOB_STATUSES } from '../domain/job.js';
import type { JobInfo, JobStatus } from '../domain/job.js';

export interface JobRecord {
  /** The first terminal JobInfo seen for the jid; later GETs report its status and message. */
  info: JobInfo;
  /** The log tail captured when the job became terminal. */
  logs: string;
  /** RFC 3339 time the record was pinned; the cap drops the oldest first. */
  at: string;
}

/** Records kept at most; beyond it the oldest terminal record goes first. */
export const MAX_RECORDS = 10_000;

const SUFFIX = '.json';

/** jids may hold any character but '/' (memory backend); encoding keeps file names safe. */
function fileName(jid: string): string {
  return encodeURIComponent(jid).replace(/^\./, '%2E') + SUFFIX;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** Narrows a parsed file to a JobRecord; anything else is ignored rather than trusted. */
function toRecord(value: unknown): JobRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { info, logs, at } = value as Record<string, unknown>;
  if (typeof info !== 'object' || info === null || !isString(logs) || !isString(at))
    return undefined;
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
  return {
    info: {
      name: i.name,
      image: i.image,
      command,
      status: i.status as JobStatus,
      message: i.message,
      timestamp: i.timestamp,
    },
    logs,
    at,
  };
}

export class JobRecords {
  readonly #records = new Map<string, JobRecord>();
  readonly #stateDir: string | undefined;
  readonly #max: number;

  /** Use JobRecords.open(); the constructor does no I/O. */
  constructor(stateDir?: string, max: number = MAX_RECORDS) {
    this.#stateDir = stateDir;
    this.#max = max;
  }

  /** Loads every record file under `stateDir` (created if missing); without it, memory only. */
  static async open(stateDir?: string, max: number = MAX_RECORDS): Promise<JobRecords> {
    const records = new JobRecords(stateDir, max);
    if (stateDir === undefined) return records;
    await mkdir(stateDir, { recursive: true });
    const loaded: JobRecord[] = [];
    for (const entry of await readdir(stateDir)) {
      if (!entry.endsWith(SUFFIX)) continue;
      try {
        const record = toRecord(JSON.parse(await readFile(join(stateDir, entry), 'utf8')));
        if (record !== undefined) loaded.push(record);
      } catch {
        // A half-written or foreign file must not stop start-up; the engine is the truth anyway.
      }
    }
    loaded.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    for (const record of loaded) records.#records.set(record.info.name, record);
    await records.#enforceCap();
    return records;
  }

  get(jid: string): JobRecord | undefined {
    return this.#records.get(jid);
  }

  /** Keeps the first record per jid: a terminal status, once reported, is final. */
  async pin(jid: string, rec: JobRecord): Promise<void> {
    if (this.#records.has(jid)) return;
    this.#records.set(jid, rec);
    if (this.#stateDir !== undefined) {
      const target = join(this.#stateDir, fileName(jid));
      const temp = `${target}.${process.pid}.tmp`;
      // Write then rename, so a crash never leaves a torn record behind.
      await writeFile(temp, JSON.stringify(rec));
      await rename(temp, target);
    }
    await this.#enforceCap();
  }

  async drop(jid: string): Promise<void> {
    if (!this.#records.delete(jid)) return;
    if (this.#stateDir !== undefined)
      await rm(join(this.#stateDir, fileName(jid)), { force: true });
  }

  /** Every record, oldest first. */
  all(): JobRecord[] {
    return [...this.#records.values()];
  }

  get size(): number {
    return this.#records.size;
  }

  async #enforceCap(): Promise<void> {
    // Map iteration order is insertion order, i.e. oldest pinned first.
    for (const jid of this.#records.keys()) {
      if (this.#records.size <= this.#max) return;
      await this.drop(jid);
    }
  }
}
