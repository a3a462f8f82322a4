// Token authentication (api.md §15.2) through the whole app, and the request log.
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import jwt from 'jsonwebtoken';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthenticator, parseTokenFile } from '../../src/http/auth.js';
import type { AuthSettings } from '../../src/config/auth.js';
import { ConfigError } from '../../src/config/errors.js';
import { testApp } from '../fixtures.js';

const NOW_MS = Date.parse('2024-05-07T12:00:00Z');
const NOW_S = NOW_MS / 1000;
const SECRET = 'test-secret-key-for-hs256-32bytes+';
const GOOD = 'good-token-0123456789';
const OTHER = 'other-token-0123456789';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pman-ts-auth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function authApp(auth: Omit<AuthSettings, 'enabled'>, log = pino({ level: 'silent' })) {
  const config: AuthSettings = { enabled: true, ...auth };
  const authenticator = await loadAuthenticator(config, { now: () => NOW_MS });
  return testApp({ config: { auth: config }, authenticator, log });
}

function bearer(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } };
}

describe('token files', () => {
  it('reads an INI file: every value of [AUTH TOKENS] is a token', () => {
    const ini =
      '# tokens\n[AUTH TOKENS]\n# comment\n; comment\ntoken = password-0123456789\npfcon: s3cret=with-equals==\n';
    expect(parseTokenFile(ini)).toEqual(['password-0123456789', 's3cret=with-equals==']);
  });

  it('reads any other file as one token per line', () => {
    expect(parseTokenFile('# tokens\n\n  alpha-0123456789  \nbeta-0123456789x\r\n')).toEqual([
      'alpha-0123456789',
      'beta-0123456789x',
    ]);
  });

  // Item 6 of issue 10: these used to become one-token-per-line files whose header line was a token.
  it.each(['[tokens]', '[AUTH_TOKENS]', '[auth tokens]', '[ AUTH TOKENS ]', '[]'])(
    'a section header %s stops start-up, naming TOKEN_PATH and the line',
    async (header) => {
      const path = await file('mistyped.ini', `${header}\ntoken = password-0123456789\n`);
      const err = await loadAuthenticator({ enabled: true, tokenPath: path }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        `TOKEN_PATH: the token file ${path}, line 1 "${header}" is not the section header [AUTH TOKENS] (the only one allowed, spelled exactly)`,
      ]);
    },
  );

  it('another section next to [AUTH TOKENS] is refused too', () => {
    expect(() =>
      parseTokenFile('[AUTH TOKENS]\na = password-0123456789\n[OTHER]\nx = y\n'),
    ).toThrow(/line 3 "\[OTHER\]"/);
  });

  it('a token shorter than 16 characters, or with whitespace, stops start-up', async () => {
    const short = await file('short.txt', 'long-enough-token-123\nshort\n');
    await expect(loadAuthenticator({ enabled: true, tokenPath: short })).rejects.toThrow(
      /TOKEN_PATH: .*line 2: a token must be at least 16 characters \(this one has 5\)/,
    );
    expect(() => parseTokenFile('[AUTH TOKENS]\nt = two words-0123456789\n')).toThrow(
      /line 2: a token cannot contain whitespace/,
    );
    // A header-less INI file is one token per line: `t = …` has spaces, so it is refused, not used.
    expect(() => parseTokenFile('t = password-0123456789\n')).toThrow(/whitespace/);
    expect(() => parseTokenFile('[AUTH TOKENS]\nno-separator-0123456789\n')).toThrow(
      /line 2: not "label = token"/,
    );
    expect(() => parseTokenFile('a = b-0123456789012345\n[AUTH TOKENS]\n')).toThrow(
      /line 1: a value before \[AUTH TOKENS\]/,
    );
  });

  it('warns when the token file is readable by group or others', async () => {
    const warnings: string[] = [];
    const path = await file('open.txt', `${GOOD}\n`);
    await chmod(path, 0o644);
    await loadAuthenticator({ enabled: true, tokenPath: path }, { warn: (t) => warnings.push(t) });
    expect(warnings).toEqual([
      `TOKEN_PATH: the token file ${path} is readable by group or others (mode 0644); chmod 600 it`,
    ]);
    await chmod(path, 0o600);
    warnings.length = 0;
    await loadAuthenticator({ enabled: true, tokenPath: path }, { warn: (t) => warnings.push(t) });
    expect(warnings).toEqual([]);
  });

  it('an empty, unreadable or missing token file stops start-up with a clear error', async () => {
    const empty = await file('empty.txt', '# only a comment\n\n');
    await expect(loadAuthenticator({ enabled: true, tokenPath: empty })).rejects.toThrow(
      /TOKEN_PATH: .*holds no tokens/,
    );
    await expect(
      loadAuthenticator({ enabled: true, tokenPath: join(dir, 'missing.txt') }),
    ).rejects.toBeInstanceOf(ConfigError);
    if (process.getuid?.() !== 0) {
      const locked = await file('locked.txt', `${GOOD}\n`);
      await chmod(locked, 0o000);
      await expect(loadAuthenticator({ enabled: true, tokenPath: locked })).rejects.toThrow(
        /cannot read/,
      );
    }
  });

  it('no token source at all stops start-up', async () => {
    await expect(loadAuthenticator({ enabled: true })).rejects.toThrow(/no token source/);
  });

  it('a public key that is neither RSA nor P-256 is refused', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const pem = await file(
      'p384.pem',
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    );
    await expect(loadAuthenticator({ enabled: true, publicKeyFile: pem })).rejects.toThrow(
      /JWT_PUBLIC_KEY_FILE/,
    );
  });
});

