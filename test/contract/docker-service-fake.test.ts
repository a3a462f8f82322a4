// Service jobs through the docker backend over the fake Engine API (issue 15): the create body the
// engine receives (a pinned host port on SERVICE_BIND_IP, restart policy, SERVICE_NETWORK), a
// start refused because the host port was taken retried on another port (and only that refusal),
// and a SERVICE_NETWORK the engine does not have stopping start-up.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { createDockerBackend } from '../../src/backends/docker/docker.js';
import { PODMAN_FLAVOUR } from '../../src/backends/podman/flavour.js';
import { ConfigError } from '../../src/config/errors.js';
import type { JobSpec } from '../../src/domain/job.js';
import { sampleSpec } from '../fixtures.js';
import { startEngineFake, type EngineFake } from '../fakes/engine-api.js';
import type { FakeContainer } from '../fakes/engine/state.js';
import { until } from './backend.contract.js';
import { dockerSettings, FAKE_IMAGE } from './engine-rig.js';

const deps = { log: pino({ level: 'silent' }), timeoutMs: 5000 };
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function rig(
  overrides: Parameters<typeof dockerSettings>[1] = {},
  flavour?: typeof PODMAN_FLAVOUR,
): Promise<{ fake: EngineFake; backend: Backend }> {
  const fake = await startEngineFake();
  closers.push(() => fake.close());
  fake.images.add(FAKE_IMAGE);
  const backend = await createDockerBackend(dockerSettings(fake, overrides), deps, flavour);
  closers.push(() => backend.close?.() ?? Promise.resolve());
  return { fake, backend };
}

function service(name: string): JobSpec {
  return sampleSpec({
    name,
    image: FAKE_IMAGE,
    command: ['httpd', '-f', '-p', '8080'],
    mounts: [],
    service: { port: 8080, exposure: 'ClusterIP' },
  });
}

interface Body {
  Labels?: Record<string, string>;
  ExposedPorts?: Record<string, unknown>;
  HostConfig?: {
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
    RestartPolicy?: { Name: string };
    NetworkMode?: string;
  };
}

/** Creates the service job `name` and waits until the backend reads it started. */
async function startService(backend: Backend, name: string): Promise<void> {
  await backend.create(service(name));
  await until(
    `${name} running`,
    () => backend.read(name),
    (r) => r.info.status === 'started',
    20_000,
  );
}

function containerOf(fake: EngineFake, name: string): FakeContainer {
  const c = fake.containers.get(name);
  if (c === undefined) throw new Error(`no container ${name}`);
  return c;
}

function creates(fake: EngineFake): number {
  return fake.requests.filter((r) => r.startsWith('POST /containers/create')).length;
}

describe('service jobs on the docker backend (fake engine)', () => {
  it('the engine receives a pinned host port on SERVICE_BIND_IP, unless-stopped, the default bridge', async () => {
    const { fake, backend } = await rig({ serviceBindIp: '127.0.0.1' });
    expect(backend.capabilities.services).toStrictEqual({ nodePort: false });
    const created = await backend.create(service('svc-a'));
    expect(created.status).toBe('notstarted');
    expect(created.service).toStrictEqual({ restarts: 0 });
    const body = fake.containers.get('svc-a')?.body as Body;
    const binding = body.HostConfig?.PortBindings?.['8080/tcp']?.[0];
    expect(binding?.HostIp).toBe('127.0.0.1');
    expect(Number(binding?.HostPort)).toBeGreaterThan(0);
    expect(body.HostConfig?.RestartPolicy).toStrictEqual({ Name: 'unless-stopped' });
    expect(body.HostConfig?.NetworkMode).toBe('bridge');
    expect(body.Labels?.['pman.service.port']).toBe('8080');
  });

  it('a start refused because the host port is taken is retried on another port, up to 5 times', async () => {
    const { fake, backend } = await rig();
    fake.failStart = {
      status: 500,
      message:
        'driver failed programming external connectivity on endpoint svc-b (x): Bind for 127.0.0.1:40001 failed: port is already allocated',
    };
    await backend.create(service('svc-b'));
    const end = await until(
      'svc-b failed',
      () => backend.read('svc-b'),
      (r) => r.info.status === 'finishedWithError',
      20_000,
    );
    expect(end.info.message).toMatch(/port is already allocated/);
    expect(creates(fake)).toBe(5);
  });

  it('any other refused start is not retried', async () => {
    const { fake, backend } = await rig();
    fake.failStart = { status: 500, message: 'exec: "httpd": executable file not found in $PATH' };
    await backend.create(service('svc-c'));
    await until(
      'svc-c failed',
      () => backend.read('svc-c'),
      (r) => r.info.status === 'finishedWithError',
      20_000,
    );
    expect(creates(fake)).toBe(1);
  });

  it('a stop the engine raises no event for is read final at once, not after the next resync', async () => {
    // Docker stops a service between two of its restarts without any event (its kill only tells
    // the restart loop to give up): the event-fed view must not go on saying it runs.
    const { fake, backend } = await rig();
    await startService(backend, 'svc-d');
    const c = containerOf(fake, 'svc-d');
    Object.assign(c, { status: 'exited', exitCode: 1, finishedAt: new Date().toISOString() });
    await backend.stop?.('svc-d', 1);
    expect((await backend.read('svc-d')).info).toMatchObject({
      status: 'finishedWithError',
      message: 'exited with code 1',
    });
  });

  it('Podman: a service stopped between two of its restarts is not ended until the stop lands', async () => {
    // Podman answers a stop between a crash and its restart with a 304 that marks nothing and
    // starts the server again a moment later: the run must not be read as ended meanwhile (it
    // was, and the container ran on after the job's end was recorded).
    const { fake, backend } = await rig({}, PODMAN_FLAVOUR);
    await startService(backend, 'svc-p');
    fake.finish('svc-p', { exitCode: 1 });
    const stops = (): number =>
      fake.requests.filter((r) => r.startsWith('POST /containers/svc-p/stop')).length;
    const stopping = backend.stop?.('svc-p', 1);
    await until(
      'the first stop',
      () => Promise.resolve(stops()),
      (n) => n >= 1,
      5_000,
    );
    expect((await backend.read('svc-p')).info.status).not.toMatch(/^finished/);
    // Podman's restart: running again, so the next stop lands (204) and marks it stopped.
    const c = containerOf(fake, 'svc-p');
    Object.assign(c, { status: 'running', startedAt: new Date().toISOString() });
    await stopping;
    expect(stops()).toBeGreaterThanOrEqual(2);
    expect(fake.containers.get('svc-p')?.status).toBe('exited');
    expect((await backend.read('svc-p')).info.status).toBe('finishedWithError');
  });

  it('an internal SERVICE_NETWORK stops start-up: no port would be published', async () => {
    const fake = await startEngineFake();
    closers.push(() => fake.close());
    fake.networks.set('sealed', {
      Name: 'sealed',
      Driver: 'bridge',
      Scope: 'local',
      Internal: true,
    });
    await expect(
      createDockerBackend(dockerSettings(fake, { serviceNetwork: 'sealed' }), deps),
    ).rejects.toThrow(/^SERVICE_NETWORK: network "sealed" is internal/);
  });

  it('a SERVICE_NETWORK the engine does not have stops start-up, naming it', async () => {
    const fake = await startEngineFake();
    closers.push(() => fake.close());
    await expect(
      createDockerBackend(dockerSettings(fake, { serviceNetwork: 'nope' }), deps),
    ).rejects.toThrow(
      new ConfigError(['SERVICE_NETWORK: there is no network "nope" on this engine']),
    );
  });
});
