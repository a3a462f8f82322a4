import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendName, JobNameRule } from '../../src/backends/backend.js';
import { InvalidSpecError, ValidationError } from '../../src/domain/errors.js';
import { pyInt, pyRepr, pyStr } from '../../src/http/wire/pyint.js';
import { jidProblem, parseCreateRequest } from '../../src/http/wire/request.js';
import type { CreateRequest } from '../../src/http/wire/request.js';
import { sampleBody } from '../fixtures.js';

const MISSING_ANY =
  'Missing required parameter in the JSON body or the post body or the query string';
const MISSING_JSON = 'Missing required parameter in the JSON body';
const LIST = 'must be a JSON list of strings';
const PATH_RULE = "must be a relative path under storeBase without empty, '.' or '..' segments";
const BAD_ENV = '"env" must be a list of "key=value" strings';

const RULES: Record<BackendName, JobNameRule> = {
  docker: {
    pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/,
    maxLength: 63,
    rule: "2-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
  },
  podman: {
    pattern: /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/,
    maxLength: 63,
    rule: "2-63 letters, digits, '_', '.' or '-', starting with a letter or digit",
  },
  swarm: {
    pattern: /^[A-Za-z0-9](?:[-_A-Za-z0-9]*[A-Za-z0-9])?$/,
    maxLength: 63,
    rule: "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit",
  },
  kubernetes: {
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    maxLength: 63,
    rule: "1-63 lower-case letters, digits or '-', starting and ending with a letter or digit",
  },
  openshift: {
    pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    maxLength: 63,
    rule: "1-63 lower-case letters, digits or '-', starting and ending with a letter or digit",
  },
  slurm: {
    pattern: /^[A-Za-z0-9](?:[-_A-Za-z0-9]*[A-Za-z0-9])?$/,
    maxLength: 100,
    rule: "1-100 letters, digits, '-' or '_', starting and ending with a letter or digit",
  },
  memory: { pattern: /^[^/]+$/, maxLength: 63, rule: "1-63 characters, none of them '/'" },
};

/** What pfcon 5.2 sends for a ds plugin. */
const body = sampleBody;

function parse(
  b: Record<string, unknown>,
  query: Record<string, string> = {},
  backend: BackendName = 'kubernetes',
): CreateRequest {
  return parseCreateRequest(b, query, RULES[backend], backend);
}

