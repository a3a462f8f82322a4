import { describe, expect, it } from 'vitest';
import type { JobNameRule } from '../../src/backends/backend.js';
import { buildCommand, renderCmd } from '../../src/domain/command.js';
import { ValidationError } from '../../src/domain/errors.js';
import { detectShape, posixJoin, shellSplit, toV6Body } from '../../src/http/wire/legacy.js';
import { parseCreateRequest } from '../../src/http/wire/request.js';
import type { CreateRequest } from '../../src/http/wire/request.js';

const MISSING_ANY =
  'Missing required parameter in the JSON body or the post body or the query string';

const SWARM: JobNameRule = {
  pattern: /^[A-Za-z0-9](?:[-_A-Za-z0-9]*[A-Za-z0-9])?$/,
  maxLength: 63,
  rule: "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit",
};

function parse(body: Record<string, unknown>, query: Record<string, string> = {}): CreateRequest {
  return parseCreateRequest(body, query, SWARM, 'swarm');
}

function bundleOf(body: Record<string, unknown>, query: Record<string, string> = {}) {
  try {
    parse(body, query);
  } catch (err) {
    if (err instanceof ValidationError) return err.fields;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

/** The pman 3 README's HTTPie create: every value a string. */
function readmeBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cmd_args: '--saveinputmeta --saveoutputmeta --dir cube/uploads',
    cmd_path_flags: '--dir',
    auid: 'cube',
    number_of_workers: '1',
    cpu_limit: '1000',
    memory_limit: '200',
    gpu_limit: '0',
    image: 'fnndsc/pl-dircopy',
    selfexec: 'dircopy',
    selfpath: '/usr/local/bin',
    execshell: 'python',
    type: 'fs',
    jid: 'chris-jid-1',
    ...overrides,
  };
}

/** What pfcon v5.0.0 / 4.1.x / v5.1.0 sent: v6 lists, no input_dir/output_dir. */
function pman45Body(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    jid: 'chris-jid-7',
    args: ['--prefix', 'hi_'],
    args_path_flags: [],
    auid: 'cube',
    number_of_workers: 1,
    cpu_limit: 1000,
    memory_limit: 200,
    gpu_limit: 0,
    image: 'fnndsc/pl-simpledsapp',
    entrypoint: ['simpledsapp'],
    type: 'ds',
    env: ['A=1'],
    ...overrides,
  };
}

describe('detectShape', () => {
  it.each([
    [{}, {}, 'v6'],
    [{ entrypoint: ['x'], input_dir: 'a', output_dir: 'b' }, {}, 'v6'],
    [{ entrypoint: ['x'], input_dir: 'a' }, {}, 'v6'],
    [{ entrypoint: ['x'], output_dir: 'b' }, {}, 'v6'],
    [{ entrypoint: ['x'] }, { input_dir: 'a' }, 'v6'],
    [{ entrypoint: ['x'] }, {}, 'pman45'],
    [{ entrypoint: ['x'], input_dir: null, output_dir: null }, {}, 'pman45'],
    [{ entrypoint: ['x'], cmd_args: 'a' }, {}, 'pman45'],
    [{ entrypoint: ['x'], selfexec: 'a', input_dir: 'a', output_dir: 'b' }, {}, 'v6'],
    [{ cmd_args: '' }, {}, 'pman3'],
    [{ selfexec: 'x' }, {}, 'pman3'],
    [{ selfpath: '/bin' }, {}, 'pman3'],
    [{ execshell: 'python' }, {}, 'pman3'],
    [{ cmd_path_flags: '--dir' }, {}, 'pman3'],
    [{}, { cmd_args: 'x' }, 'pman3'],
    [{ cmd_args: null }, {}, 'v6'],
    [{ entrypoint: null, selfexec: 'x' }, {}, 'pman3'],
  ])('%j with query %j → %s', (body, query, shape) => {
    expect(detectShape(body, query)).toBe(shape);
  });
});

