// Issue 10, item 10 (the file-system side): every error a caller's input_dir/output_dir provokes
// is a DirectoryError naming the field (a 400), never a raw errno (a 500); nothing is left on disk.
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendRefusedError, DirectoryError } from '../../src/domain/errors.js';
import { LINK_LOOP_TEXT, TOO_LONG_TEXT } from '../../src/domain/paths.js';
import { verifyDirs } from '../../src/service/store-dirs.js';

let scratch: string;
let root: string;

beforeEach(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'pman-ts-fserr-'));
  root = path.join(scratch, 'storeBase');
  await mkdir(path.join(root, 'in'), { recursive: true });
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function problems(dirs: { input: string; output: string }): Promise<unknown> {
  const err: unknown = await verifyDirs(root, dirs).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DirectoryError);
  return (err as DirectoryError).problems;
}

describe('verifyDirs: file-system errors are the field’s 400', () => {
  it('a 10 000-character input_dir is too long (was ENAMETOOLONG → 500)', async () => {
    expect(await problems({ input: 'x'.repeat(10_000), output: 'out' })).toEqual({
      input: TOO_LONG_TEXT,
    });
    expect(await readdir(root)).toEqual(['in']);
  });

  it('a 300-byte segment is too long, even in a short path', async () => {
    expect(await problems({ input: 'in', output: `a/${'é'.repeat(150)}` })).toEqual({
      output: TOO_LONG_TEXT,
    });
  });

  it('a deep output_dir is refused before a single folder is made (was ~450 nested folders, then 500)', async () => {
    const deep = Array.from({ length: 450 }, () => 'abcdefghij').join('/');
    expect(await problems({ input: 'in', output: deep })).toEqual({ output: TOO_LONG_TEXT });
    expect(await readdir(root)).toEqual(['in']);
  });

  it('a symbolic link loop is the field’s 400 (was ELOOP → 500)', async () => {
    await symlink(path.join(root, 'l2'), path.join(root, 'l1'));
    await symlink(path.join(root, 'l1'), path.join(root, 'l2'));
    expect(await problems({ input: 'l1/x', output: 'l2/y' })).toEqual({
      input: LINK_LOOP_TEXT,
      output: LINK_LOOP_TEXT,
    });
  });

  it('a storeBase that vanished is the deployment’s 500, without its path in the message', async () => {
    const gone = path.join(scratch, 'gone');
    const err: unknown = await verifyDirs(gone, { input: 'in', output: 'out' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackendRefusedError);
    expect((err as Error).message).not.toContain(scratch);
  });
});
