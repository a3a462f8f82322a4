// JobRecords: terminal snapshots of jobs (api.md §9 "terminal statuses are final", §10, §11, §16 #13).
// Only the JobInfo stays in the heap. The captured logs live in one file per jid under STATE_DIR
// (record-files.ts) and are read when asked; without STATE_DIR they stay in memory. Either way the
// records are bounded by count and by bytes, the oldest dropped first.
import type { JobInfo } from '../domain/job.js';
import { boundLogText } from '../domain/logs.js';
import { RecordFiles } from './record-files.js';

/** What the job service pins. */
export interface JobRecord {
  /** The first terminal JobInfo seen for the jid; later GETs report its status and message. */
  info: JobInfo;
  /** The log tail captured when the job became terminal. */
  logs: string;
  /** RFC 3339 time the record was pinned; the caps drop the oldest first. */
  at: string;
}

/** A record as the index keeps it: its logs are read with JobRecords.logs(). */
export type RecordEntry = Omit<JobRecord, 'logs'>;

/** Records kept at most; beyond it the oldest terminal record goes first. */
export const MAX_RECORDS = 10_000;
/** RECORDS_MAX_BYTES default with STATE_DIR: the log files on disk. */
export const DISK_RECORD_BYTES = 512 * 1024 * 1024;
/** RECORDS_MAX_BYTES default without STATE_DIR: the logs held in the heap. */
export const MEMORY_RECORD_BYTES = 64 * 1024 * 1024;

export interface RecordsOptions {
  /** At most this many records (default MAX_RECORDS). */
  maxCount?: number | undefined;
  /** At most this many bytes of logs plus info (RECORDS_MAX_BYTES; default by storage above). */
  maxBytes?: number | undefined;
  /** Start-up and write problems that do not stop the server (default: a process warning). */
  warn?: (message: string) => void;
}

interface Entry extends RecordEntry {
  /** What this record counts against maxBytes. */
  bytes: number;
  /** The logs, when they are kept in memory (no STATE_DIR). */
  logs?: string;
}

const ALL_LINES = Number.MAX_SAFE_INTEGER;

export class JobRecords {
  /** Insertion order is pin order (loaded records sorted by `at`): the oldest come first. */
  readonly #entries = new Map<string, Entry>();
  readonly #files: RecordFiles | undefined;
  readonly #maxCount: number;
  readonly #maxBytes: number;
  readonly #warn: (message: string) => void;
  #bytes = 0;

  private constructor(files: RecordFiles | undefined, options: RecordsOptions) {
    this.#files = files;
    this.#maxCount = Math.max(1, options.maxCount ?? MAX_RECORDS);
    this.#maxBytes =
      options.maxBytes ?? (files === undefined ? MEMORY_RECORD_BYTES : DISK_RECORD_BYTES);
    this.#warn = options.warn ?? ((message) => process.emitWarning(message));
  }

  /** Loads the records under `stateDir` (created 0700 if missing), logs left on disk; without it, memory only. */
  static async open(stateDir?: string, options: RecordsOptions = {}): Promise<JobRecords> {
    const warn = options.warn ?? ((message: string) => process.emitWarning(message));
    if (stateDir === undefined) return new JobRecords(undefined, { ...options, warn });
    const files = await RecordFiles.open(stateDir, warn);
    const records = new JobRecords(files, { ...options, warn });
    const loaded = await files.loadAll();
    loaded.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    for (const { info, at, legacyLogs } of loaded) {
      // Written before the logs had their own file: move them there, once.
      if (legacyLogs !== undefined) await records.#write(info.name, { info, at }, legacyLogs);
      const bytes = infoBytes({ info, at }) + (await files.logBytes(info.name));
      records.#add(info.name, { info, at, bytes });
    }
    await records.#enforceCaps();
    return records;
  }

  has(jid: string): boolean {
    return this.#entries.has(jid);
  }

  get(jid: string): RecordEntry | undefined {
    const entry = this.#entries.get(jid);
    return entry === undefined ? undefined : { info: entry.info, at: entry.at };
  }

  /** The logs captured for a record; '' for none. */
  async logs(jid: string): Promise<string> {
    const entry = this.#entries.get(jid);
    if (entry === undefined) return '';
    if (entry.logs !== undefined || this.#files === undefined) return entry.logs ?? '';
    return this.#files.readLogs(jid);
  }

  /** Keeps the first record per jid: a terminal status, once reported, is final. */
  async pin(jid: string, rec: JobRecord): Promise<void> {
    if (this.#entries.has(jid)) return;
    const head = { info: rec.info, at: rec.at };
    // One record never outgrows the whole budget: its logs keep their last bytes.
    const logs = fitLogs(rec.logs, this.#maxBytes - infoBytes(head));
    const bytes = infoBytes(head) + Buffer.byteLength(logs);
    const entry: Entry = this.#files === undefined ? { ...head, bytes, logs } : { ...head, bytes };
    this.#add(jid, entry);
    await this.#enforceCaps();
    if (this.#files === undefined) return;
    await this.#write(jid, head, logs);
    // Dropped while its files were being written: take them back out.
    if (this.#entries.get(jid) !== entry) await this.#files.remove(jid);
  }

  async drop(jid: string): Promise<void> {
    const entry = this.#entries.get(jid);
    if (entry === undefined) return;
    this.#entries.delete(jid);
    this.#bytes -= entry.bytes;
    await this.#files?.remove(jid);
  }

  /** Every record, oldest first. */
  all(): RecordEntry[] {
    return [...this.#entries.values()].map(({ info, at }) => ({ info, at }));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes the records count against RECORDS_MAX_BYTES. */
  get bytes(): number {
    return this.#bytes;
  }

  #add(jid: string, entry: Entry): void {
    this.#entries.set(jid, entry);
    this.#bytes += entry.bytes;
  }

  /**
   * A record that cannot be written stays pinned in this process (its status is still final) and
   * is only lost at a restart: a full disk must not turn every GET into a 500.
   */
  async #write(jid: string, head: RecordEntry, logs: string): Promise<void> {
    try {
      await this.#files?.write(jid, head, logs);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.#warn(`job record of "${jid}" not written under STATE_DIR: ${reason}`);
    }
  }

  async #enforceCaps(): Promise<void> {
    for (const jid of [...this.#entries.keys()]) {
      if (this.#entries.size <= this.#maxCount && this.#bytes <= this.#maxBytes) return;
      await this.drop(jid);
    }
  }
}

function infoBytes(head: RecordEntry): number {
  return Buffer.byteLength(JSON.stringify(head));
}

function fitLogs(logs: string, budget: number): string {
  if (Buffer.byteLength(logs) <= budget) return logs;
  return boundLogText(logs, { tail: ALL_LINES, maxBytes: Math.max(0, budget) });
}
