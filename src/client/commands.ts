// The `pman` client commands (issue 14): submit, status, jobs, logs, wait, cancel, delete, events,
// and images (issue 15) against PMAN_URL. Each returns its exit code; output goes through ClientIo,
// so the HTTP tests run them in-process. Errors print the server's message and exit 1.
import { ApiError } from './http.js';
import type { Query, PmanClient } from './http.js';
import { eventLine, imagesTable, jobDetail, jobsTable, TERMINAL, waitLine } from './format.js';
import type { StatusEvent, WireCatalogue, WireJob } from './format.js';
import { parseSse } from './sse.js';

export type ClientCommand = { json: boolean } & (
  | { name: 'submit'; file: string }
  | { name: 'status'; jid: string }
  | { name: 'jobs'; status?: string; label?: readonly string[] }
  | { name: 'logs'; jid: string; follow: boolean; tail?: number }
  | { name: 'wait'; jid: string }
  | { name: 'cancel'; jid: string }
  | { name: 'delete'; jid: string }
  | { name: 'events'; jid?: readonly string[]; status?: readonly string[]; since?: string }
  | { name: 'images'; q?: string }
);

export interface ClientIo {
  stdout(text: string | Uint8Array): void;
  stderr(text: string): void;
  /** Whether stdout is a terminal: `pman wait` then redraws one live line. */
  isTTY: boolean;
  now(): Date;
  /** The submit body: a file's text, or stdin's for `-`. */
  readInput(file: string): Promise<string>;
  /** Ends a followed stream (logs -f, events, wait), e.g. on Ctrl-C. */
  signal?: AbortSignal;
}

/** The live line is redrawn this often while `pman wait` waits on a terminal. */
const REDRAW_MS = 1000;

export async function runCommand(
  cmd: ClientCommand,
  client: PmanClient,
  io: ClientIo,
): Promise<number> {
  try {
    return await dispatch(cmd, client, io);
  } catch (err) {
    if (io.signal?.aborted === true) return 130;
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`pman: ${message}\n`);
    return 1;
  }
}

const jobPath = (jid: string, rest = ''): string => `/api/v1/${encodeURIComponent(jid)}/${rest}`;

function printJob(job: WireJob, cmd: ClientCommand, io: ClientIo): void {
  io.stdout(cmd.json ? `${JSON.stringify(job, null, 2)}\n` : jobDetail(job));
}

async function dispatch(cmd: ClientCommand, client: PmanClient, io: ClientIo): Promise<number> {
  switch (cmd.name) {
    case 'submit': {
      const text = await io.readInput(cmd.file);
      try {
        JSON.parse(text);
      } catch (err) {
        const where = cmd.file === '-' ? 'stdin' : cmd.file;
        throw new Error(`${where} is not a JSON job body: ${(err as Error).message}`);
      }
      printJob(asJob(await client.json('POST', '/api/v1/', text)), cmd, io);
      return 0;
    }
    case 'status':
      printJob(asJob(await client.json('GET', jobPath(cmd.jid))), cmd, io);
      return 0;
    case 'cancel':
      printJob(asJob(await client.json('POST', jobPath(cmd.jid, 'cancel/'))), cmd, io);
      return 0;
    case 'delete':
      await client.json('DELETE', jobPath(cmd.jid));
      io.stdout(
        cmd.json ? `${JSON.stringify({ jid: cmd.jid, deleted: true })}\n` : `deleted ${cmd.jid}\n`,
      );
      return 0;
    case 'jobs': {
      const query: Query = { status: cmd.status, label: cmd.label };
      const answer = await client.json('GET', '/api/v1/jobs/', undefined, query);
      const jobs = listOf(answer);
      io.stdout(cmd.json ? `${JSON.stringify(jobs, null, 2)}\n` : jobsTable(jobs, io.now()));
      return 0;
    }
    case 'logs': {
      const query: Query = {
        ...(cmd.follow && { follow: '1' }),
        ...(cmd.tail !== undefined && { tail: String(cmd.tail) }),
      };
      const body = await client.stream(jobPath(cmd.jid, 'logs/'), query, io.signal);
      for await (const chunk of body) io.stdout(chunk);
      return 0;
    }
    case 'events':
      return events(cmd, client, io);
    case 'images': {
      const answer = await client.json('GET', '/api/v1/images/', undefined, { q: cmd.q });
      const catalogue = asCatalogue(answer);
      io.stdout(
        cmd.json ? `${JSON.stringify(catalogue, null, 2)}\n` : imagesTable(catalogue, io.now()),
      );
      return 0;
    }
    case 'wait':
      return wait(cmd, client, io);
  }
}

