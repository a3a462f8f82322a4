// loadConfig: environment objects → Config; every problem listed one line each (api.md §14).
import { defaultJobHardening } from '../../src/backends/shared/job-hardening.js';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseDotEnv } from '../../src/config/config.js';
import type { Config, ConfigOverrides } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/errors.js';

type Env = Record<string, string | undefined>;

/** The problems loadConfig reports for `env`, or [] when it accepts it. */
function problems(env: Env, overrides?: ConfigOverrides): readonly string[] {
  try {
    loadConfig(env, overrides);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

const HOST = { STORAGE_TYPE: 'host', STOREBASE: '/var/local/storeBase' };
const KUBE = { CONTAINER_ENV: 'kubernetes', VOLUME_NAME: 'storebase' };
const LONG_SECRET = 'a-secret-key-of-at-least-32-bytes!';

describe('defaults', () => {
  it('docker with a docker_local_volume is pman’s default and needs nothing else', () => {
    const c = loadConfig({});
    expect(c.containerEnv).toBe('docker');
    expect(c.storageType).toBe('docker_local_volume');
    expect(c.storage).toEqual({
      type: 'docker_local_volume',
      pfconSelector: 'org.chrisproject.role=pfcon',
    });
    expect(c.backend).toEqual({
      kind: 'docker',
      alias: 'docker',
      engine: { tlsVerify: false },
      ignoreLimits: false,
      memoryLimitMode: 'hard',
      imagePullWaitSeconds: 0,
      imagePullTimeoutSeconds: 600,
      maxConcurrentPulls: 8,
      // Jobs are confined by default (issue 10): PID limit, no-new-privileges, trimmed
      // capabilities, and no network.
      hardening: defaultJobHardening('none'),
    });
    expect(c).toMatchObject({
      mode: 'production',
      logLevel: 'info',
      listen: { ip: '127.0.0.1', port: 5010 },
      auth: { enabled: false },
      homeWorkaround: false,
      jobLabels: {},
      logsTail: 1000,
      logsMaxBytes: 1_048_576,
      removeJobs: true,
      backendTimeoutSeconds: 30,
      warnings: [],
    });
    expect(c.containerUser).toBeUndefined();
    expect(c.shmMiB).toBeUndefined();
    expect(c.stateDir).toBe('pman-state');
    expect(c.acceptWhileUnavailable).toBe(true);
    expect(c.logArchiveMaxBytes).toBe(64 * 1024 * 1024);
    expect(c.historyRetentionDays).toBe(30);
  });

  it('serverVersion is BUILD_VERSION, else the package version', () => {
    expect(loadConfig({ BUILD_VERSION: '9.9.9' }).serverVersion).toBe('9.9.9');
    expect(loadConfig({}).serverVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it.each([
    ['docker', 'docker_local_volume'],
    ['podman', 'docker_local_volume'],
    ['swarm', 'host'],
    ['kubernetes', 'kubernetes_pvc'],
    ['openshift', 'kubernetes_pvc'],
    ['memory', 'host'],
  ])('CONTAINER_ENV=%s defaults STORAGE_TYPE to %s', (env, storage) => {
    const c = loadConfig({ CONTAINER_ENV: env, STOREBASE: '/sb', VOLUME_NAME: 'pvc' });
    expect(c.storageType).toBe(storage);
  });

  it('podman is a backend of its own: the rootful socket by default, PODMAN_HOST otherwise', () => {
    const c = loadConfig({ CONTAINER_ENV: 'podman' });
    expect(c.containerEnv).toBe('podman');
    expect(c.backend).toMatchObject({
      kind: 'podman',
      engine: { host: 'unix:///run/podman/podman.sock', tlsVerify: false },
      memoryLimitMode: 'hard',
    });
    const s = loadConfig({
      CONTAINER_ENV: 'podman',
      PODMAN_HOST: 'unix:///run/pman-podman/podman.sock',
      IGNORE_LIMITS: 'yes',
      MEMORY_LIMIT_MODE: 'soft',
    });
    expect(s.backend).toMatchObject({
      engine: { host: 'unix:///run/pman-podman/podman.sock' },
      ignoreLimits: true,
      memoryLimitMode: 'soft',
    });
    // Docker's container settings are podman's too: no "does not apply" warning for them.
    expect(s.warnings).toEqual([]);
    expect(problems({ CONTAINER_ENV: 'podman', PODMAN_HOST: 'ssh://host' })).toEqual([
      'PODMAN_HOST: "ssh://host" is not a unix://, tcp:// or http:// address of `podman system service`',
    ]);
    expect(loadConfig({ PODMAN_HOST: 'unix:///x.sock' }).warnings).toEqual([
      'PODMAN_HOST does not apply to CONTAINER_ENV=docker and is ignored',
    ]);
  });

  it('kubernetes defaults', () => {
    const c = loadConfig(KUBE);
    expect(c.storage).toEqual({ type: 'kubernetes_pvc', claimName: 'storebase' });
    expect(c.backend).toEqual({
      kind: 'kubernetes',
      inCluster: false,
      nodeSelector: {},
      tolerations: [],
      imagePullSecrets: [],
      ttlSecondsAfterFinished: 86_400,
      activeDeadlineSeconds: 604_800,
      pullFailureSeconds: 300,
      admissionFailureSeconds: 60,
      gpuResourceName: 'nvidia.com/gpu',
      requestRatio: 1,
      runAsNonRoot: false,
      limits: { ignoreLimits: false, memoryLimitMode: 'hard' },
      stopGraceSeconds: 10,
    });
  });

  it('openshift forces runAsNonRoot and the HOME workaround', () => {
    const c = loadConfig({ ...KUBE, CONTAINER_ENV: 'openshift' });
    expect(c.backend).toMatchObject({ kind: 'openshift', runAsNonRoot: true });
    expect(c.homeWorkaround).toBe(true);
  });

  it('memory needs neither STOREBASE nor VOLUME_NAME and warns that jobs do not run', () => {
    const c = loadConfig({ CONTAINER_ENV: 'memory' });
    expect(c.storage.type).toBe('host');
    expect(c.warnings.join('\n')).toMatch(/memory/);
    expect(loadConfig({ CONTAINER_ENV: 'memory', STORAGE_TYPE: 'kubernetes_pvc' }).storage).toEqual(
      {
        type: 'kubernetes_pvc',
        claimName: 'storebase',
      },
    );
  });

  it('development mode means debug logs unless LOG_LEVEL says otherwise', () => {
    expect(loadConfig({ APPLICATION_MODE: 'dev' })).toMatchObject({
      mode: 'development',
      logLevel: 'debug',
    });
    expect(loadConfig({ APPLICATION_MODE: 'development', LOG_LEVEL: 'warn' }).logLevel).toBe(
      'warn',
    );
  });

  it('the result is frozen', () => {
    const c = loadConfig(KUBE);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.backend)).toBe(true);
  });
});

describe('all problems at once, one line each', () => {
  it('lists every problem and names each variable', () => {
    const lines = problems({
      CONTAINER_ENV: 'dockr',
      PORT: 'abc',
      ENABLE_TOKEN_AUTH: 'maybe',
      CONTAINER_USER: 'x:1',
      JOB_LOGS_TAIL: '-1',
      APPLICATION_MODE: 'prod',
    });
    expect(lines).toEqual([
      'APPLICATION_MODE: "prod" is not one of production, development, dev',
      'CONTAINER_ENV: "dockr" is not one of docker, podman, swarm, kubernetes, openshift, slurm, memory',
      'CONTAINER_USER: UID "x" is not a number or a range lo-hi',
      'PORT: "abc" is not a whole number from 0 to 65535',
      'ENABLE_TOKEN_AUTH: "maybe" is not one of yes, no, true, false, 1, 0, on, off',
      'JOB_LOGS_TAIL: "-1" is not a whole number ≥ 0',
    ]);
    for (const line of lines) expect(line).not.toContain('\n');
  });

  it('the ConfigError message is the lines joined', () => {
    expect(() => loadConfig({ CONTAINER_ENV: 'cromwell' })).toThrow(
      'CONTAINER_ENV: "cromwell" is not one of docker, podman, swarm, kubernetes, openshift, slurm, memory (there is no cromwell backend)',
    );
  });

  it('an empty value counts as unset', () => {
    expect(loadConfig({ CONTAINER_ENV: '', PORT: ' ' }).listen.port).toBe(5010);
  });
});

describe('booleans', () => {
  it.each(['yes', 'YES', 'true', 'True', '1', 'on', 'ON'])('%s is true', (word) => {
    expect(loadConfig({ REMOVE_JOBS: 'no', ENABLE_HOME_WORKAROUND: word }).homeWorkaround).toBe(
      true,
    );
  });
  it.each(['no', 'No', 'false', 'FALSE', '0', 'off', 'Off'])('%s is false', (word) => {
    expect(loadConfig({ REMOVE_JOBS: word }).removeJobs).toBe(false);
  });
  it.each(['y', 'n', '2', 'enabled', 'nope'])('%s is refused', (word) => {
    expect(problems({ REMOVE_JOBS: word })).toEqual([
      `REMOVE_JOBS: "${word}" is not one of yes, no, true, false, 1, 0, on, off`,
    ]);
  });
});

describe('STORAGE_TYPE pairs (api.md §7.2)', () => {
  it.each([
    ['docker', 'host'],
    ['docker', 'docker_local_volume'],
    ['podman', 'host'],
    ['swarm', 'host'],
    ['swarm', 'docker_local_volume'],
    ['kubernetes', 'kubernetes_pvc'],
    ['kubernetes', 'host'],
    ['openshift', 'kubernetes_pvc'],
    ['memory', 'host'],
    ['memory', 'kubernetes_pvc'],
  ])('%s + %s is allowed', (backend, storage) => {
    expect(
      problems({
        CONTAINER_ENV: backend,
        STORAGE_TYPE: storage,
        STOREBASE: '/sb',
        VOLUME_NAME: 'pvc',
      }),
    ).toEqual([]);
  });

  it.each([
    ['docker', 'kubernetes_pvc', 'docker_local_volume or host'],
    ['swarm', 'kubernetes_pvc', 'host or docker_local_volume'],
    ['kubernetes', 'docker_local_volume', 'kubernetes_pvc or host'],
    ['openshift', 'host', 'kubernetes_pvc'],
    ['openshift', 'docker_local_volume', 'kubernetes_pvc'],
    ['memory', 'docker_local_volume', 'host or kubernetes_pvc'],
  ])('%s + %s is refused', (backend, storage, allowed) => {
    expect(
      problems({
        CONTAINER_ENV: backend,
        STORAGE_TYPE: storage,
        STOREBASE: '/sb',
        VOLUME_NAME: 'pvc',
      }),
    ).toEqual([
      `STORAGE_TYPE: "${storage}" is not allowed with CONTAINER_ENV=${backend}; use ${allowed}`,
    ]);
  });

  it('host needs an absolute STOREBASE', () => {
    expect(problems({ STORAGE_TYPE: 'host' })).toEqual([
      'STOREBASE: required with STORAGE_TYPE=host (the absolute host path of storeBase)',
    ]);
    expect(problems({ STORAGE_TYPE: 'host', STOREBASE: 'relative/dir' })).toEqual([
      'STOREBASE: "relative/dir" is not an absolute path',
    ]);
    expect(loadConfig({ CONTAINER_ENV: 'swarm', STOREBASE: '/sb' }).storage).toEqual({
      type: 'host',
      storeBase: '/sb',
    });
  });

  it('kubernetes_pvc needs a valid VOLUME_NAME', () => {
    expect(problems({ CONTAINER_ENV: 'kubernetes' })).toEqual([
      'VOLUME_NAME: required with STORAGE_TYPE=kubernetes_pvc (the name of the storeBase PVC)',
    ]);
    expect(problems({ CONTAINER_ENV: 'kubernetes', VOLUME_NAME: 'Bad_Name' })).toHaveLength(1);
  });

  it('docker_local_volume takes VOLUME_NAME and PFCON_SELECTOR', () => {
    expect(loadConfig({ VOLUME_NAME: 'vol', PFCON_SELECTOR: 'a=b' }).storage).toEqual({
      type: 'docker_local_volume',
      volumeName: 'vol',
      pfconSelector: 'a=b',
    });
  });
});

describe('CONTAINER_USER', () => {
  const user = (value: string): Config['containerUser'] =>
    loadConfig({ ...HOST, CONTAINER_USER: value }).containerUser;

  it('parses numbers, ranges and empty sides', () => {
    expect(user('1001:1002')).toEqual({ uid: { lo: 1001, hi: 1001 }, gid: { lo: 1002, hi: 1002 } });
    expect(user('1000-2000:')).toEqual({ uid: { lo: 1000, hi: 2000 } });
    expect(user(':0')).toEqual({ gid: { lo: 0, hi: 0 } });
    expect(user('42')).toEqual({ uid: { lo: 42, hi: 42 } });
  });

  it.each([
    ['a:b', 'UID "a" is not a number or a range lo-hi'],
    ['1:2:3', 'expected UID:GID (one colon at most)'],
    [':', 'sets neither a UID nor a GID'],
    ['20-10:', 'UID range "20-10" has lo greater than hi'],
    ['1:-5', 'GID "-5" is not a number or a range lo-hi'],
    ['99999999999:', 'UID "99999999999" is above 2147483647'],
  ])('%s is refused', (value, text) => {
    expect(problems({ ...HOST, CONTAINER_USER: value })).toEqual([`CONTAINER_USER: ${text}`]);
  });

  it('is refused on openshift', () => {
    expect(problems({ ...KUBE, CONTAINER_ENV: 'openshift', CONTAINER_USER: '1000:1000' })).toEqual([
      'CONTAINER_USER: not allowed with CONTAINER_ENV=openshift (the platform assigns each pod a UID); unset it',
    ]);
  });
});

describe('labels, selectors, tolerations and secrets', () => {
  it('JOB_LABELS is k=v,k2=v2', () => {
    expect(loadConfig({ ...HOST, JOB_LABELS: 'a=1, b=two ,c=' }).jobLabels).toEqual({
      a: '1',
      b: 'two',
      c: '',
    });
    expect(problems({ ...HOST, JOB_LABELS: 'a=1,broken' })).toEqual([
      'JOB_LABELS: "broken" is not key=value',
    ]);
  });

  it('JOB_LABELS must be Kubernetes label syntax on kubernetes, not on docker', () => {
    expect(loadConfig({ ...HOST, JOB_LABELS: 'has space=v!' }).jobLabels).toEqual({
      'has space': 'v!',
    });
    const lines = problems({ ...KUBE, JOB_LABELS: 'has space=v,ok=bad value' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^JOB_LABELS: label key "has space" .*; label value "bad value" of "ok"/,
    );
    expect(loadConfig({ ...KUBE, JOB_LABELS: 'example.com/team=neuro' }).jobLabels).toEqual({
      'example.com/team': 'neuro',
    });
  });

  it('JOB_LABELS cannot replace our managed-by label', () => {
    expect(problems({ ...HOST, JOB_LABELS: 'org.chrisproject.managed-by=me' })).toEqual([
      'JOB_LABELS: "org.chrisproject.managed-by" is reserved for our own managed-by label',
    ]);
  });

  it('NODE_SELECTOR, IMAGE_PULL_SECRETS and JOB_TOLERATIONS', () => {
    const c = loadConfig({
      ...KUBE,
      NODE_SELECTOR: 'nvidia.com/gpu.product=A100,zone=a',
      IMAGE_PULL_SECRETS: 'regcred, other',
      JOB_TOLERATIONS: 'nvidia.com/gpu:NoSchedule,dedicated=chris:NoExecute',
    });
    expect(c.backend).toMatchObject({
      nodeSelector: { 'nvidia.com/gpu.product': 'A100', zone: 'a' },
      imagePullSecrets: ['regcred', 'other'],
      tolerations: [
        { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
        { key: 'dedicated', operator: 'Equal', value: 'chris', effect: 'NoExecute' },
      ],
    });
  });

  it('bad tolerations and secrets name the item', () => {
    expect(problems({ ...KUBE, JOB_TOLERATIONS: 'gpu:Sometimes' })).toEqual([
      'JOB_TOLERATIONS: "gpu:Sometimes" is not key[=value]:Effect with Effect one of NoSchedule, PreferNoSchedule, NoExecute',
    ]);
    expect(problems({ ...KUBE, JOB_TOLERATIONS: '=x:NoSchedule' })).toEqual([
      'JOB_TOLERATIONS: "=x:NoSchedule" has an empty key',
    ]);
    expect(problems({ ...KUBE, IMAGE_PULL_SECRETS: 'Reg_Cred' })[0]).toMatch(
      /^IMAGE_PULL_SECRETS: "Reg_Cred" is not a DNS-1123 subdomain/,
    );
    expect(problems({ ...KUBE, JOB_NAMESPACE: 'Chris' })[0]).toMatch(
      /^JOB_NAMESPACE: "Chris" is not a DNS-1123 label/,
    );
  });
});

describe('numbers and ranges', () => {
  it('JOB_REQUEST_RATIO is 0 < r ≤ 1', () => {
    expect(loadConfig({ ...KUBE, JOB_REQUEST_RATIO: '0.25' }).backend).toMatchObject({
      requestRatio: 0.25,
    });
    expect(loadConfig({ ...KUBE, JOB_REQUEST_RATIO: '1' }).backend).toMatchObject({
      requestRatio: 1,
    });
    for (const bad of ['0', '1.5', '-0.5', 'half', '1e-1']) {
      expect(problems({ ...KUBE, JOB_REQUEST_RATIO: bad })).toEqual([
        `JOB_REQUEST_RATIO: "${bad}" is not a number greater than 0 and at most 1`,
      ]);
    }
  });

  it('whole numbers have lower bounds', () => {
    expect(problems({ SHM_SIZE: '0' })).toEqual(['SHM_SIZE: "0" is not a whole number ≥ 1']);
    expect(problems({ BACKEND_TIMEOUT_SECONDS: '1.5' })).toEqual([
      'BACKEND_TIMEOUT_SECONDS: "1.5" is not a whole number ≥ 1',
    ]);
    expect(problems({ PORT: '70000' })).toEqual([
      'PORT: "70000" is not a whole number from 0 to 65535',
    ]);
    expect(loadConfig({ SHM_SIZE: '64', JOB_LOGS_TAIL: '0' })).toMatchObject({
      shmMiB: 64,
      logsTail: 0,
    });
  });

  it('MEMORY_LIMIT_MODE is hard or soft', () => {
    expect(loadConfig({ MEMORY_LIMIT_MODE: 'soft' }).backend).toMatchObject({
      memoryLimitMode: 'soft',
    });
    expect(problems({ MEMORY_LIMIT_MODE: 'medium' })).toEqual([
      'MEMORY_LIMIT_MODE: "medium" is not one of hard, soft',
    ]);
  });

  it('LOG_LEVEL is one of pino’s levels', () => {
    expect(problems({ LOG_LEVEL: 'verbose' })).toEqual([
      'LOG_LEVEL: "verbose" is not one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('DOCKER_HOST must be an address the client can use', () => {
    expect(
      loadConfig({ DOCKER_HOST: 'tcp://127.0.0.1:2375', DOCKER_TLS_VERIFY: '1' }).backend,
    ).toMatchObject({ engine: { host: 'tcp://127.0.0.1:2375', tlsVerify: true } });
    expect(problems({ DOCKER_HOST: 'ssh://me@host' })).toEqual([
      'DOCKER_HOST: "ssh://me@host" is not a unix://, tcp://, http:// or https:// address (ssh:// is not supported)',
    ]);
  });
});

describe('options a backend cannot honour are errors; options that do not apply are warnings', () => {
  it('IGNORE_LIMITS=yes on docker, podman, swarm and kubernetes only (issue 13)', () => {
    expect(loadConfig({ IGNORE_LIMITS: 'yes' }).backend).toMatchObject({ ignoreLimits: true });
    expect(problems({ CONTAINER_ENV: 'swarm', STOREBASE: '/sb', IGNORE_LIMITS: 'yes' })).toEqual(
      [],
    );
    expect(problems({ CONTAINER_ENV: 'memory', IGNORE_LIMITS: 'yes' })).toEqual([
      'IGNORE_LIMITS: "yes" is only supported with CONTAINER_ENV=docker or podman or swarm or kubernetes or openshift, not memory',
    ]);
    expect(problems({ CONTAINER_ENV: 'memory', IGNORE_LIMITS: 'no' })).toEqual([]);
  });

  it('MEMORY_LIMIT_MODE=soft on docker, podman, swarm and kubernetes only (issue 13)', () => {
    expect(loadConfig({ MEMORY_LIMIT_MODE: 'soft' }).backend).toMatchObject({
      memoryLimitMode: 'soft',
    });
    expect(
      problems({ CONTAINER_ENV: 'swarm', STOREBASE: '/sb', MEMORY_LIMIT_MODE: 'soft' }),
    ).toEqual([]);
    expect(problems({ CONTAINER_ENV: 'memory', MEMORY_LIMIT_MODE: 'soft' })).toEqual([
      'MEMORY_LIMIT_MODE: "soft" is only supported with CONTAINER_ENV=docker or podman or swarm or kubernetes or openshift, not memory',
    ]);
    expect(problems({ CONTAINER_ENV: 'memory', MEMORY_LIMIT_MODE: 'hard' })).toEqual([]);
    expect(problems({ CONTAINER_ENV: 'memory', MEMORY_LIMIT_MODE: 'loose' })).toEqual([
      'MEMORY_LIMIT_MODE: "loose" is not one of hard, soft',
    ]);
  });

  it('RUN_AS_NON_ROOT=no is refused on openshift', () => {
    expect(problems({ ...KUBE, CONTAINER_ENV: 'openshift', RUN_AS_NON_ROOT: 'no' })).toEqual([
      'RUN_AS_NON_ROOT: must not be "no" with CONTAINER_ENV=openshift (its restricted SCC requires non-root); unset it',
    ]);
    expect(loadConfig({ ...KUBE, RUN_AS_NON_ROOT: 'yes' }).backend).toMatchObject({
      runAsNonRoot: true,
    });
  });

  it('warns about options of other backends and storage types', () => {
    const c = loadConfig({
      ...HOST,
      NODE_SELECTOR: 'a=b',
      SWARM_GPU_RESOURCE: 'GPU',
      VOLUME_NAME: 'v',
    });
    expect(c.warnings).toEqual([
      'NODE_SELECTOR does not apply to CONTAINER_ENV=docker and is ignored',
      'SWARM_GPU_RESOURCE does not apply to CONTAINER_ENV=docker and is ignored',
      'VOLUME_NAME does not apply to STORAGE_TYPE=host and is ignored',
    ]);
    expect(loadConfig({ ...KUBE, IMAGE_PULL_WAIT_SECONDS: '5' }).warnings).toEqual([
      'IMAGE_PULL_WAIT_SECONDS does not apply to CONTAINER_ENV=kubernetes and is ignored',
    ]);
  });

  it('warns about pman variables we do not support, naming the replacement', () => {
    const c = loadConfig({
      ...KUBE,
      CROMWELL_URL: 'http://x',
      OPENSHIFTMGR_PROJECT: 'p',
      KUBECFG_PATH: '/k',
      NFS_SERVER: 'nfs',
      SECURITYCONTEXT_RUN_AS_USER: '1000',
      SECURITYCONTEXT_RUN_AS_GROUP: '1000',
    });
    expect(c.warnings).toEqual([
      'CROMWELL_URL is not supported and is ignored: there is no cromwell backend',
      'OPENSHIFTMGR_PROJECT is not supported and is ignored: use JOB_NAMESPACE',
      'KUBECFG_PATH is not supported and is ignored: use KUBECONFIG',
      'NFS_SERVER is not supported and is ignored: use STORAGE_TYPE=kubernetes_pvc with an NFS-backed PersistentVolumeClaim',
      'SECURITYCONTEXT_RUN_AS_USER is not supported and is ignored: use CONTAINER_USER=UID:GID',
      'SECURITYCONTEXT_RUN_AS_GROUP is not supported and is ignored: use CONTAINER_USER=UID:GID',
    ]);
  });

  it('in-cluster is decided from the environment object given', () => {
    expect(loadConfig({ ...KUBE, KUBERNETES_SERVICE_HOST: '10.0.0.1' }).backend).toMatchObject({
      inCluster: true,
    });
  });
});

describe('authentication and CLI overrides', () => {
  it('enabled auth needs at least one token source', () => {
    const text =
      'ENABLE_TOKEN_AUTH: token authentication needs at least one of TOKEN_PATH (--tokenPath), SECRET_KEY or JWT_PUBLIC_KEY_FILE';
    expect(problems({ ENABLE_TOKEN_AUTH: 'yes' })).toEqual([text]);
    expect(problems({}, { enableTokenAuth: true })).toEqual([text]);
    expect(loadConfig({ ENABLE_TOKEN_AUTH: 'on', SECRET_KEY: LONG_SECRET }).auth).toEqual({
      enabled: true,
      secretKey: LONG_SECRET,
      jwt: { audience: 'pman', maxLifetimeSeconds: 2_592_000 },
    });
    expect(
      loadConfig({ JWT_PUBLIC_KEY_FILE: '/k.pem' }, { enableTokenAuth: true, tokenPath: '/t' })
        .auth,
    ).toEqual({
      enabled: true,
      tokenPath: '/t',
      publicKeyFile: '/k.pem',
      jwt: { audience: 'pman', maxLifetimeSeconds: 2_592_000 },
    });
  });

  // Item 7 of issue 10.
  it('with token auth on, a SECRET_KEY shorter than 32 bytes stops start-up', () => {
    expect(problems({ ENABLE_TOKEN_AUTH: 'yes', SECRET_KEY: 's3cret' })).toEqual([
      'SECRET_KEY: must be at least 32 bytes to sign or check HS256 tokens (it has 6); generate one with: openssl rand -hex 32',
    ]);
    // Auth off: the key is unused (the swarm stack always passes one), so it is not judged.
    expect(problems({ SECRET_KEY: 's3cret' })).toEqual([]);
  });

  it('JWT_AUDIENCE, JWT_ISSUER and JWT_MAX_LIFETIME_SECONDS', () => {
    const env = {
      JWT_AUDIENCE: 'pman-prod',
      JWT_ISSUER: 'https://cube.example',
      JWT_MAX_LIFETIME_SECONDS: '3600',
    };
    expect(loadConfig(env).auth.jwt).toEqual({
      audience: 'pman-prod',
      issuer: 'https://cube.example',
      maxLifetimeSeconds: 3600,
    });
    expect(problems({ JWT_MAX_LIFETIME_SECONDS: '0' })).toEqual([
      'JWT_MAX_LIFETIME_SECONDS: "0" is not a whole number ≥ 1',
    ]);
  });

  it('flags override the environment', () => {
    const c = loadConfig(
      { PORT: '6000', TOKEN_PATH: '/env-tokens', LOG_LEVEL: 'error' },
      { ip: '0.0.0.0', port: 7000, tokenPath: '/flag-tokens', logLevel: 'trace' },
    );
    expect(c.listen).toEqual({ ip: '0.0.0.0', port: 7000 });
    expect(c.auth.tokenPath).toBe('/flag-tokens');
    expect(c.logLevel).toBe('trace');
    expect(loadConfig({ PORT: '6000' }).listen.port).toBe(6000);
  });
});

// Items 8 and 12 of issue 10: the Host list, the server's timeouts and connection cap, TLS.
describe('the HTTP server settings', () => {
  it('defaults', () => {
    expect(loadConfig({}).http).toEqual({
      allowedHosts: [],
      allowedHostsSet: false,
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      idleTimeoutMs: 300_000,
      maxConnections: 1024,
    });
  });

  it('ALLOWED_HOSTS: names, addresses, .suffixes and *; anything else is a problem', () => {
    expect(
      loadConfig({ ALLOWED_HOSTS: 'pman, PMAN.chris.svc., .example.org,10.0.0.5,[::2]' }).http,
    ).toMatchObject({
      allowedHosts: ['pman', 'pman.chris.svc', '.example.org', '10.0.0.5', '::2'],
      allowedHostsSet: true,
    });
    expect(loadConfig({ ALLOWED_HOSTS: 'pman,*' }).http?.allowedHosts).toBe('*');
    expect(problems({ ALLOWED_HOSTS: 'pman:5010,a/b' })).toEqual([
      'ALLOWED_HOSTS: "pman:5010" is not a host name, an IP address or *',
      'ALLOWED_HOSTS: "a/b" is not a host name, an IP address or *',
    ]);
  });

  it('timeouts and the connection cap', () => {
    const http = loadConfig({
      HTTP_REQUEST_TIMEOUT_SECONDS: '20',
      HTTP_HEADERS_TIMEOUT_SECONDS: '10',
      HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '2',
      HTTP_IDLE_TIMEOUT_SECONDS: '30',
      HTTP_MAX_CONNECTIONS: '8',
    }).http;
    expect(http).toMatchObject({
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 2_000,
      idleTimeoutMs: 30_000,
      maxConnections: 8,
    });
    expect(problems({ HTTP_REQUEST_TIMEOUT_SECONDS: '10', HTTP_MAX_CONNECTIONS: '0' })).toEqual([
      'HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed HTTP_REQUEST_TIMEOUT_SECONDS',
      'HTTP_MAX_CONNECTIONS: "0" is not a whole number ≥ 1',
    ]);
  });

  it('TLS_CERT_FILE and TLS_KEY_FILE come together', () => {
    expect(loadConfig({ TLS_CERT_FILE: '/c.pem', TLS_KEY_FILE: '/k.pem' }).http?.tls).toEqual({
      certFile: '/c.pem',
      keyFile: '/k.pem',
    });
    expect(problems({ TLS_CERT_FILE: '/c.pem' })).toEqual([
      'TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE must be set together',
    ]);
  });
});

describe('parseDotEnv', () => {
  it('reads KEY=value lines with comments and quotes', () => {
    expect(parseDotEnv('# comment\nCONTAINER_ENV=memory\nSTOREBASE="/a b"\n\nEMPTY=\n')).toEqual({
      CONTAINER_ENV: 'memory',
      STOREBASE: '/a b',
      EMPTY: '',
    });
  });
});
