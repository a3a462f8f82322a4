// verifyDirs on a storeBase the server cannot write, on every machine: storebase.test.ts proves it
// with real permissions, which root (CI) ignores, so here mkdir itself answers EACCES.
import { mkdir as realMkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendRefusedError, DirectoryError } from '../../src/domain/errors.js';
import { TOO_LONG_TEXT, UNRESOLVABLE_TEXT } from '../../src/domain/paths.js';
import { verifyDirs } from '../../src/service/store-dirs.js';

const refuse = vi.hoisted(() => ({
  code: undefined as string | undefined,
  /** Refuse only mkdirs of paths ending so (all when undefined). */
  suffix: undefined as string | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  return {
    ...fs,
    mkdir: (...args: Parameters<typeof fs.mkdir>) => {
      const target = String(args[0]);
      if (
        refuse.code === undefined ||
        (refuse.suffix !== undefined && !target.endsWith(refuse.suffix))
      )
        return fs.mkdir(...args);
      const err: NodeJS.ErrnoException = new Error(
        `${refuse.code}: refused, mkdir '${String(args[0])}'`,
      );
      err.code = refuse.code;
      err.path = String(args[0]);
      return Promise.reject(err);
    },
  };
});

describe('verifyDirs when storeBase refuses the server', () => {
  let root: string | undefined;
  afterEach(async () => {
    refuse.code = undefined;
    refuse.suffix = undefined;
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  it.each(['EACCES', 'EPERM', 'EROFS'])(
    '%s on creating the output dir → BackendRefusedError naming the code, the host path only in its cause',
    async (code) => {
      root = await mkdtemp(path.join(tmpdir(), 'pman-refused-'));
      await realMkdir(path.join(root, 'in'));
      refuse.code = code;
      const err: unknown = await verifyDirs(root, { input: 'in', output: 'out' }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BackendRefusedError);
      const refused = err as BackendRefusedError;
      expect(refused.message).toBe(
        `cannot create output under storeBase: ${code} (the server's user needs read and write access to storeBase)`,
      );
      // The 500 body is the message: no host path in it. The log line carries the cause, which has it.
      expect(refused.message).not.toContain(root);
      expect((refused.cause as NodeJS.ErrnoException).path).toBe(path.join(root, 'out'));
    },
  );

  it.each([
    ['ENAMETOOLONG', TOO_LONG_TEXT],
    ['EINVAL', UNRESOLVABLE_TEXT],
  ])(
    '%s half-way down a new output dir → the field’s 400, and the levels made are removed',
    async (code, text) => {
      root = await mkdtemp(path.join(tmpdir(), 'pman-refused-'));
      await realMkdir(path.join(root, 'in'));
      refuse.code = code;
      refuse.suffix = `${path.sep}c`;
      const err: unknown = await verifyDirs(root, { input: 'in', output: 'a/b/c/d' }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DirectoryError);
      expect((err as DirectoryError).problems).toEqual({ output: text });
      expect(await readdir(root)).toEqual(['in']);
    },
  );
});