async function events(
  cmd: Extract<ClientCommand, { name: 'events' }>,
  client: PmanClient,
  io: ClientIo,
): Promise<number> {
  const query: Query = { jid: cmd.jid, status: cmd.status, since: cmd.since };
  const body = await client.stream('/api/v1/events/', query, io.signal);
  for await (const e of parseSse(body)) {
    if (e.event === 'status') {
      io.stdout(cmd.json ? `${e.data}\n` : `${eventLine(JSON.parse(e.data) as StatusEvent)}\n`);
    } else if (e.event === 'reset') {
      io.stderr(`pman: the server no longer holds every event asked for (reset: ${e.data})\n`);
    }
  }
  return 0;
}

/**
 * Follows the job's own event stream (its runs' status events, then `end`) and exits 0 only for
 * finishedSuccessfully. On a terminal one live line shows status and elapsed time since submit.
 */
async function wait(
  cmd: Extract<ClientCommand, { name: 'wait' }>,
  client: PmanClient,
  io: ClientIo,
): Promise<number> {
  const body = await client.stream(jobPath(cmd.jid, 'events/'), {}, io.signal);
  let since: number | undefined;
  /** The final status's time: a run that already ended shows how long it took, not its age. */
  let ended: number | undefined;
  let last: StatusEvent | undefined;
  const line = (): string =>
    waitLine(
      cmd.jid,
      last?.status ?? 'waiting',
      last?.message,
      (ended ?? io.now().getTime()) - (since ?? io.now().getTime()),
    );
  const redraw = (): void => {
    if (io.isTTY && !cmd.json) io.stdout(`\r\x1b[K${line()}`);
  };
  const timer = setInterval(redraw, REDRAW_MS);
  try {
    for await (const e of parseSse(body)) {
      if (e.event === 'status') {
        last = JSON.parse(e.data) as StatusEvent;
        const t = Date.parse(last.timestamp ?? '');
        if (since === undefined && !Number.isNaN(t)) since = t;
        if (TERMINAL.has(last.status) && !Number.isNaN(t)) ended = t;
        redraw();
      } else if (e.event === 'end') {
        const end = JSON.parse(e.data) as { status?: string };
        if (end.status !== undefined) last = { ...(last ?? { jid: cmd.jid }), status: end.status };
        break;
      }
    }
  } finally {
    clearInterval(timer);
  }
  if (last === undefined || !TERMINAL.has(last.status)) {
    // The stream ended without the job's end (the server went away): its status says where it is.
    last = asJob(await client.json('GET', jobPath(cmd.jid)));
    if (!TERMINAL.has(last.status))
      throw new Error(`the event stream ended while ${cmd.jid} is ${last.status}`);
  }
  if (cmd.json) {
    io.stdout(`${JSON.stringify(await client.json('GET', jobPath(cmd.jid)), null, 2)}\n`);
  } else {
    io.stdout(io.isTTY ? `\r\x1b[K${line()}\n` : `${line()}\n`);
  }
  return last.status === 'finishedSuccessfully' ? 0 : 1;
}

/** A job object from an answer (the server's shape; checked just enough to print it). */
function asJob(answer: unknown): WireJob {
  if (
    typeof answer !== 'object' ||
    answer === null ||
    !('jid' in answer) ||
    !('status' in answer)
  ) {
    throw new ApiError(0, `unexpected answer from the server: ${JSON.stringify(answer)}`);
  }
  return answer as WireJob;
}

function listOf(answer: unknown): WireJob[] {
  if (
    typeof answer === 'object' &&
    answer !== null &&
    'jobs' in answer &&
    Array.isArray(answer.jobs)
  ) {
    return answer.jobs.map(asJob);
  }
  throw new ApiError(0, `unexpected answer from the server: ${JSON.stringify(answer)}`);
}

/** The image catalogue from an answer (checked just enough to print it). */
function asCatalogue(answer: unknown): WireCatalogue {
  if (
    typeof answer === 'object' &&
    answer !== null &&
    'images' in answer &&
    Array.isArray(answer.images)
  ) {
    return answer as WireCatalogue;
  }
  throw new ApiError(0, `unexpected answer from the server: ${JSON.stringify(answer)}`);
}