describe('the pman 3 shape', () => {
  it('maps the README HTTPie example exactly as api.md §5.5 states', () => {
    const req = parse(readmeBody());
    expect(req).toEqual({
      jid: 'chris-jid-1',
      args: ['--saveinputmeta', '--saveoutputmeta', '--dir', 'cube/uploads'],
      argsPathFlags: ['--dir'],
      auid: 'cube',
      numberOfWorkers: 1,
      cpuLimit: 1000,
      memoryLimit: 200,
      gpuLimit: 0,
      image: 'fnndsc/pl-dircopy',
      entrypoint: ['python', '/usr/local/bin/dircopy'],
      type: 'fs',
      env: [],
      inputDir: 'key-chris-jid-1/incoming',
      outputDir: 'key-chris-jid-1/outgoing',
    });
    const command = buildCommand(req.entrypoint, req.args, req.argsPathFlags, req.type);
    expect(renderCmd(command, 'plain')).toBe(
      'python /usr/local/bin/dircopy --saveinputmeta --saveoutputmeta --dir /share/incoming /share/outgoing',
    );
  });

  it('reads every pman 3 field from the query string too', () => {
    const strings = Object.fromEntries(
      Object.entries(readmeBody()).map(([k, v]) => [k, String(v)]),
    );
    expect(parse({}, strings)).toEqual(parse(readmeBody()));
  });

  it.each([
    [{ execshell: 'python', selfpath: '/usr/local/bin' }, ['python', '/usr/local/bin/dircopy']],
    [{ execshell: 'python', selfpath: '/usr/local/bin/' }, ['python', '/usr/local/bin/dircopy']],
    [{ execshell: '', selfpath: '/usr/local/bin' }, ['/usr/local/bin/dircopy']],
    [{ execshell: undefined, selfpath: '/usr/bin' }, ['/usr/bin/dircopy']],
    [{ execshell: '', selfpath: '' }, ['dircopy']],
    [{ execshell: undefined, selfpath: undefined }, ['dircopy']],
    [{ execshell: null, selfpath: null }, ['dircopy']],
    [{ execshell: 'python3', selfpath: '' }, ['python3', 'dircopy']],
    [{ execshell: '', selfpath: '/usr/bin', selfexec: '/opt/x' }, ['/opt/x']],
  ])('entrypoint from %j → %j', (fields, entrypoint) => {
    expect(parse(readmeBody(fields)).entrypoint).toEqual(entrypoint);
  });

  it('splits cmd_args with shell quoting and cmd_path_flags at commas', () => {
    const req = parse(
      readmeBody({
        cmd_args: `--title 'a b' --x "c \\"d\\"" e\\ f`,
        cmd_path_flags: ' --x , ,--title,',
      }),
    );
    expect(req.args).toEqual(['--title', 'a b', '--x', 'c "d"', 'e f']);
    expect(req.argsPathFlags).toEqual(['--x', '--title']);
  });

  it('an empty cmd_args is no arguments; a missing cmd_path_flags is none', () => {
    const body = readmeBody({ cmd_args: '' });
    delete body.cmd_path_flags;
    expect(parse(body)).toMatchObject({ args: [], argsPathFlags: [] });
  });

  it('an unbalanced quote is a bundle error under cmd_args', () => {
    expect(bundleOf(readmeBody({ cmd_args: '--title "unclosed' }))).toStrictEqual({
      cmd_args: 'No closing quotation',
    });
    expect(bundleOf(readmeBody({ cmd_args: 'end\\' }))).toStrictEqual({
      cmd_args: 'No escaped character',
    });
  });

  it('reports missing pman 3 fields under their pman 3 names, in the documented order', () => {
    const bundle = bundleOf({ execshell: 'python' });
    expect(Object.entries(bundle)).toEqual([
      ['jid', MISSING_ANY],
      ['cmd_args', MISSING_ANY],
      ['auid', MISSING_ANY],
      ['number_of_workers', MISSING_ANY],
      ['cpu_limit', MISSING_ANY],
      ['memory_limit', MISSING_ANY],
      ['gpu_limit', MISSING_ANY],
      ['image', MISSING_ANY],
      ['selfexec', MISSING_ANY],
      ['type', MISSING_ANY],
    ]);
  });

  it('mixes pman 3 and v6 errors in one bundle, in field order', () => {
    const body = readmeBody({
      cmd_args: "'x",
      cpu_limit: 'abc',
      type: 'xx',
      selfpath: 5,
      cmd_path_flags: [1],
    });
    delete body.selfexec;
    expect(Object.entries(bundleOf(body))).toEqual([
      ['cmd_args', 'No closing quotation'],
      ['cmd_path_flags', 'must be a string'],
      ['cpu_limit', "invalid literal for int() with base 10: 'abc'"],
      ['selfexec', MISSING_ANY],
      ['selfpath', 'must be a string'],
      ['type', 'xx is not a valid choice'],
    ]);
  });

  it('refuses an empty selfexec', () => {
    expect(bundleOf(readmeBody({ selfexec: '' }))).toStrictEqual({ selfexec: 'must not be empty' });
  });

  it('takes an already split cmd_args list as is', () => {
    expect(parse(readmeBody({ cmd_args: ['a b', 'c'] })).args).toEqual(['a b', 'c']);
  });

  it('ignores v6 env, args and dirs that a pman 3 body carries', () => {
    const req = parse(readmeBody({ env: ['A=1'], args: ['zzz'], input_dir: 'elsewhere' }));
    expect(req).toMatchObject({
      env: [],
      args: ['--saveinputmeta', '--saveoutputmeta', '--dir', 'cube/uploads'],
    });
    expect(req.inputDir).toBe('key-chris-jid-1/incoming');
  });

  it('derives the dirs from an integer jid and strips its leading slashes', () => {
    expect(parse(readmeBody({ jid: 12 }))).toMatchObject({
      jid: '12',
      inputDir: 'key-12/incoming',
    });
    expect(parse(readmeBody({ jid: '/chris-jid-3' }))).toMatchObject({
      jid: 'chris-jid-3',
      inputDir: 'key-chris-jid-3/incoming',
      outputDir: 'key-chris-jid-3/outgoing',
    });
  });

  it('reports a bad jid alone, not the dirs made from it', () => {
    expect(Object.keys(bundleOf(readmeBody({ jid: 'bad name' })))).toEqual(['jid']);
    expect(Object.keys(bundleOf(readmeBody({ jid: ['x'] })))).toEqual(['jid']);
  });
});

