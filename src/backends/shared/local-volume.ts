// resolveLocalVolume: STORAGE_TYPE=docker_local_volume → the host path of storeBase, once at
// start-up (api.md §7.2): VOLUME_NAME's mountpoint, or the source of the mount at
// /var/local/storeBase of the container matching PFCON_SELECTOR.
import type { EngineConnection } from './engine-settings.js';
import { NotFoundError } from '../../domain/errors.js';
import { ConfigError } from '../../config/errors.js';
import { createDockerClient, engineCall } from './engine-client.js';

/** Where pfcon keeps storeBase inside its container. */
export const PFCON_STOREBASE = '/var/local/storeBase';

export interface LocalVolumeOptions {
  /** VOLUME_NAME; when unset, pfcon's container is looked up by `pfconSelector`. */
  volumeName?: string;
  /** PFCON_SELECTOR, a label filter such as `org.chrisproject.role=pfcon`. */
  pfconSelector: string;
}

/**
 * The host directory to use as storeBase. Throws ConfigError when neither the volume nor a pfcon
 * container with that mount exists; BackendUnavailableError when the engine cannot be reached
 * (start-up retries on that one).
 */
export async function resolveLocalVolume(
  engine: EngineConnection,
  opts: LocalVolumeOptions,
  timeoutMs: number,
): Promise<string> {
  const docker = await createDockerClient(engine);
  if (opts.volumeName !== undefined && opts.volumeName !== '') {
    const name = opts.volumeName;
    let mountpoint: string;
    try {
      const volume = await engineCall(timeoutMs, {}, (signal) =>
        docker.getVolume(name).inspect({ abortSignal: signal }),
      );
      mountpoint = volume.Mountpoint;
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new ConfigError([
          `VOLUME_NAME: docker volume "${name}" does not exist on this engine`,
        ]);
      }
      throw err;
    }
    if (mountpoint === '') {
      throw new ConfigError([`VOLUME_NAME: docker volume "${name}" has no local mountpoint`]);
    }
    return mountpoint;
  }
  const containers = await engineCall(timeoutMs, {}, (signal) =>
    docker.listContainers({
      all: true,
      filters: { label: [opts.pfconSelector] },
      abortSignal: signal,
    }),
  );
  // A running pfcon first; a stopped one still tells where its data lives.
  const ordered = [...containers].sort(
    (a, b) => Number(b.State === 'running') - Number(a.State === 'running'),
  );
  for (const c of ordered) {
    const mount = c.Mounts.find((m) => m.Destination === PFCON_STOREBASE);
    if (mount !== undefined && mount.Source !== '') return mount.Source;
  }
  const found =
    containers.length === 0
      ? `no container matches PFCON_SELECTOR "${opts.pfconSelector}"`
      : `no container matching PFCON_SELECTOR "${opts.pfconSelector}" mounts ${PFCON_STOREBASE}`;
  throw new ConfigError([
    `STORAGE_TYPE=docker_local_volume: ${found}; set VOLUME_NAME, start pfcon first, or use STORAGE_TYPE=host with STOREBASE`,
  ]);
}
