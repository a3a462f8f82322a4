// The job store under load, on the memory backend with STATE_DIR set: a history of N finished runs
// seeded through the Ledger API (before the server opens the file), the server's RSS with it, the
// p50 of a history page of 100 (the first page again and again, and a walk along the cursor), and
// submits/s through HTTP at c=50 with every submit durable (group commits).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { drive, httpClient } from './load.js';
import type { Summary } from './load.js';
import { startServer } from './server.js';
import type { Entry } from './server.js';
import type { JobSpec } from '../src/domain/job.js';

export interface StoreResult {
  /** Runs in history when measured, and how they got there. */
  historyRuns: number;
  seededBy: 'ledger' | 'http';
  seedSeconds: number;
  rssIdleMiB: number;
  rssAfterHistoryMiB: number;
  rssAfterSubmitsMiB: number;
  /** GET /api/v1/history/?limit=100, the newest page, repeated. */
  firstPage?: Summary;
  /** The same, following `next` page after page. */
  walk?: Summary;
  submits: { count: number; concurrency: number; summary: Summary };
  notes: string[];
}

/** The part of the Ledger this bench needs (src/store/ledger.ts), loaded from the measured tree. */
interface SeedLedger {
  intake(input: { jid: string; spec: JobSpec; fingerprint: string; auid?: string }): Promise<{
    runId: number;
  }>;
  finish(
    runId: number,
    r: {
      status: 'finishedSuccessfully' | 'finishedWithError';
      message: string;
      exitCode?: number;
      logs: string;
    },
  ): Promise<unknown>;
  markRemoved(runId: number): Promise<void>;
  close(): void;
}

interface LedgerModule {
  Ledger: { open(dir: string): SeedLedger };
}

async function loadLedger(tree: string): Promise<LedgerModule | undefined> {
  try {
    const mod = (await import(
      pathToFileURL(path.join(tree, 'src/store/ledger.ts')).href
    )) as Partial<LedgerModule>;
    return typeof mod.Ledger?.open === 'function' ? (mod as LedgerModule) : undefined;
  } catch {
    return undefined;
  }
}

const BATCH = 1000;

/** N finished runs (every tenth failed with exit 3, every other one removed), one batch per turn. */
async function seedThroughLedger(
  mod: LedgerModule,
  stateDir: string,
  n: number,
  prefix: string,
  spec: (jid: string) => JobSpec,
): Promise<void> {
  const ledger = mod.Ledger.open(stateDir);
  try {
    for (let from = 0; from < n; from += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, n - from) }, (_, k) => from + k);
      await Promise.all(
        batch.map(async (i) => {
          const jid = `${prefix}-h${i}`;
          const { runId } = await ledger.intake({
            jid,
            spec: spec(jid),
            fingerprint: `bench-${i}`,
            auid: 'bench',
          });
          const failed = i % 10 === 0;
          await ledger.finish(runId, {
            status: failed ? 'finishedWithError' : 'finishedSuccessfully',
            message: failed ? 'exit code 3' : 'finished',
            ...(failed ? { exitCode: 3 } : { exitCode: 0 }),
            logs: `bench job ${i}\n`,
          });
          if (i % 2 === 0) await ledger.markRemoved(runId);
        }),
      );
    }
  } finally {
    ledger.close();
  }
}

export async function benchStore(opts: {
  entry: Entry;
  tree: string;
  env: Record<string, string>;
  stateDir: string;
  historyRuns: number;
  submits: number;
  prefix: string;
  body: (jid: string) => Record<string, unknown>;
  spec: (jid: string) => JobSpec;
  durationMs: number;
}): Promise<StoreResult> {
  const notes: string[] = [];
  const env = { ...opts.env, STATE_DIR: opts.stateDir };
  const started = performance.now();
  const mod = await loadLedger(opts.tree);
  let seededBy: StoreResult['seededBy'] = 'ledger';
  if (mod !== undefined) {
    await seedThroughLedger(mod, opts.stateDir, opts.historyRuns, opts.prefix, opts.spec);
  } else {
    // No Ledger API in this tree: submit and delete through HTTP (a store-less server keeps nothing).
    seededBy = 'http';
    const seeder = await startServer(opts.entry, env);
    const client = httpClient(seeder.url, 50);
    try {
      await drive(50, opts.historyRuns, async (i) => {
        const jid = `${opts.prefix}-h${i}`;
        const ok = (await client.request('POST', '/api/v1/', opts.body(jid))).status === 201;
        return ok && (await client.request('DELETE', `/api/v1/${jid}/`)).status === 204;
      });
    } finally {
      client.close();
      await seeder.stop();
    }
  }
  const seedSeconds = Math.round((performance.now() - started) / 100) / 10;

  const server = await startServer(opts.entry, env);
  try {
    const rssIdleMiB = await server.rssMiB();
    const client = httpClient(server.url, 1);
    let firstPage: Summary | undefined;
    let walk: Summary | undefined;
    try {
      const probe = await client.request('GET', '/api/v1/history/?limit=100');
      if (probe.status !== 200) {
        notes.push(`history: GET /api/v1/history/ answered ${probe.status}; no history figures`);
      } else {
        firstPage = await drive(
          1,
          1,
          async () => (await client.request('GET', '/api/v1/history/?limit=100')).status === 200,
          opts.durationMs,
        );
        let cursor: string | undefined;
        walk = await drive(
          1,
          1,
          async () => {
            const q = cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`;
            const res = await client.request('GET', `/api/v1/history/?limit=100${q}`);
            const next = (JSON.parse(res.body) as { next?: unknown }).next;
            cursor = typeof next === 'string' ? next : undefined;
            return res.status === 200;
          },
          opts.durationMs,
        );
      }
    } finally {
      client.close();
    }
    const rssAfterHistoryMiB = await server.rssMiB();
    const submitter = httpClient(server.url, 50);
    let summary: Summary;
    try {
      summary = await drive(50, opts.submits, async (i) => {
        const jid = `${opts.prefix}-s${i}`;
        return (await submitter.request('POST', '/api/v1/', opts.body(jid))).status === 201;
      });
    } finally {
      submitter.close();
    }
    const rssAfterSubmitsMiB = await server.rssMiB();
    return {
      historyRuns: opts.historyRuns,
      seededBy,
      seedSeconds,
      rssIdleMiB,
      rssAfterHistoryMiB,
      rssAfterSubmitsMiB,
      ...(firstPage !== undefined && { firstPage }),
      ...(walk !== undefined && { walk }),
      submits: { count: opts.submits, concurrency: 50, summary },
      notes,
    };
  } finally {
    await server.stop();
  }
}
