// Settings that limit what a job may be given: the image allow-list (IMAGE_ALLOWLIST, a file read
// once at start-up) and the insecure opt-out from the storeBase visibility check.
import { readFileSync } from 'node:fs';
import { parseAllowlist } from '../domain/image-allowlist.js';
import type { ImageAllowlist } from '../domain/image-allowlist.js';
import type { EnvReader } from './env-reader.js';

/** IMAGE_ALLOWLIST: the path of a pattern file; unset = any image. A file that cannot be read or
 *  holds a bad line is a start-up problem (one line each), never an empty list that allows all. */
export function readImageAllowlist(r: EnvReader): ImageAllowlist | undefined {
  const path = r.string('IMAGE_ALLOWLIST');
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    r.problem('IMAGE_ALLOWLIST', `cannot read "${path}" (${code})`);
    return undefined;
  }
  const parsed = parseAllowlist(text);
  if (parsed.ok) return parsed.patterns;
  for (const problem of parsed.problems) r.problem('IMAGE_ALLOWLIST', `${path}: ${problem}`);
  return undefined;
}

/** INSECURE_SKIP_STOREBASE_CHECK: start although a host-bind storeBase is invisible here. */
export function readSkipStoreBaseCheck(r: EnvReader): boolean {
  return r.bool('INSECURE_SKIP_STOREBASE_CHECK', false);
}
