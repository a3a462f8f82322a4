// Cancel and capacity on the Kubernetes fake (issue 13): through the job service, a running Job is
// cancelled — the backend reads its log, patches activeDeadlineSeconds, the Job controller kills
// the pod and fails the Job — and the run ends `cancelled…` with the log it had printed, though the
// pod (and its log) is gone; the nodes' allocatable resources make the capacity; a service account
// that may not list nodes is an error the capacity route turns into `nodes_unavailable`.
import { afterEach, describe, expect, it } from 'vitest';
import { JobService } from '../../src/service/jobs.js';
import { Ledger } from '../../src/store/ledger.js';
import { sampleRequest, testConfig } from '../fixtures.js';
import { runPrefix, until } from './backend.contract.js';
import { startKubeRig } from './kube-rig.js';
import type { KubeRig } from './kube-rig.js';

const NS = 'chris';

describe('kubernetes: cancel and capacity (fake API)', () => {
  let r: KubeRig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('cancel through the job service: the Job is stopped by its deadline, the run ends cancelled with its log', async () => {
    r = await startKubeRig({ namespace: NS, config: { stopGraceSeconds: 3 } });
    const rig = r;
    const ledger = Ledger.inMemory();
    const storage = { type: 'kubernetes_pvc', claimName: 'storebase' } as const;
    const jobs = new JobService({
      backend: rig.backend,
      ledger,
      config: testConfig({ control: { cancelGraceSeconds: 3 } }),
      storage,
    });
    const name = `cancel-${runPrefix('k')}`;
    rig.fake.scenario(name, [
      { pod: 'create' },
      { schedule: true },
      { running: true, log: 'working\n' },
    ]);
    await jobs.create(sampleRequest({ jid: name }));
    await rig.fake.runToEnd(NS, name);
    await rig.caughtUp(name);
    await until(
      'the run to start',
      () => Promise.resolve(ledger.current(name)?.status),
      (status) => status === 'started',
      10_000,
    );
    const answer = await jobs.cancel(name);
    expect(answer.name).toBe(name);
    // What the API was asked: the Job's deadline, and the pod's grace set at create.
    const job = rig.fake.getJob(NS, name);
    expect(job?.spec.activeDeadlineSeconds).toBeGreaterThanOrEqual(1);
    expect(job?.spec.template.spec?.terminationGracePeriodSeconds).toBe(3);
    rig.fake.clock.tick(1000);
    await rig.fake.runToEnd(NS, name);
    await until(
      'the run to end',
      () => Promise.resolve(ledger.current(name)?.status),
      (status) => status === 'finishedWithError',
      10_000,
    );
    expect(rig.fake.pods(NS, name)).toEqual([]);
    const { info, logs } = await jobs.read(name);
    expect(info.message).toMatch(/^cancelled/);
    expect(logs).toContain('working');
    await expect(jobs.cancel(name)).rejects.toThrow(/already finished/);
    await jobs.remove(name);
    ledger.close();
  });

  it('capacity: the nodes with their allocatable CPU, memory and GPUs', async () => {
    r = await startKubeRig({ namespace: NS });
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'gpu-1' },
      status: {
        allocatable: { cpu: '3500m', memory: '16393116Ki', 'nvidia.com/gpu': '2' },
        capacity: { cpu: '4', memory: '16495516Ki', 'nvidia.com/gpu': '2' },
      },
    };
    const res = await fetch(`${r.fake.url}/api/v1/nodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer fake-token' },
      body: JSON.stringify(node),
    });
    expect(res.status).toBe(201);
    expect(await r.backend.capacity()).toEqual([
      {
        name: 'gpu-1',
        cpuMillicores: 3500,
        memoryMiB: Math.floor((16393116 * 1024) / 2 ** 20),
        gpus: 2,
      },
    ]);
  });

  it('capacity without the right to list nodes is an error naming it', async () => {
    r = await startKubeRig({ namespace: NS });
    r.fake.deny({ verb: 'list', resource: 'nodes' });
    await expect(r.backend.capacity()).rejects.toThrow(/nodes/);
  });
});