/** The bundle of the ValidationError that parsing throws (fails the test if it does not). */
function bundleOf(
  b: Record<string, unknown>,
  query: Record<string, string> = {},
  backend: BackendName = 'kubernetes',
) {
  try {
    parse(b, query, backend);
  } catch (err) {
    if (err instanceof ValidationError) return err.fields;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

/** The one field's text in the bundle. */
function fieldError(field: string, value: unknown): string | undefined {
  return bundleOf(body({ [field]: value }))[field];
}

function plainError(b: Record<string, unknown>): string {
  try {
    parse(b);
  } catch (err) {
    if (err instanceof InvalidSpecError) return err.message;
    throw err;
  }
  throw new Error('expected an InvalidSpecError');
}

describe('parseCreateRequest: a valid v6 body', () => {
  it('maps every field', () => {
    expect(parse(body({ env: ['A=1', 'B=x=y'] }))).toEqual({
      jid: 'chris-jid-42',
      args: ['--saveinputmeta', '--saveoutputmeta', '--prefix', 'hello_'],
      argsPathFlags: [],
      auid: 'cube',
      numberOfWorkers: 1,
      cpuLimit: 1000,
      memoryLimit: 200,
      gpuLimit: 0,
      image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
      entrypoint: ['simpledsapp'],
      type: 'ds',
      env: [
        ['A', '1'],
        ['B', 'x=y'],
      ],
      inputDir: 'key-chris-jid-42/incoming',
      outputDir: 'key-chris-jid-42/outgoing',
    });
  });

  it('ignores unknown fields and defaults the optional ones', () => {
    const b = body({ surprise: { deep: [1] } });
    delete b.args_path_flags;
    delete b.env;
    const req = parse(b);
    expect(req.argsPathFlags).toEqual([]);
    expect(req.env).toEqual([]);
  });

  it('accepts an empty args list', () => {
    expect(parse(body({ args: [] })).args).toEqual([]);
  });

  it('accepts every type', () => {
    for (const type of ['ds', 'fs', 'ts']) expect(parse(body({ type })).type).toBe(type);
  });
});

describe('parseCreateRequest: the bundle', () => {
  it('{} gets exactly the twelve required fields, in order, with their texts', () => {
    const bundle = bundleOf({});
    expect(Object.entries(bundle)).toEqual([
      ['jid', MISSING_ANY],
      ['args', MISSING_JSON],
      ['auid', MISSING_ANY],
      ['number_of_workers', MISSING_ANY],
      ['cpu_limit', MISSING_ANY],
      ['memory_limit', MISSING_ANY],
      ['gpu_limit', MISSING_ANY],
      ['image', MISSING_ANY],
      ['entrypoint', MISSING_JSON],
      ['type', MISSING_ANY],
      ['input_dir', MISSING_ANY],
      ['output_dir', MISSING_ANY],
    ]);
  });

  it('two bad fields give exactly those two, in field order (api.md §5.4 example)', () => {
    expect(bundleOf(body({ type: 'xx', cpu_limit: 'abc' }))).toStrictEqual({
      cpu_limit: "invalid literal for int() with base 10: 'abc'",
      type: 'xx is not a valid choice',
    });
    expect(Object.keys(bundleOf(body({ type: 'xx', cpu_limit: 'abc' })))).toEqual([
      'cpu_limit',
      'type',
    ]);
  });

  it('lists all thirteen fields in pman order when all are bad', () => {
    const bundle = bundleOf({
      output_dir: '..',
      input_dir: 'a//b',
      type: 'xx',
      entrypoint: 'sh',
      image: 'a b',
      gpu_limit: -1,
      memory_limit: 0,
      cpu_limit: '1Gi',
      number_of_workers: [],
      args_path_flags: [1],
      args: '--x',
      jid: 'Bad Name!',
    });
    expect(Object.keys(bundle)).toEqual([
      'jid',
      'args',
      'args_path_flags',
      'auid',
      'number_of_workers',
      'cpu_limit',
      'memory_limit',
      'gpu_limit',
      'image',
      'entrypoint',
      'type',
      'input_dir',
      'output_dir',
    ]);
  });

  it.each([
    'jid',
    'auid',
    'number_of_workers',
    'cpu_limit',
    'memory_limit',
    'gpu_limit',
    'image',
    'type',
    'input_dir',
    'output_dir',
  ])('null %s counts as missing (default location)', (field) => {
    expect(bundleOf(body({ [field]: null }))).toStrictEqual({ [field]: MISSING_ANY });
  });

  it.each(['args', 'entrypoint'])('null %s counts as missing (JSON-only)', (field) => {
    expect(bundleOf(body({ [field]: null }))).toStrictEqual({ [field]: MISSING_JSON });
  });

  it('null optional fields take their defaults', () => {
    const req = parse(body({ args_path_flags: null, env: null }));
    expect(req.argsPathFlags).toEqual([]);
    expect(req.env).toEqual([]);
  });

  it('the error is a ValidationError, not a plain one, even when entrypoint is also empty', () => {
    expect(bundleOf(body({ entrypoint: [], type: 'xx' }))).toStrictEqual({
      type: 'xx is not a valid choice',
    });
  });
});

describe('parseCreateRequest: the query string', () => {
  it('reads default-location fields from the query string when the body lacks them', () => {
    const b = body();
    for (const f of [
      'jid',
      'auid',
      'number_of_workers',
      'cpu_limit',
      'memory_limit',
      'gpu_limit',
      'image',
      'type',
      'input_dir',
      'output_dir',
    ]) {
      delete b[f];
    }
    const req = parse(b, {
      jid: 'from-query',
      auid: 'q',
      number_of_workers: '2',
      cpu_limit: ' 500 ',
      memory_limit: '1_024',
      gpu_limit: '0',
      image: 'img',
      type: 'fs',
      input_dir: '/in/',
      output_dir: 'out',
    });
    expect(req).toMatchObject({
      jid: 'from-query',
      auid: 'q',
      numberOfWorkers: 2,
      cpuLimit: 500,
      memoryLimit: 1024,
      gpuLimit: 0,
      image: 'img',
      type: 'fs',
      inputDir: 'in',
      outputDir: 'out',
    });
  });

  it('prefers the body, and falls back to the query string for a null body value', () => {
    expect(parse(body({ cpu_limit: 700 }), { cpu_limit: '900' }).cpuLimit).toBe(700);
    expect(parse(body({ cpu_limit: null }), { cpu_limit: '900' }).cpuLimit).toBe(900);
  });

  it('never reads JSON-only fields from the query string', () => {
    const b = body();
    delete b.args;
    delete b.entrypoint;
    expect(bundleOf(b, { args: '[]', entrypoint: '["x"]' })).toStrictEqual({
      args: MISSING_JSON,
      entrypoint: MISSING_JSON,
    });
    expect(parse(body(), { env: 'A=b', args_path_flags: '--x' })).toMatchObject({
      env: [],
      argsPathFlags: [],
    });
  });

  it('coerces query-string values like body strings', () => {
    const b = body();
    delete b.cpu_limit;
    expect(bundleOf(b, { cpu_limit: 'abc' })).toStrictEqual({
      cpu_limit: "invalid literal for int() with base 10: 'abc'",
    });
  });
});

describe('parseCreateRequest: integer coercion (api.md §5.2 table)', () => {
  it.each([
    [1000, 1000],
    [1.5, 1],
    [512.9, 512],
    [true, 1],
    ['2000', 2000],
    [' 7 ', 7],
    ['+3', 3],
    ['1_000', 1000],
    ['007', 7],
    ['\t12\n', 12],
    ['\u30008\u2003', 8],
    [2 ** 53 - 1, 2 ** 53 - 1],
    ['9007199254740991', 9007199254740991],
  ])('cpu_limit %j → %d', (value, expected) => {
    expect(parse(body({ cpu_limit: value })).cpuLimit).toBe(expected);
  });

  it.each([
    [false, 0],
    [-0.5, 0],
    [0.9, 0],
    ['-0', 0],
  ])('gpu_limit %j → %d', (value, expected) => {
    const got = parse(body({ gpu_limit: value })).gpuLimit;
    expect(got).toBe(expected);
    expect(Object.is(got, -0)).toBe(false);
  });

  it.each([
    ['abc', "invalid literal for int() with base 10: 'abc'"],
    ['1.5', "invalid literal for int() with base 10: '1.5'"],
    ['1Gi', "invalid literal for int() with base 10: '1Gi'"],
    ['', "invalid literal for int() with base 10: ''"],
    ['0x10', "invalid literal for int() with base 10: '0x10'"],
    ['1__0', "invalid literal for int() with base 10: '1__0'"],
    ['_1', "invalid literal for int() with base 10: '_1'"],
    ['1_', "invalid literal for int() with base 10: '1_'"],
    ['+_1', "invalid literal for int() with base 10: '+_1'"],
    ['- 1', "invalid literal for int() with base 10: '- 1'"],
    ['1 0', "invalid literal for int() with base 10: '1 0'"],
    ["it's", 'invalid literal for int() with base 10: "it\'s"'],
    ['\x1c5\x1f', "invalid literal for int() with base 10: '\\x1c5\\x1f'"],
    ['a\\b', "invalid literal for int() with base 10: 'a\\\\b'"],
    ['é✓', "invalid literal for int() with base 10: 'é✓'"],
    ['١٢', "invalid literal for int() with base 10: '١٢'"],
    [[], "int() argument must be a string, a bytes-like object or a real number, not 'list'"],
    [[1], "int() argument must be a string, a bytes-like object or a real number, not 'list'"],
    [{}, "int() argument must be a string, a bytes-like object or a real number, not 'dict'"],
    [{ a: 1 }, "int() argument must be a string, a bytes-like object or a real number, not 'dict'"],
  ])('memory_limit %j → %s', (value, text) => {
    expect(bundleOf(body({ memory_limit: value }))).toStrictEqual({ memory_limit: text });
  });

  it('cuts the repr after 200 characters, as CPython does', () => {
    const text = fieldError('cpu_limit', 'a'.repeat(300));
    expect(text).toBe(`invalid literal for int() with base 10: '${'a'.repeat(199)}`);
  });

  it.each([
    ['number_of_workers', 2 ** 53],
    ['cpu_limit', 1e300],
    ['memory_limit', '9007199254740992'],
    ['gpu_limit', '-99999999999999999999'],
    ['number_of_workers', '1' + '0'.repeat(5000)],
  ])('%s = %j is out of range', (field, value) => {
    expect(fieldError(field, value)).toBe(`${field} is out of range`);
  });

  it.each([
    ['number_of_workers', 0, 'number_of_workers must be at least 1, got 0'],
    ['number_of_workers', '-3', 'number_of_workers must be at least 1, got -3'],
    ['cpu_limit', 0.5, 'cpu_limit must be at least 1, got 0'],
    ['cpu_limit', false, 'cpu_limit must be at least 1, got 0'],
    ['memory_limit', -5, 'memory_limit must be at least 1, got -5'],
    ['memory_limit', -1.5, 'memory_limit must be at least 1, got -1'],
    ['gpu_limit', -1, 'gpu_limit must be at least 0, got -1'],
    ['gpu_limit', '-9007199254740991', 'gpu_limit must be at least 0, got -9007199254740991'],
  ])('range rule: %s = %j', (field, value, text) => {
    expect(bundleOf(body({ [field]: value }))).toStrictEqual({ [field]: text });
  });
});

describe('pyInt agrees with a reference implementation of Python int()', () => {
  /** Python's int(str) for ASCII digits, written the slow and obvious way. */
  function reference(s: string): bigint | 'invalid' {
    const spaces = new Set([...' \t\n\v\f\r\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000']);
    for (let c = 0x2000; c <= 0x200a; c++) spaces.add(String.fromCharCode(c));
    const chars = [...s];
    let i = 0;
    let j = chars.length;
    while (i < j && spaces.has(chars[i] ?? '')) i++;
    while (j > i && spaces.has(chars[j - 1] ?? '')) j--;
    let core = chars.slice(i, j);
    let negative = false;
    if (core[0] === '+' || core[0] === '-') {
      negative = core[0] === '-';
      core = core.slice(1);
    }
    if (core.length === 0) return 'invalid';
    let digits = '';
    for (let k = 0; k < core.length; k++) {
      const c = core[k] ?? '';
      if (c >= '0' && c <= '9') digits += c;
      else if (c === '_') {
        const before = core[k - 1] ?? '';
        const after = core[k + 1] ?? '';
        if (!(before >= '0' && before <= '9' && after >= '0' && after <= '9')) return 'invalid';
      } else return 'invalid';
    }
    const n = BigInt(digits);
    return negative ? -n : n;
  }

  const alphabet = fc.constantFrom(...'0123456789_+- \t\n\u3000\u2003\x1c.ea');

  it('on strings made of digit-like pieces', () => {
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 25 }), (s) => {
        const expected = reference(s);
        const got = pyInt(s);
        if (expected === 'invalid') {
          expect(got).toEqual({
            ok: false,
            reason: 'invalid',
            message: `invalid literal for int() with base 10: ${pyRepr(s)}`,
          });
        } else if (
          expected > BigInt(Number.MAX_SAFE_INTEGER) ||
          expected < -BigInt(Number.MAX_SAFE_INTEGER)
        ) {
          expect(got).toEqual({ ok: false, reason: 'range' });
        } else {
          expect(got).toEqual({ ok: true, value: Number(expected) });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('on well-formed literals: the value of the digits', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', ' ', '\t', '  '),
        fc.constantFrom('', '+', '-'),
        fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 4 }),
        (pad, sign, groups) => {
          const literal = groups.map(String).join('_');
          const expected = Number(`${sign}${groups.map(String).join('')}`) + 0;
          expect(pyInt(`${pad}${sign}${literal}${pad}`)).toEqual({ ok: true, value: expected });
        },
      ),
    );
  });

  it('on numbers: truncation toward zero, or out of range', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const t = Math.trunc(n) + 0;
        expect(pyInt(n)).toEqual(
          Number.isSafeInteger(t) ? { ok: true, value: t } : { ok: false, reason: 'range' },
        );
      }),
    );
  });
});

