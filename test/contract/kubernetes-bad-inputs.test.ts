// The bad-input corpus (test/engine/reliability/bad-inputs.ts) on the Kubernetes backend: the
// whole app (createApp, a real HTTP listener) over the real client-node against the fake API, with
// a hostPath storeBase the server sees. Every case: a 4xx with {"message": …}, no Job reaching the
// API, nothing new on disk, and the server still ready afterwards (issue 10, "Also wanted").
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { listen } from '../../src/http/server.js';
import type { Listening } from '../../src/http/server.js';
import { readHttpServer } from '../../src/config/listen.js';
import { createEnvReader } from '../../src/config/env-reader.js';
import { Ledger } from '../../src/store/ledger.js';
import { badInputCorpus, judge, runnable } from '../engine/reliability/bad-inputs.js';
import type { CorpusContext } from '../engine/reliability/bad-inputs.js';
import { call, send } from '../engine/reliability/http-client.js';
import { storeTree } from '../engine/reliability/store-tree.js';
import { silentLogger, testConfig } from '../fixtures.js';
import { runPrefix } from './backend.contract.js';
import { startKubeRig } from './kube-rig.js';
import type { KubeRig } from './kube-rig.js';

const NS = 'chris';

describe('bad-input corpus on kubernetes (fake API)', () => {
  let rig: KubeRig;
  let storeBase: string;
  let listening: Listening;
  let url: string;
  let before: string[];
  const prefix = runPrefix('kbad').toLowerCase();

  beforeAll(async () => {
    rig = await startKubeRig({ namespace: NS });
    storeBase = await mkdtemp(path.join(tmpdir(), 'pman-kbad-'));
    await mkdir(path.join(storeBase, 'in'));
    await mkdir(path.join(storeBase, 'out'));
    await symlink(tmpdir(), path.join(storeBase, 'escape'));
    await symlink('loop', path.join(storeBase, 'loop'));
    before = await storeTree(storeBase);
    const storage = { type: 'host', storeBase } as const;
    const config = testConfig({
      backend: { ...rig.backendConfig },
      containerEnv: 'kubernetes',
      storageType: 'host',
      storage,
    });
    const app = createApp({
      backend: rig.backend,
      ledger: Ledger.inMemory(),
      config,
      storage,
      storeBaseCheck: storeBase,
      log: silentLogger(),
    });
    // The server main.ts runs (it answers a Host that is no host[:port] with the app's JSON 400).
    listening = await listen({
      ip: '127.0.0.1',
      port: 0,
      http: readHttpServer(createEnvReader({})),
      fetch: app.fetch,
      log: silentLogger(),
    });
    url = `http://127.0.0.1:${listening.port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => listening.server.close(resolve));
    await rig.close();
    await rm(storeBase, { recursive: true, force: true });
  });

  it('answers every case with a 4xx JSON message, creates no Job and nothing on disk', async () => {
    const ctx: CorpusContext = {
      jidPrefix: prefix,
      image: 'busybox',
      missingImage: 'no-such-image',
      inputDir: 'in',
      outputDir: 'out',
      escapeLink: 'escape',
      loopLink: 'loop',
      singleWorker: false,
      hostResources: false,
      port: Number(new URL(url).port),
    };
    // Kubernetes, like Swarm, accepts an image it cannot pull and fails the job later.
    const { run, skipped } = runnable(badInputCorpus(ctx).filter((c) => c.dockerOnly !== true));
    if (skipped.length > 0) console.warn(`[bad-inputs kubernetes] skipped:\n${skipped.join('\n')}`);
    expect(run.length).toBeGreaterThanOrEqual(200);
    const wrong: string[] = [];
    for (const c of run) {
      const a = await send(url, c);
      const problem = judge(c, a.status, a.headers['content-type'], a.text);
      if (problem !== undefined) wrong.push(problem);
    }
    expect(wrong).toEqual([]);
    const creates = rig.fake.requests.filter(
      (q) => q.method === 'POST' && q.path.endsWith('/jobs'),
    );
    expect(creates.map((q) => q.body.slice(0, 120))).toEqual([]);
    expect(await storeTree(storeBase)).toEqual(before);
    expect((await call(url, 'GET', '/health/ready')).status).toBe(200);
  });
});
