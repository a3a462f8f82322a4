// The batch script generator (src/backends/slurm/script.ts): run for real by /bin/sh with a fake
// runtime on PATH that records the argv (and environment) it received, so a quoting mistake shows
// as a changed or extra argument — or as a command the shell ran — not as a string mismatch.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { batchScript, shellQuote } from '../../src/backends/slurm/script.js';
import type { ScriptInput } from '../../src/backends/slurm/script.js';
import { InvalidSpecError } from '../../src/domain/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pman-slurm-script-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake runtime (sh: fast): argv NUL-separated to $RECORD, the two env values the cases read
 *  to $RECORD.env (NUL-separated, "-" when unset), and exits with $FAKE_EXIT. */
const FAKE = `#!/bin/sh
printf '%s\\0' "$@" > "$RECORD"
printf '%s\\0' "\${APPTAINERENV_PMAN_VALUE--}" "\${SINGULARITYENV_A--}" > "$RECORD.env"
exit "\${FAKE_EXIT:-0}"
`;
for (const name of ['docker', 'podman', 'apptainer', 'singularity']) {
  const file = path.join(dir, name);
  writeFileSync(file, FAKE);
  chmodSync(file, 0o755);
}

interface Recorded {
  argv: string[];
  env: { APPTAINERENV_PMAN_VALUE: string; SINGULARITYENV_A: string };
}

function nulSplit(file: string): string[] {
  return readFileSync(file, 'utf8').split('\0').slice(0, -1);
}

let runs = 0;
function run(input: ScriptInput, exit = 0): { recorded: Recorded; status: number } {
  const script = path.join(dir, `job-${++runs}.sh`);
  const record = path.join(dir, `record-${runs}.json`);
  writeFileSync(script, batchScript(input));
  let status = 0;
  try {
    execFileSync('/bin/sh', [script], {
      env: {
        PATH: `${dir}:/usr/bin:/bin`,
        RECORD: record,
        FAKE_EXIT: String(exit),
        SLURM_JOB_ID: '42',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    status = (err as { status: number }).status;
  }
  const [a = '-', b = '-'] = nulSplit(`${record}.env`);
  return {
    recorded: { argv: nulSplit(record), env: { APPTAINERENV_PMAN_VALUE: a, SINGULARITYENV_A: b } },
    status,
  };
}

const base = (over: Partial<ScriptInput> = {}): ScriptInput => ({
  jid: 'job-1',
  image: 'busybox:1',
  command: ['/bin/sh', '-c', 'echo hi'],
  env: {},
  binds: [
    { source: '/sb/in', target: '/share/incoming', readOnly: true },
    { source: '/sb/out', target: '/share/outgoing', readOnly: false },
  ],
  runtime: 'docker',
  cpuMillicores: 1500,
  memoryMiB: 96,
  gpus: 0,
  ...over,
});

/** The value after each occurrence of `flag` in argv. */
function valuesOf(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1] ?? ''] : []));
}

