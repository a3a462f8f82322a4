// The conformance suite: the swarm backend against the fake Engine API (the fast tier; the real
// swarm runs the same suite in test/engine/swarm.test.ts). Then service jobs (issue 15) on the
// fake: the fake swarm restarts a service job's ended task after its restart delay, as a real one.
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, JobRead } from '../../src/backends/backend.js';
import type { SwarmServiceSettings } from '../../src/backends/swarm/settings.js';
import { createSwarmBackend } from '../../src/backends/swarm/swarm.js';
import { TERMINAL_STATUSES } from '../../src/domain/job.js';
import type { JobInfo, JobSpec } from '../../src/domain/job.js';
import { startEngineFake, type EngineFake } from '../fakes/engine-api.js';
import { sampleSpec, statusOf } from '../fixtures.js';
import { describeBackend, until } from './backend.contract.js';
import { FAKE_IMAGE, engineHarness, swarmSettings } from './engine-rig.js';

describeBackend('swarm on the fake engine', () => engineHarness('swarm'));

describe('swarm service jobs on the fake engine (issue 15)', () => {
  let fake: EngineFake;
  const opened: Backend[] = [];
  let n = 0;

  beforeEach(async () => {
    fake = await startEngineFake();
    fake.images.add(FAKE_IMAGE);
  });
  afterEach(async () => {
    for (const b of opened.splice(0)) await b.close();
    await fake.close();
  });

  async function open(service: SwarmServiceSettings): Promise<Backend> {
    const deps = { log: pino({ level: 'silent' }), timeoutMs: 5000 };
    const backend = await createSwarmBackend({ ...swarmSettings(fake), service }, deps);
    opened.push(backend);
    return backend;
  }
  const HOST: SwarmServiceSettings = {
    publishMode: 'host',
    bindIp: '127.0.0.1',
    network: 'bridge',
  };

  function serviceSpec(): JobSpec {
    return sampleSpec({
      name: `svc-${++n}`,
      image: FAKE_IMAGE,
      command: ['httpd', '-f', '-p', '8080'],
      mounts: [],
      labels: {},
      service: { port: 8080, exposure: 'ClusterIP' },
    });
  }

  it('host mode: the port pinned at create is the endpoint from the first answer on, and the capability is set', async () => {
    const backend = await open(HOST);
    expect(backend.capabilities.services).toStrictEqual({ nodePort: false });
    const spec = serviceSpec();
    const created = await backend.create(spec);
    const sent = fake.services.get(spec.name)?.Spec as unknown as {
      Labels: Record<string, string>;
      EndpointSpec: { Ports: { PublishedPort?: number; PublishMode: string }[] };
    };
    const pinned = sent.EndpointSpec.Ports[0]?.PublishedPort;
    expect(pinned).toBeGreaterThan(0);
    expect(sent.EndpointSpec.Ports[0]?.PublishMode).toBe('host');
    expect(sent.Labels['pman.service.port']).toBe('8080');
    expect(created.service?.endpoint).toBe(`http://127.0.0.1:${String(pinned)}`);
    const read = await statusOf(backend, spec.name);
    expect(read).toMatchObject({
      status: 'started',
      message: 'running',
      service: { endpoint: `http://127.0.0.1:${String(pinned)}`, restarts: 0 },
    });
    expect((await backend.list()).find((j) => j.name === spec.name)?.service?.endpoint).toBe(
      created.service?.endpoint,
    );
  });

  it('ingress mode: the endpoint is the port the swarm allocated for the service, on SERVICE_BIND_IP', async () => {
    const backend = await open({ publishMode: 'ingress', bindIp: '10.0.0.5', network: 'bridge' });
    const spec = serviceSpec();
    await backend.create(spec);
    const info = await until(
      `${spec.name}'s endpoint`,
      () => statusOf(backend, spec.name),
      (i) => i.service?.endpoint !== undefined,
    );
    expect(info.service?.endpoint).toBe('http://10.0.0.5:30000');
  });

  it('a crashed task is no end: the view and the watcher see it started until the swarm runs it again; stop scales to 0 and ends it once', async () => {
    const backend = await open(HOST);
    const snapshots: JobRead[] = [];
    backend.watchJobs?.({ tail: 100, maxBytes: 10_000 }, (s) => snapshots.push(s));
    const spec = serviceSpec();
    const created = await backend.create(spec);
    await until(
      `${spec.name} running`,
      () => statusOf(backend, spec.name),
      (i) => i.status === 'started',
    );
    fake.finish(spec.name, { exitCode: 3, logs: 'boom\n' });
    const seen: JobInfo[] = [];
    const again = await until(
      `${spec.name} restarted and running`,
      async () => {
        const info = await statusOf(backend, spec.name);
        seen.push(info);
        return info;
      },
      (i) => i.service?.restarts === 1 && i.message === 'running',
    );
    expect(seen.filter((i) => TERMINAL_STATUSES.has(i.status))).toEqual([]);
    expect(seen.map((i) => i.status).every((s) => s === 'started')).toBe(true);
    expect(again.service?.endpoint).toBe(created.service?.endpoint);
    expect(snapshots.filter((s) => TERMINAL_STATUSES.has(s.info.status))).toEqual([]);

    await backend.stop?.(spec.name, 1);
    expect(
      (
        fake.services.get(spec.name)?.Spec as unknown as {
          Mode: { Replicated: { Replicas: number } };
        }
      ).Mode.Replicated.Replicas,
    ).toBe(0);
    const end = await until(
      `${spec.name}'s end`,
      () => Promise.resolve(snapshots.filter((s) => TERMINAL_STATUSES.has(s.info.status))),
      (list) => list.length > 0,
    );
    expect(end).toHaveLength(1);
    expect(end[0]?.info).toMatchObject({ status: 'finishedWithError', message: 'stopped' });
    expect(end[0]?.logs).toContain('boom');
    expect(await statusOf(backend, spec.name)).toMatchObject({
      status: 'finishedWithError',
      message: 'stopped',
    });
  });
});
