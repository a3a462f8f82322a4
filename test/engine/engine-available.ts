// Whether the engine tier can run: a reachable Docker engine. With CI=true or REQUIRE_ENGINE=1 a
// missing engine is a failure (a CI run must never pass vacuously); on a developer machine the
// tier is skipped with a loud notice.
import { createDockerClient } from '../../src/backends/shared/engine-client.js';

function required(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return (ci !== '' && ci !== 'false' && ci !== '0') || process.env.REQUIRE_ENGINE === '1';
}

let probe: Promise<string | undefined> | undefined;

/** undefined when the engine answers a ping within 5 s, else the reason it does not. */
function reachable(): Promise<string | undefined> {
  probe ??= (async () => {
    try {
      const host = process.env.DOCKER_HOST;
      const docker = await createDockerClient({
        ...(host !== undefined && { host }),
        tlsVerify: process.env.DOCKER_TLS_VERIFY === '1',
      });
      const timeout = new Promise<never>((_, reject) => {
        setTimeout(() => reject(new Error('no answer within 5 s')), 5000).unref();
      });
      await Promise.race([docker.ping() as Promise<unknown>, timeout]);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  })();
  return probe;
}

/**
 * true when the engine tier can run. Throws when the engine is required (CI=true, REQUIRE_ENGINE=1)
 * but unreachable; otherwise prints a loud notice and returns false so the caller skips.
 */
export async function requireEngine(): Promise<boolean> {
  const reason = await reachable();
  if (reason === undefined) return true;
  const message = `Docker engine unreachable (${reason}): engine tests`;
  if (required()) throw new Error(`${message} are required here (CI / REQUIRE_ENGINE=1)`);
  console.warn(`\n*** ${message} SKIPPED. Start dockerd, or set REQUIRE_ENGINE=1 to fail. ***\n`);
  return false;
}
