// The docker and swarm backends over the fake Engine API (test/fakes/engine-api.ts): the backend
// factories as production calls them, and the conformance harness — outcomes played by the fake,
// then waited on through the backend, and the job as the fake engine received it.
import path from 'node:path';
import { defaultJobHardening } from '../../src/backends/shared/job-hardening.js';
import { pino } from 'pino';
import type { Backend } from '../../src/backends/backend.js';
import { createDockerBackend } from '../../src/backends/docker/docker.js';
import { createSwarmBackend } from '../../src/backends/swarm/swarm.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { INCOMING, OUTGOING, TERMINAL_STATUSES, type Mount } from '../../src/domain/job.js';
import { statusOf } from '../fixtures.js';
import { startEngineFake, type EngineFake } from '../fakes/engine-api.js';
import { until, type Harness, type RecordedJob } from './backend.contract.js';

export const FAKE_IMAGE = 'example.org/pman/job:1';
/** Where the harness's host mounts live; the fake never touches it. */
const STORE = '/store';

type DockerSettings = Parameters<typeof createDockerBackend>[0];
type SwarmSettings = Parameters<typeof createSwarmBackend>[0];
export type EngineKind = 'docker' | 'swarm';

function engineOf(fake: EngineFake): DockerSettings['engine'] {
  return { host: `tcp://${fake.url.host}:${fake.url.port}`, tlsVerify: false };
}

export function dockerSettings(
  fake: EngineFake,
  overrides: Partial<DockerSettings> = {},
): DockerSettings {
  return {
    kind: 'docker',
    alias: 'docker',
    engine: engineOf(fake),
    ignoreLimits: false,
    memoryLimitMode: 'hard',
    imagePullWaitSeconds: 0,
    imagePullTimeoutSeconds: 30,
    maxConcurrentPulls: 8,
    hardening: defaultJobHardening('none'),
    ...overrides,
  };
}

export function swarmSettings(fake: EngineFake): SwarmSettings {
  return { kind: 'swarm', engine: engineOf(fake), hardening: defaultJobHardening('pman-jobs') };
}

/** A backend of that kind on the fake, as the registry would open it. */
export function openOnFake(kind: EngineKind, fake: EngineFake, timeoutMs = 5000): Promise<Backend> {
  const deps = { log: pino({ level: 'silent' }), timeoutMs };
  return kind === 'docker'
    ? createDockerBackend(dockerSettings(fake), deps)
    : createSwarmBackend(swarmSettings(fake), deps);
}

function envOf(entries: unknown): Record<string, string> {
  const list = Array.isArray(entries) ? entries.map(String) : [];
  return Object.fromEntries(
    list.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

function subPathOf(source: string): string {
  return path.posix.relative(STORE, source);
}

/** The container create body or service spec the fake received, in backend-neutral terms. */
export function recordedOnFake(fake: EngineFake, name: string): RecordedJob {
  const container = fake.containers.get(name);
  if (container !== undefined) {
    const body = container.body as {
      Entrypoint?: string[];
      Env?: string[];
      HostConfig?: { Binds?: string[] };
    };
    return {
      command: body.Entrypoint ?? [],
      env: envOf(body.Env),
      mounts: (body.HostConfig?.Binds ?? []).map((bind) => {
        const [source = '', target = '', mode = 'rw'] = bind.split(':');
        return { target, readOnly: mode === 'ro', subPath: subPathOf(source) };
      }),
    };
  }
  const service = fake.services.get(name);
  if (service === undefined) throw new Error(`the fake engine received no job named ${name}`);
  const spec = service.Spec as {
    TaskTemplate?: {
      ContainerSpec?: {
        Command?: string[];
        Env?: string[];
        Mounts?: Array<{ Type: string; Source?: string; Target: string; ReadOnly?: boolean }>;
      };
    };
  };
  const cs = spec.TaskTemplate?.ContainerSpec ?? {};
  return {
    command: cs.Command ?? [],
    env: envOf(cs.Env),
    mounts: (cs.Mounts ?? [])
      .filter((m) => m.Type === 'bind')
      .map((m) => ({
        target: m.Target,
        readOnly: m.ReadOnly ?? false,
        subPath: subPathOf(m.Source ?? ''),
      })),
  };
}

/** The conformance harness for `kind` on a fresh fake engine. */
export async function engineHarness(kind: EngineKind): Promise<Harness> {
  const fake = await startEngineFake();
  fake.images.add(FAKE_IMAGE);
  const backend = await openOnFake(kind, fake);
  const names = new Set<string>();
  return {
    backend,
    image: FAKE_IMAGE,
    mounts(name): Promise<Mount[]> {
      names.add(name);
      return Promise.resolve([
        {
          kind: 'host',
          source: STORE,
          subPath: `${name}/in`,
          containerPath: INCOMING,
          readOnly: true,
        },
        {
          kind: 'host',
          source: STORE,
          subPath: `${name}/out`,
          containerPath: OUTGOING,
          readOnly: false,
        },
      ]);
    },
    async finish(name, outcome) {
      fake.finish(name, outcome);
      // The backend learns of it through the event stream, as from a real engine.
      await until(
        `${name} to finish`,
        () => statusOf(backend, name),
        (info) => TERMINAL_STATUSES.has(info.status),
        5000,
      );
    },
    async running(name, logs) {
      // Docker starts the container in the background after create answered.
      await until(
        `${name} to run`,
        () => statusOf(backend, name),
        (info) => info.status === 'started',
        5000,
      );
      fake.print(name, logs);
    },
    async stopped(name) {
      // The fake ends the job on the backend's kill or service update; the event stream tells.
      await until(
        `${name} to stop`,
        () => statusOf(backend, name),
        (info) => TERMINAL_STATUSES.has(info.status),
        5000,
      );
    },
    recorded: (name) => Promise.resolve(recordedOnFake(fake, name)),
    async cleanup() {
      for (const name of names) {
        await backend.delete(name).catch((err: unknown) => {
          if (!(err instanceof NotFoundError)) throw err;
        });
      }
      await backend.close();
      await fake.close();
    },
  };
}
