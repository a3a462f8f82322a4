// pman 3 and pman 4/5 create bodies → the v6 body (api.md §5.5), so every pfcon from 3.3.0 on works.
import { MAX_COMMAND_BYTES, MAX_ITEM_BYTES } from './bounds.js';
import { MISSING_ANY_TEXT } from './fields.js';
import type { V6Field } from './fields.js';

export type RequestShape = 'v6' | 'pman3' | 'pman45';

/** Fields that only the pman 3 shape has. */
export const PMAN3_FIELDS = [
  'cmd_args',
  'cmd_path_flags',
  'selfexec',
  'selfpath',
  'execshell',
] as const;

const NOT_A_STRING_TEXT = 'must be a string';

/** pman 3's one-string fields, bounded before they are split or joined (their v6 results are
 *  bounded again, under these names, by request.ts). */
const MAX_PATH_CHARS = 4096;
const CMD_ARGS_TOO_LONG_TEXT = `must be at most ${MAX_COMMAND_BYTES} characters`;
const PATH_FLAGS_TOO_LONG_TEXT = `must be at most ${MAX_ITEM_BYTES} characters`;
const PATH_TOO_LONG_TEXT = `must be at most ${MAX_PATH_CHARS} characters`;

/** One bundle entry found while mapping: `name` is the field the client sent, `slot` the v6 field it
 *  stands in for, so the bundle keeps pman's field order. */
export interface LegacyProblem {
  slot: V6Field;
  name: string;
  text: string;
}

export interface V6Mapping {
  shape: RequestShape;
  /** The request as a v6 body (for 'v6', the body itself). */
  body: Record<string, unknown>;
  /** Problems of the old fields, in bundle order within each slot. They replace the slot's v6 error. */
  problems: LegacyProblem[];
  /** v6 fields the mapping made up (the key-<jid> dirs): their errors only count when nothing else is wrong,
   *  since a bad or missing jid already explains them. */
  derived: readonly V6Field[];
  /** The name the client sent for a v6 field an old field stands in for (args → cmd_args), so a
   *  problem found in the mapped value is reported under the client's name. */
  names: Partial<Record<V6Field, string>>;
}

/** null counts as missing everywhere (api.md §5.2). */
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** A default-location field: the body, else the query string. */
function lookup(
  body: Record<string, unknown>,
  query: Record<string, string>,
  name: string,
): unknown {
  return present(body[name]) ? body[name] : query[name];
}

export function detectShape(
  body: Record<string, unknown>,
  query: Record<string, string>,
): RequestShape {
  // entrypoint is JSON-only: only the body can make a request v6 (or pman 4/5).
  if (!present(body.entrypoint)) {
    const old = PMAN3_FIELDS.some((f) => present(lookup(body, query, f)));
    return old ? 'pman3' : 'v6';
  }
  const noDirs =
    !present(lookup(body, query, 'input_dir')) && !present(lookup(body, query, 'output_dir'));
  return noDirs ? 'pman45' : 'v6';
}

/** Maps a pman 3 or pman 4/5 body to the v6 body; a v6 body passes through untouched. */
export function toV6Body(body: Record<string, unknown>, query: Record<string, string>): V6Mapping {
  const shape = detectShape(body, query);
  switch (shape) {
    case 'v6':
      return { shape, body, problems: [], derived: [], names: {} };
    case 'pman45':
      return {
        shape,
        body: { ...body, ...keyDirs(lookup(body, query, 'jid')) },
        problems: [],
        derived: DIRS,
        names: {},
      };
    case 'pman3':
      return fromPman3(body, query);
  }
}

const DIRS: readonly V6Field[] = ['input_dir', 'output_dir'];

/** selfexec names the entrypoint: it is the part that is always there. */
const PMAN3_NAMES: Partial<Record<V6Field, string>> = {
  args: 'cmd_args',
  args_path_flags: 'cmd_path_flags',
  entrypoint: 'selfexec',
};

/** pfcon's layout for the old shapes: key-<jid>/incoming and key-<jid>/outgoing. */
function keyDirs(jid: unknown): { input_dir?: string; output_dir?: string } {
  let text: string | undefined;
  if (typeof jid === 'string') text = jid;
  else if (typeof jid === 'number' && Number.isSafeInteger(jid)) text = String(jid);
  if (text === undefined) return { input_dir: undefined, output_dir: undefined };
  const key = `key-${text.replace(/^\/+/, '')}`;
  return { input_dir: `${key}/incoming`, output_dir: `${key}/outgoing` };
}

/** The pman 3 shape. Bundle order: each old field takes the place of the v6 field it feeds, so the order is
 *  jid, cmd_args, cmd_path_flags, auid, number_of_workers, cpu_limit, memory_limit, gpu_limit, image,
 *  selfexec, selfpath, execshell, type (the dirs are derived from jid and never reported beside it). */
