// The bench's results: one JSON document and the Markdown table the README shows.
import type { EventsResult } from './events.js';
import { eventsMarkdown, eventTargets } from './events-report.js';
import type { FinishedResult } from './finished.js';
import type { Summary } from './load.js';
import type { StoreResult } from './store.js';
import type { SwarmProfile } from './swarm-profile.js';
import { SEGMENTS } from './swarm-profile.js';

export interface OpResult {
  backend: string;
  op: 'create' | 'status' | 'delete';
  concurrency: number;
  server: Summary;
  /** The same operation made directly with dockerode (engine backends only). */
  direct?: Summary;
}

export interface BenchResult {
  when: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; engine?: string };
  serverEntry: 'build' | 'tsx';
  ops: OpResult[];
  rss: { backend: string; idleMiB: number; withJobsMiB?: number; jobs?: number }[];
  fake?: { submits: number; concurrency: number; summary: Summary };
  /** The status GET of a finished job vs a bare node:http server (issue 11). */
  finished?: FinishedResult[];
  /** The job store on the memory backend (issue 11). */
  store?: StoreResult;
  swarmProfile?: SwarmProfile;
  /** The event stream on the memory backend, store on (issue 12). */
  events?: EventsResult;
  notes: string[];
}

export interface Target {
  what: string;
  measured: string;
  target: string;
  met: boolean;
}

const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

/** Issues 11 and 12's targets, each from figures measured in the same run; absent when not measured. */
export function targets(r: BenchResult): Target[] {
  const out: Target[] = [];
  const op = (backend: string, o: string, c: number) =>
    r.ops.find((x) => x.backend === backend && x.op === o && x.concurrency === c);
  const dockerCreate = op('docker', 'create', 1);
  if (dockerCreate?.direct !== undefined && dockerCreate.direct.p50 > 0) {
    const ratio = dockerCreate.server.p50 / dockerCreate.direct.p50;
    out.push({
      what: 'Docker POST p50 / engine create + start p50 (c=1)',
      measured: `${round(ratio)} (${ms(dockerCreate.server.p50)} / ${ms(dockerCreate.direct.p50)} ms)`,
      target: '≤ 0.25',
      met: ratio <= 0.25,
    });
  }
  const swarmCreate = op('swarm', 'create', 50);
  if (swarmCreate?.direct !== undefined && swarmCreate.direct.p50 > 0) {
    const ratio = swarmCreate.server.p50 / swarmCreate.direct.p50;
    out.push({
      what: 'Swarm create p50 / direct service create p50 (c=50)',
      measured: `${round(ratio)} (${ms(swarmCreate.server.p50)} / ${ms(swarmCreate.direct.p50)} ms)`,
      target: '≤ 2',
      met: ratio <= 2,
    });
  }
  for (const f of r.finished ?? []) {
    const m = f.modes.find((x) => x.mode === 'new-connection');
    if (m === undefined) continue;
    out.push({
      what: `${f.backend}: finished-job GET req/s / node:http ceiling (c=${m.concurrency}, new connection per request)`,
      measured: `${round(m.ratio)} (${m.ours.throughput} / ${m.ceiling.throughput} req/s)`,
      target: '≥ 0.4',
      met: m.ratio >= 0.4,
    });
  }
  const st = r.store;
  if (st !== undefined) {
    const t = st.submits.summary.throughput;
    out.push({
      what: `submits/s through HTTP, memory backend, store on (c=${st.submits.concurrency})`,
      measured: `${t}`,
      target: '≥ 1000',
      met: t >= 1000 && st.submits.summary.errors === 0,
    });
    if (st.walk !== undefined) {
      out.push({
        what: `history page of 100 p50 (${st.historyRuns} runs, walking the cursor)`,
        measured: `${ms(st.walk.p50)} ms`,
        target: '≤ 20 ms',
        met: st.walk.p50 <= 20 && st.walk.errors === 0,
      });
    }
    const rss = Math.max(st.rssIdleMiB, st.rssAfterHistoryMiB);
    out.push({
      what: `server RSS with ${st.historyRuns} runs in history`,
      measured: `${rss} MiB`,
      target: '≤ 120 MB',
      met: rss <= 120,
    });
  }
  if (r.events !== undefined) out.push(...eventTargets(r.events));
  return out;
}

function summaryCells(s: Summary): string {
  return `${s.throughput} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${s.errors}`;
}

function ms(n: number | undefined): string {
  return n === undefined ? '–' : n.toFixed(2);
}

