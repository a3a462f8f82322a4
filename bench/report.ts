// The bench's results: one JSON document and the Markdown table the README shows.
import type { Summary } from './load.js';

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
  notes: string[];
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
  if (r.notes.length > 0) {
    lines.push('');
    for (const n of r.notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}
