// streamLogs with follow on the Kubernetes backend (issue 12, logs/?follow=1): the pod log is
// followed through the API's follow=true stream — output arrives as the container writes it, the
// stream ends when the container does, and the caller's abort ends it early.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSpec } from '../../src/domain/job.js';
import { pvcMounts, startKubeRig } from './kube-rig.js';
import type { KubeRig } from './kube-rig.js';
import { runPrefix, until } from './backend.contract.js';

const NS = 'chris';

function jobSpec(name: string): JobSpec {
  return {
    name,
    image: 'busybox',
    command: ['/bin/sh', '-c', 'echo hi'],
    env: {},
    resources: { workers: 1, cpuMillicores: 500, memoryMiB: 128, gpus: 0 },
    mounts: pvcMounts(name),
    labels: { 'app.kubernetes.io/managed-by': 'pman' },
  };
}

/** Reads the stream in the background; `text` grows as chunks come. */
function reader(stream: AsyncIterable<Uint8Array>) {
  const state = { text: '', done: false };
  const finished = (async () => {
    for await (const chunk of stream) state.text += Buffer.from(chunk).toString('utf8');
    state.done = true;
  })();
  return { state, finished };
}

describe('kubernetes streamLogs with follow (fake API)', () => {
  let r: KubeRig;
  const prefix = runPrefix('kfollow');
  let n = 0;
  const next = (): string => `${prefix}-${++n}`;

  beforeAll(async () => {
    r = await startKubeRig({ namespace: NS, timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await r?.close();
  });

  it('delivers output as the container writes it and ends when the container ends', async () => {
    const name = next();
    r.fake.scenario(name, [
      { pod: 'create' },
      { running: true, log: 'one\n' },
      { log: 'two\n' },
      { exit: 0, log: 'three\n' },
    ]);
    await r.backend.create(jobSpec(name));
    await r.fake.advance(NS, name, 2);
    await r.caughtUp(name);
    const { state, finished } = reader(r.backend.streamLogs(name, undefined, { follow: true }));
    await until(
      'the first line',
      () => Promise.resolve(state.text),
      (t) => t === 'one\n',
      5_000,
    );
    await r.fake.advance(NS, name);
    await until(
      'the second line',
      () => Promise.resolve(state.text),
      (t) => t.endsWith('two\n'),
      5_000,
    );
    expect(state.done).toBe(false);
    await r.fake.runToEnd(NS, name);
    await finished;
    expect(state.text).toBe('one\ntwo\nthree\n');
    await r.backend.delete(name);
  });

  it('follows from the last N lines, and ends when the caller aborts', async () => {
    const name = next();
    r.fake.scenario(name, [{ pod: 'create' }, { running: true, log: 'a\nb\nc\n' }]);
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    const stop = new AbortController();
    const { state, finished } = reader(
      r.backend.streamLogs(name, 2, { follow: true, signal: stop.signal }),
    );
    await until(
      'the tail',
      () => Promise.resolve(state.text),
      (t) => t === 'b\nc\n',
      5_000,
    );
    stop.abort();
    await finished;
    expect(state.text).toBe('b\nc\n');
    await r.backend.delete(name);
  });

  it('without follow, answers what exists and ends', async () => {
    const name = next();
    r.fake.scenario(name, [{ pod: 'create' }, { running: true, log: 'x\n' }]);
    await r.backend.create(jobSpec(name));
    await r.fake.runToEnd(NS, name);
    await r.caughtUp(name);
    const { state, finished } = reader(r.backend.streamLogs(name));
    await finished;
    expect(state.text).toBe('x\n');
    await r.backend.delete(name);
  });
});
