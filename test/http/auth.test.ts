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
import type { AuthConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/errors.js';
import { testApp } from '../fixtures.js';

const NOW_MS = Date.parse('2024-05-07T12:00:00Z');
const NOW_S = NOW_MS / 1000;
const SECRET = 'test-secret-key-for-hs256';

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

async function authApp(auth: Omit<AuthConfig, 'enabled'>, log = pino({ level: 'silent' })) {
  const config: AuthConfig = { enabled: true, ...auth };
  const authenticator = await loadAuthenticator(config, { now: () => NOW_MS });
  return testApp({ config: { auth: config }, authenticator, log });
}

function bearer(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } };
}

describe('token files', () => {
  it('reads an INI file: every value of [AUTH TOKENS] is a token', () => {
    const ini =
      '[OTHER]\nx = not-a-token\n\n[AUTH TOKENS]\n# comment\ntoken = password\npfcon: s3cret = with equals\n';
    expect(parseTokenFile(ini)).toEqual(['password', 's3cret = with equals']);
  });

  it('reads any other file as one token per line', () => {
    expect(parseTokenFile('# tokens\n\n  alpha  \nbeta\r\n')).toEqual(['alpha', 'beta']);
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
      const locked = await file('locked.txt', 'token\n');
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
    const { app } = await authApp({ tokenPath: await file('t1.txt', 'good-token\n') });
    const res = await app.request(
      '/api/v1/',
      header === undefined ? {} : { headers: { Authorization: header } },
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.text()).toBe(`{"message": "${message}"}\n`);
  });

  it('guards every /api/v1/ route, and a static token opens them', async () => {
    const { app } = await authApp({ tokenPath: await file('t2.txt', 'good-token\nother\n') });
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
    expect((await app.request('/api/v1/', bearer('good-token'))).status).toBe(200);
    expect((await app.request('/api/v1/', bearer('other'))).status).toBe(200);
    expect((await app.request('/api/v1/jobs/', bearer('other'))).status).toBe(200);
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
    jwt.sign(payload, secret, { algorithm: 'HS256' });

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
    expect(await message(hs({ exp: NOW_S + 60 }, 'another-secret'))).toBe(
      'Invalid authorization token.',
    );
    expect(await message('not.a.jwt')).toBe('Invalid authorization token.');
  });

  it('refuses alg "none"', async () => {
    const { app } = await authApp({ secretKey: SECRET });
    const unsigned = jwt.sign({ exp: NOW_S + 60 }, '', { algorithm: 'none' });
    expect((await app.request('/api/v1/', bearer(unsigned))).status).toBe(401);
  });

  it('RS256 with an RSA public key file; the algorithm is never taken from the token', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { app } = await authApp({ publicKeyFile: await file('rsa.pem', pem) });
    const good = jwt.sign({ exp: NOW_S + 60 }, privateKey, { algorithm: 'RS256' });
    expect((await app.request('/api/v1/', bearer(good))).status).toBe(200);
    // The classic confusion attack: HS256 "signed" with the public key as the secret.
    const forged = jwt.sign({ exp: NOW_S + 60 }, pem, { algorithm: 'HS256' });
    expect((await app.request('/api/v1/', bearer(forged))).status).toBe(401);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const foreign = jwt.sign({ exp: NOW_S + 60 }, other, { algorithm: 'RS256' });
    expect((await app.request('/api/v1/', bearer(foreign))).status).toBe(401);
  });

  it('ES256 with a P-256 public key file, next to static tokens and HS256', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const { app } = await authApp({
      publicKeyFile: await file('ec.pem', pem),
      secretKey: SECRET,
      tokenPath: await file('t3.ini', '[AUTH TOKENS]\ntoken = password\n'),
    });
    const es = jwt.sign({ exp: NOW_S + 60 }, privateKey, { algorithm: 'ES256' });
    expect((await app.request('/api/v1/', bearer(es))).status).toBe(200);
    expect((await app.request('/api/v1/', bearer(hs({ exp: NOW_S + 60 })))).status).toBe(200);
    expect((await app.request('/api/v1/', bearer('password'))).status).toBe(200);
    const expired = jwt.sign({ exp: NOW_S - 3600 }, privateKey, { algorithm: 'ES256' });
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
    const { app } = await authApp({ tokenPath: await file('t4.txt', 'very-secret-token\n') }, log);
    await app.request('/api/v1/?token=x', bearer('very-secret-token'));
    await app.request('/api/v1/', bearer('wrong-secret-token'));
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