/** Docker's --mount CSV back into fields (the quoting csvField applies). */
function parseCsv(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

/** Any text the shell could carry (no NUL), shell metacharacters and non-ASCII favoured. */
const text = fc.oneof(
  fc.string({
    unit: fc.constantFrom(...[...`'"\`$()\\;&|<>*?![]{}~#\n\t =,é✓😀`]),
    maxLength: 24,
  }),
  fc.string({ unit: 'grapheme', maxLength: 16 }).filter((s) => !s.includes('\0')),
);

describe('batchScript (docker)', () => {
  it('passes the limits, the binds, the container name and the argv', () => {
    const { recorded } = run(base());
    const { argv } = recorded;
    expect(argv.slice(0, 4)).toEqual(['run', '--rm', '--name', 'pman-slurm-42']);
    expect(argv).toContain('--cpus=1.5');
    expect(argv).toContain('--memory=96m');
    expect(argv).toContain('--memory-swap=96m');
    expect(argv).toContain('--network=none');
    expect(valuesOf(argv, '--mount')).toEqual([
      'type=bind,source=/sb/in,target=/share/incoming,readonly',
      'type=bind,source=/sb/out,target=/share/outgoing',
    ]);
    expect(argv.slice(-5)).toEqual(['--entrypoint', '/bin/sh', 'busybox:1', '-c', 'echo hi']);
  });

  it('the exit code of the runtime is the exit code of the script', () => {
    expect(run(base(), 3).status).toBe(3);
  });

  it('no field can inject shell syntax: image, argv, env, paths arrive verbatim', () => {
    fc.assert(
      fc.property(
        fc.record({
          image: text,
          command: fc.array(text, { minLength: 1, maxLength: 4 }),
          envValue: text,
          envName: fc.string({
            unit: fc.constantFrom(...'AZaz_09$\'" ;é'.split('')),
            minLength: 1,
            maxLength: 8,
          }),
          path: text,
          jid: text,
        }),
        ({ image, command, envValue, envName, path: p, jid }) => {
          const source = `/sb/${p}`;
          const input = base({
            jid,
            image,
            command,
            env: { [envName]: envValue },
            binds: [{ source, target: '/share/incoming', readOnly: true }],
          });
          const { argv } = run(input).recorded;
          expect(argv.slice(-command.length)).toEqual([image, ...command.slice(1)]);
          expect(valuesOf(argv, '--entrypoint')).toEqual([command[0]]);
          expect(valuesOf(argv, '-e')).toEqual([`${envName}=${envValue}`]);
          const mount = valuesOf(argv, '--mount');
          expect(mount).toHaveLength(1);
          expect(parseCsv(mount[0] ?? '')).toEqual([
            'type=bind',
            `source=${source}`,
            'target=/share/incoming',
            'readonly',
          ]);
        },
      ),
      { numRuns: 40 },
    );
    expect(existsSync(path.join(dir, 'pwned'))).toBe(false);
  }, 60_000);

  it('a NUL in any value is refused (the shell cannot carry it)', () => {
    expect(() => batchScript(base({ env: { A: 'x\0y' } }))).toThrow(InvalidSpecError);
    expect(() => batchScript(base({ command: ['a\0'] }))).toThrow(InvalidSpecError);
    expect(() => batchScript(base({ command: [] }))).toThrow(InvalidSpecError);
    expect(() => batchScript(base({ env: { 'A=B': 'x' } }))).toThrow(InvalidSpecError);
  });

  it('GPUs, shm and a fixed user become runtime flags', () => {
    const { argv } = run(base({ gpus: 2, shmMiB: 64, user: { uid: 1000, gid: 2000 } })).recorded;
    expect(argv).toEqual(
      expect.arrayContaining(['--gpus=2', '--shm-size=64m', '--user=1000:2000']),
    );
  });
});

describe('batchScript (apptainer, singularity)', () => {
  it('exec with binds, a docker:// image and the environment through APPTAINERENV_', () => {
    fc.assert(
      fc.property(text, fc.array(text, { minLength: 1, maxLength: 3 }), (value, command) => {
        const { argv, env } = run(
          base({ runtime: 'apptainer', env: { PMAN_VALUE: value }, command, gpus: 1 }),
        ).recorded;
        expect(argv.slice(0, 4)).toEqual(['exec', '--containall', '--cleanenv', '--no-home']);
        expect(valuesOf(argv, '--bind')).toEqual([
          '/sb/in:/share/incoming:ro',
          '/sb/out:/share/outgoing:rw',
        ]);
        expect(argv).toContain('--nv');
        expect(argv.slice(-(command.length + 1))).toEqual(['docker://busybox:1', ...command]);
        expect(env.APPTAINERENV_PMAN_VALUE).toBe(value);
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  it('singularity uses SINGULARITYENV_; a SIF path or another scheme is kept as the image', () => {
    const { argv, env } = run(
      base({ runtime: 'singularity', image: '/images/x.sif', env: { A: '1' } }),
    ).recorded;
    expect(argv).toContain('/images/x.sif');
    expect(env.SINGULARITYENV_A).toBe('1');
  });

  it('a bind path with , or : and an env name that is no shell identifier are refused', () => {
    const binds = [{ source: '/sb/a:b', target: '/share/incoming', readOnly: true }];
    expect(() => batchScript(base({ runtime: 'apptainer', binds }))).toThrow(InvalidSpecError);
    expect(() => batchScript(base({ runtime: 'apptainer', env: { 'A-B': '1' } }))).toThrow(
      InvalidSpecError,
    );
  });
});

describe('shellQuote', () => {
  it('is one word whatever the text: sh echoes it back verbatim', () => {
    fc.assert(
      fc.property(text, (value) => {
        const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(value)}`], {
          encoding: 'utf8',
        });
        expect(out).toBe(value);
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