describe('the four 401s and the open routes', () => {
  it.each([
    [undefined, 'Missing authorization header.'],
    ['', 'Missing authorization header.'],
    ['Basic dXNlcjpwYXNz', 'Invalid authorization header.'],
    ['Bearer', 'Invalid authorization header.'],
    ['Bearer a b', 'Invalid authorization header.'],
    ['Bearer wrong-token', 'Invalid authorization token.'],
  ])('Authorization %j → 401 %s', async (header, message) => {
    const { app } = await authApp({ tokenPath: await file('t1.txt', `${GOOD}\n`) });
    const res = await app.request(
      '/api/v1/',
      header === undefined ? {} : { headers: { Authorization: header } },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.text()).toBe(`{"message": "${message}"}\n`);
  });

  it('guards every /api/v1/ route, and a static token opens them', async () => {
    const { app } = await authApp({ tokenPath: await file('t2.txt', `${GOOD}\n${OTHER}\n`) });
    for (const [method, path] of [
      ['GET', '/api/v1/'],
      ['POST', '/api/v1/'],
      ['GET', '/api/v1/x/'],
      ['DELETE', '/api/v1/x/'],
      ['GET', '/api/v1/jobs/'],
      ['GET', '/api/v1/x/logs/'],
    ] as const) {
      expect((await app.request(path, { method })).status).toBe(401);
    }
    expect((await app.request('/api/v1/', bearer(GOOD))).status).toBe(200);
    expect((await app.request('/api/v1/', bearer(OTHER))).status).toBe(200);
    expect((await app.request('/api/v1/jobs/', bearer(OTHER))).status).toBe(200);
  });

  it('/health and /health/ready stay open', async () => {
    const { app } = await authApp({ secretKey: SECRET });
    expect((await app.request('/health')).status).toBe(200);
    expect((await app.request('/health/ready')).status).toBe(200);
  });

  it('createApp refuses auth without an authenticator', async () => {
    await expect(
      testApp({ config: { auth: { enabled: true, secretKey: SECRET } } }),
    ).rejects.toThrow(/authenticator/);
  });
});

