// verifyDirs on a storeBase the server cannot write, on every machine: storebase.test.ts proves it
// with real permissions, which root (CI) ignores, so here mkdir itself answers EACCES.
import { mkdir as realMkdir, mkdtemp, rm } from 'node:fs/promises';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendRefusedError } from '../../src/domain/errors.js';
import { verifyDirs } from '../../src/service/store-dirs.js';

const refuse = vi.hoisted(() => ({ code: undefined as string | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  return {
    ...fs,
    mkdir: (...args: Parameters<typeof fs.mkdir>) => {
      if (refuse.code === undefined) return fs.mkdir(...args);
      const err: NodeJS.ErrnoException = new Error(`${refuse.code}: refused, mkdir`);
      err.code = refuse.code;
      return Promise.reject(err);
    },
  };
});

describe('verifyDirs when storeBase refuses the server', () => {
  let root: string | undefined;
  afterEach(async () => {
    refuse.code = undefined;
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it.each(['EACCES', 'EPERM', 'EROFS'])(
    '%s on creating the output dir → BackendRefusedError naming the dir and the code',
    async (code) => {
      root = await mkdtemp(path.join(tmpdir(), 'pman-refused-'));
      await realMkdir(path.join(root, 'in'));
      refuse.code = code;
      const check = verifyDirs(root, { input: 'in', output: 'out' });
      await expect(check).rejects.toBeInstanceOf(BackendRefusedError);
      await expect(check).rejects.toThrow(`cannot create output under storeBase: ${code} on `);
    },
  );
});
