// The storeBase path rule and input/output dirs → backend-neutral mounts (api.md §7); pure.
// The on-disk checks are the service's (src/service/store-dirs.ts).
import { INCOMING, OUTGOING } from './job.js';
import type { Mount, Storage } from './job.js';

export const PATH_RULE_TEXT =
  "must be a relative path under storeBase without empty, '.' or '..' segments";
export const MISSING_INPUT_TEXT = 'does not exist under storeBase';
export const NOT_A_DIRECTORY_TEXT = 'is not a directory under storeBase';
export const TOO_LONG_TEXT = 'is too long for the file system under storeBase';
export const LINK_LOOP_TEXT = 'leads through a symbolic link loop under storeBase';
/** Any other refusal of the file system that the request itself caused (EINVAL, EILSEQ, …). */
export const UNRESOLVABLE_TEXT = 'cannot be resolved under storeBase';
/** The re-check right before the engine binds it found the directory changed (issue 10, item 1). */
export const CHANGED_TEXT =
  'changed under storeBase after it was checked (now missing, moved or a symbolic link)';

/** Strips leading/trailing '/', then enforces the path rule; returns the normalized dir or undefined if invalid. */
export function normalizeDir(dir: string): string | undefined {
  // pman stripped slashes only (Python str.strip('/')), so '/key-x/incoming' stays valid.
  const stripped = dir.replace(/^\/+|(?<!\/)\/+$/g, '');
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
