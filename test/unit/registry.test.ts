// The backend registry: one module per CONTAINER_ENV name, the generic configuration machinery over
// it, createBackend through a module, and a configuration load that stays light (no engine or
// cluster client is loaded before a backend is opened).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKENDS, backendModules, createBackend } from '../../src/backends/registry.js';
import type { BackendName } from '../../src/backends/registry.js';
import { createMemoryBackend } from '../../src/backends/memory.js';
import { containerEnvWords } from '../../src/config/backend.js';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/errors.js';
import { silentLogger } from '../fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NAMES = Object.keys(BACKENDS) as BackendName[];
/** Enough for every backend's default storage, and the settings slurm cannot start without. */
const LOCATION = {
  STOREBASE: '/sb',
  VOLUME_NAME: 'pvc',
  SLURM_URL: 'http://127.0.0.1:6820',
  SLURM_JWT: 'token',
  SLURM_USER: 'pman',
  SLURM_LOG_DIR: '/sb/slurm-logs',
};

describe('the registry', () => {
  it('each key is its module’s name, and the settings that module reads say so', () => {
    for (const name of NAMES) {
      expect(BACKENDS[name].name).toBe(name);
      const config = loadConfig({ CONTAINER_ENV: name, ...LOCATION });
      expect(config.containerEnv).toBe(name);
      expect(config.backend.kind).toBe(name);
    }
  });

  it('CONTAINER_ENV words are the names with each backend’s aliases after it, none twice', () => {
    const words = containerEnvWords();
    expect(words).toEqual([
      'docker',
      'podman',
      'swarm',
      'kubernetes',
      'openshift',
      'slurm',
      'memory',
    ]);
    expect(new Set(words).size).toBe(words.length);
  });

  it('every storage type a module allows is accepted, and the first is the default', () => {
    for (const module of backendModules()) {
      const env = { CONTAINER_ENV: module.name, ...LOCATION };
      expect(loadConfig(env).storageType).toBe(module.storage.types[0]);
      for (const type of module.storage.types) {
        expect(loadConfig({ ...env, STORAGE_TYPE: type }).storageType).toBe(type);
      }
    }
  });

  it('a module’s own variables are warned about, not read, under every backend that lacks them', () => {
    for (const module of backendModules()) {
      for (const variable of module.ownVariables) {
        for (const other of backendModules()) {
          if (other.ownVariables.includes(variable)) continue;
          // An invalid value: were it read, it would be a problem instead of a warning.
          const config = loadConfig({ CONTAINER_ENV: other.name, ...LOCATION, [variable]: '!' });
          expect(config.warnings).toContain(
            `${variable} does not apply to CONTAINER_ENV=${other.name} and is ignored`,
          );
        }
      }
    }
  });

  it('the memory module opens a backend with its name and its job-name rule', async () => {
    const module = BACKENDS.memory;
    const backend = await module.open({ kind: 'memory' }, { log: silentLogger(), timeoutMs: 1000 });
    expect(backend.name).toBe('memory');
    expect(backend.capabilities.jobName).toEqual(module.jobName);
    await backend.close();
  });
});

describe('createBackend', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pman-registry-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const deps = { log: silentLogger(), timeoutMs: 1000 };

  it('a host storeBase this process can see is kept for the input/output checks', async () => {
    const storage = { type: 'host', storeBase: dir } as const;
    const created = await createBackend({ backend: { kind: 'memory' }, storage }, deps);
    expect(created.storage).toEqual(storage);
    expect(created.storeBaseCheck).toBe(dir);
    expect(created.backend.name).toBe('memory');
  });

  it('an invisible storeBase is said once at info level, and not checked', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const storage = { type: 'host', storeBase: path.join(dir, 'absent') } as const;
    const created = await createBackend({ backend: { kind: 'memory' }, storage }, { ...deps, log });
    expect(created.storeBaseCheck).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 30,
      storeBase: storage.storeBase,
      msg: 'storeBase is not visible on this server: input_dir/output_dir existence checks are skipped',
    });
  });

  it('a PVC is passed on as it is', async () => {
    const storage = { type: 'kubernetes_pvc', claimName: 'storebase' } as const;
    const created = await createBackend({ backend: { kind: 'memory' }, storage }, deps);
    expect(created).toMatchObject({ storage });
    expect(created.storeBaseCheck).toBeUndefined();
  });

  it('docker_local_volume is refused for a backend whose module cannot resolve it', async () => {
    const storage = { type: 'docker_local_volume', pfconSelector: 'a=b' } as const;
    await expect(createBackend({ backend: { kind: 'memory' }, storage }, deps)).rejects.toThrow(
      'STORAGE_TYPE=docker_local_volume with CONTAINER_ENV=memory',
    );
  });
});

