// Our package version, read once on demand from package.json. Works from src/ (tsx) and from
// dist/src/ (built): we walk up from this file to the first package.json that is ours.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'pman-ts';
/** pman's value when nothing better is known. */
const UNKNOWN_VERSION = '0+unknown';

let cached: string | undefined;

function readVersionFrom(file: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { name, version } = parsed as { name?: unknown; version?: unknown };
    return name === PACKAGE_NAME && typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/** The version in our package.json, or pman's "0+unknown" when it cannot be found. */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const version = readVersionFrom(join(dir, 'package.json'));
    if (version !== undefined) return (cached = version);
    const parent = dirname(dir);
    if (parent === dir) return (cached = UNKNOWN_VERSION);
    dir = parent;
  }
}
