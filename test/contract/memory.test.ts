// The conformance suite against the reference in-memory backend. Its harness is a fake engine:
// it hands over printed bytes one at a time (every multi-byte character split across chunks)
// and reports the spec the backend received.
import { INCOMING, OUTGOING } from '../../src/domain/job.js';
import { createMemoryBackend } from '../../src/backends/memory.js';
import { describeBackend, type RecordedJob } from './backend.contract.js';

/** `text` as an engine might deliver it at worst: one byte per chunk. */
function byteByByte(text: string): Uint8Array[] {
  return [...new TextEncoder().encode(text)].map((byte) => Uint8Array.of(byte));
}

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
      else {
        const logs = outcome.logs === undefined ? undefined : byteByByte(outcome.logs);
        backend.finish(name, outcome.exitCode, logs);
      }
      return Promise.resolve();
    },
    recorded: (name): Promise<RecordedJob> => {
      const spec = backend.specOf(name);
      if (spec === undefined) return Promise.reject(new Error(`memory received no job ${name}`));
      return Promise.resolve({
        command: [...spec.command],
        env: { ...spec.env },
        mounts: spec.mounts.map((m) => ({
          target: m.containerPath,
          readOnly: m.readOnly,
          subPath: m.subPath,
        })),
      });
    },
    running: (name, logs) => {
      backend.start(name, byteByByte(logs));
      return Promise.resolve();
    },
    // The memory backend's stop ends the job at once (exit 143), as an engine's SIGTERM would.
    stopped: () => Promise.resolve(),
    cleanup: () => backend.close(),
  };
});