describe('the pman 4/5 shape', () => {
  it('keeps every field and adds the key-<jid> dirs', () => {
    expect(parse(pman45Body())).toEqual({
      jid: 'chris-jid-7',
      args: ['--prefix', 'hi_'],
      argsPathFlags: [],
      auid: 'cube',
      numberOfWorkers: 1,
      cpuLimit: 1000,
      memoryLimit: 200,
      gpuLimit: 0,
      image: 'fnndsc/pl-simpledsapp',
      entrypoint: ['simpledsapp'],
      type: 'ds',
      env: [['A', '1']],
      inputDir: 'key-chris-jid-7/incoming',
      outputDir: 'key-chris-jid-7/outgoing',
    });
  });

  it('a v6 body with only one dir is v6 and misses the other', () => {
    expect(bundleOf(pman45Body({ input_dir: 'in' }))).toStrictEqual({ output_dir: MISSING_ANY });
  });

  it('a missing jid is reported once, under jid', () => {
    const body = pman45Body();
    delete body.jid;
    expect(bundleOf(body)).toStrictEqual({ jid: MISSING_ANY });
  });
});

describe('toV6Body', () => {
  it('passes a v6 body through untouched', () => {
    const body = { entrypoint: ['x'], input_dir: 'a', output_dir: 'b' };
    expect(toV6Body(body, {})).toEqual({ shape: 'v6', body, problems: [], derived: [], names: {} });
  });
});

