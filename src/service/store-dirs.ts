// The storeBase I/O of a create (api.md §7): real paths of input/output dirs under the storeBase
// the server sees, a missing input refused, a missing output created without leaving storeBase.
import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { BackendRefusedError, DirectoryError } from '../domain/errors.js';
import type { JobDir } from '../domain/errors.js';
import { MISSING_INPUT_TEXT, NOT_A_DIRECTORY_TEXT, PATH_RULE_TEXT } from '../domain/paths.js';

type DirState =
  | { kind: 'dir' }
  | { kind: 'missing'; ancestor: string; rest: string[] }
  | { kind: 'problem'; text: string };

/** I/O, used by the create route when storeBase is visible on the server's filesystem (root = that local path):
 *  realpath both dirs; a real path outside root → DirectoryError {field: PATH_RULE_TEXT}; missing input dir →
 *  DirectoryError {input_dir: "does not exist under storeBase"}; missing output dir → created (mkdir -p, only under root,
 *  created directories must not escape via symlinked parents). Both fields' problems bundled together. */
export async function verifyDirs(
  root: string,
  dirs: { input: string; output: string },
): Promise<void> {
  const realRoot = await realpath(root);
  const input = await inspectDir(realRoot, dirs.input);
  const output = await inspectDir(realRoot, dirs.output);
  const problems: Partial<Record<JobDir, string>> = {};
  if (input.kind === 'problem') problems.input = input.text;
  else if (input.kind === 'missing') problems.input = MISSING_INPUT_TEXT;
  if (output.kind === 'problem') problems.output = output.text;
  if (Object.keys(problems).length > 0) throw new DirectoryError(problems);
  // Created only once the whole request passed, so a refused request leaves storeBase untouched.
  if (output.kind === 'missing')
    await createUnder(realRoot, output.ancestor, output.rest, 'output');
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
  field: JobDir,
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
      if (isCode(err, 'ENOENT')) throw new DirectoryError({ [field]: PATH_RULE_TEXT });
      throw err;
    });
    if (!isStrictlyUnder(realRoot, real)) throw new DirectoryError({ [field]: PATH_RULE_TEXT });
    if (!(await isDirectory(real))) throw new DirectoryError({ [field]: NOT_A_DIRECTORY_TEXT });
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
