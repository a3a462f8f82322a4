// Whether the Podman cases can run: rootful `podman system service` answering on PODMAN_HOST (the
// socket scripts/podman-up.sh starts, unless PODMAN_HOST says otherwise). With CI=true or
// REQUIRE_ENGINE=1 a missing Podman is a failure, as a missing Docker engine is (engine-available.ts).
import { execFileSync } from 'node:child_process';
import { createDockerClient } from '../../src/backends/shared/engine-client.js';

/** The socket of scripts/podman-up.sh. */
export const PODMAN_HOST = process.env.PODMAN_HOST ?? 'unix:///run/pman-podman/podman.sock';

function required(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return (ci !== '' && ci !== 'false' && ci !== '0') || process.env.REQUIRE_ENGINE === '1';
}

async function reachable(): Promise<string | undefined> {
  try {
    const podman = await createDockerClient({ host: PODMAN_HOST, tlsVerify: false });
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref();
    });
    await Promise.race([podman.ping() as Promise<unknown>, timeout]);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** true when Podman answers; throws when it is required but does not; else a loud skip. */
export async function requirePodman(): Promise<boolean> {
  const reason = await reachable();
  if (reason === undefined) return true;
  const message = `Podman unreachable on ${PODMAN_HOST} (${reason}): podman tests`;
  if (required())
    throw new Error(
      `${message} are required here (CI / REQUIRE_ENGINE=1; run scripts/podman-up.sh)`,
    );
  console.warn(
    `\n*** ${message} SKIPPED. Run scripts/podman-up.sh, or set REQUIRE_ENGINE=1 to fail. ***\n`,
  );
  return false;
}

/** The podman CLI on the same store as the service (scripts/podman-up.sh's containers.conf). */
export function podman(...args: string[]): string {
  return execFileSync('podman', args, {
    encoding: 'utf8',
    env: { ...process.env, CONTAINERS_CONF: '/run/pman-podman/containers.conf' },
  }).trim();
}
