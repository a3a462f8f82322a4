// What the client commands print for people (pure): tables, a job's details, the live line of
// `pman wait`, event lines and the server's error message as one line.

/** A job as the API answers it (GET /api/v1/<jid>/, the job list's entries, POST, cancel). */
export interface WireJob {
  jid: string;
  image?: string;
  cmd?: string;
  status: string;
  message?: string;
  timestamp?: string;
  logs?: string;
  /** Service jobs only (issue 15): where the service answers; null until healthy. */
  endpoint?: string | null;
}

/** A status event of GET /api/v1/events/ (and of a job's own event stream). */
export interface StatusEvent {
  seq?: number;
  jid: string;
  run?: number;
  status: string;
  message?: string;
  timestamp?: string;
}

/** The server's `message`: a string as it is; pman's field-validation object as `field: text`. */
export function messageText(message: unknown): string {
  if (typeof message === 'string') return message;
  if (typeof message === 'object' && message !== null) {
    return Object.entries(message)
      .map(([field, text]) => `${field}: ${typeof text === 'string' ? text : JSON.stringify(text)}`)
      .join('; ');
  }
  return JSON.stringify(message);
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  return all
    .map((r) =>
      r
        .map((cell, i) =>
          i === r.length - 1
            ? cell
            : cell.padEnd((widths[i] ?? 0) + cell.length - [...cell].length),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** 3 s, 2m05s, 1h02m, 3d04h: short and monotonic. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** The age of a timestamp at `now` ('' when there is none or it cannot be read). */
export function age(timestamp: string | undefined, now: Date): string {
  if (timestamp === undefined) return '';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '' : formatElapsed(now.getTime() - t);
}

/** `pman jobs`: one row per job. */
export function jobsTable(jobs: readonly WireJob[], now: Date): string {
  if (jobs.length === 0) return 'no jobs\n';
  return table(
    ['JID', 'STATUS', 'AGE', 'MESSAGE'],
    jobs.map((j) => [j.jid, j.status, age(j.timestamp, now), j.message ?? '']),
  );
}

/** `pman status`/`submit`/`cancel`: the job's fields, then its log (if any) after a blank line. */
export function jobDetail(job: WireJob): string {
  const rows: [string, string | undefined][] = [
    ['jid', job.jid],
    ['status', job.status],
    ['message', job.message],
    ['endpoint', job.endpoint ?? undefined],
    ['timestamp', job.timestamp],
    ['image', job.image],
    ['cmd', job.cmd],
  ];
  const lines = rows
    .filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '')
    .map(([k, v]) => `${`${k}:`.padEnd(11)}${v}`);
  const logs = job.logs ?? '';
  return `${lines.join('\n')}\n${logs === '' ? '' : `\n${logs}${logs.endsWith('\n') ? '' : '\n'}`}`;
}

/** The live line of `pman wait`: jid, status, message and the time since the job was submitted. */
export function waitLine(
  jid: string,
  status: string,
  message: string | undefined,
  elapsedMs: number,
): string {
  const tail = message !== undefined && message !== '' ? ` (${message})` : '';
  return `${jid}  ${status}${tail}  ${formatElapsed(elapsedMs)}`;
}

/** `pman events`: one line per status change. */
export function eventLine(e: StatusEvent): string {
  const run = e.run !== undefined ? ` run ${e.run}` : '';
  const message = e.message !== undefined && e.message !== '' ? `  ${e.message}` : '';
  return `${e.timestamp ?? ''}  ${e.jid}${run}  ${e.status}${message}`.trimStart();
}

/** One entry of GET /api/v1/images/ (issue 15): an allow-list line or a local tag. */
export interface WireCatalogueImage {
  source: string;
  reference: string;
  kind?: string;
  size_bytes?: number;
  created?: string;
  title?: string | null;
  version?: string | null;
}

/** GET /api/v1/images/ as the client reads it. */
export interface WireCatalogue {
  allowlist?: readonly unknown[] | null;
  local_images_unavailable?: string;
  images: readonly WireCatalogueImage[];
}

/** Bytes as `docker images` shows them (powers of 1000): 1.98 MB. */
export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${Number(value.toPrecision(3))} ${units[unit] ?? ''}`;
}

/** `pman images`: one row per allow-list line or local tag, then what the list does not say. */
export function imagesTable(c: WireCatalogue, now: Date): string {
  const notes = [
    ...(c.allowlist === null
      ? ['no IMAGE_ALLOWLIST: any image may run; these are the images held locally']
      : []),
    ...(c.local_images_unavailable !== undefined
      ? [`local images not listed: ${c.local_images_unavailable}`]
      : []),
  ].map((n) => `(${n})\n`);
  if (c.images.length === 0) return `no images\n${notes.join('')}`;
  const rows = c.images.map((i) =>
    i.source === 'local'
      ? [
          i.reference,
          'local',
          i.title ?? '',
          i.version ?? '',
          i.size_bytes === undefined ? '' : formatSize(i.size_bytes),
          age(i.created, now),
        ]
      : [i.reference, i.kind ?? i.source, '', '', '', ''],
  );
  return table(['REFERENCE', 'KIND', 'TITLE', 'VERSION', 'SIZE', 'AGE'], rows) + notes.join('');
}

export const TERMINAL = new Set(['finishedSuccessfully', 'finishedWithError']);
