// Bearer-token authentication (api.md §15.2): static tokens from a file, HS256 JWTs with
// SECRET_KEY, RS256/ES256 JWTs with JWT_PUBLIC_KEY_FILE. The four 401 texts are pfcon's.
import { createHash, createPublicKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HTTPException } from 'hono/http-exception';
import jwt from 'jsonwebtoken';
import type { AuthConfig } from '../config/config.js';
import { ConfigError } from '../config/errors.js';

export interface Authenticator {
  /** Throws HTTPException(401) with one of the four texts unless the header carries a good token. */
  verify(header: string | undefined): void;
}

type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';

interface JwtKey {
  algorithm: JwtAlgorithm;
  key: string | KeyObject;
}

/** Tolerated clock difference between us and the token's issuer, in seconds. */
const CLOCK_SKEW_SECONDS = 30;

export const AUTH_TEXTS = {
  missing: 'Missing authorization header.',
  badHeader: 'Invalid authorization header.',
  expired: 'Expired authorization token.',
  invalid: 'Invalid authorization token.',
} as const;

function unauthorized(message: string): HTTPException {
  return new HTTPException(401, { message });
}

/**
 * Tokens in a token file, told apart by content: a file with an `[AUTH TOKENS]` section is INI
 * and every value in that section is a token; any other file has one token per line. Blank
 * lines and `#` comments are ignored in both (`;` comments too in INI, as configparser does).
 */
export function parseTokenFile(text: string): string[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const isIni = lines.some((line) => /^\[\s*AUTH TOKENS\s*\]$/i.test(line));
  if (!isIni) return lines.filter((line) => line !== '' && !line.startsWith('#'));
  const tokens: string[] = [];
  let inSection = false;
  for (const line of lines) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      inSection = /^\s*AUTH TOKENS\s*$/i.test(section[1] ?? '');
      continue;
    }
    if (!inSection) continue;
    const sep = line.search(/[=:]/);
    const value = sep === -1 ? '' : line.slice(sep + 1).trim();
    if (value !== '') tokens.push(value);
  }
  return tokens;
}

async function loadStaticTokens(path: string): Promise<Buffer[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([`TOKEN_PATH: cannot read the token file ${path}: ${reason}`]);
  }
  const tokens = parseTokenFile(text);
  if (tokens.length === 0) {
    throw new ConfigError([`TOKEN_PATH: the token file ${path} holds no tokens`]);
  }
  return tokens.map(digest);
}

async function loadPublicKey(path: string): Promise<JwtKey> {
  let key: KeyObject;
  try {
    key = createPublicKey(await readFile(path, 'utf8'));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([
      `JWT_PUBLIC_KEY_FILE: cannot read a PEM public key from ${path}: ${reason}`,
    ]);
  }
  if (key.asymmetricKeyType === 'rsa') return { algorithm: 'RS256', key };
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { algorithm: 'ES256', key };
  }
  throw new ConfigError([
    `JWT_PUBLIC_KEY_FILE: ${path} must hold an RSA key (RS256) or a P-256 EC key (ES256)`,
  ]);
}

/** Hashing first makes every comparison the same length, so timingSafeEqual applies. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function matchesStatic(token: string, tokens: readonly Buffer[]): boolean {
  const candidate = digest(token);
  let found = false;
  // No early exit: the time taken does not depend on which token matched.
  for (const known of tokens) found = timingSafeEqual(candidate, known) || found;
  return found;
}

function headerAlgorithm(token: string): string | undefined {
  const decoded = jwt.decode(token, { complete: true });
  return decoded === null ? undefined : decoded.header.alg;
}

function verifyJwt(token: string, keys: readonly JwtKey[], nowMs: number): void {
  // The token's header only selects among the keys we hold; each key admits one fixed algorithm.
  const alg = headerAlgorithm(token);
  const key = keys.find((k) => k.algorithm === alg);
  if (key === undefined) throw unauthorized(AUTH_TEXTS.invalid);
  let payload: string | jwt.JwtPayload;
  try {
    payload = jwt.verify(token, key.key, {
      algorithms: [key.algorithm],
      clockTolerance: CLOCK_SKEW_SECONDS,
      clockTimestamp: Math.floor(nowMs / 1000),
    });
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw unauthorized(AUTH_TEXTS.expired);
    throw unauthorized(AUTH_TEXTS.invalid);
  }
  if (typeof payload === 'string' || typeof payload.exp !== 'number') {
    throw unauthorized(AUTH_TEXTS.invalid);
  }
}

/** Builds the authenticator from the configured sources; reads the token and key files once. */
export async function loadAuthenticator(
  auth: AuthConfig,
  env?: { now?: () => number },
): Promise<Authenticator> {
  const now = env?.now ?? Date.now;
  const staticTokens = auth.tokenPath ? await loadStaticTokens(auth.tokenPath) : [];
  const keys: JwtKey[] = [];
  if (auth.secretKey) keys.push({ algorithm: 'HS256', key: auth.secretKey });
  if (auth.publicKeyFile) keys.push(await loadPublicKey(auth.publicKeyFile));
  if (staticTokens.length === 0 && keys.length === 0) {
    throw new ConfigError([
      'ENABLE_TOKEN_AUTH: no token source configured (set TOKEN_PATH, SECRET_KEY or JWT_PUBLIC_KEY_FILE)',
    ]);
  }
  return {
    verify(header) {
      if (header === undefined || header.trim() === '') throw unauthorized(AUTH_TEXTS.missing);
      const match = /^Bearer +(\S+) *$/i.exec(header.trim());
      const token = match?.[1];
      if (token === undefined) throw unauthorized(AUTH_TEXTS.badHeader);
      if (staticTokens.length > 0 && matchesStatic(token, staticTokens)) return;
      if (keys.length === 0) throw unauthorized(AUTH_TEXTS.invalid);
      verifyJwt(token, keys, now());
    },
  };
}
