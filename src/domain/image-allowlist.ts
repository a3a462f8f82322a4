// The image allow-list (IMAGE_ALLOWLIST): a text of patterns, one a line, '#' starting a comment,
// '*' matching any run of characters. Images and patterns are compared in Docker's normalized form,
// so `busybox` is `docker.io/library/busybox:latest` and `fnndsc/*` is `docker.io/fnndsc/*`. Pure.
import { ImageNotAllowedError } from './errors.js';
import { formatImageReference, parseImageReference } from './image-reference.js';

/** A pattern longer than any valid reference could only be a mistake. */
export const MAX_PATTERN_CHARS = 512;

/** Normalized patterns; an image is allowed when one of them matches it whole. */
export type ImageAllowlist = readonly string[];

export type ParsedAllowlist =
  { ok: true; patterns: ImageAllowlist } | { ok: false; problems: readonly string[] };

/** The characters of a reference, plus '*'. */
const PATTERN_CHARS = /^[A-Za-z0-9._:/@*[\]-]+$/;

/** A pattern without a tag or digest names a repository: it matches each of its tags and digests. */
function normalizePattern(pattern: string): string[] {
  if (!pattern.includes('*')) {
    const parsed = parseImageReference(pattern);
    if (!parsed.ok) return [];
    const { tag, digest, ...name } = parsed.ref;
    if (tag !== undefined || digest !== undefined) return [formatImageReference(parsed.ref)];
    const repository = `${name.domain}/${name.path}`;
    return [`${repository}:*`, `${repository}@*`];
  }
  const slash = pattern.indexOf('/');
  // A leading glob, or a glob in a first component before a '/', could stand for a registry or
  // for a Docker Hub user: such a pattern is taken as written, against the normalized reference.
  if (pattern.startsWith('*')) return [pattern];
  if (slash < 0) return [`docker.io/library/${pattern}`];
  const first = pattern.slice(0, slash);
  if (first.includes('*')) return [pattern];
  if (!isRegistry(first)) return [`docker.io/${pattern}`];
  return [first === 'index.docker.io' ? `docker.io${pattern.slice(slash)}` : pattern];
}

function isRegistry(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.toLowerCase() !== component
  );
}

/** The allow-list file's text → its normalized patterns, or one problem per bad line. */
export function parseAllowlist(text: string): ParsedAllowlist {
  const patterns: string[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const hash = line.indexOf('#');
    const pattern = (hash < 0 ? line : line.slice(0, hash)).trim();
    if (pattern === '') return;
    const where = `line ${index + 1}`;
    if (pattern.length > MAX_PATTERN_CHARS) {
      problems.push(`${where}: longer than ${MAX_PATTERN_CHARS} characters`);
    } else if (!PATTERN_CHARS.test(pattern)) {
      problems.push(`${where}: "${pattern}" has a character no image reference has`);
    } else {
      const normalized = normalizePattern(pattern);
      if (normalized.length === 0) {
        problems.push(`${where}: "${pattern}" is not an image reference`);
      }
      patterns.push(...normalized);
    }
  });
  if (problems.length > 0) return { ok: false, problems };
  if (patterns.length === 0) return { ok: false, problems: ['has no patterns'] };
  return { ok: true, patterns };
}

/**
 * Whole-string glob match, '*' any run of characters. The classic two-pointer walk: on a mismatch
 * only the last '*' is widened, so the time is at most pattern × text (both bounded), never
 * exponential.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      starText = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Whether `image` (as the client sent it) is on the list; an unparsable image never is. */
export function imageAllowed(image: string, allowlist: ImageAllowlist): boolean {
  const normalized = normalizedImage(image);
  if (normalized === undefined) return false;
  return allowlist.some((pattern) => globMatch(pattern, normalized));
}

/** `image` in Docker's normalized form, as patterns are compared with it; undefined if unparsable. */
export function normalizedImage(image: string): string | undefined {
  const parsed = parseImageReference(image);
  return parsed.ok ? formatImageReference(parsed.ref) : undefined;
}

/** Throws ImageNotAllowedError (403) unless the list is unset or allows `image`. */
export function assertImageAllowed(image: string, allowlist: ImageAllowlist | undefined): void {
  if (allowlist !== undefined && !imageAllowed(image, allowlist)) {
    throw new ImageNotAllowedError(image);
  }
}

/** What one allow-list line admits: one image (a tag or a digest), every tag and digest of one
 *  repository (a line without tag or digest), or whatever a '*' pattern matches. */
export type AllowlistEntryKind = 'exact' | 'repository' | 'pattern';

/** One allow-list line as the image catalogue shows it, in its normalized form. */
export interface AllowlistEntry {
  /** `docker.io/library/busybox:1.36`, `docker.io/fnndsc/pl-dircopy` (a repository), or a glob. */
  pattern: string;
  kind: AllowlistEntryKind;
  /** The normalized patterns of the line, as imageAllowed matches them. */
  patterns: readonly string[];
}

/**
 * The normalized patterns back as the lines they came from: a repository line was stored as its
 * two patterns `<repo>:*` and `<repo>@*` (normalizePattern), shown here as one `repository` entry.
 * A line repeated is shown once.
 */
export function describeAllowlist(allowlist: ImageAllowlist): AllowlistEntry[] {
  const entries = new Map<string, AllowlistEntry>();
  for (let i = 0; i < allowlist.length; i++) {
    const pattern = allowlist[i] ?? '';
    const repository = pattern.endsWith(':*') ? pattern.slice(0, -2) : undefined;
    const digests = `${repository ?? ''}@*`;
    const entry: AllowlistEntry =
      repository !== undefined && !repository.includes('*') && allowlist[i + 1] === digests
        ? { pattern: repository, kind: 'repository', patterns: [pattern, allowlist[++i] ?? ''] }
        : { pattern, kind: pattern.includes('*') ? 'pattern' : 'exact', patterns: [pattern] };
    const key = `${entry.kind} ${entry.pattern}`;
    if (!entries.has(key)) entries.set(key, entry);
  }
  return [...entries.values()];
}

/** The first entry that admits `image` (imageAllowed's match), or undefined; an unparsable image
 *  is admitted by none. */
export function admittingEntry(
  image: string,
  entries: readonly AllowlistEntry[],
): AllowlistEntry | undefined {
  const normalized = normalizedImage(image);
  if (normalized === undefined) return undefined;
  return entries.find((entry) => entry.patterns.some((p) => globMatch(p, normalized)));
}
