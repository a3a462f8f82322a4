// Bearer-token authentication (api.md §15.2): static tokens from a file, HS256 JWTs with
// SECRET_KEY, RS256/ES256 JWTs with JWT_PUBLIC_KEY_FILE. The four 401 texts are pfcon's.
import { createHash, createPublicKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { HTTPException } from 'hono/http-exception';
import jwt from 'jsonwebtoken';
import { DEFAULT_JWT_RULES, secretKeyProblem } from '../config/auth.js';
import type { AuthSettings, JwtRules } from '../config/auth.js';
import { ConfigError } from '../config/errors.js';
import { parseTokenFile, TokenFileError } from './token-file.js';

export { parseTokenFile } from './token-file.js';

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

async function loadStaticTokens(path: string, warn: (text: string) => void): Promise<Buffer[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ConfigError([`TOKEN_PATH: cannot read the token file ${path}: ${reason}`]);
  }
  let tokens: string[];
  try {
    tokens = parseTokenFile(text);
  } catch (err) {
    if (!(err instanceof TokenFileError)) throw err;
    throw new ConfigError([`TOKEN_PATH: the token file ${path}, ${err.message}`]);
  }
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o044) !== 0) {
    warn(
      `TOKEN_PATH: the token file ${path} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); chmod 600 it`,
    );
  }
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
  // jws parses a payload it cannot read with an unguarded JSON.parse: a malformed token must be
  // a 401, never a 500.
  try {
    const decoded = jwt.decode(token, { complete: true });
    return decoded === null ? undefined : decoded.header.alg;
  } catch {
    return undefined;
  }
}

function verifyJwt(token: string, keys: readonly JwtKey[], rules: JwtRules, nowMs: number): void {
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
      // A token minted for another service (another audience or issuer) is not ours to accept.
      audience: rules.audience,
      ...(rules.issuer !== undefined && { issuer: rules.issuer }),
    });
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw unauthorized(AUTH_TEXTS.expired);
    throw unauthorized(AUTH_TEXTS.invalid);
  }
  if (typeof payload === 'string' || typeof payload.exp !== 'number') {
    throw unauthorized(AUTH_TEXTS.invalid);
  }
  if (lifetimeSeconds(payload.exp, payload.iat, nowMs) > rules.maxLifetimeSeconds) {
    throw unauthorized(AUTH_TEXTS.invalid);
  }
}

/**
 * exp − iat, where a missing iat, or one in the future, counts from now: otherwise a token could
 * claim a later issue time and stay valid as long as it likes.
 */
function lifetimeSeconds(exp: number, iat: number | undefined, nowMs: number): number {
  const now = nowMs / 1000;
  const issued = iat === undefined ? now : Math.min(iat, now);
  return exp - issued;
}

/** Builds the authenticator from the configured sources; reads the token and key files once. */
export async function loadAuthenticator(
  auth: AuthSettings,
  env?: { now?: () => number; warn?: (text: string) => void },
): Promise<Authenticator> {
  const now = env?.now ?? Date.now;
  const warn = env?.warn ?? (() => undefined);
  const rules = auth.jwt ?? DEFAULT_JWT_RULES;
  const staticTokens = auth.tokenPath ? await loadStaticTokens(auth.tokenPath, warn) : [];
  const keys: JwtKey[] = [];
  if (auth.secretKey) {
    // loadConfig refuses it too; checked again so no caller can build a weak HS256 authenticator.
    const problem = secretKeyProblem(auth.secretKey);
    if (problem !== undefined) throw new ConfigError([`SECRET_KEY: ${problem}`]);
    keys.push({ algorithm: 'HS256', key: auth.secretKey });
  }
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
      verifyJwt(token, keys, rules, now());
    },
  };
}
