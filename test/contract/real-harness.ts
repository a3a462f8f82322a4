// A Harness for backends that really run jobs (Docker, Swarm, a real cluster with host storage):
// fresh dirs under a temporary storeBase, outcomes waited on (bounded), everything removed after.
import { statusOf } from '../fixtures.js';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Backend } from '../../src/backends/backend.js';
import { NotFoundError } from '../../src/domain/errors.js';
import { INCOMING, OUTGOING, TERMINAL_STATUSES, type Mount } from '../../src/domain/job.js';
import { until, type Harness } from './backend.contract.js';

export async function realHarness(
  backend: Backend,
  image: string,
  opts: { finishTimeoutMs?: number } = {},
): Promise<Harness> {
  const root = await mkdtemp(path.join(tmpdir(), 'pman-ct-'));
  const names = new Set<string>();
  return {
    backend,
    image,
    async mounts(name: string): Promise<Mount[]> {
      names.add(name);
      await mkdir(path.join(root, name, 'in'), { recursive: true });
      await mkdir(path.join(root, name, 'out'), { recursive: true });
      await writeFile(path.join(root, name, 'in', 'input.txt'), 'input\n');
      return [
        {
          kind: 'host',
          source: root,
          subPath: `${name}/in`,
          containerPath: INCOMING,
          readOnly: true,
        },
        {
          kind: 'host',
          source: root,
          subPath: `${name}/out`,
          containerPath: OUTGOING,
          readOnly: false,
        },
      ];
    },
    async finish(name: string): Promise<void> {
      await until(
        `${name} to finish`,
        () => statusOf(backend, name),
        (info) => TERMINAL_STATUSES.has(info.status),
        opts.finishTimeoutMs ?? 90_000,
      );
    },
    async readOutput(name: string, file: string): Promise<string> {
      return readFile(path.join(root, name, 'out', file), 'utf8');
    },
    async cleanup(): Promise<void> {
      for (const name of names) {
        try {
          await backend.delete(name);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      await backend.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