describe('shellSplit (Python shlex.split, POSIX mode)', () => {
  // Expected values printed by CPython 3.11's shlex.split().
  it.each<[string, string[] | string]>([
    [
      '--saveinputmeta --saveoutputmeta --dir cube/uploads',
      ['--saveinputmeta', '--saveoutputmeta', '--dir', 'cube/uploads'],
    ],
    ["a 'b c' d", ['a', 'b c', 'd']],
    ['a "b \\" c" d', ['a', 'b " c', 'd']],
    ['a\\ b', ['a b']],
    ["a ''", ['a', '']],
    ['a""b', ['ab']],
    ['"a\\$b"', ['a\\$b']],
    ["'a\\b'", ['a\\b']],
    ['x "\\\\"', ['x', '\\']],
    ['  lead  trail  ', ['lead', 'trail']],
    ['', []],
    ['a\tb\nc', ['a', 'b', 'c']],
    ['"unclosed', 'No closing quotation'],
    ["it's", 'No closing quotation'],
    ['end\\', 'No escaped character'],
    ['"a\\', 'No escaped character'],
    ['$HOME *.txt ~', ['$HOME', '*.txt', '~']],
    ['a#b # c', ['a#b', '#', 'c']],
  ])('%j → %j', (input, expected) => {
    expect(shellSplit(input)).toEqual(expected);
  });
});

describe('posixJoin (Python posixpath.join)', () => {
  it.each([
    ['/usr/local/bin', 'dircopy', '/usr/local/bin/dircopy'],
    ['/usr/local/bin/', 'dircopy', '/usr/local/bin/dircopy'],
    ['', 'dircopy', 'dircopy'],
    ['/usr/bin', '/opt/x', '/opt/x'],
    ['rel', 'x', 'rel/x'],
  ])('join(%j, %j) = %j', (dir, name, expected) => {
    expect(posixJoin(dir, name)).toBe(expected);
  });
});

describe('bounds on the old shapes (issue 10)', () => {
  it('a too-long cmd_args is refused before it is split, under its own name', () => {
    expect(bundleOf(readmeBody({ cmd_args: 'a'.repeat(128 * 1024 + 1) }))).toStrictEqual({
      cmd_args: 'must be at most 131072 characters',
    });
  });

  it('bounds found in the mapped v6 values are reported under the pman 3 names', () => {
    const words = Array.from({ length: 4097 }, () => 'w').join(' ');
    expect(bundleOf(readmeBody({ cmd_args: words }))).toStrictEqual({
      cmd_args: 'must have at most 4096 items',
    });
    const flags = Array.from({ length: 257 }, (_, i) => `--f${i}`).join(',');
    expect(bundleOf(readmeBody({ cmd_path_flags: flags }))).toStrictEqual({
      cmd_path_flags: 'must have at most 256 items',
    });
    expect(bundleOf(readmeBody({ selfexec: 'dir\0copy' }))).toStrictEqual({
      selfexec: 'item 1 must not contain NUL characters',
    });
  });

  it.each(['selfexec', 'selfpath', 'execshell'])('%s is at most 4096 characters', (field) => {
    expect(bundleOf(readmeBody({ [field]: 'p'.repeat(4097) }))).toStrictEqual({
      [field]: 'must be at most 4096 characters',
    });
  });

  it('a too-long cmd_path_flags string is refused before it is split', () => {
    expect(bundleOf(readmeBody({ cmd_path_flags: ','.repeat(32 * 1024 + 1) }))).toStrictEqual({
      cmd_path_flags: 'must be at most 32768 characters',
    });
  });

  it('the pman 3 image and auid are bounded like v6 ones', () => {
    expect(bundleOf(readmeBody({ image: 'fnndsc/Pl-dircopy', auid: ['x'] }))).toEqual({
      auid: 'must be a string',
      image: expect.stringMatching(/^is not a valid image reference/) as unknown,
    });
  });

  it('pman 4/5 bodies are bounded like v6 ones (their dirs come from the jid)', () => {
    expect(
      bundleOf(pman45Body({ args: ['a\0'], env: ['A=1'], image: 'x'.repeat(600) })),
    ).toStrictEqual({
      args: 'item 0 must not contain NUL characters',
      image: 'must be at most 512 characters',
    });
    expect(bundleOf(pman45Body({ env: ['1=x'] }))).toStrictEqual({
      env: expect.stringMatching(/^item 0: the name must be/) as unknown,
    });
  });
});
