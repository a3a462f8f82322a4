// The events scenario's lines in the bench report: its figures, and issue 12's targets from them.
import type { EventsResult } from './events.js';

export interface EventTarget {
  what: string;
  measured: string;
  target: string;
  met: boolean;
}

const r1 = (n: number): number => Math.round(n * 10) / 10;

/** One consumer following the jobs: what the server spends on it by SSE and by polling. */
export function perConsumer(e: EventsResult) {
  const sseCpuMs = Math.max(0, e.cpu.withClientsMs - e.cpu.withoutClientsMs) / e.clients;
  return {
    sseCpuMs: r1(sseCpuMs),
    pollCpuMs: r1(e.polling.serverCpuMs),
    pollRequests: e.polling.requests,
    savedRequests: e.polling.requests - 1,
    savedCpuMs: r1(e.polling.serverCpuMs - sseCpuMs),
  };
}

export function eventTargets(e: EventsResult): EventTarget[] {
  const p = perConsumer(e);
  return [
    // "Engine event → client": from the moment the server wrote the event (its timestamp) to
    // the client's read. POST sent → read adds the POST's own trip and is shown next to it.
    {
      what: `SSE: event written → read at each of ${e.clients} clients, p50 (POST sent → read: ${e.fromPost.p50} ms)`,
      measured: `${e.fromTimestamp.p50} ms`,
      target: '≤ 50 ms',
      met: e.fromTimestamp.p50 <= 50 && e.missed === 0,
    },
    {
      what: `SSE: event written → read at each of ${e.clients} clients, p99 (POST sent → read: ${e.fromPost.p99} ms)`,
      measured: `${e.fromTimestamp.p99} ms`,
      target: '≤ 250 ms',
      met: e.fromTimestamp.p99 <= 250 && e.missed === 0,
    },
    {
      what: `SSE: replay of ${e.replay.events} stored events to one client`,
      measured: `${e.replay.seconds} s`,
      target: '≤ 2 s',
      met: e.replay.complete && e.replay.events >= 100_000 && e.replay.seconds <= 2,
    },
    {
      what: `SSE: server RSS per idle client (${e.clients} connected − none)`,
      measured: `${e.memory.perClientKB} KB`,
      target: '≤ 50 KB',
      met: e.memory.perClientKB <= 50,
    },
    {
      what: `SSE vs polling every 5 s, one consumer of ${e.polling.jobs} jobs over ${e.polling.windowSeconds} s: requests and server CPU saved`,
      measured: `${p.savedRequests} requests, ${p.savedCpuMs} CPU ms (${p.pollCpuMs} → ${p.sseCpuMs})`,
      target: 'report',
      met: p.savedRequests > 0 && p.savedCpuMs > 0,
    },
  ];
}

export function eventsMarkdown(e: EventsResult): string[] {
  const p = perConsumer(e);
  const perHour = 3600 / e.polling.windowSeconds;
  return [
    `Event stream (memory backend, store on): ${e.clients} SSE clients on GET /api/v1/events/ while ${e.jobs} jobs ` +
      `were submitted at ${e.perSecond}/s; each client timed each job's first status event. POST sent → read by the client ` +
      `(the bench's monotonic clock): p50 ${e.fromPost.p50} ms, p99 ${e.fromPost.p99} ms, max ${e.fromPost.max} ms over ` +
      `${e.fromPost.samples} deliveries, ${e.missed} missed; the event's timestamp → read (the same machine's wall clock, ms): ` +
      `p50 ${e.fromTimestamp.p50} ms, p99 ${e.fromTimestamp.p99} ms. Server CPU over the window: ${e.cpu.withClientsMs} ms with ` +
      `the clients, ${e.cpu.withoutClientsMs} ms for the same submits without.`,
    '',
    `Replay: ${e.replay.events} events from the store to one client (?since=0) in ${e.replay.seconds} s` +
      `${e.replay.complete ? '' : ' (incomplete)'}. RSS ${e.memory.rssWithoutMiB} MiB without clients, ` +
      `${e.memory.rssWithMiB} MiB with ${e.clients} idle ones: ${e.memory.perClientKB} KB each.`,
    '',
    `Polling the same ${e.polling.jobs} jobs every 5 s (GET /api/v1/<jid>/, c=10) for ${e.polling.windowSeconds} s: ` +
      `${e.polling.requests} requests (${e.polling.errors} errors), ${p.pollCpuMs} server CPU ms; the SSE consumer: 1 request, ` +
      `${p.sseCpuMs} CPU ms (its share of the ${e.clients} clients' extra CPU). Per consumer and hour: ` +
      `${Math.round(p.savedRequests * perHour)} requests and ${r1((p.savedCpuMs * perHour) / 1000)} CPU s saved.`,
    ...e.notes.map((n) => `- ${n}`),
  ];
}
