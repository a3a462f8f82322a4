// The storeBase I/O of a create (api.md §7): real paths of input/output dirs under the storeBase
// the server sees, a missing input refused, a missing output created without leaving storeBase;
// and the re-check of those real paths right before the engine binds them (issue 10, mount race).
import { lstat, mkdir, realpath, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { BackendRefusedError, DirectoryError } from '../domain/errors.js';
import type { JobDir } from '../domain/errors.js';
import { INCOMING } from '../domain/job.js';
import type { Mount } from '../domain/job.js';
import {
  CHANGED_TEXT,
  LINK_LOOP_TEXT,
  MISSING_INPUT_TEXT,
  NOT_A_DIRECTORY_TEXT,
  PATH_RULE_TEXT,
  TOO_LONG_TEXT,
  UNRESOLVABLE_TEXT,
} from '../domain/paths.js';

/** The checked directories: what the engine must bind, with no symbolic link on the way. */
export interface ResolvedDirs {
  /** storeBase's real path as this server sees it. */
  root: string;
  /** Real directories relative to `root`: the Mounts' subPaths. */
  input: string;
  output: string;
  /** Directories this check created for the output (absolute, parents first), so a create that
   *  is refused later can remove them again (removeCreated). */
  created: readonly string[];
}

type DirState =
  | { kind: 'dir'; real: string }
  | { kind: 'missing'; ancestor: string; rest: string[] }
  | { kind: 'problem'; text: string };

// Linux's PATH_MAX (with its NUL) and NAME_MAX. Checked before any syscall, so a path the kernel
// would refuse half-way is refused before the first directory of it is made.
const PATH_MAX_BYTES = 4095;
const NAME_MAX_BYTES = 255;

/**
 * Errors the server's own deployment causes (permissions, a full or read-only disk, exhausted
 * descriptors): a 500 for the operator, never the caller's fault. Every other errno of a path the
 * caller chose (ENAMETOOLONG, ELOOP, ENOTDIR, EINVAL, …) is a 400 naming the field.
 */
const SERVER_FAULTS = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'EIO',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
]);

/** I/O, used by the create route when storeBase is visible on the server's filesystem (root = that local path):
 *  realpath both dirs; a real path outside root → DirectoryError {field: PATH_RULE_TEXT}; missing input dir →
 *  DirectoryError {input_dir: "does not exist under storeBase"}; missing output dir → created (mkdir -p, only under root,
 *  created directories must not escape via symlinked parents). Both fields' problems bundled together.
 *  Returns the real directories, which are what the job must bind. */
export async function verifyDirs(
  root: string,
  dirs: { input: string; output: string },
): Promise<ResolvedDirs> {
  const realRoot = await realpath(root).catch((err: unknown) => {
    // storeBase itself is the deployment's, whatever the errno: never the caller's fault.
    throw (
      serverFault(err, 'resolve storeBase') ??
      new BackendRefusedError('storeBase cannot be resolved on this server', { cause: err })
    );
  });
  const input = await inspectDir(realRoot, dirs.input);
  const output = await inspectDir(realRoot, dirs.output);
  const problems: Partial<Record<JobDir, string>> = {};
  if (input.kind === 'problem') problems.input = input.text;
  else if (input.kind === 'missing') problems.input = MISSING_INPUT_TEXT;
  if (output.kind === 'problem') problems.output = output.text;
  // The kinds repeat the bundle's conditions, for the type checker.
  if (Object.keys(problems).length > 0 || input.kind !== 'dir' || output.kind === 'problem') {
    throw new DirectoryError(problems);
  }
  // Created only once the whole request passed, so a refused request leaves storeBase untouched.
  const made =
    output.kind === 'missing'
      ? await createUnder(realRoot, output.ancestor, output.rest, 'output')
      : { real: output.real, created: [] };
  return {
    root: realRoot,
    input: path.relative(realRoot, input.real),
    output: path.relative(realRoot, made.real),
    created: made.created,
  };
}

/**
 * Removes what verifyDirs created, deepest first, for a create refused after the check (engine
 * conflict, pull failure, 429…): nothing is left on disk. rmdir only removes empty directories,
 * so whatever a job may already have written stays.
 */
export async function removeCreated(created: readonly string[]): Promise<void> {
  for (const dir of [...created].reverse()) await rmdir(dir).catch(() => undefined);
}

/**
 * Right before the engine binds them: each host mount's directory must still be itself — every
 * component from the real storeBase down a directory, none a symbolic link (lstat) — or a job that
 * swapped one for a link since verifyDirs would get the link's target bound. Volume mounts are not
 * host paths: the kubelet resolves a PVC subPath inside its volume and refuses links out of it.
 */
export async function recheckMounts(realRoot: string, mounts: readonly Mount[]): Promise<void> {
  const problems: Partial<Record<JobDir, string>> = {};
  for (const mount of mounts) {
    if (mount.kind !== 'host') continue;
    if (!(await staysPut(realRoot, mount.subPath))) {
      problems[mount.containerPath === INCOMING ? 'input' : 'output'] = CHANGED_TEXT;
    }
  }
  if (Object.keys(problems).length > 0) throw new DirectoryError(problems);
}