describe('JWTs', () => {
  const hs = (payload: object, secret = SECRET) =>
    jwt.sign({ aud: 'pman', ...payload }, secret, { algorithm: 'HS256' });

  it('HS256 with SECRET_KEY: exp required, expiry and nbf honoured with a small skew', async () => {
    const { app } = await authApp({ secretKey: SECRET });
    const status = async (token: string) => (await app.request('/api/v1/', bearer(token))).status;
    const message = async (token: string) =>
      ((await (await app.request('/api/v1/', bearer(token))).json()) as { message: string })
        .message;

    expect(await status(hs({ sub: 'cube', exp: NOW_S + 60 }))).toBe(200);
    expect(await status(hs({ sub: 'cube', exp: NOW_S - 5 }))).toBe(200); // within the skew
    expect(await message(hs({ sub: 'cube', exp: NOW_S - 3600 }))).toBe(
      'Expired authorization token.',
    );
    expect(await message(hs({ sub: 'cube' }))).toBe('Invalid authorization token.');
    expect(await message(hs({ exp: NOW_S + 60, nbf: NOW_S + 3600 }))).toBe(
      'Invalid authorization token.',
    );
    expect(await message(hs({ exp: NOW_S + 60 }, 'another-secret-of-at-least-32-bytes'))).toBe(
      'Invalid authorization token.',
    );
    expect(await message('not.a.jwt')).toBe('Invalid authorization token.');
    // A JWT header over a payload that is not JSON made jws throw a SyntaxError (a 500).
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const notJson = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64('notjson')}.abc`;
    expect(await status(notJson)).toBe(401);
    expect(await message(notJson)).toBe('Invalid authorization token.');
  });

  // Item 7 of issue 10: audience, issuer and lifetime.
  it('requires aud (JWT_AUDIENCE, default pman) and, when configured, iss', async () => {
    const { app } = await authApp({ secretKey: SECRET });
    const status = async (token: string) => (await app.request('/api/v1/', bearer(token))).status;
    const unsigned = (payload: object) => jwt.sign(payload, SECRET, { algorithm: 'HS256' });
    expect(await status(unsigned({ exp: NOW_S + 60 }))).toBe(401);
    expect(await status(unsigned({ aud: 'cube', exp: NOW_S + 60 }))).toBe(401);
    expect(await status(unsigned({ aud: ['cube', 'pman'], exp: NOW_S + 60 }))).toBe(200);
    const rules = {
      audience: 'pman-prod',
      issuer: 'https://cube.example',
      maxLifetimeSeconds: 3600,
    };
    const { app: strict } = await authApp({ secretKey: SECRET, jwt: rules });
    const strictStatus = async (token: string) =>
      (await strict.request('/api/v1/', bearer(token))).status;
    expect(await strictStatus(hs({ exp: NOW_S + 60 }))).toBe(401);
    expect(await strictStatus(hs({ aud: 'pman-prod', exp: NOW_S + 60 }))).toBe(401);
    const good = { aud: 'pman-prod', iss: 'https://cube.example', exp: NOW_S + 60 };
    expect(await strictStatus(hs(good))).toBe(200);
    expect(await strictStatus(hs({ ...good, iss: 'https://evil.example' }))).toBe(401);
  });

  it('caps exp − iat at JWT_MAX_LIFETIME_SECONDS; no iat, or a future one, counts from now', async () => {
    const rules = { audience: 'pman', maxLifetimeSeconds: 3600 };
    const { app } = await authApp({ secretKey: SECRET, jwt: rules });
    const message = async (token: string) => {
      const res = await app.request('/api/v1/', bearer(token));
      return res.status === 200 ? 'ok' : ((await res.json()) as { message: string }).message;
    };
    const invalid = 'Invalid authorization token.';
    expect(await message(hs({ iat: NOW_S - 60, exp: NOW_S + 3000 }))).toBe('ok');
    expect(await message(hs({ iat: NOW_S - 60, exp: NOW_S + 3600 }))).toBe(invalid);
    expect(await message(hs({ iat: NOW_S - 3000, exp: NOW_S + 60 }))).toBe('ok');
    const noIat = (exp: number) =>
      jwt.sign({ aud: 'pman', exp }, SECRET, { algorithm: 'HS256', noTimestamp: true });
    expect(await message(noIat(NOW_S + 3500))).toBe('ok');
    expect(await message(noIat(NOW_S + 7200))).toBe(invalid);
    expect(await message(hs({ iat: NOW_S + 86_400, exp: NOW_S + 86_400 + 60 }))).toBe(invalid);
    // The default cap is 30 days.
    const { app: byDefault } = await authApp({ secretKey: SECRET });
    const year = hs({ iat: NOW_S, exp: NOW_S + 365 * 86_400 });
    expect((await byDefault.request('/api/v1/', bearer(year))).status).toBe(401);
    const month = hs({ iat: NOW_S, exp: NOW_S + 30 * 86_400 });
    expect((await byDefault.request('/api/v1/', bearer(month))).status).toBe(200);
  });

  it('a SECRET_KEY shorter than 32 bytes is refused', async () => {
    await expect(
      loadAuthenticator({ enabled: true, secretKey: 'test-secret-key-for-hs256' }),
    ).rejects.toThrow(/^SECRET_KEY: must be at least 32 bytes .*\(it has 25\)/);
  });

  it('refuses alg "none"', async () => {
    const { app } = await authApp({ secretKey: SECRET });
    const unsigned = jwt.sign({ aud: 'pman', exp: NOW_S + 60 }, '', { algorithm: 'none' });
    expect((await app.request('/api/v1/', bearer(unsigned))).status).toBe(401);
  });

  it('RS256 with an RSA public key file; the algorithm is never taken from the token', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { app } = await authApp({ publicKeyFile: await file('rsa.pem', pem) });
    const good = jwt.sign({ aud: 'pman', exp: NOW_S + 60 }, privateKey, { algorithm: 'RS256' });
    expect((await app.request('/api/v1/', bearer(good))).status).toBe(200);
    // The classic confusion attack: HS256 "signed" with the public key as the secret.
    const forged = jwt.sign({ aud: 'pman', exp: NOW_S + 60 }, pem, { algorithm: 'HS256' });
    expect((await app.request('/api/v1/', bearer(forged))).status).toBe(401);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const foreign = jwt.sign({ aud: 'pman', exp: NOW_S + 60 }, other, { algorithm: 'RS256' });
    expect((await app.request('/api/v1/', bearer(foreign))).status).toBe(401);
  });

  it('ES256 with a P-256 public key file, next to static tokens and HS256', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { app } = await authApp({
      publicKeyFile: await file('ec.pem', pem),
      secretKey: SECRET,
      tokenPath: await file('t3.ini', '[AUTH TOKENS]\ntoken = password-0123456789\n'),
    });
    const es = jwt.sign({ aud: 'pman', exp: NOW_S + 60 }, privateKey, { algorithm: 'ES256' });
    expect((await app.request('/api/v1/', bearer(es))).status).toBe(200);
    expect((await app.request('/api/v1/', bearer(hs({ exp: NOW_S + 60 })))).status).toBe(200);
    expect((await app.request('/api/v1/', bearer('password-0123456789'))).status).toBe(200);
    const expired = jwt.sign({ aud: 'pman', exp: NOW_S - 3600 }, privateKey, {
      algorithm: 'ES256',
    });
    const res = await app.request('/api/v1/', bearer(expired));
    expect(((await res.json()) as { message: string }).message).toBe(
      'Expired authorization token.',
    );
  });
});

describe('request log', () => {
  it('writes one line per request, without the token', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
        done();
      },
    });
    const log = pino({ level: 'info' }, sink);
    const { app } = await authApp(
      { tokenPath: await file('t4.txt', 'very-secret-token-0123\n') },
      log,
    );
    await app.request('/api/v1/?token=x', bearer('very-secret-token-0123'));
    await app.request('/api/v1/', bearer('wrong-secret-token-0123'));
    const requests = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'request');
    expect(requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/api/v1/', 200],
      ['GET', '/api/v1/', 401],
    ]);
    expect(lines.join('\n')).not.toMatch(/secret-token/);
  });
});