function fromPman3(body: Record<string, unknown>, query: Record<string, string>): V6Mapping {
  const problems: LegacyProblem[] = [];
  const get = (name: string): unknown => lookup(body, query, name);

  const args = mapCmdArgs(get('cmd_args'));
  if (typeof args === 'string') problems.push({ slot: 'args', name: 'cmd_args', text: args });

  const flags = mapPathFlags(get('cmd_path_flags'));
  if (typeof flags === 'string')
    problems.push({ slot: 'args_path_flags', name: 'cmd_path_flags', text: flags });

  const entry = mapEntrypoint(get('selfexec'), get('selfpath'), get('execshell'));
  if ('problems' in entry)
    problems.push(...entry.problems.map((p) => ({ slot: 'entrypoint' as const, ...p })));

  const v6: Record<string, unknown> = {
    ...body,
    args: Array.isArray(args) ? args : undefined,
    args_path_flags: Array.isArray(flags) ? flags : undefined,
    entrypoint: 'entrypoint' in entry ? entry.entrypoint : undefined,
    env: [],
    ...keyDirs(get('jid')),
  };
  return { shape: 'pman3', body: v6, problems, derived: DIRS, names: PMAN3_NAMES };
}

/** cmd_args: one string split like a POSIX shell (pman 3.2.1+); an already split list is taken as is. */
function mapCmdArgs(value: unknown): string[] | string {
  if (!present(value)) return MISSING_ANY_TEXT;
  // Length before splitting: the split is linear, but its word list should not be built for nothing.
  if (typeof value === 'string' && value.length > MAX_COMMAND_BYTES) return CMD_ARGS_TOO_LONG_TEXT;
  if (typeof value === 'string') return shellSplit(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return NOT_A_STRING_TEXT;
}

/** cmd_path_flags: comma-separated, each trimmed, empty items dropped. */
function mapPathFlags(value: unknown): string[] | string {
  if (!present(value)) return [];
  if (typeof value === 'string' && value.length > MAX_ITEM_BYTES) return PATH_FLAGS_TOO_LONG_TEXT;
  if (typeof value === 'string')
    return value
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '');
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return NOT_A_STRING_TEXT;
}

/** The entrypoint CUBE builds from the plugin's execshell, selfpath and selfexec. */
function mapEntrypoint(
  selfexec: unknown,
  selfpath: unknown,
  execshell: unknown,
): { entrypoint: string[] } | { problems: Array<{ name: string; text: string }> } {
  const problems: Array<{ name: string; text: string }> = [];
  if (!present(selfexec)) problems.push({ name: 'selfexec', text: MISSING_ANY_TEXT });
  else if (typeof selfexec !== 'string')
    problems.push({ name: 'selfexec', text: NOT_A_STRING_TEXT });
  else if (selfexec === '') problems.push({ name: 'selfexec', text: 'must not be empty' });
  else if (selfexec.length > MAX_PATH_CHARS)
    problems.push({ name: 'selfexec', text: PATH_TOO_LONG_TEXT });
  // selfpath and execshell may be absent or empty (pman 3 required them; CUBE always sent them).
  const path = optionalString(selfpath);
  const shell = optionalString(execshell);
  if (path === undefined) problems.push({ name: 'selfpath', text: NOT_A_STRING_TEXT });
  else if (path.length > MAX_PATH_CHARS)
    problems.push({ name: 'selfpath', text: PATH_TOO_LONG_TEXT });
  if (shell === undefined) problems.push({ name: 'execshell', text: NOT_A_STRING_TEXT });
  else if (shell.length > MAX_PATH_CHARS)
    problems.push({ name: 'execshell', text: PATH_TOO_LONG_TEXT });
  if (
    problems.length > 0 ||
    typeof selfexec !== 'string' ||
    path === undefined ||
    shell === undefined
  ) {
    return { problems };
  }
  if (shell !== '') return { entrypoint: [shell, posixJoin(path, selfexec)] };
  if (path !== '') return { entrypoint: [posixJoin(path, selfexec)] };
  return { entrypoint: [selfexec] };
}

/** '' when absent; undefined when present but not a string. */
function optionalString(value: unknown): string | undefined {
  if (!present(value)) return '';
  return typeof value === 'string' ? value : undefined;
}

/** Python posixpath.join for two parts. */
export function posixJoin(dir: string, name: string): string {
  if (name.startsWith('/')) return name;
  if (dir === '' || dir.endsWith('/')) return dir + name;
  return `${dir}/${name}`;
}

/** Python shlex.split (POSIX mode): quotes and backslashes, no variables, no globs, no comments.
 *  Returns the words, or the text of shlex's error. */
export function shellSplit(s: string): string[] | string {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  // 'none' outside quotes; the quote character inside quotes.
  let quote: 'none' | "'" | '"' = 'none';
  let escaped = false;
  for (const ch of s) {
    if (escaped) {
      // Inside double quotes a backslash escapes only '"' and '\'; before anything else it stays.
      if (quote === '"' && ch !== '"' && ch !== '\\') word += '\\';
      word += ch;
      escaped = false;
    } else if (quote === "'") {
      if (ch === "'") quote = 'none';
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = 'none';
      else if (ch === '\\') escaped = true;
      else word += ch;
    } else if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (ch === '\\') escaped = true;
      else if (ch === "'" || ch === '"') quote = ch;
      else word += ch;
    }
  }
  if (escaped) return 'No escaped character';
  if (quote !== 'none') return 'No closing quotation';
  if (inWord) words.push(word);
  return words;
}