async function staysPut(realRoot: string, subPath: string): Promise<boolean> {
  let current = realRoot;
  try {
    for (const segment of subPath.split('/')) {
      current = path.join(current, segment);
      if (!(await lstat(current)).isDirectory()) return false;
    }
    // Also catches storeBase's own path having changed since it was resolved.
    return (await realpath(current)) === current;
  } catch (err) {
    const fault = serverFault(err, 're-check a job directory');
    if (fault !== undefined) throw fault;
    if (isErrno(err)) return false;
    throw err;
  }
}

/** Where `dir` (relative, normalized) stands under realRoot, following symlinks. */
async function inspectDir(realRoot: string, dir: string): Promise<DirState> {
  const segments = dir.split('/');
  if (tooLong(realRoot, segments)) return { kind: 'problem', text: TOO_LONG_TEXT };
  try {
    // Walk down from the deepest existing ancestor: a missing dir is judged by where its parent really is.
    for (let existing = segments.length; existing >= 0; existing--) {
      const candidate = path.join(realRoot, ...segments.slice(0, existing));
      let real: string;
      try {
        real = await realpath(candidate);
      } catch (err) {
        if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) continue;
        throw err;
      }
      const full = existing === segments.length;
      if (full ? !isStrictlyUnder(realRoot, real) : !isUnderOrSame(realRoot, real)) {
        return { kind: 'problem', text: PATH_RULE_TEXT };
      }
      if (!(await isDirectory(real))) return { kind: 'problem', text: NOT_A_DIRECTORY_TEXT };
      if (full) return { kind: 'dir', real };
      const rest = segments.slice(existing);
      // The real ancestor may be longer than the path that led to it.
      if (tooLong(real, rest)) return { kind: 'problem', text: TOO_LONG_TEXT };
      return { kind: 'missing', ancestor: real, rest };
    }
  } catch (err) {
    return { kind: 'problem', text: callerProblem(err, 'inspect a job directory') };
  }
  // Not even realRoot resolved: it vanished between the two calls.
  return { kind: 'problem', text: MISSING_INPUT_TEXT };
}

function tooLong(base: string, segments: readonly string[]): boolean {
  return (
    Buffer.byteLength(path.join(base, ...segments)) > PATH_MAX_BYTES ||
    segments.some((s) => Buffer.byteLength(s) > NAME_MAX_BYTES)
  );
}

/**
 * mkdir one level at a time, re-checking each new level, so a symlink swapped in cannot lead
 * outside; on any failure the levels made here are removed again. Returns the new dir's real path.
 */
async function createUnder(
  realRoot: string,
  ancestor: string,
  rest: string[],
  field: JobDir,
): Promise<{ real: string; created: string[] }> {
  const created: string[] = [];
  let current = ancestor;
  try {
    for (const segment of rest) {
      const next = path.join(current, segment);
      try {
        await mkdir(next);
        created.push(next);
      } catch (err) {
        if (!isCode(err, 'EEXIST')) throw err;
      }
      // A dangling symlink makes mkdir say EEXIST and realpath fail: it points somewhere we do not own.
      const real = await realpath(next).catch((err: unknown) => {
        if (isCode(err, 'ENOENT')) throw new DirectoryError({ [field]: PATH_RULE_TEXT });
        throw err;
      });
      if (!isStrictlyUnder(realRoot, real)) throw new DirectoryError({ [field]: PATH_RULE_TEXT });
      if (!(await isDirectory(real))) throw new DirectoryError({ [field]: NOT_A_DIRECTORY_TEXT });
      current = real;
    }
    return { real: current, created };
  } catch (err) {
    await removeCreated(created);
    if (err instanceof DirectoryError) throw err;
    throw new DirectoryError({ [field]: callerProblem(err, `create ${field}`) });
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

function isErrno(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}

function isCode(err: unknown, code: string): boolean {
  return isErrno(err) && err.code === code;
}

/**
 * The text of a file-system error the caller's path caused; a server fault is thrown as such and
 * anything that is no errno at all (our bug) is rethrown.
 */
function callerProblem(err: unknown, action: string): string {
  const fault = serverFault(err, action);
  if (fault !== undefined) throw fault;
  if (!isErrno(err)) throw err;
  if (err.code === 'ENAMETOOLONG') return TOO_LONG_TEXT;
  if (err.code === 'ELOOP') return LINK_LOOP_TEXT;
  if (err.code === 'ENOTDIR') return NOT_A_DIRECTORY_TEXT;
  return UNRESOLVABLE_TEXT;
}

/**
 * A storeBase the server itself cannot read or write is a deployment fault, not the caller's:
 * a 500 that names the action and the errno. The host path goes to the log only (the cause, which
 * the error log line carries), never into the body a client reads.
 */
function serverFault(err: unknown, action: string): BackendRefusedError | undefined {
  if (!isErrno(err) || err.code === undefined || !SERVER_FAULTS.has(err.code)) return undefined;
  return new BackendRefusedError(
    `cannot ${action} under storeBase: ${err.code} (the server's user needs read and write access to storeBase)`,
    { cause: err },
  );
}
