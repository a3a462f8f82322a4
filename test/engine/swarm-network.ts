// Removing a test run's swarm network: the engine detaches a removed service's task from the
// overlay a little later, so the removal is retried until it lands or the network is gone.
import { execFileSync } from 'node:child_process';
import { until } from '../contract/backend.contract.js';

/** Removes the network `name`, retrying while a task being torn down still holds it. */
export async function removeNetworkOnceFree(name: string, timeoutMs: number): Promise<void> {
  await until(
    `network ${name} removed`,
    () => {
      try {
        // stderr captured: the error's text says whether the network is gone already.
        execFileSync('docker', ['network', 'rm', name], { stdio: ['ignore', 'pipe', 'pipe'] });
        return Promise.resolve(true);
      } catch (err) {
        return Promise.resolve(/No such network|not found/i.test(String(err)));
      }
    },
    (gone) => gone,
    timeoutMs,
  );
}
