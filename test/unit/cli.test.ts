// parseCli: pman 3's flags → overrides or a print/fail action (api.md §15.1); signToken's JWT.
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { DESCRIPTION, SYNOPSIS, parseCli, signToken, verbosityToLogLevel } from '../../src/cli.js';

const VERSION = '1.2.3';
const parse = (...argv: string[]) => parseCli(argv, VERSION);

describe('parseCli', () => {
  it('no flags: serve with no overrides (config defaults apply)', async () => {
    expect(await parse()).toEqual({ kind: 'serve', overrides: {} });
  });

  it('maps every serving flag onto an override', async () => {
    expect(
      await parse(
        '--ip',
        '0.0.0.0',
        '--port',
        '5011',
        '--enableTokenAuth',
        '--tokenPath',
        '/t',
        '-v',
        '3',
      ),
    ).toEqual({
      kind: 'serve',
      overrides: {
        ip: '0.0.0.0',
        port: 5011,
        enableTokenAuth: true,
        tokenPath: '/t',
        logLevel: 'trace',
      },
    });
    expect(await parse('--port=6000', '--verbosity=0')).toEqual({
      kind: 'serve',
      overrides: { port: 6000, logLevel: 'warn' },
    });
  });

  it('--version prints pman’s "Version: <x>"', async () => {
    expect(await parse('--version')).toEqual({ kind: 'print', text: 'Version: 1.2.3' });
  });

  it('-x/--desc and -y/--synopsis print their texts', async () => {
    expect(await parse('-x')).toEqual({ kind: 'print', text: DESCRIPTION });
    expect(await parse('--desc')).toEqual({ kind: 'print', text: DESCRIPTION });
    expect(await parse('-y')).toEqual({ kind: 'print', text: SYNOPSIS });
    expect(await parse('--synopsis')).toEqual({ kind: 'print', text: SYNOPSIS });
  });

  it('-h/--help prints the usage, listing the flags', async () => {
    for (const flag of ['-h', '--help']) {
      const action = await parse(flag);
      expect(action.kind).toBe('print');
      if (action.kind !== 'print') continue;
      for (const name of [
        '--ip',
        '--port',
        '--enableTokenAuth',
        '--tokenPath',
        '--verbosity',
        'token',
      ]) {
        expect(action.text).toContain(name);
      }
    }
  });

  it.each([
    [['--bogus'], /Unknown argument: bogus/],
    [['--containerEnv', 'swarm'], /Unknown argument/],
    [['extra'], /Unknown argument: extra/],
    [['--port', 'abc'], /^--port: "abc" is not a whole number from 0 to 65535$/],
    [['--port', '70000'], /^--port: "70000" is not a whole number from 0 to 65535$/],
    [['-v', '-1'], /^--verbosity/],
  ])('%j is a usage error', async (argv, message) => {
    const action = await parseCli(argv, VERSION);
    expect(action.kind).toBe('fail');
    if (action.kind === 'fail') expect(action.message).toMatch(message);
  });

  it('token subcommand with its defaults and options', async () => {
    expect(await parse('token')).toEqual({ kind: 'token', expiresIn: '2d' });
    expect(await parse('token', '--expiresIn', '12h', '--subject', 'pfcon')).toEqual({
      kind: 'token',
      expiresIn: '12h',
      subject: 'pfcon',
    });
    expect((await parse('token', '--nope')).kind).toBe('fail');
  });
});

describe('verbosityToLogLevel', () => {
  it.each([
    [0, 'warn'],
    [1, 'info'],
    [2, 'debug'],
    [3, 'trace'],
    [9, 'trace'],
  ] as const)('%i → %s', (level, name) => {
    expect(verbosityToLogLevel(level)).toBe(name);
  });
});

describe('signToken', () => {
  it('signs HS256 with the secret, a subject and the expiry', () => {
    const token = signToken('s3cret', { expiresIn: '2d', subject: 'pfcon' });
    const payload = jwt.verify(token, 's3cret', { algorithms: ['HS256'] });
    if (typeof payload === 'string') throw new Error('expected an object payload');
    expect(payload.sub).toBe('pfcon');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(2 * 86_400);
    expect(jwt.decode(token, { complete: true })?.header.alg).toBe('HS256');
  });

  it('reads a bare number as seconds, not milliseconds', () => {
    const payload = jwt.decode(signToken('k', { expiresIn: '3600' }));
    if (payload === null || typeof payload === 'string') throw new Error('expected a payload');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
  });

  it('refuses an unreadable duration', () => {
    expect(() => signToken('k', { expiresIn: 'soon' })).toThrow(/expiresIn/);
  });

  // Item 7 of issue 10: the server requires aud (and iss when configured) and caps the lifetime.
  it('sets aud (default pman) and, when configured, iss', () => {
    const plain = jwt.decode(signToken('k', { expiresIn: '1h' })) as jwt.JwtPayload;
    expect(plain.aud).toBe('pman');
    expect(plain.iss).toBeUndefined();
    const rules = {
      audience: 'pman-prod',
      issuer: 'https://cube.example',
      maxLifetimeSeconds: 7200,
    };
    const custom = jwt.decode(signToken('k', { expiresIn: '1h' }, rules)) as jwt.JwtPayload;
    expect(custom).toMatchObject({ aud: 'pman-prod', iss: 'https://cube.example' });
  });

  it('refuses an expiry beyond JWT_MAX_LIFETIME_SECONDS', () => {
    const rules = { audience: 'pman', maxLifetimeSeconds: 3600 };
    expect(() => signToken('k', { expiresIn: '2h' }, rules)).toThrow(
      /"2h" is longer than JWT_MAX_LIFETIME_SECONDS \(3600 s\)/,
    );
    expect(() => signToken('k', { expiresIn: '31d' })).toThrow(/JWT_MAX_LIFETIME_SECONDS/);
    expect(() => signToken('k', { expiresIn: '3600' }, rules)).not.toThrow();
  });
});
