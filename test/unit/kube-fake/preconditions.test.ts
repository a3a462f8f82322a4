// The fake honours DeleteOptions.preconditions as the real API server does: a delete carrying the
// uid it read answers 409 Conflict, and deletes nothing, when the Job was recreated in between.

import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKubeApi, type FakeKubeApi } from '../../fakes/kube-api/index.js';

const NS = 'default';
let fake: FakeKubeApi | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function jobsUrl(name = ''): string {
  return `${fake?.url ?? ''}/apis/batch/v1/namespaces/${NS}/jobs${name === '' ? '' : `/${name}`}`;
}

async function createJob(name: string): Promise<string> {
  const res = await fetch(jobsUrl(), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] },
        },
      },
    }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { metadata: { uid: string } };
  return body.metadata.uid;
}

async function del(name: string, options: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(jobsUrl(name), {
    method: 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(options),
  });
  return { status: res.status, json: await res.json() };
}

async function exists(name: string): Promise<boolean> {
  return (await fetch(jobsUrl(name))).status === 200;
}

describe('fake kube-api: delete preconditions', () => {
  it('deletes when the uid precondition matches', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    const uid = await createJob('same');
    const answer = await del('same', { propagationPolicy: 'Background', preconditions: { uid } });
    expect(answer.status).toBe(200);
    expect(await exists('same')).toBe(false);
  });

  it('answers 409 Conflict and keeps a Job recreated under the same name', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    const first = await createJob('again');
    expect((await del('again', { propagationPolicy: 'Background' })).status).toBe(200);
    const second = await createJob('again');
    expect(second).not.toBe(first);
    const answer = await del('again', {
      propagationPolicy: 'Background',
      preconditions: { uid: first },
    });
    expect(answer.status).toBe(409);
    expect(answer.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: `Operation cannot be fulfilled on jobs.batch "again": Precondition failed: UID in precondition: ${first}, UID in object meta: ${second}`,
      details: { name: 'again', group: 'batch', kind: 'jobs' },
    });
    expect(await exists('again')).toBe(true);
  });

  it('answers 409 on a resourceVersion precondition that no longer holds', async () => {
    fake = await startFakeKubeApi({ namespaces: [NS] });
    await createJob('rv');
    const answer = await del('rv', { preconditions: { resourceVersion: '1' } });
    expect(answer.status).toBe(409);
    expect(await exists('rv')).toBe(true);
  });
});
