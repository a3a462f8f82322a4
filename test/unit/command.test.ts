import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildCommand, renderCmd } from '../../src/domain/command.js';
import { shellSplit } from '../../src/http/wire/legacy.js';

const IN = '/share/incoming';
const OUT = '/share/outgoing';

/** The path-flag part alone: entrypoint empty, type fs, the trailing /share/outgoing dropped. */
function localize(args: string[], flags: string[]): string[] {
  return buildCommand([], args, flags, 'fs').slice(0, -1);
}

describe('path-flag localization: pman test_resources.py, all six cases', () => {
  it.each<[string[], string[], string[]]>([
    [[], [], []],
    [['--boolFlag'], [], ['--boolFlag']],
    [['--something', '3'], [], ['--something', '3']],
    [['--something', 'user/uploads/wow.txt'], ['--something'], ['--something', IN]],
    [
      ['--boolFlag', '--something', 'user/uploads/wow.txt', '--foo', 'bar'],
      ['--something'],
      ['--boolFlag', '--something', IN, '--foo', 'bar'],
    ],
    [
      ['-foo', '3', '-bar', '4', '-bam', '5'],
      ['-foo', '-bar'],
      ['-foo', IN, '-bar', IN, '-bam', '5'],
    ],
  ])('%j with flags %j → %j', (args, flags, expected) => {
    expect(localize(args, flags)).toEqual(expected);
  });
});

describe('path-flag localization: more', () => {
  it('a flag in last position is still followed by /share/incoming', () => {
    expect(localize(['--x', '1', '--dir'], ['--dir'])).toEqual(['--x', '1', '--dir', IN]);
  });

  it('the consumed value is not examined as a flag', () => {
    expect(localize(['--a', '--b', 'x'], ['--a', '--b'])).toEqual(['--a', IN, 'x']);
  });

  it('duplicate flags in the list act as one', () => {
    expect(localize(['--a', 'v'], ['--a', '--a'])).toEqual(['--a', IN]);
  });

  it('a flag only matches a whole element', () => {
    expect(localize(['--dir=x', '--di', 'y'], ['--dir'])).toEqual(['--dir=x', '--di', 'y']);
  });

  it("agrees with pman's recursive localize_path_args, transcribed", () => {
    function reference(args: string[], flags: string[]): string[] {
      if (args.length === 0) return args;
      const [first = '', ...rest] = args;
      if (flags.includes(first)) return [first, IN, ...reference(rest.slice(1), flags)];
      return [first, ...reference(rest, flags)];
    }
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('-a', '-b', 'x', 'y', '')),
        fc.subarray(['-a', '-b', 'x']),
        (args, flags) => {
          expect(localize(args, flags)).toEqual(reference(args, flags));
        },
      ),
    );
  });
});

describe('buildCommand', () => {
  it('ds: the api.md §6 example', () => {
    expect(
      buildCommand(
        ['simpledsapp'],
        ['--saveinputmeta', '--saveoutputmeta', '--prefix', 'hello_'],
        [],
        'ds',
      ),
    ).toEqual([
      'simpledsapp',
      '--saveinputmeta',
      '--saveoutputmeta',
      '--prefix',
      'hello_',
      IN,
      OUT,
    ]);
  });

  it.each(['fs', 'ts'] as const)('%s ends with /share/outgoing only', (type) => {
    expect(buildCommand(['python', 'app.py'], ['--n', '1'], [], type)).toEqual([
      'python',
      'app.py',
      '--n',
      '1',
      OUT,
    ]);
  });

  it('a path flag puts /share/incoming into the arguments of an fs plugin', () => {
    expect(buildCommand(['dircopy'], ['--dir', 'cube/uploads'], ['--dir'], 'fs')).toEqual([
      'dircopy',
      '--dir',
      IN,
      OUT,
    ]);
  });

  it('does not modify its inputs', () => {
    const entrypoint = ['a'];
    const args = ['--d', 'x'];
    buildCommand(entrypoint, args, ['--d'], 'ds');
    expect(entrypoint).toEqual(['a']);
    expect(args).toEqual(['--d', 'x']);
  });
});

describe('renderCmd', () => {
  it('shell: the api.md §6 example', () => {
    expect(renderCmd(['/bin/sh', '-c', 'sleep 2', IN, OUT], 'shell')).toBe(
      "/bin/sh -c 'sleep 2' /share/incoming /share/outgoing",
    );
  });

  it('plain: the api.md §6 example', () => {
    expect(renderCmd(['/bin/sh', '-c', 'sleep 2', IN, OUT], 'plain')).toBe(
      '/bin/sh -c sleep 2 /share/incoming /share/outgoing',
    );
  });

  // Expected values printed by CPython 3.11's shlex.join().
  it.each<[string[], string]>([
    [[''], "''"],
    [["it's"], `'it'"'"'s'`],
    [['a_b@c%d+e=f:g,h./-i'], 'a_b@c%d+e=f:g,h./-i'],
    [['$HOME', '*', '~x', 'a;b'], "'$HOME' '*' '~x' 'a;b'"],
    [['é'], "'é'"],
    [['tab\there'], "'tab\there'"],
    [['a', '', 'b'], "a '' b"],
    [[], ''],
  ])('shell: %j → %s', (argv, expected) => {
    expect(renderCmd(argv, 'shell')).toBe(expected);
  });

  it('shell: splitting the rendering gives the argv back (shlex.split ∘ shlex.join = id)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' })), (argv) => {
        expect(shellSplit(renderCmd(argv, 'shell'))).toEqual(argv);
      }),
    );
  });
});
