import { describe, expect, it } from 'vitest';
import type { Config, Storage } from '../../src/config/config.js';
import type { CreateRequest } from '../../src/http/wire/request.js';
import { toJobSpec } from '../../src/domain/spec.js';
import { testConfig } from '../fixtures.js';

const HOST: Storage = { type: 'host', storeBase: '/var/local/storeBase' };

function request(overrides: Partial<CreateRequest> = {}): CreateRequest {
  return {
    jid: 'chris-jid-42',
    args: ['--saveinputmeta', '--prefix', 'hello_'],
    argsPathFlags: [],
    auid: 'cube',
    numberOfWorkers: 2,
    cpuLimit: 1500,
    memoryLimit: 300,
    gpuLimit: 1,
    image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
    entrypoint: ['simpledsapp'],
    type: 'ds',
    env: [],
    inputDir: 'key-chris-jid-42/incoming',
    outputDir: 'key-chris-jid-42/outgoing',
    ...overrides,
  };
}

/** The fixture's memory-backend Config (its storage is HOST); `overrides` replace top-level keys. */
function config(overrides: Partial<Config> = {}): Config {
  return testConfig({ storage: HOST, ...overrides });
}

describe('toJobSpec', () => {
  it('builds the whole spec', () => {
    expect(toJobSpec(request({ env: [['A', '1']] }), config(), HOST)).toStrictEqual({
      name: 'chris-jid-42',
      image: 'ghcr.io/fnndsc/pl-simpledsapp:2.1.0',
      command: [
        'simpledsapp',
        '--saveinputmeta',
        '--prefix',
        'hello_',
        '/share/incoming',
        '/share/outgoing',
      ],
      env: { A: '1' },
      resources: { workers: 2, cpuMillicores: 1500, memoryMiB: 300, gpus: 1 },
      mounts: [
        {
          kind: 'host',
          source: '/var/local/storeBase',
          subPath: 'key-chris-jid-42/incoming',
          containerPath: '/share/incoming',
          readOnly: true,
        },
        {
          kind: 'host',
          source: '/var/local/storeBase',
          subPath: 'key-chris-jid-42/outgoing',
          containerPath: '/share/outgoing',
          readOnly: false,
        },
      ],
      labels: {},
      priority: 0,
    });
  });

  it('localizes path flags in the command', () => {
    const spec = toJobSpec(
      request({ args: ['--dir', 'x'], argsPathFlags: ['--dir'], type: 'fs' }),
      config(),
      HOST,
    );
    expect(spec.command).toEqual(['simpledsapp', '--dir', '/share/incoming', '/share/outgoing']);
  });

  it('mounts a PVC for kubernetes_pvc storage', () => {
    const spec = toJobSpec(request(), config({ containerEnv: 'kubernetes' }), {
      type: 'kubernetes_pvc',
      claimName: 'storebase',
    });
    expect(spec.mounts.map((m) => [m.kind, m.source, m.subPath, m.readOnly])).toEqual([
      ['volume', 'storebase', 'key-chris-jid-42/incoming', true],
      ['volume', 'storebase', 'key-chris-jid-42/outgoing', false],
    ]);
  });
});

describe('toJobSpec: env', () => {
  it('keeps request order; a later duplicate wins', () => {
    const spec = toJobSpec(
      request({
        env: [
          ['B', '1'],
          ['A', '2'],
          ['B', '3'],
        ],
      }),
      config(),
      HOST,
    );
    expect(Object.entries(spec.env)).toEqual([
      ['B', '3'],
      ['A', '2'],
    ]);
  });

  it('HOME workaround: HOME=/tmp replaces the request HOME and comes last', () => {
    const spec = toJobSpec(
      request({
        env: [
          ['HOME', '/root'],
          ['X', 'y'],
        ],
      }),
      config({ homeWorkaround: true }),
      HOST,
    );
    expect(Object.entries(spec.env)).toEqual([
      ['X', 'y'],
      ['HOME', '/tmp'],
    ]);
  });

  it('#23: a fresh environment per request, never a shared default that grows', () => {
    const cfg = config({ homeWorkaround: true });
    const first = toJobSpec(request(), cfg, HOST);
    const second = toJobSpec(request(), cfg, HOST);
    expect(first.env).toEqual({ HOME: '/tmp' });
    expect(second.env).toEqual({ HOME: '/tmp' });
    expect(first.env).not.toBe(second.env);
  });

  it('no workaround: HOME is left as the request set it, or absent', () => {
    expect(toJobSpec(request({ env: [['HOME', '/root']] }), config(), HOST).env).toEqual({
      HOME: '/root',
    });
    expect(toJobSpec(request(), config(), HOST).env).toEqual({});
  });

  it('a key named __proto__ stays an ordinary variable', () => {
    const env = toJobSpec(request({ env: [['__proto__', 'x']] }), config(), HOST).env;
    expect(Object.entries(env)).toEqual([['__proto__', 'x']]);
  });
});

describe('toJobSpec: labels', () => {
  it("carries JOB_LABELS as a copy; the managed-by label is each backend manifest's own", () => {
    const jobLabels = { team: 'fnndsc' };
    const spec = toJobSpec(request(), config({ jobLabels }), HOST);
    expect(spec.labels).toEqual({ team: 'fnndsc' });
    expect(spec.labels).not.toBe(jobLabels);
  });
});

describe('toJobSpec: user and shm', () => {
  it('no CONTAINER_USER → no user; no SHM_SIZE → no shm', () => {
    const spec = toJobSpec(request(), config(), HOST);
    expect('user' in spec).toBe(false);
    expect('shmMiB' in spec).toBe(false);
  });

  it('fixed ids are used as they are', () => {
    const spec = toJobSpec(
      request(),
      config({ containerUser: { uid: { lo: 1001, hi: 1001 }, gid: { lo: 0, hi: 0 } } }),
      HOST,
    );
    expect(spec.user).toEqual({ uid: 1001, gid: 0 });
  });

  it('a range gives one value per job, lo..hi inclusive, drawn with `random`', () => {
    const cfg = config({
      containerUser: { uid: { lo: 10000, hi: 10009 }, gid: { lo: 500, hi: 501 } },
    });
    expect(toJobSpec(request(), cfg, HOST, () => 0).user).toEqual({ uid: 10000, gid: 500 });
    expect(toJobSpec(request(), cfg, HOST, () => 0.999999).user).toEqual({ uid: 10009, gid: 501 });
    expect(toJobSpec(request(), cfg, HOST, () => 0.5).user).toEqual({ uid: 10005, gid: 501 });
    // A random() that misbehaves and returns 1 still stays inside the range.
    expect(toJobSpec(request(), cfg, HOST, () => 1).user).toEqual({ uid: 10009, gid: 501 });
  });

  it('only the uid side', () => {
    const spec = toJobSpec(request(), config({ containerUser: { uid: { lo: 7, hi: 7 } } }), HOST);
    expect(spec.user).toStrictEqual({ uid: 7 });
  });

  it('an empty CONTAINER_USER record means no user', () => {
    expect(toJobSpec(request(), config({ containerUser: {} }), HOST).user).toBeUndefined();
  });

  it('SHM_SIZE is passed through in MiB', () => {
    expect(toJobSpec(request(), config({ shmMiB: 256 }), HOST).shmMiB).toBe(256);
  });
});
