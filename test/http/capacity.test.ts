// GET /api/v1/capacity/ (issue 13): the backend's nodes with CPU, memory and GPUs and their sum,
// the running and queued counts, the caps in force (null = unlimited); a backend that cannot list
// its nodes still answers the rest and says why.
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory.js';
import { postJson, sampleBody, testApp } from '../fixtures.js';

async function capacity(
  app: Awaited<ReturnType<typeof testApp>>['app'],
): Promise<Record<string, unknown>> {
  const res = await app.request('/api/v1/capacity/');
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe('GET /api/v1/capacity/', () => {
  it('answers the nodes, their total, the counts and the caps', async () => {
    const backend = new MemoryBackend({
      nodes: [
        { name: 'n1', cpuMillicores: 4000, memoryMiB: 8192, gpus: 1 },
        { name: 'n2', cpuMillicores: 2000, memoryMiB: 4096, gpus: 0 },
      ],
    });
    const { app } = await testApp({
      backend,
      config: {
        queue: { maxRunning: 1 },
        control: { cancelGraceSeconds: 5, jobDeadlineSeconds: 3600 },
      },
    });
    expect((await postJson(app, sampleBody({ jid: 'a' }))).status).toBe(201);
    const queued = await postJson(app, sampleBody({ jid: 'b' }));
    expect(queued.status).toBe(201);
    expect(await capacity(app)).toEqual({
      container_env: 'memory',
      nodes: [
        { name: 'n1', cpu_millicores: 4000, memory_mib: 8192, gpus: 1 },
        { name: 'n2', cpu_millicores: 2000, memory_mib: 4096, gpus: 0 },
      ],
      total: { cpu_millicores: 6000, memory_mib: 12288, gpus: 1 },
      running: 1,
      running_gpus: 0,
      queued: 1,
      caps: {
        max_running: 1,
        max_running_per_auid: null,
        max_gpus: null,
        cancel_grace_seconds: 5,
        job_deadline_seconds: 3600,
      },
    });
  });

  it('still answers the counts when the backend cannot list its nodes', async () => {
    const backend = new MemoryBackend();
    backend.capacity = () =>
      Promise.reject(new Error('nodes is forbidden: list nodes at the cluster scope'));
    const { app } = await testApp({ backend });
    const body = await capacity(app);
    expect(body).toMatchObject({
      nodes: null,
      total: null,
      nodes_unavailable: 'nodes is forbidden: list nodes at the cluster scope',
      running: 0,
      queued: 0,
      caps: { max_running: null, cancel_grace_seconds: 10, job_deadline_seconds: null },
    });
  });

  it('refuses a query parameter with a 400 naming it (the route has none)', async () => {
    const { app } = await testApp();
    const res = await app.request('/api/v1/capacity/?node=n1');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      message: { node: 'is not a parameter of this route (none)' },
    });
  });

  it('answers 503 while the engine is down', async () => {
    const backend = new MemoryBackend();
    const { app } = await testApp({ backend });
    backend.setOutage('down for the test');
    expect((await app.request('/api/v1/capacity/')).status).toBe(503);
  });
});
