// The JWT rules of token authentication (issue 10, item 7): the audience every token must carry,
// the optional issuer, the longest lifetime accepted, and the shortest SECRET_KEY that may sign.
// Read here so the server and `pman token` agree on them.
import type { EnvReader } from './env-reader.js';
import { readAuth } from './shared.js';
import type { AuthConfig } from './shared.js';

export interface JwtRules {
  /** JWT_AUDIENCE: the `aud` every JWT must name. */
  audience: string;
  /** JWT_ISSUER: when set, the `iss` every JWT must carry. */
  issuer?: string;
  /** JWT_MAX_LIFETIME_SECONDS: the longest `exp − iat` accepted (no `iat`: counted from now). */
  maxLifetimeSeconds: number;
}

/** AuthConfig with the JWT rules; `jwt` absent means the defaults. */
export type AuthSettings = AuthConfig & { jwt?: JwtRules };

export const DEFAULT_JWT_RULES: JwtRules = {
  audience: 'pman',
  maxLifetimeSeconds: 30 * 24 * 3600,
};

/** HS256 keys shorter than the hash output are brute-forceable offline from any one token. */
export const MIN_SECRET_KEY_BYTES = 32;

export function readJwtRules(r: EnvReader): JwtRules {
  const issuer = r.string('JWT_ISSUER');
  return {
    audience: r.string('JWT_AUDIENCE') ?? DEFAULT_JWT_RULES.audience,
    ...(issuer !== undefined && { issuer }),
    maxLifetimeSeconds: r.int('JWT_MAX_LIFETIME_SECONDS', DEFAULT_JWT_RULES.maxLifetimeSeconds, {
      min: 1,
    }),
  };
}

/** The SECRET_KEY problem text, or undefined when the key is long enough. */
export function secretKeyProblem(secretKey: string): string | undefined {
  const bytes = Buffer.byteLength(secretKey, 'utf8');
  if (bytes >= MIN_SECRET_KEY_BYTES) return undefined;
  return `must be at least ${MIN_SECRET_KEY_BYTES} bytes to sign or check HS256 tokens (it has ${bytes}); generate one with: openssl rand -hex 32`;
}

/** The auth settings with their JWT rules; with token auth on, a short SECRET_KEY is refused. */
export function readAuthSettings(
  r: EnvReader,
  overrides: { enableTokenAuth?: boolean; tokenPath?: string },
): AuthSettings {
  const auth = readAuth(r, overrides);
  const problem = auth.secretKey === undefined ? undefined : secretKeyProblem(auth.secretKey);
  if (auth.enabled && problem !== undefined) r.problem('SECRET_KEY', problem);
  return { ...auth, jwt: readJwtRules(r) };
}

/** `pman token`'s inputs from the environment, or the problems that stop it. */
export function readTokenSigning(
  r: EnvReader,
): { secretKey: string; rules: JwtRules } | { problems: readonly string[] } {
  const secretKey = r.string('SECRET_KEY');
  const rules = readJwtRules(r);
  if (secretKey === undefined) r.problem('SECRET_KEY', 'required to sign a token');
  else {
    const problem = secretKeyProblem(secretKey);
    if (problem !== undefined) r.problem('SECRET_KEY', problem);
  }
  if (r.problems.length > 0 || secretKey === undefined) return { problems: [...r.problems] };
  return { secretKey, rules };
}