describe('createBackend refuses a host-bind storeBase it cannot see (issue 10 item 2)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pman-storebase-check-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** The backend's settings as loadConfig reads them; its open() is replaced by a memory backend,
   *  counted, so no engine or cluster is dialled and the test sees whether it was opened. */
  function setup(name: 'docker' | 'swarm' | 'kubernetes', env: Record<string, string> = {}) {
    const config = loadConfig({
      CONTAINER_ENV: name,
      STORAGE_TYPE: 'host',
      STOREBASE: '/x',
      ...env,
    });
    const open = vi.spyOn(BACKENDS[name], 'open').mockImplementation(() => createMemoryBackend());
    return { config, open };
  }

  function logLines() {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino(
      { level: 'info' },
      {
        write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>),
      },
    );
    return { lines, deps: { log, timeoutMs: 1000 } };
  }

  it.each(['docker', 'swarm', 'kubernetes'] as const)(
    '%s with STORAGE_TYPE=host: an invisible STOREBASE stops the start, naming it and the fix',
    async (name) => {
      const { config, open } = setup(name);
      const storeBase = path.join(dir, 'absent');
      const start = createBackend(
        { backend: config.backend, storage: { type: 'host', storeBase } },
        { log: silentLogger(), timeoutMs: 1000 },
      );
      await expect(start).rejects.toBeInstanceOf(ConfigError);
      const err = (await start.catch((e: unknown) => e)) as ConfigError;
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toMatch(
        new RegExp(`^STOREBASE: "${storeBase}" is not a directory this server can see`),
      );
      expect(err.problems[0]).toContain('mount storeBase into this server at the same path');
      expect(err.problems[0]).toContain('INSECURE_SKIP_STOREBASE_CHECK=yes');
      // Refused before the backend is dialled.
      expect(open).not.toHaveBeenCalled();
    },
  );

  it('a file where storeBase should be is not a visible storeBase', async () => {
    const { config } = setup('docker');
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'x');
    await expect(
      createBackend(
        { backend: config.backend, storage: { type: 'host', storeBase: file } },
        { log: silentLogger(), timeoutMs: 1000 },
      ),
    ).rejects.toThrow(/^STOREBASE: /);
  });

  it('docker_local_volume resolved to a path this server cannot see names VOLUME_NAME', async () => {
    const { config, open } = setup('docker');
    const storeBase = '/var/lib/docker/volumes/pfcon-storebase-absent/_data';
    vi.spyOn(BACKENDS.docker, 'resolveStorage').mockResolvedValue({ type: 'host', storeBase });
    await expect(
      createBackend(
        {
          backend: config.backend,
          storage: { type: 'docker_local_volume', volumeName: 'v', pfconSelector: 'a=b' },
        },
        { log: silentLogger(), timeoutMs: 1000 },
      ),
    ).rejects.toThrow(
      `VOLUME_NAME (STORAGE_TYPE=docker_local_volume resolved storeBase to "${storeBase}") is not a directory this server can see`,
    );
    expect(open).not.toHaveBeenCalled();
  });

  it('INSECURE_SKIP_STOREBASE_CHECK=yes starts anyway, with a loud warning and no checks', async () => {
    const { config, open } = setup('swarm', { INSECURE_SKIP_STOREBASE_CHECK: 'yes' });
    expect(config.insecureSkipStoreBaseCheck).toBe(true);
    const { lines, deps } = logLines();
    const storeBase = path.join(dir, 'absent');
    const created = await createBackend({ ...config, storage: { type: 'host', storeBase } }, deps);
    expect(open).toHaveBeenCalledOnce();
    expect(created.storeBaseCheck).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, storeBase });
    expect(String(lines[0]?.msg)).toMatch(
      /^INSECURE_SKIP_STOREBASE_CHECK=yes: STOREBASE IS NOT VISIBLE/,
    );
    await created.backend.close();
  });

  it('a visible storeBase is kept for the checks, and the opt-out changes nothing then', async () => {
    const { config } = setup('docker', { INSECURE_SKIP_STOREBASE_CHECK: 'yes' });
    const { lines, deps } = logLines();
    const created = await createBackend(
      { ...config, storage: { type: 'host', storeBase: dir } },
      deps,
    );
    expect(created.storeBaseCheck).toBe(dir);
    expect(lines).toEqual([]);
    await created.backend.close();
  });

  it('kubernetes_pvc is no host bind: nothing to see, nothing refused', async () => {
    const { config, open } = setup('kubernetes');
    const created = await createBackend(
      { backend: config.backend, storage: { type: 'kubernetes_pvc', claimName: 'storebase' } },
      { log: silentLogger(), timeoutMs: 1000 },
    );
    expect(open).toHaveBeenCalledOnce();
    expect(created.storeBaseCheck).toBeUndefined();
    await created.backend.close();
  });

  it('INSECURE_SKIP_STOREBASE_CHECK takes only the boolean words', () => {
    expect(() =>
      loadConfig({
        CONTAINER_ENV: 'docker',
        STORAGE_TYPE: 'host',
        STOREBASE: '/x',
        INSECURE_SKIP_STOREBASE_CHECK: 'maybe',
      }),
    ).toThrow('INSECURE_SKIP_STOREBASE_CHECK: "maybe" is not one of');
    expect(
      loadConfig({ CONTAINER_ENV: 'docker', STORAGE_TYPE: 'host', STOREBASE: '/x' })
        .insecureSkipStoreBaseCheck,
    ).toBeUndefined();
  });
});

