// Wire serialization (api.md §3, §8): Python json.dumps output and the 7-key job object.
import { renderCmd } from '../../domain/command.js';
import type { JobInfo } from '../../domain/job.js';

/** The job object without `logs`, as listed by GET /api/v1/jobs/ (api.md §12.1). A service job
 *  (issue 15) adds `endpoint`, null until its health check passed; batch jobs keep pman's keys. */
export type WireJobSummary = Record<
  'jid' | 'image' | 'cmd' | 'status' | 'message' | 'timestamp',
  string
> & { endpoint?: string | null };

/** The 7-key job object of api.md §8 (plus `endpoint` for a service job). */
export type WireJob = WireJobSummary & { logs: string };

/**
 * A JSON string literal as Python's json.dumps (ensure_ascii=True) writes it. JSON.stringify
 * already escapes quotes, backslashes, control characters and lone surrogates (lower-case hex);
 * what is left is every other code unit from DEL up, which Python writes as \uXXXX — surrogate
 * pairs therefore become two escapes, as in Python.
 */
function pyString(value: string): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function pyNumber(value: number): string {
  // Python writes NaN/Infinity literally; nothing we send carries them, so JSON's null is safer.
  if (!Number.isFinite(value)) return 'null';
  return JSON.stringify(value);
}

function serialize(value: unknown, indent: number | undefined, depth: number): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  const items: string[] = Array.isArray(value)
    ? value.map((item: unknown) => serialize(item, indent, depth + 1))
    : Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${pyString(k)}: ${serialize(v, indent, depth + 1)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (items.length === 0) return open + close;
  if (indent === undefined) return open + items.join(', ') + close;
  // json.dumps(indent=n) uses ',' + newline between items and ': ' after keys.
  const inner = '\n' + ' '.repeat(indent * (depth + 1));
  const outer = '\n' + ' '.repeat(indent * depth);
  return open + inner + items.join(',' + inner) + outer + close;
}

/** json.dumps' indent: pman pretty-printed with 4 spaces in development mode, compact otherwise. */
export function indentFor(mode: 'production' | 'development'): number | undefined {
  return mode === 'development' ? 4 : undefined;
}

/** `value` written as Python's json.dumps (compact, or with `indent` spaces), plus one "\n". */
export function pyJson(value: unknown, indent?: number): string {
  return serialize(value, indent, 0) + '\n';
}

/** A JSON response with pman's bytes and a Content-Type without charset (api.md §3). */
export function jsonResponse(
  status: number,
  value: unknown,
  indent?: number,
  headers?: Record<string, string>,
): Response {
  return new Response(pyJson(value, indent), {
    status,
    headers: { ...headers, 'Content-Type': 'application/json' },
  });
}

export type CmdStyle = 'shell' | 'plain';

/**
 * How `cmd` is rendered on the wire for a container_env: pman's Docker backend shell-quoted the
 * argv, every other backend joined it with spaces. A pman wire quirk, so it lives here, not on
 * the backends; a new backend gets the plain form.
 */
export function cmdStyleFor(containerEnv: string): CmdStyle {
  return containerEnv === 'docker' ? 'shell' : 'plain';
}

/** The job object without logs (list entries). */
export function toWireSummary(info: JobInfo, cmdStyle: CmdStyle): WireJobSummary {
  return {
    jid: info.name,
    image: info.image,
    cmd: renderCmd(info.command, cmdStyle),
    status: info.status,
    message: info.message,
    timestamp: info.timestamp,
    ...(info.service !== undefined && { endpoint: info.service.endpoint ?? null }),
  };
}

/** The 7-key job object of api.md §8, keys in wire order; a service job's `endpoint` comes
 *  last, after pman's keys. */
export function toWire(info: JobInfo, logs: string, cmdStyle: CmdStyle): WireJob {
  const { endpoint, ...summary } = toWireSummary(info, cmdStyle);
  return { ...summary, logs, ...(endpoint !== undefined && { endpoint }) };
}
