// Container image references: the distribution/reference grammar (the one Docker, Swarm and
// Kubernetes' runtimes accept), parsed with flat checks — no regex here has a quantifier inside
// another, so a hostile reference costs time linear in its length — and normalized the way
// Docker names images (docker.io, library/, :latest), so an allow-list can compare them.

/** distribution's NameTotalLengthMax: the name (host and path) without tag or digest. */
export const MAX_IMAGE_NAME_CHARS = 255;

export interface ImageReference {
  /** Registry host[:port]; 'docker.io' when the reference names none. */
  domain: string;
  /** The repository below the domain; Docker Hub's official images get 'library/'. */
  path: string;
  tag?: string;
  digest?: string;
}

export type ParsedImageReference =
  { ok: true; ref: ImageReference } | { ok: false; reason: string };

const DEFAULT_DOMAIN = 'docker.io';
/** Docker's other spelling of Docker Hub. */
const LEGACY_DOMAIN = 'index.docker.io';

const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST_HEX = /^[0-9a-fA-F]{32,}$/;
const DIGEST_ALGORITHM_COMPONENT = /^[A-Za-z][A-Za-z0-9]*$/;
/** The digest lengths the registries actually serve; other algorithms only need 32+ hex digits. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
const PATH_CHARS = /^[a-z0-9._-]+$/;
const ALNUM_RUN = /[a-z0-9]+/;
/** What may stand between two alphanumeric runs of a path component. */
const SEPARATOR = /^(?:[._]|__|-+)$/;
const HOST_LABEL = /^[A-Za-z0-9-]+$/;
const PORT = /^[0-9]{1,5}$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;

function fail(reason: string): ParsedImageReference {
  return { ok: false, reason };
}

function digestProblem(digest: string): string | undefined {
  const colon = digest.indexOf(':');
  const algorithm = colon < 0 ? '' : digest.slice(0, colon);
  const hex = colon < 0 ? '' : digest.slice(colon + 1);
  const algorithmOk =
    algorithm !== '' &&
    algorithm.split(/[-_+.]/).every((part) => DIGEST_ALGORITHM_COMPONENT.test(part));
  if (!algorithmOk || !DIGEST_HEX.test(hex)) {
    return 'the digest must be <algorithm>:<hex>, such as sha256: and 64 hex digits';
  }
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length !== undefined && hex.length !== length) {
    return `a ${algorithm} digest has ${length} hex digits`;
  }
  return undefined;
}

/** host[:port], the host a DNS name, an IPv4 address or a bracketed IPv6 address. */
function domainOk(domain: string): boolean {
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    if (close < 0) return false;
    const rest = domain.slice(close + 1);
    return IPV6.test(domain.slice(0, close + 1)) && (rest === '' || PORT.test(rest.slice(1)));
  }
  const colon = domain.indexOf(':');
  const host = colon < 0 ? domain : domain.slice(0, colon);
  if (colon >= 0 && !PORT.test(domain.slice(colon + 1))) return false;
  return host
    .split('.')
    .every((label) => HOST_LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-'));
}

/** Lowercase alphanumeric runs joined by '.', '_', '__' or dashes. */
function pathComponentOk(component: string): boolean {
  if (!PATH_CHARS.test(component)) return false;
  const separators = component.split(ALNUM_RUN);
  // Split on the runs: the first and last pieces are empty exactly when the component starts
  // and ends with a run, and every piece between is what separates two runs.
  const first = separators[0];
  const last = separators[separators.length - 1];
  if (separators.length < 2 || first !== '' || last !== '') return false;
  return separators.slice(1, -1).every((sep) => SEPARATOR.test(sep));
}

/** Docker's rule: a first component is a registry when it has '.' or ':', is localhost, or has
 *  capitals (which no repository path may have). */
function isDomain(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.toLowerCase() !== component
  );
}

/** Parses `[host[:port]/]path[:tag][@digest]`; `reason` says what is wrong, without echoing it. */
export function parseImageReference(text: string): ParsedImageReference {
  const at = text.indexOf('@');
  const named = at < 0 ? text : text.slice(0, at);
  const digest = at < 0 ? undefined : text.slice(at + 1);
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) return fail(problem);
  }
  const lastSlash = named.lastIndexOf('/');
  const tagColon = named.indexOf(':', lastSlash + 1);
  const name = tagColon < 0 ? named : named.slice(0, tagColon);
  const tag = tagColon < 0 ? undefined : named.slice(tagColon + 1);
  if (tag !== undefined && !TAG.test(tag)) {
    return fail(
      'the tag must be 1-128 letters, digits, "_", "." or "-", not starting with "." or "-"',
    );
  }
  if (name.length > MAX_IMAGE_NAME_CHARS) {
    return fail(`the name is longer than ${MAX_IMAGE_NAME_CHARS} characters`);
  }
  const components = name.split('/');
  const hasDomain = components.length > 1 && isDomain(components[0] ?? '');
  const domain = hasDomain ? (components.shift() ?? '') : DEFAULT_DOMAIN;
  if (!domainOk(domain))
    return fail('the registry must be a host name or address, with an optional :port');
  if (!components.every(pathComponentOk)) {
    return fail(
      'each part of the repository path must be lowercase letters and digits, separated by ".", "_", "__" or "-"',
    );
  }
  const normalizedDomain = domain === LEGACY_DOMAIN ? DEFAULT_DOMAIN : domain;
  const path =
    normalizedDomain === DEFAULT_DOMAIN && components.length === 1
      ? `library/${components.join('/')}`
      : components.join('/');
  return {
    ok: true,
    ref: {
      domain: normalizedDomain,
      path,
      ...(tag !== undefined && { tag }),
      ...(digest !== undefined && { digest }),
    },
  };
}

/** The full name Docker would pull: domain/path, then :tag (':latest' when neither a tag nor a
 *  digest is given) and @digest. */
export function formatImageReference(ref: ImageReference): string {
  const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
  return (
    `${ref.domain}/${ref.path}` +
    (tag === undefined ? '' : `:${tag}`) +
    (ref.digest === undefined ? '' : `@${ref.digest}`)
  );
}