function ratio(a: number, b: number | undefined): string {
  return b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`;
}

export function toMarkdown(r: BenchResult): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(
    `Measured ${r.when} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Node ${m.node}` +
      (m.engine === undefined ? '' : `, Docker Engine ${m.engine}`) +
      `; server from the ${r.serverEntry === 'build' ? 'compiled build' : 'sources via tsx'}, client in the same machine.`,
  );
  lines.push('');
  lines.push(
    '| backend | op | c | req/s | p50 ms | p95 ms | p99 ms | errors | direct p50 ms | direct req/s | p50 ours − direct | p50 ratio |',
  );
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const o of r.ops) {
    const s = o.server;
    const d = o.direct;
    lines.push(
      `| ${o.backend} | ${o.op} | ${o.concurrency} | ${s.throughput} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${s.errors} | ` +
        `${ms(d?.p50)} | ${d?.throughput ?? '–'} | ${d === undefined ? '–' : ms(s.p50 - d.p50)} | ${ratio(s.p50, d?.p50)} |`,
    );
  }
  lines.push('');
  lines.push('| backend | RSS idle MiB | RSS with jobs MiB | jobs tracked |');
  lines.push('| --- | ---: | ---: | ---: |');
  for (const x of r.rss)
    lines.push(`| ${x.backend} | ${x.idleMiB} | ${x.withJobsMiB ?? '–'} | ${x.jobs ?? '–'} |`);
  if (r.fake !== undefined) {
    const f = r.fake;
    lines.push('');
    lines.push(
      `Fake (in-process memory) backend: ${f.submits} submits through HTTP at c=${f.concurrency}: ` +
        `**${f.summary.throughput} submits/s**, p50 ${ms(f.summary.p50)} ms, p99 ${ms(f.summary.p99)} ms, ${f.summary.errors} errors.`,
    );
  }
  if (r.finished !== undefined) {
    lines.push('');
    lines.push(
      '| backend | finished-job GET | c | req/s | p50 ms | p95 ms | p99 ms | errors | ceiling req/s | ceiling p50 ms | ratio | dockerd CPU ms/req |',
    );
    lines.push(
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const f of r.finished)
      for (const m of f.modes)
        lines.push(
          `| ${f.backend} | ${m.mode} | ${m.concurrency} | ${summaryCells(m.ours)} | ${m.ceiling.throughput} | ${ms(m.ceiling.p50)} | ${m.ratio} | ${m.engineCpuMsPerRequest ?? '–'} |`,
        );
  }
  const st = r.store;
  if (st !== undefined) {
    lines.push('');
    lines.push(
      `Store on (memory backend, STATE_DIR a temp dir): ${st.historyRuns} finished runs seeded through ` +
        `${st.seededBy === 'ledger' ? 'the Ledger API' : 'HTTP'} in ${st.seedSeconds} s; RSS ${st.rssIdleMiB} MiB at start, ` +
        `${st.rssAfterHistoryMiB} MiB after the history reads, ${st.rssAfterSubmitsMiB} MiB after ${st.submits.count} submits.`,
    );
    lines.push('');
    lines.push('| store | req/s | p50 ms | p95 ms | p99 ms | errors |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    if (st.firstPage !== undefined)
      lines.push(`| history, newest page of 100 | ${summaryCells(st.firstPage)} |`);
    if (st.walk !== undefined)
      lines.push(`| history, walking the cursor (100 a page) | ${summaryCells(st.walk)} |`);
    lines.push(`| submits, c=${st.submits.concurrency} | ${summaryCells(st.submits.summary)} |`);
    for (const n of st.notes) lines.push(`- ${n}`);
  }
  const sp = r.swarmProfile;
  if (sp !== undefined) {
    lines.push('');
    lines.push(
      `Swarm create profile (c=${sp.concurrency}, ${sp.creates} creates, both sides through the same recording proxy): ` +
        `pman-ts p50 ${ms(sp.server.p50)} ms (${sp.server.throughput}/s), direct service create p50 ${ms(sp.direct.p50)} ms ` +
        `(${sp.direct.throughput}/s); CPU ms during the run: ${Object.entries(sp.cpu)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')} (direct: dockerd ${sp.directCpu.dockerd ?? '–'}).`,
    );
    lines.push('');
    lines.push('| one create through pman-ts, p50 of each segment | ms |');
    lines.push('| --- | ---: |');
    for (const seg of SEGMENTS) lines.push(`| ${seg} | ${ms(sp.segments[seg])} |`);
    lines.push('');
    lines.push(
      '| engine calls while pman-ts created | count | per create | p50 ms | p95 ms | total ms |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const c of sp.calls)
      lines.push(
        `| ${c.kind} | ${c.count} | ${c.perCreate} | ${ms(c.p50)} | ${ms(c.p95)} | ${ms(c.totalMs)} |`,
      );
    for (const c of sp.directCalls)
      lines.push(
        `| direct: ${c.kind} | ${c.count} | ${c.perCreate} | ${ms(c.p50)} | ${ms(c.p95)} | ${ms(c.totalMs)} |`,
      );
  }
  if (r.events !== undefined) lines.push('', ...eventsMarkdown(r.events));
  const t = targets(r);
  if (t.length > 0) {
    lines.push('');
    lines.push('| target (issues 11, 12) | measured | target | met |');
    lines.push('| --- | ---: | ---: | :---: |');
    for (const x of t)
      lines.push(`| ${x.what} | ${x.measured} | ${x.target} | ${x.met ? 'yes' : '**no**'} |`);
  }
  if (r.notes.length > 0) {
    lines.push('');
    for (const n of r.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}