describe('pyRepr and pyStr', () => {
  // Expected values printed by CPython 3.11's repr().
  it.each([
    ['abc', "'abc'"],
    ["it's", `"it's"`],
    ['say "hi"', `'say "hi"'`],
    [`both ' and "`, `'both \\' and "'`],
    ['back\\slash', "'back\\\\slash'"],
    ['tab\tnl\n\r', "'tab\\tnl\\n\\r'"],
    ['\x00\x7f', "'\\x00\\x7f'"],
    ['é✓', "'é✓'"],
    ['\u200b', "'\\u200b'"],
    ['\xa0', "'\\xa0'"],
    ['😀', "'😀'"],
    ['\ud800', "'\\ud800'"],
    ['', "''"],
  ])('repr(%j) = %s', (s, expected) => {
    expect(pyRepr(s)).toBe(expected);
  });

  it.each([
    ['ds', 'ds'],
    [5, '5'],
    [1.5, '1.5'],
    [1e16, '1e+16'],
    [1.5e-5, '1.5e-05'],
    [true, 'True'],
    [['ds', { a: 1.5 }], "['ds', {'a': 1.5}]"],
  ])('str(%j) = %s', (value, expected) => {
    expect(pyStr(value)).toBe(expected);
  });
});

describe('parseCreateRequest: jid', () => {
  it('turns an integer into its decimal text', () => {
    expect(parse(body({ jid: 42 })).jid).toBe('42');
  });

  it('strips leading slashes', () => {
    expect(parse(body({ jid: '//chris-jid-1' })).jid).toBe('chris-jid-1');
  });

  it('names the kubernetes rule (api.md §5.3 example)', () => {
    expect(fieldError('jid', 'Bad Name!')).toBe(
      `invalid job id "Bad Name!": on kubernetes a job id must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit`,
    );
  });

  it.each<[BackendName, string]>([
    ['docker', 'x'],
    ['docker', '-x'],
    ['swarm', 'a.b'],
    ['swarm', 'a-'],
    ['kubernetes', 'Upper'],
    ['openshift', 'a_b'],
    ['memory', 'a/b'],
    ['memory', '/'],
  ])('on %s refuses %j', (backend, jid) => {
    expect(bundleOf(body({ jid }), {}, backend)).toStrictEqual({
      jid: `invalid job id ${JSON.stringify(jid.replace(/^\/+/, ''))}: on ${backend} a job id must be ${RULES[backend].rule}`,
    });
  });

  it.each<[BackendName, string]>([
    ['docker', 'ab'],
    ['docker', 'A_b.c-d'],
    ['swarm', 'a_-b'],
    ['kubernetes', 'chris-jid-42'],
    ['memory', 'Any thing! é'],
  ])('on %s accepts %j', (backend, jid) => {
    expect(parse(body({ jid }), {}, backend).jid).toBe(jid);
  });

  it.each<BackendName>(['docker', 'swarm', 'kubernetes', 'openshift', 'memory'])(
    'on %s: at most 63 characters, and "jobs" is reserved',
    (backend) => {
      expect(parse(body({ jid: 'a'.repeat(63) }), {}, backend).jid).toHaveLength(63);
      expect(bundleOf(body({ jid: 'a'.repeat(64) }), {}, backend).jid).toBe(
        `invalid job id "${'a'.repeat(64)}": on ${backend} a job id must be ${RULES[backend].rule}`,
      );
      expect(bundleOf(body({ jid: 'jobs' }), {}, backend).jid).toBe(
        'invalid job id "jobs": "jobs" is reserved',
      );
      expect(bundleOf(body({ jid: '/jobs' }), {}, backend).jid).toBe(
        'invalid job id "jobs": "jobs" is reserved',
      );
    },
  );

  it.each([true, 1.5, [], {}])('refuses a %j jid', (jid) => {
    expect(fieldError('jid', jid)).toBe('must be a string or an integer');
  });

  it('jidProblem alone', () => {
    expect(jidProblem('chris-jid-1', RULES.kubernetes, 'kubernetes')).toBeUndefined();
    expect(jidProblem('x y', RULES.docker, 'docker')).toBe(
      `invalid job id "x y": on docker a job id must be ${RULES.docker.rule}`,
    );
  });

  it('checks the length before the pattern, so an over-long jid never reaches the pattern', () => {
    const seen: string[] = [];
    const pattern = /^[a-z]+$/;
    const spy: JobNameRule = {
      ...RULES.kubernetes,
      pattern: Object.assign(pattern, {
        test: (s: string) => {
          seen.push(s);
          return RegExp.prototype.test.call(pattern, s);
        },
      }),
    };
    expect(jidProblem('a'.repeat(64), spy, 'kubernetes')).toBe(
      `invalid job id "${'a'.repeat(64)}": on kubernetes a job id must be ${spy.rule}`,
    );
    expect(seen).toEqual([]);
    expect(jidProblem('abc', spy, 'kubernetes')).toBeUndefined();
    expect(seen).toEqual(['abc']);
  });
});

