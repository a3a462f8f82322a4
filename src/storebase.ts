// input_dir/output_dir → backend-neutral mounts: the one place of the storeBase path rule (api.md §7).
import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Storage } from './config.js';
import { BackendRefusedError, ValidationError } from './errors.js';
import { INCOMING, OUTGOING } from './job.js';
import type { Mount } from './job.js';

export const PATH_RULE_TEXT =
  "must be a relative path under storeBase without empty, '.' or '..' segments";
export const MISSING_INPUT_TEXT = 'does not exist under storeBase';
export const NOT_A_DIRECTORY_TEXT = 'is not a directory under storeBase';

/** Strips leading/trailing '/', then enforces the path rule; returns the normalized dir or undefined if invalid. */
export function normalizeDir(dir: string): string | undefined {
  // pman stripped slashes only (Python str.strip('/')), so '/key-x/incoming' stays valid.
  const stripped = dir.replace(/^\/+|\/+$/g, '');
  if (stripped === '' || stripped.includes('\0') || stripped.includes('\\')) return undefined;
  const segments = stripped.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return stripped;
}

/** Input → /share/incoming read-only; output → /share/outgoing read-write. Dirs are already normalized. */
export function resolveMounts(dirs: { input: string; output: string }, storage: Storage): Mount[] {
  const [kind, source]: [Mount['kind'], string] =
    storage.type === 'host' ? ['host', storage.storeBase] : ['volume', storage.claimName];
  return [
    { kind, source, subPath: dirs.input, containerPath: INCOMING, readOnly: true },
    { kind, source, subPath: dirs.output, containerPath: OUTGOING, readOnly: false },
  ];
}

type DirState =
  | { kind: 'dir' }
  | { kind: 'missing'; ancestor: string; rest: string[] }
  | { kind: 'problem'; text: string };

/** I/O, used by the create route when storeBase is visible on the server's filesystem (root = that local path):
 *  realpath both dirs; a real path outside root → ValidationError {field: PATH_RULE_TEXT}; missing input dir →
 *  ValidationError {input_dir: "does not exist under storeBase"}; missing output dir → created (mkdir -p, only under root,
 *  created directories must not escape via symlinked parents). Both fields' problems bundled together. */
export async function verifyDirs(
  root: string,
  dirs: { input: string; output: string },
): Promise<void> {
  const realRoot = await realpath(root);
  const input = await inspectDir(realRoot, dirs.input);
  const output = await inspectDir(realRoot, dirs.output);
  const problems: Record<string, string> = {};
  if (input.kind === 'problem') problems.input_dir = input.text;
  else if (input.kind === 'missing') problems.input_dir = MISSING_INPUT_TEXT;
  if (output.kind === 'problem') problems.output_dir = output.text;
  if (Object.keys(problems).length > 0) throw new ValidationError(problems);
  // Created only once the whole request passed, so a refused request leaves storeBase untouched.
  if (output.kind === 'missing')
    await createUnder(realRoot, output.ancestor, output.rest, 'output_dir');
}

/** Where `dir` (relative, normalized) stands under realRoot, following symlinks. */
async function inspectDir(realRoot: string, dir: string): Promise<DirState> {
  const segments = dir.split('/');
  // Walk down from the deepest existing ancestor: a missing dir is judged by where its parent really is.
  for (let existing = segments.length; existing >= 0; existing--) {
    const candidate = path.join(realRoot, ...segments.slice(0, existing));
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (err) {
      if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) continue;
      throw storageFault(err, 'inspect', candidate);
    }
    const full = existing === segments.length;
    if (full ? !isStrictlyUnder(realRoot, real) : !isUnderOrSame(realRoot, real)) {
      return { kind: 'problem', text: PATH_RULE_TEXT };
    }
    if (!(await isDirectory(real))) return { kind: 'problem', text: NOT_A_DIRECTORY_TEXT };
    return full
      ? { kind: 'dir' }
      : { kind: 'missing', ancestor: real, rest: segments.slice(existing) };
  }
  // Not even realRoot resolved: it vanished between the two calls.
  return { kind: 'problem', text: MISSING_INPUT_TEXT };
}

/** mkdir one level at a time, re-checking each new level, so a symlink swapped in cannot lead outside. */
async function createUnder(
  realRoot: string,
  ancestor: string,
  rest: string[],
  field: string,
): Promise<void> {
  let current = ancestor;
  for (const segment of rest) {
    const next = path.join(current, segment);
    try {
      await mkdir(next);
    } catch (err) {
      if (!isCode(err, 'EEXIST')) throw storageFault(err, `create ${field}`, current);
    }
    // A dangling symlink makes mkdir say EEXIST and realpath fail: it points somewhere we do not own.
    const real = await realpath(next).catch((err: unknown) => {
      if (isCode(err, 'ENOENT')) throw new ValidationError({ [field]: PATH_RULE_TEXT });
      throw err;
    });
    if (!isStrictlyUnder(realRoot, real)) throw new ValidationError({ [field]: PATH_RULE_TEXT });
    if (!(await isDirectory(real))) throw new ValidationError({ [field]: NOT_A_DIRECTORY_TEXT });
    current = real;
  }
}

function isStrictlyUnder(root: string, real: string): boolean {
  return real.startsWith(root.endsWith(path.sep) ? root : root + path.sep) && real !== root;
}

function isUnderOrSame(root: string, real: string): boolean {
  return real === root || isStrictlyUnder(root, real);
}

async function isDirectory(p: string): Promise<boolean> {
  return (await stat(p)).isDirectory();
}

function isCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

/**
 * A storeBase the server itself cannot read or write is a deployment fault, not the caller's:
 * answered 500 with a message that names the directory and the missing permission, instead of a
 * bare "Internal Server Error".
 */
function storageFault(err: unknown, action: string, dir: string): unknown {
  for (const code of ['EACCES', 'EPERM', 'EROFS'] as const) {
    if (isCode(err, code)) {
      return new BackendRefusedError(
        `cannot ${action} under storeBase: ${code} on ${dir} (the server's user needs read and write access there)`,
        { cause: err },
      );
    }
  }
  return err;
}
