// The same operations made directly against the engine with dockerode, for the overhead ratio:
// the create body comes from our own pure translators, so both sides ask the engine for the same.
import type Docker from 'dockerode';
import { toContainerCreate } from '../src/backends/docker/manifest.js';
import { toServiceSpec } from '../src/backends/swarm/manifest.js';
import { DOCKER_MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../src/backends/shared/labels.js';
import type { JobSpec } from '../src/domain/job.js';

export interface DirectOps {
  create(name: string): Promise<void>;
  /** What the server must at least do to answer a status GET without a view. */
  status(name: string): Promise<void>;
  delete(name: string): Promise<void>;
}

export interface JobShape {
  image: string;
  command: readonly string[];
  storeBase: string;
  labels: Record<string, string>;
}

export function specOf(name: string, shape: JobShape): JobSpec {
  return {
    name,
    image: shape.image,
    command: shape.command,
    env: {},
    resources: { workers: 1, cpuMillicores: 100, memoryMiB: 50, gpus: 0 },
    mounts: [
      {
        kind: 'host',
        source: shape.storeBase,
        subPath: 'bench/in',
        containerPath: '/share/incoming',
        readOnly: true,
      },
      {
        kind: 'host',
        source: shape.storeBase,
        subPath: 'bench/out',
        containerPath: '/share/outgoing',
        readOnly: false,
      },
    ],
    labels: { ...shape.labels, [DOCKER_MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
  };
}

export function dockerOps(docker: Docker, shape: JobShape): DirectOps {
  return {
    async create(name) {
      const body = toContainerCreate(specOf(name, shape), {
        ignoreLimits: false,
        memoryLimitMode: 'hard',
      });
      const c = await docker.createContainer(body);
      await c.start();
    },
    async status(name) {
      await docker.getContainer(name).inspect();
    },
    async delete(name) {
      await docker.getContainer(name).remove({ force: true, v: true });
    },
  };
}

export function swarmOps(docker: Docker, shape: JobShape): DirectOps {
  return {
    async create(name) {
      const spec = toServiceSpec(specOf(name, shape), {});
      await docker.createService(spec as unknown as Docker.CreateServiceOptions);
    },
    async status(name) {
      const service = (await docker.getService(name).inspect()) as { ID: string };
      await docker.listTasks({ filters: { service: [service.ID] } });
    },
    async delete(name) {
      await docker.getService(name).remove();
    },
  };
}

/** Removes every container and service carrying the run's label (ours and the direct ones). */
export async function removeLabelled(docker: Docker, label: string): Promise<number> {
  let removed = 0;
  const services = await docker.listServices({ filters: { label: [label] } });
  for (const s of services) {
    await docker
      .getService(s.ID)
      .remove()
      .catch(() => undefined);
    removed++;
  }
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    containers.map(async (c) => {
      await docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined);
      removed++;
    }),
  );
  return removed;
}