describe('parseCreateRequest: auid, image, type', () => {
  it('auid accepts a string or an integer (pman took str() of it): it is ignored', () => {
    expect(parse(body({ auid: 7 })).auid).toBe('7');
    expect(parse(body({ auid: 'cube' })).auid).toBe('cube');
  });

  it.each([
    ['', 'must not be empty'],
    ['a b', 'must not contain whitespace'],
    ['img\n', 'must not contain whitespace'],
    [5, 'must be a string'],
    [['img'], 'must be a string'],
  ])('image %j → %s', (image, text) => {
    expect(bundleOf(body({ image }))).toStrictEqual({ image: text });
  });

  it.each([
    ['xx', 'xx is not a valid choice'],
    ['DS', 'DS is not a valid choice'],
    ['', ' is not a valid choice'],
    [5, '5 is not a valid choice'],
    [true, 'True is not a valid choice'],
    [['ds'], "['ds'] is not a valid choice"],
  ])('type %j → %s', (type, text) => {
    expect(bundleOf(body({ type }))).toStrictEqual({ type: text });
  });
});

describe('parseCreateRequest: list fields', () => {
  it.each(['args', 'args_path_flags', 'entrypoint'])(
    '%s must be a JSON list of strings',
    (field) => {
      for (const bad of ['--x', 5, { a: 'b' }, [1], ['a', null], [['a']], true]) {
        expect(bundleOf(body({ [field]: bad }))).toStrictEqual({ [field]: LIST });
      }
    },
  );

  it('keeps the lists as sent', () => {
    const req = parse(
      body({
        args: ['--dir', 'x', ''],
        args_path_flags: ['--dir', '--dir'],
        entrypoint: ['python', 'a.py'],
      }),
    );
    expect(req).toMatchObject({
      args: ['--dir', 'x', ''],
      argsPathFlags: ['--dir', '--dir'],
      entrypoint: ['python', 'a.py'],
    });
  });

  it('an empty entrypoint is a plain 400 after the bundle', () => {
    expect(plainError(body({ entrypoint: [] }))).toBe('"entrypoint" cannot be empty');
  });

  it('the entrypoint check comes before the env check', () => {
    expect(plainError(body({ entrypoint: [], env: 'x' }))).toBe('"entrypoint" cannot be empty');
  });
});

