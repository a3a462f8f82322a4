import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryError } from '../../src/domain/errors.js';
import { normalizeDir, PATH_RULE_TEXT, resolveMounts } from '../../src/domain/paths.js';
import { verifyDirs } from '../../src/service/store-dirs.js';

describe('normalizeDir', () => {
  it.each([
    ['key-x/incoming', 'key-x/incoming'],
    ['/key-x/incoming', 'key-x/incoming'],
    ['key-x/incoming/', 'key-x/incoming'],
    ['///a///', 'a'],
    ['home/user/feeds/feed_7/pl-dircopy_12/data', 'home/user/feeds/feed_7/pl-dircopy_12/data'],
    ['..a/b..', '..a/b..'],
    ['a/...', 'a/...'],
    ['.hidden', '.hidden'],
    ['sp ace/é', 'sp ace/é'],
  ])('%j → %j', (dir, expected) => {
    expect(normalizeDir(dir)).toBe(expected);
  });

  it.each([
    '',
    '/',
    '//',
    '.',
    '..',
    '/../',
    '../../etc',
    'a/..',
    'a/../b',
    'a/./b',
    './a',
    'a//b',
    'a\\b',
    '..\\x',
    'a\0b',
  ])('%j is refused', (dir) => {
    expect(normalizeDir(dir)).toBeUndefined();
  });

  it('never returns an empty, ".", ".." segment, a backslash, a NUL or an outer slash', () => {
    const pieces = fc.constantFrom('', '.', '..', '/', '//', 'a', 'b.c', '\\', '\0', '...', ' ');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 8 }), (parts) => {
        const out = normalizeDir(parts.join(''));
        if (out === undefined) return;
        expect(out.split('/').every((s) => s !== '' && s !== '.' && s !== '..')).toBe(true);
        expect(out).not.toMatch(/[\\\0]/);
        expect(path.posix.normalize(out)).toBe(out);
        expect(path.posix.resolve('/root', out).startsWith('/root/')).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('only strips slashes: a valid dir is returned as sent minus outer slashes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z0-9_-]{1,5}$/), { minLength: 1, maxLength: 4 }),
        (segs) => {
          expect(normalizeDir(`/${segs.join('/')}/`)).toBe(segs.join('/'));
        },
      ),
    );
  });

  it('states the rule text of api.md §7.1', () => {
    expect(PATH_RULE_TEXT).toBe(
      "must be a relative path under storeBase without empty, '.' or '..' segments",
    );
  });
});

describe('resolveMounts', () => {
  const dirs = { input: 'key-j/incoming', output: 'key-j/outgoing' };

  it('host storage → two host mounts of the storeBase', () => {
    expect(resolveMounts(dirs, { type: 'host', storeBase: '/var/local/storeBase' })).toEqual([
      {
        kind: 'host',
        source: '/var/local/storeBase',
        subPath: 'key-j/incoming',
        containerPath: '/share/incoming',
        readOnly: true,
      },
      {
        kind: 'host',
        source: '/var/local/storeBase',
        subPath: 'key-j/outgoing',
        containerPath: '/share/outgoing',
        readOnly: false,
      },
    ]);
  });

  it('kubernetes_pvc storage → two volume mounts of the claim', () => {
    expect(resolveMounts(dirs, { type: 'kubernetes_pvc', claimName: 'storebase' })).toEqual([
      {
        kind: 'volume',
        source: 'storebase',
        subPath: 'key-j/incoming',
        containerPath: '/share/incoming',
        readOnly: true,
      },
      {
        kind: 'volume',
        source: 'storebase',
        subPath: 'key-j/outgoing',
        containerPath: '/share/outgoing',
        readOnly: false,
      },
    ]);
  });
});

