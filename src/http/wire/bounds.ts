// The size and character bounds of the create request's fields, checked before anything touches
// disk or an engine (issue 10): a field that is too long, too many, or holds a character that
// changes a bind's meaning is a 400 naming it, never a 5xx from the file system or the engine.
// Each check returns the bundle text, or undefined when the value is within bounds.
import { parseImageReference } from '../../domain/image-reference.js';

/** input_dir/output_dir: far below PATH_MAX once storeBase is in front; no pfcon dir comes close. */
// CUBE nests each plugin's output under its parent's, so deep feeds make long, deep paths:
// bounded well below PATH_MAX (4096 with storeBase in front), not at a depth CUBE can reach.
export const MAX_DIR_CHARS = 3800;
export const MAX_DIR_SEGMENTS = 256;
/** NAME_MAX of every Linux file system. */
export const MAX_SEGMENT_BYTES = 255;
/** A reference's name is at most 255 characters, its tag 128, a sha512 digest 135. */
export const MAX_IMAGE_CHARS = 512;
export const MAX_ENTRYPOINT_ITEMS = 256;
export const MAX_ARGS_ITEMS = 4096;
export const MAX_PATH_FLAGS_ITEMS = 256;
/** One argv element (and one env value); Linux allows 128 KiB per string, we stay well below. */
export const MAX_ITEM_BYTES = 32 * 1024;
/** entrypoint + args, each counted with its terminating NUL as exec(2) does. */
export const MAX_COMMAND_BYTES = 128 * 1024;
export const MAX_ENV_ITEMS = 256;
export const MAX_ENV_NAME_CHARS = 256;
/** All env values and names together, each "NAME=value" with its NUL. */
export const MAX_ENV_BYTES = 128 * 1024;
export const MAX_AUID_CHARS = 256;
/** The numbers as strings (Python's int() refuses more than 4300 digits since 3.11). */
export const MAX_INT_TEXT_CHARS = 4300;

const utf8 = new TextEncoder();
function byteLength(text: string): number {
  return utf8.encode(text).length;
}

/** The characters that change what a bind means (':' and ',' split Docker's -v and --mount
 *  forms) or that no path should hold (control characters: NUL, newline, …). */
// ':' splits a Docker bind (src:dst:mode); ',' changes no bind we make (Mounts objects, subPath)
// and is common in user folder names, so it is accepted.
const BIND_BREAKING = /[:\p{Cc}]/u;

/** Checked on the raw value, before normalization, so a huge value is refused at once. */
export function dirLengthProblem(raw: string): string | undefined {
  return raw.length > MAX_DIR_CHARS ? `must be at most ${MAX_DIR_CHARS} characters` : undefined;
}

/** Checked on the normalized dir (no leading or trailing '/', path rule already met). */
export function dirProblem(dir: string): string | undefined {
  if (BIND_BREAKING.test(dir)) return "must not contain ':' or control characters";
  const segments = dir.split('/');
  if (segments.length > MAX_DIR_SEGMENTS) {
    return `must have at most ${MAX_DIR_SEGMENTS} path segments`;
  }
  const long = segments.findIndex((s) => byteLength(s) > MAX_SEGMENT_BYTES);
  if (long >= 0) return `path segment ${long + 1} is longer than ${MAX_SEGMENT_BYTES} bytes`;
  return undefined;
}

/** After the existing non-empty / no-whitespace / no-control-character checks. */
export function imageProblem(image: string): string | undefined {
  if (image.length > MAX_IMAGE_CHARS) return `must be at most ${MAX_IMAGE_CHARS} characters`;
  const parsed = parseImageReference(image);
  return parsed.ok ? undefined : `is not a valid image reference: ${parsed.reason}`;
}

/** A list of strings: its count, and each element's size in bytes (no NUL: exec cannot pass it). */
export function listProblem(items: readonly string[], maxItems: number): string | undefined {
  if (items.length > maxItems) return `must have at most ${maxItems} items`;
  for (const [index, item] of items.entries()) {
    if (item.length > MAX_ITEM_BYTES || byteLength(item) > MAX_ITEM_BYTES) {
      return `item ${index} is longer than ${MAX_ITEM_BYTES} bytes`;
    }
    if (item.includes('\0')) return `item ${index} must not contain NUL characters`;
  }
  return undefined;
}

/** Bytes exec(2) needs for these strings: each one plus its NUL. */
export function argvBytes(items: readonly string[]): number {
  return items.reduce((total, item) => total + byteLength(item) + 1, 0);
}

export const COMMAND_TOO_LONG_TEXT = `the command (entrypoint and args) must be at most ${MAX_COMMAND_BYTES} bytes`;

export function auidProblem(auid: string): string | undefined {
  return auid.length > MAX_AUID_CHARS ? `must be at most ${MAX_AUID_CHARS} characters` : undefined;
}

/** Kubernetes' portable variable-name rule (Docker takes it too): letters, digits, '_', '-' and
 *  '.', not starting with a digit. */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** env, already split into pairs at the first '='. */
export function envProblem(pairs: ReadonlyArray<readonly [string, string]>): string | undefined {
  if (pairs.length > MAX_ENV_ITEMS) return `must have at most ${MAX_ENV_ITEMS} items`;
  let total = 0;
  for (const [index, [name, value]] of pairs.entries()) {
    if (name.length > MAX_ENV_NAME_CHARS || !ENV_NAME.test(name)) {
      return `item ${index}: the name must be at most ${MAX_ENV_NAME_CHARS} letters, digits, '_', '-' or '.', not starting with a digit`;
    }
    if (value.length > MAX_ITEM_BYTES || byteLength(value) > MAX_ITEM_BYTES) {
      return `item ${index}: the value is longer than ${MAX_ITEM_BYTES} bytes`;
    }
    if (value.includes('\0')) return `item ${index}: the value must not contain NUL characters`;
    total += byteLength(name) + byteLength(value) + 2;
  }
  if (total > MAX_ENV_BYTES) return `must be at most ${MAX_ENV_BYTES} bytes in all`;
  return undefined;
}
