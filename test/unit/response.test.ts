import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cmdStyleFor, pyJson, toWire, toWireSummary } from '../../src/http/wire/response.js';
import type { JobInfo } from '../../src/domain/job.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

describe('pyJson: Python json.dumps bytes (api.md §3)', () => {
  it.each([
    ['é', '"\\u00e9"'],
    ['✓', '"\\u2713"'],
    ['😀', '"\\ud83d\\ude00"'],
    ['\u007f', '"\\u007f"'],
    ['\u0000', '"\\u0000"'],
    ['\u001f', '"\\u001f"'],
    ['\ud800', '"\\ud800"'],
    ['\udfff x', '"\\udfff x"'],
    ['\u2028', '"\\u2028"'],
    ['\ufeff', '"\\ufeff"'],
    ['a/b', '"a/b"'],
    ['"q" \\ ', '"\\"q\\" \\\\ "'],
    ['\n\r\t\b\f', '"\\n\\r\\t\\b\\f"'],
    ['~ plain ASCII !', '"~ plain ASCII !"'],
  ])('escapes %j as Python does', (input, expected) => {
    expect(pyJson(input)).toBe(`${expected}\n`);
  });

  it('uses ", " and ": " separators, keeps key order and ends with one newline', () => {
    expect(pyJson({ b: 'x', a: ['1', 2, true, null], c: {} })).toBe(
      '{"b": "x", "a": ["1", 2, true, null], "c": {}}\n',
    );
  });

  it('writes the server info exactly as pman', () => {
    expect(pyJson({ server_version: '0.1.0', container_env: 'docker', storage_type: 'host' })).toBe(
      '{"server_version": "0.1.0", "container_env": "docker", "storage_type": "host"}\n',
    );
  });

  it('indents nested objects by 4 spaces in development mode', () => {
    expect(pyJson({ message: { jid: 'x', args: 'y' }, jobs: [], n: [1] }, 4)).toBe(
      '{\n    "message": {\n        "jid": "x",\n        "args": "y"\n    },\n    "jobs": [],\n    "n": [\n        1\n    ]\n}\n',
    );
  });

  it('escapes keys like values', () => {
    expect(pyJson({ é: 'ü' })).toBe('{"\\u00e9": "\\u00fc"}\n');
  });

  it('never emits a byte outside printable ASCII except the final newline (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = pyJson({ k: s });
        expect(out.endsWith('\n')).toBe(true);
        expect(/^[\x20-\x7e]*$/.test(out.slice(0, -1))).toBe(true);
        // Well-formed strings round-trip through a JSON parser.
        if (!LONE_SURROGATE.test(s)) expect(JSON.parse(out)).toEqual({ k: s });
      }),
    );
  });
});

describe('toWire (api.md §8)', () => {
  const info: JobInfo = {
    name: 'chris-jid-1',
    image: 'img:1',
    command: ['/bin/sh', '-c', 'sleep 2', '/share/outgoing'],
    status: 'started',
    message: 'running',
    timestamp: '2024-05-07T15:02:11.123456789Z',
  };

  it('has the seven keys in wire order', () => {
    expect(Object.keys(toWire(info, 'log', 'plain'))).toEqual([
      'jid',
      'image',
      'cmd',
      'status',
      'message',
      'timestamp',
      'logs',
    ]);
  });

  it('renders cmd per backend style', () => {
    expect(toWire(info, '', 'plain').cmd).toBe('/bin/sh -c sleep 2 /share/outgoing');
    expect(toWire(info, '', 'shell').cmd).toBe("/bin/sh -c 'sleep 2' /share/outgoing");
  });

  it('list entries have no logs', () => {
    expect(Object.keys(toWireSummary(info, 'plain'))).not.toContain('logs');
  });
});

describe('cmdStyleFor: the wire, not the backend, picks the cmd rendering (api.md §6)', () => {
  const info: JobInfo = {
    name: 'chris-jid-1',
    image: 'img:1',
    command: ['python', 'my app.py', "it's", '--out=/share/outgoing'],
    status: 'started',
    message: 'running',
    timestamp: '2024-05-07T15:02:11Z',
  };

  it("docker → pman's shell-quoted cmd (shlex.join)", () => {
    expect(cmdStyleFor('docker')).toBe('shell');
    expect(toWire(info, '', cmdStyleFor('docker')).cmd).toBe(
      `python 'my app.py' 'it'"'"'s' --out=/share/outgoing`,
    );
  });

  it.each(['swarm', 'kubernetes', 'openshift', 'memory', 'a-backend-added-later'])(
    '%s → the argv joined with spaces, unquoted',
    (containerEnv) => {
      expect(cmdStyleFor(containerEnv)).toBe('plain');
      expect(toWireSummary(info, cmdStyleFor(containerEnv)).cmd).toBe(
        "python my app.py it's --out=/share/outgoing",
      );
    },
  );
});
