// Issue 10, item 1 (the mount race): the job binds the directories verifyDirs resolved, and the
// backend can re-check them right before the engine creates and starts the job.
import { mkdir, mkdtemp, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CreateOptions } from '../../src/backends/backend.js';
import { MemoryBackend } from '../../src/backends/memory.js';
import { DirectoryError } from '../../src/domain/errors.js';
import type { JobSpec, Mount, Storage } from '../../src/domain/job.js';
import { CHANGED_TEXT, resolveMounts } from '../../src/domain/paths.js';
import type { JobRequest } from '../../src/domain/spec.js';
import { JobService } from '../../src/service/jobs.js';
import { Ledger } from '../../src/store/ledger.js';
import { recheckMounts, verifyDirs } from '../../src/service/store-dirs.js';
import { TEST_STORAGE, sampleRequest, testConfig } from '../fixtures.js';

let scratch: string;
let root: string;

beforeEach(async () => {
  scratch = await realpath(await mkdtemp(path.join(tmpdir(), 'pman-ts-race-')));
  root = path.join(scratch, 'storeBase');
  await mkdir(path.join(root, 'key-j', 'incoming'), { recursive: true });
  await mkdir(path.join(root, 'key-j', 'outgoing'), { recursive: true });
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function request(dirs: { inputDir: string; outputDir: string }): JobRequest {
  return sampleRequest({ jid: 'chris-jid-1', ...dirs });
}

/** A JobService over a MemoryBackend whose create() calls are captured with their options. */
function service(storage: Storage, storeBaseCheck?: string) {
  const backend = new MemoryBackend();
  const calls: Array<{ spec: JobSpec; options: CreateOptions | undefined }> = [];
  const create = backend.create.bind(backend);
  vi.spyOn(backend, 'create').mockImplementation((spec: JobSpec, options?: CreateOptions) => {
    calls.push({ spec, options });
    return create(spec, options);
  });
  const jobs = new JobService({
    backend,
    ledger: Ledger.inMemory(),
    config: testConfig(),
    storage,
    ...(storeBaseCheck !== undefined && { storeBaseCheck }),
  });
  return { jobs, calls };
}

describe('verifyDirs returns the real directories, and the job binds them', () => {
  it('a dir reached through an in-storeBase symlink binds its real path', async () => {
    await symlink(path.join(root, 'key-j'), path.join(root, 'alias'));
    const real = await verifyDirs(root, { input: 'alias/incoming', output: 'alias/out' });
    expect(real).toEqual({
      root,
      input: 'key-j/incoming',
      output: 'key-j/out',
      created: [path.join(root, 'key-j', 'out')],
    });

    const { jobs, calls } = service(TEST_STORAGE, root);
    await jobs.create(request({ inputDir: 'alias/incoming', outputDir: 'alias/outgoing' }));
    expect(calls[0]?.spec.mounts.map((m) => [m.source, m.subPath])).toEqual([
      ['/var/local/storeBase', 'key-j/incoming'],
      ['/var/local/storeBase', 'key-j/outgoing'],
    ]);
  });

  it('a storeBase reached through a symlink still gives subPaths relative to its real path', async () => {
    const alias = path.join(scratch, 'root-alias');
    await symlink(root, alias);
    expect(await verifyDirs(alias, { input: 'key-j/incoming', output: 'key-j/o' })).toEqual({
      root,
      input: 'key-j/incoming',
      output: 'key-j/o',
      created: [path.join(root, 'key-j', 'o')],
    });
  });

  it('a create refused after the check removes the output dirs the check made (nothing left)', async () => {
    const { jobs } = service(TEST_STORAGE, root);
    await jobs.create(request({ inputDir: 'key-j/incoming', outputDir: 'key-j/outgoing' }));
    // The backend holds chris-jid-1 (no record yet: it has not finished), so this create passes
    // the service's checks, makes key-j/new/deep, and is then refused by the backend's conflict.
    await expect(
      jobs.create(request({ inputDir: 'key-j/incoming', outputDir: 'key-j/new/deep' })),
    ).rejects.toThrow('job "chris-jid-1" already exists');
    await expect(stat(path.join(root, 'key-j', 'new'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('recheckMounts', () => {
  const dirs = { input: 'key-j/incoming', output: 'key-j/outgoing' };

  it('passes while the checked directories are still themselves', async () => {
    const real = await verifyDirs(root, dirs);
    await expect(recheckMounts(real.root, resolveMounts(real, TEST_STORAGE))).resolves.toBe(
      undefined,
    );
  });

  it('a dir swapped for a symlink to / between check and recheck → DirectoryError', async () => {
    const real = await verifyDirs(root, dirs);
    const mounts = resolveMounts(real, TEST_STORAGE);
    // What a running job can do from inside its own output folder.
    await rename(path.join(root, 'key-j', 'outgoing'), path.join(root, 'key-j', 'moved'));
    await symlink('/', path.join(root, 'key-j', 'outgoing'));
    const recheck = recheckMounts(real.root, mounts);
    await expect(recheck).rejects.toBeInstanceOf(DirectoryError);
    await expect(recheck).rejects.toMatchObject({ problems: { output: CHANGED_TEXT } });
  });

  it('a parent swapped for a symlink that leads back inside storeBase is refused too', async () => {
    const real = await verifyDirs(root, dirs);
    const mounts = resolveMounts(real, TEST_STORAGE);
    await rename(path.join(root, 'key-j'), path.join(root, 'elsewhere'));
    await symlink(path.join(root, 'elsewhere'), path.join(root, 'key-j'));
    await expect(recheckMounts(real.root, mounts)).rejects.toMatchObject({
      problems: { input: CHANGED_TEXT, output: CHANGED_TEXT },
    });
  });

  it('a dir that vanished → DirectoryError', async () => {
    const real = await verifyDirs(root, dirs);
    const mounts = resolveMounts(real, TEST_STORAGE);
    await rm(path.join(root, 'key-j', 'incoming'), { recursive: true });
    await expect(recheckMounts(real.root, mounts)).rejects.toMatchObject({
      problems: { input: CHANGED_TEXT },
    });
  });

  it('Kubernetes PVC subPaths need no host check: the kubelet resolves them inside the volume', async () => {
    // Nothing of this exists on this server: a volume mount is never looked up on its disk.
    const mounts: Mount[] = resolveMounts(
      { input: 'no/such/dir', output: 'nor/this' },
      { type: 'kubernetes_pvc', claimName: 'storebase' },
    );
    await expect(recheckMounts(root, mounts)).resolves.toBe(undefined);
  });
});

describe('JobService hands the backend its recheck', () => {
  it('with storeBase visible, recheckMounts re-verifies the bound dirs', async () => {
    const { jobs, calls } = service(TEST_STORAGE, root);
    await jobs.create(request({ inputDir: 'key-j/incoming', outputDir: 'key-j/outgoing' }));
    const recheck = calls[0]?.options?.recheckMounts;
    expect(recheck).toBeTypeOf('function');
    await expect(recheck?.()).resolves.toBe(undefined);
    await rename(path.join(root, 'key-j', 'outgoing'), path.join(root, 'key-j', 'moved'));
    await symlink('/', path.join(root, 'key-j', 'outgoing'));
    await expect(recheck?.()).rejects.toBeInstanceOf(DirectoryError);
  });

  it('a Kubernetes PVC (no storeBase on this server) gets no host recheck', async () => {
    const { jobs, calls } = service({ type: 'kubernetes_pvc', claimName: 'storebase' });
    await jobs.create(request({ inputDir: 'key-j/incoming', outputDir: 'key-j/outgoing' }));
    expect(calls[0]?.options?.recheckMounts).toBeUndefined();
    expect(calls[0]?.spec.mounts.every((m) => m.kind === 'volume')).toBe(true);
  });
});
