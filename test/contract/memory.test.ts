// The conformance suite against the reference in-memory backend.
import { INCOMING, OUTGOING } from '../../src/domain/job.js';
import { createMemoryBackend } from '../../src/backends/memory.js';
import { describeBackend } from './backend.contract.js';

describeBackend('memory', async () => {
  const backend = await createMemoryBackend();
  return {
    backend,
    image: 'busybox',
    mounts: (name) =>
      Promise.resolve([
        {
          kind: 'host',
          source: '/store',
          subPath: `${name}/in`,
          containerPath: INCOMING,
          readOnly: true,
        },
        {
          kind: 'host',
          source: '/store',
          subPath: `${name}/out`,
          containerPath: OUTGOING,
          readOnly: false,
        },
      ]),
    finish: (name, outcome) => {
      if (outcome === 'oom') backend.oom(name);
      else backend.finish(name, outcome.exitCode, outcome.logs);
      return Promise.resolve();
    },
    cleanup: () => backend.close(),
  };
});