describe('verifyDirs (local filesystem)', () => {
  let scratch: string;
  let root: string;
  let outside: string;

  beforeEach(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'pman-ts-storebase-'));
    root = path.join(scratch, 'storeBase');
    outside = path.join(scratch, 'outside');
    await mkdir(path.join(root, 'key-j', 'incoming'), { recursive: true });
    await mkdir(outside);
  });

  afterEach(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function problems(
    dirs: { input: string; output: string },
    base = root,
  ): Promise<Record<string, string>> {
    try {
      await verifyDirs(base, dirs);
    } catch (err) {
      // Keyed by the wire names, as the 400 bundle shows them (src/http/on-error.ts maps them).
      if (err instanceof DirectoryError) {
        const { input, output } = err.problems;
        return {
          ...(input !== undefined && { input_dir: input }),
          ...(output !== undefined && { output_dir: output }),
        };
      }
      throw err;
    }
    return {};
  }

  async function isDir(p: string): Promise<boolean> {
    return stat(p).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  it('accepts existing dirs and creates a missing output dir with its parents', async () => {
    expect(await problems({ input: 'key-j/incoming', output: 'key-j/out/deep' })).toEqual({});
    expect(await isDir(path.join(root, 'key-j', 'out', 'deep'))).toBe(true);
  });

  it('accepts an existing output dir', async () => {
    await mkdir(path.join(root, 'key-j', 'outgoing'));
    expect(await problems({ input: 'key-j/incoming', output: 'key-j/outgoing' })).toEqual({});
  });

  it('a missing input dir does not exist under storeBase, and nothing is created', async () => {
    expect(await problems({ input: 'key-x/incoming', output: 'key-x/outgoing' })).toEqual({
      input_dir: 'does not exist under storeBase',
    });
    expect(await readdir(root)).toEqual(['key-j']);
  });

  it('a symlinked input dir leading outside breaks the path rule', async () => {
    await symlink(outside, path.join(root, 'key-j', 'evil'));
    expect(await problems({ input: 'key-j/evil', output: 'key-j/outgoing' })).toEqual({
      input_dir: PATH_RULE_TEXT,
    });
  });

  it('a symlinked parent leading outside breaks the path rule, even when the dir is missing', async () => {
    await symlink(outside, path.join(root, 'link'));
    expect(await problems({ input: 'link/missing', output: 'link/new/deeper' })).toEqual({
      input_dir: PATH_RULE_TEXT,
      output_dir: PATH_RULE_TEXT,
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('a symlink to storeBase itself is refused (it would mount the whole storeBase)', async () => {
    await symlink(root, path.join(root, 'self'));
    expect(await problems({ input: 'self', output: 'key-j/outgoing' })).toEqual({
      input_dir: PATH_RULE_TEXT,
    });
  });

  it('a symlink that stays inside storeBase is fine', async () => {
    await symlink(path.join(root, 'key-j', 'incoming'), path.join(root, 'alias'));
    expect(await problems({ input: 'alias', output: 'alias/out' })).toEqual({});
    expect(await isDir(path.join(root, 'key-j', 'incoming', 'out'))).toBe(true);
  });

  it('a dangling symlink as the output dir is refused', async () => {
    await symlink(path.join(outside, 'gone'), path.join(root, 'dangling'));
    expect(await problems({ input: 'key-j/incoming', output: 'dangling' })).toEqual({
      output_dir: PATH_RULE_TEXT,
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('a file is not a directory', async () => {
    await writeFile(path.join(root, 'file'), 'x');
    expect(await problems({ input: 'file', output: 'file/sub' })).toEqual({
      input_dir: 'is not a directory under storeBase',
      output_dir: 'is not a directory under storeBase',
    });
  });

  it('bundles both fields, and creates nothing when the input is refused', async () => {
    await symlink(outside, path.join(root, 'link'));
    expect(await problems({ input: 'nope', output: 'link/x' })).toEqual({
      input_dir: 'does not exist under storeBase',
      output_dir: PATH_RULE_TEXT,
    });
    expect(await problems({ input: 'nope', output: 'fresh' })).toEqual({
      input_dir: 'does not exist under storeBase',
    });
    expect(await isDir(path.join(root, 'fresh'))).toBe(false);
  });

  it('works when the root itself is reached through a symlink', async () => {
    const alias = path.join(scratch, 'root-alias');
    await symlink(root, alias);
    expect(await problems({ input: 'key-j/incoming', output: 'key-j/o' }, alias)).toEqual({});
    expect(await isDir(path.join(root, 'key-j', 'o'))).toBe(true);
  });
});

describe('verifyDirs on a storeBase the server cannot write', () => {
  // Root ignores directory permissions, so this runs on non-root developer machines only.
  it.skipIf(process.getuid?.() === 0)('names the directory and the permission', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'pman-eacces-'));
    await mkdir(path.join(root, 'in'));
    await chmod(root, 0o555);
    try {
      await expect(verifyDirs(root, { input: 'in', output: 'out' })).rejects.toThrow(/EACCES/);
    } finally {
      await chmod(root, 0o755);
      await rm(root, { recursive: true, force: true });
    }
  });
});