describe('loading the configuration stays light', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pman-light-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs loadConfig for every backend in a fresh node, where an ESM import of either client
   *  fails (a resolve hook) and a CommonJS load shows in the require cache. */
  async function loadInFreshNode(): Promise<{ stdout: string; stderr: string }> {
    await writeFile(
      path.join(dir, 'hooks.mjs'),
      `const HEAVY = /^(dockerode|docker-modem|@kubernetes\\/client-node)(\\/|$)/;
export async function resolve(specifier, context, next) {
  if (HEAVY.test(specifier)) throw new Error('heavy import: ' + specifier);
  return next(specifier, context);
}
`,
    );
    await writeFile(
      path.join(dir, 'register.mjs'),
      "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
    );
    const config = pathToFileURL(path.join(ROOT, 'src/config/config.ts')).href;
    await writeFile(
      path.join(dir, 'load.mjs'),
      `import { createRequire } from 'node:module';
const { loadConfig } = await import(${JSON.stringify(config)});
for (const CONTAINER_ENV of ${JSON.stringify(NAMES)}) {
  loadConfig({ CONTAINER_ENV, ...${JSON.stringify(LOCATION)} });
}
const cache = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify(cache.filter((file) => /node_modules\\/(dockerode|docker-modem|@kubernetes)\\//.test(file))));
`,
    );
    const tsx = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
    const args = ['--import', tsx, '--import', './register.mjs', './load.mjs'];
    return promisify(execFile)(process.execPath, args, { cwd: dir });
  }

  it('loadConfig for every backend loads neither dockerode nor @kubernetes/client-node', async () => {
    const { stdout } = await loadInFreshNode();
    expect(JSON.parse(stdout)).toEqual([]);
  });
});