describe('parseCreateRequest: env', () => {
  it.each([
    ['not an array', 'A=b'],
    ['an object', { A: 'b' }],
    ['an element without =', ['A=b', 'NOPE']],
    ['an empty key', ['=b']],
    ['a number element', ['A=b', 5]],
    ['a null element', [null]],
  ])('%s → plain 400', (_what, env) => {
    expect(plainError(body({ env }))).toBe(BAD_ENV);
  });

  it('splits at the first = and keeps request order and duplicates', () => {
    expect(parse(body({ env: ['B=2', 'A=b=c', 'EMPTY=', 'B=3'] })).env).toEqual([
      ['B', '2'],
      ['A', 'b=c'],
      ['EMPTY', ''],
      ['B', '3'],
    ]);
  });

  it('bad env after a bundle error still reports the bundle', () => {
    expect(bundleOf(body({ env: 'x', image: '' }))).toStrictEqual({ image: 'must not be empty' });
  });
});

describe('parseCreateRequest: input_dir and output_dir', () => {
  it('strips leading and trailing slashes', () => {
    expect(
      parse(body({ input_dir: '/key-x/incoming/', output_dir: '//key-x/outgoing' })),
    ).toMatchObject({
      inputDir: 'key-x/incoming',
      outputDir: 'key-x/outgoing',
    });
  });

  it.each(['/', '', '../../etc', 'a/../b', 'a/./b', 'a//b', '.', 'a\\b', 'a\0b'])(
    '%j breaks the path rule',
    (dir) => {
      expect(bundleOf(body({ input_dir: dir, output_dir: dir }))).toStrictEqual({
        input_dir: PATH_RULE,
        output_dir: PATH_RULE,
      });
    },
  );

  it('a non-string dir must be a string', () => {
    expect(fieldError('output_dir', 5)).toBe('must be a string');
  });
});

describe('parseCreateRequest: bounds on every field (issue 10)', () => {
  const HEX64 = 'a'.repeat(64);

  it.each([
    ['10 000 characters', 'a'.repeat(10_000), 'must be at most 3800 characters'],
    ['5 406 characters', `key-x/${'a'.repeat(5_400)}`, 'must be at most 3800 characters'],
    [
      '257 segments',
      Array.from({ length: 257 }, () => 'a').join('/'),
      'must have at most 256 path segments',
    ],
    ['a 256-byte segment', `key-x/${'a'.repeat(256)}`, 'path segment 2 is longer than 255 bytes'],
    // 128 characters, 256 bytes: NAME_MAX counts bytes.
    ['128 × é', 'é'.repeat(128), 'path segment 1 is longer than 255 bytes'],
    [':', 'key-x/in:/etc', "must not contain ':' or control characters"],
    ['a newline', 'key-x/a\nb', "must not contain ':' or control characters"],
    ['a BEL', 'key-x/a\u0007b', "must not contain ':' or control characters"],
  ])('dir with %s (both dirs, in field order)', (_what, dir, text) => {
    expect(Object.entries(bundleOf(body({ input_dir: dir, output_dir: dir })))).toEqual([
      ['input_dir', text],
      ['output_dir', text],
    ]);
  });

  it('the bounds themselves are allowed: 3800 characters, 256 segments, 255-byte segments', () => {
    const at3799 = Array.from({ length: 19 }, () => 'a'.repeat(199)).join('/');
    expect(at3799).toHaveLength(3799);
    const full = `${at3799}b`;
    expect(full).toHaveLength(3800);
    const at256 = Array.from({ length: 256 }, (_, i) => `s${i}`).join('/');
    const at255 = `key-x/${'é'.repeat(127)}a`;
    const req = parse(body({ input_dir: full, output_dir: at256 }));
    expect(req).toMatchObject({ inputDir: full, outputDir: at256 });
    expect(parse(body({ output_dir: at255 })).outputDir).toBe(at255);
  });

  it("a comma is accepted (CUBE's user folder names hold them; no bind we make splits on it)", () => {
    const dir = 'home/jane/uploads/My Scans, v2';
    expect(parse(body({ input_dir: dir })).inputDir).toBe(dir);
  });

  it('a CUBE-deep feed path (33 segments) is accepted', () => {
    const deep = Array.from({ length: 33 }, (_, i) => `plugin_${i}_id`).join('/');
    expect(parse(body({ output_dir: deep })).outputDir).toBe(deep);
  });

  it('a dir from the query string is bounded too', () => {
    const b = body();
    delete b.input_dir;
    expect(bundleOf(b, { input_dir: 'a'.repeat(4000) })).toStrictEqual({
      input_dir: 'must be at most 3800 characters',
    });
  });

  it.each([
    ['busybox'],
    ['busybox:1.36'],
    ['fnndsc/pl-dircopy'],
    ['ghcr.io/fnndsc/pl-simpledsapp:2.1.0'],
    ['127.0.0.1:5999/pman-ts/busybox:test'],
    ['localhost:5000/a/b__c-d.e---f:T_1.x'],
    [`docker.io/library/busybox@sha256:${HEX64}`],
    [`busybox:1.36@sha256:${HEX64}`],
    ['[::1]:5000/x:y'],
    ['Registry.Example.COM/team/app'],
  ])('image %j is a valid reference', (image) => {
    expect(parse(body({ image })).image).toBe(image);
  });

  it.each([
    ['513 characters', 'a'.repeat(513), 'must be at most 512 characters'],
    ['a megabyte', 'x'.repeat(1024 * 1024), 'must be at most 512 characters'],
    ['Busybox', 'Busybox', 'is not a valid image reference: each part of the repository path'],
    [
      'fnndsc//pl-dircopy',
      'fnndsc//pl-dircopy',
      'is not a valid image reference: each part of the repository path',
    ],
    [
      'fnndsc/-pl',
      'fnndsc/-pl',
      'is not a valid image reference: each part of the repository path',
    ],
    [
      'fnndsc/pl..x',
      'fnndsc/pl..x',
      'is not a valid image reference: each part of the repository path',
    ],
    ['busybox:', 'busybox:', 'is not a valid image reference: the tag must be'],
    ['busybox:.x', 'busybox:.x', 'is not a valid image reference: the tag must be'],
    [
      'a 129-character tag',
      `busybox:${'t'.repeat(129)}`,
      'is not a valid image reference: the tag must be',
    ],
    [
      'busybox@sha256:abc',
      'busybox@sha256:abc',
      'is not a valid image reference: the digest must be',
    ],
    [
      `busybox@sha256:${HEX64}0`,
      `busybox@sha256:${HEX64}0`,
      'is not a valid image reference: a sha256 digest has 64',
    ],
    ['host:99999999/x', 'host:99999999/x', 'is not a valid image reference: the registry must be'],
    ['-host.io/x', '-host.io/x', 'is not a valid image reference: the registry must be'],
    [
      'a 256-character name',
      `${'a'.repeat(256)}:1`,
      'is not a valid image reference: the name is longer than 255',
    ],
    ['img"; rm -rf /', 'img"; rm -rf /', 'must not contain whitespace'],
    ['img;rm', 'img;rm', 'is not a valid image reference: each part of the repository path'],
  ])('image %s → %s…', (_what, image, text) => {
    expect(fieldError('image', image)).toMatch(new RegExp(`^${escapeRegExp(text)}`));
  });

  it('the image check is linear: a 500-character adversarial reference is answered at once', () => {
    // Alternating separators and a bad last character: the shape that makes nested-quantifier
    // patterns backtrack. A failing test here would hang, not just fail.
    const image = `${'a.'.repeat(120)}a-_/${'a__'.repeat(60)}!`;
    expect(fieldError('image', image)).toMatch(/^is not a valid image reference/);
  });

  it.each([
    ['entrypoint', Array.from({ length: 257 }, () => 'x'), 'must have at most 256 items'],
    ['args', Array.from({ length: 4097 }, () => 'x'), 'must have at most 4096 items'],
    ['args_path_flags', Array.from({ length: 257 }, () => '--x'), 'must have at most 256 items'],
    ['args', ['ok', 'y'.repeat(32 * 1024 + 1)], 'item 1 is longer than 32768 bytes'],
    ['entrypoint', ['é'.repeat(16 * 1024 + 1)], 'item 0 is longer than 32768 bytes'],
    ['args_path_flags', ['--a\0'], 'item 0 must not contain NUL characters'],
    ['args', ['a\0b'], 'item 0 must not contain NUL characters'],
  ])('%s: %#', (field, value, text) => {
    expect(bundleOf(body({ [field]: value }))).toStrictEqual({ [field]: text });
  });

  it('entrypoint and args together are capped at 128 KiB; the entry names the field that overflowed', () => {
    const big = 'z'.repeat(30_000);
    const TOTAL = 'the command (entrypoint and args) must be at most 131072 bytes';
    expect(bundleOf(body({ args: [big, big, big, big, big] }))).toStrictEqual({ args: TOTAL });
    expect(bundleOf(body({ entrypoint: [big, big, big, big, big] }))).toStrictEqual({
      entrypoint: TOTAL,
    });
    // Just under the cap is fine: 4 × 30 001 bytes + the sample entrypoint.
    expect(parse(body({ args: [big, big, big, big] })).args).toHaveLength(4);
  });

  it.each([
    [{ a: 1 }, 'must be a string'],
    [['cube'], 'must be a string'],
    [true, 'must be a string'],
    [false, 'must be a string'],
    ['u'.repeat(257), 'must be at most 256 characters'],
    ['u'.repeat(1024 * 1024), 'must be at most 256 characters'],
  ])('auid %#', (auid, text) => {
    expect(bundleOf(body({ auid }))).toStrictEqual({ auid: text });
  });

  it('auid of 256 characters is accepted', () => {
    expect(parse(body({ auid: 'u'.repeat(256) })).auid).toHaveLength(256);
  });

  it.each([
    [Array.from({ length: 257 }, (_, i) => `V${i}=1`), 'must have at most 256 items'],
    [['A=1', '1A=x'], 'item 1: the name must be at most 256 letters'],
    [['A B=x'], 'item 0: the name must be at most 256 letters'],
    [['A\nB=x'], 'item 0: the name must be at most 256 letters'],
    [[`${'N'.repeat(257)}=x`], 'item 0: the name must be at most 256 letters'],
    [[`A=${'v'.repeat(32 * 1024 + 1)}`], 'item 0: the value is longer than 32768 bytes'],
    [['A=a\0b'], 'item 0: the value must not contain NUL characters'],
    [
      Array.from({ length: 5 }, (_, i) => `V${i}=${'v'.repeat(30_000)}`),
      'must be at most 131072 bytes in all',
    ],
  ])('env %# is a bundle under env', (env, text) => {
    const bundle = bundleOf(body({ env }));
    expect(Object.keys(bundle)).toEqual(['env']);
    expect(bundle.env).toMatch(new RegExp(`^${escapeRegExp(text)}`));
  });

  it('env names with dots, dashes and underscores, and empty values, stay valid', () => {
    expect(parse(body({ env: ['a.b-c_D=', '_X=1', 'PATH=/bin:/usr/bin'] })).env).toEqual([
      ['a.b-c_D', ''],
      ['_X', '1'],
      ['PATH', '/bin:/usr/bin'],
    ]);
  });

  it.each(['number_of_workers', 'cpu_limit', 'memory_limit', 'gpu_limit'])(
    '%s as a string longer than 4300 characters is out of range before any conversion',
    (field) => {
      // Valid for int() once the padding is stripped, but only after reading all of it.
      expect(bundleOf(body({ [field]: `${' '.repeat(300_000)}7` }))).toStrictEqual({
        [field]: `${field} is out of range`,
      });
      expect(parse(body({ [field]: ` ${'0'.repeat(4290)}7 ` }))).toBeDefined();
    },
  );

  it('every bounded field is reported at once, in pman field order', () => {
    const long = 'a'.repeat(2000);
    const bundle = bundleOf(
      body({
        output_dir: long,
        input_dir: 'a:b',
        image: long,
        auid: { evil: true },
        args: Array.from({ length: 5000 }, () => 'x'),
      }),
    );
    expect(Object.keys(bundle)).toEqual(['args', 'auid', 'image', 'input_dir', 'output_dir']);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
