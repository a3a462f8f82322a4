// IMAGE_ALLOWLIST (issue 10): the pattern file's parser, the normalized match, the reference
// grammar it rests on, and the start-up reading of the file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { ImageNotAllowedError } from '../../src/domain/errors.js';
import {
  assertImageAllowed,
  globMatch,
  imageAllowed,
  parseAllowlist,
} from '../../src/domain/image-allowlist.js';
import type { ImageAllowlist } from '../../src/domain/image-allowlist.js';
import { formatImageReference, parseImageReference } from '../../src/domain/image-reference.js';

function patterns(text: string): ImageAllowlist {
  const parsed = parseAllowlist(text);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.patterns;
}

function normalized(image: string): string {
  const parsed = parseImageReference(image);
  if (!parsed.ok) throw new Error(parsed.reason);
  return formatImageReference(parsed.ref);
}

describe('image references are normalized the way Docker names them', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['fnndsc/pl-dircopy', 'docker.io/fnndsc/pl-dircopy:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/fnndsc/x:1', 'docker.io/fnndsc/x:1'],
    ['ghcr.io/fnndsc/pl-x:2', 'ghcr.io/fnndsc/pl-x:2'],
    ['localhost/x', 'localhost/x:latest'],
    ['127.0.0.1:5999/pman-ts/busybox:test', '127.0.0.1:5999/pman-ts/busybox:test'],
    [`busybox@sha256:${'0'.repeat(64)}`, `docker.io/library/busybox@sha256:${'0'.repeat(64)}`],
  ])('%s → %s', (image, full) => {
    expect(normalized(image)).toBe(full);
  });
});

describe('the allow-list file', () => {
  it('skips comments and blank lines; a name without tag matches its every tag and digest', () => {
    expect(
      patterns(
        '# plugins\n\n  docker.io/fnndsc/*  # all of fnndsc\nbusybox\r\nghcr.io/fnndsc/pl-*:*\n',
      ),
    ).toEqual([
      'docker.io/fnndsc/*',
      'docker.io/library/busybox:*',
      'docker.io/library/busybox@*',
      'ghcr.io/fnndsc/pl-*:*',
    ]);
  });

  it('Docker Hub short forms in patterns get the same defaults as images', () => {
    expect(patterns('fnndsc/*\nubuntu:2*\nindex.docker.io/x/*\n*\n*/fnndsc/*')).toEqual([
      'docker.io/fnndsc/*',
      'docker.io/library/ubuntu:2*',
      'docker.io/x/*',
      '*',
      '*/fnndsc/*',
    ]);
  });

  it.each([
    ['', 'has no patterns'],
    ['# only a comment\n\n', 'has no patterns'],
    ['busybox\nfnndsc/pl x', 'line 2: "fnndsc/pl x" has a character no image reference has'],
    ['Busybox', 'line 1: "Busybox" is not an image reference'],
    [`${'a'.repeat(513)}`, 'line 1: longer than 512 characters'],
  ])('%j is refused: %s', (text, problem) => {
    expect(parseAllowlist(text)).toEqual({ ok: false, problems: [problem] });
  });
});

describe('imageAllowed', () => {
  const list = patterns(
    ['docker.io/fnndsc/*', 'ghcr.io/fnndsc/pl-*:*', 'docker.io/library/busybox:*'].join('\n'),
  );

  it.each([
    'fnndsc/pl-dircopy',
    'fnndsc/pl-dircopy:2.1.0',
    'docker.io/fnndsc/pl-simpledsapp:1',
    'index.docker.io/fnndsc/x',
    'ghcr.io/fnndsc/pl-dcm2niix:1.0',
    // No tag is ':latest', which 'pl-*:*' matches.
    'ghcr.io/fnndsc/pl-x',
    'busybox',
    'busybox:1.36',
    'docker.io/library/busybox',
  ])('%s is allowed', (image) => {
    expect(imageAllowed(image, list)).toBe(true);
  });

  it.each([
    'ubuntu',
    'evil/fnndsc',
    'fnndscx/pl-dircopy',
    'ghcr.io/fnndsc/other:1',
    'evil.io/fnndsc/pl-x:1',
    'evil.io/docker.io/fnndsc/x',
    'not a reference',
  ])('%s is not', (image) => {
    expect(imageAllowed(image, list)).toBe(false);
  });

  it('assertImageAllowed: unset list allows anything; otherwise the 403 error names the image', () => {
    expect(() => assertImageAllowed('anything', undefined)).not.toThrow();
    expect(() => assertImageAllowed('ubuntu', list)).toThrow(ImageNotAllowedError);
    expect(() => assertImageAllowed('ubuntu', list)).toThrow(
      'image "ubuntu" is not allowed by IMAGE_ALLOWLIST',
    );
  });

  it('globMatch: * spans any run, the rest is literal', () => {
    expect(globMatch('a*b*c', 'a-b-x-c')).toBe(true);
    expect(globMatch('a*b*c', 'a-b-x-d')).toBe(false);
    expect(globMatch('a.c', 'abc')).toBe(false);
    expect(globMatch('*', '')).toBe(true);
    // Many stars against a long near-miss: bounded work, no blow-up.
    expect(globMatch('*a*a*a*a*a*a*a*a*b', 'a'.repeat(512))).toBe(false);
  });
});

describe('IMAGE_ALLOWLIST at start-up', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pman-allowlist-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const base = { CONTAINER_ENV: 'memory' };

  it('unset: no list (any image)', () => {
    expect(loadConfig(base).imageAllowlist).toBeUndefined();
  });

  it('a readable file becomes the normalized patterns', async () => {
    const file = path.join(dir, 'ok.txt');
    await writeFile(file, '# ours\nfnndsc/*\n');
    expect(loadConfig({ ...base, IMAGE_ALLOWLIST: file }).imageAllowlist).toEqual([
      'docker.io/fnndsc/*',
    ]);
  });

  it('an unreadable, empty or bad file stops the start, one line per problem', async () => {
    const missing = path.join(dir, 'missing.txt');
    expect(() => loadConfig({ ...base, IMAGE_ALLOWLIST: missing })).toThrow(
      `IMAGE_ALLOWLIST: cannot read "${missing}" (ENOENT)`,
    );
    const empty = path.join(dir, 'empty.txt');
    await writeFile(empty, '# nothing yet\n');
    expect(() => loadConfig({ ...base, IMAGE_ALLOWLIST: empty })).toThrow(
      `IMAGE_ALLOWLIST: ${empty}: has no patterns`,
    );
    const bad = path.join(dir, 'bad.txt');
    await writeFile(bad, 'ok/x\nbad one\nUpper\n');
    try {
      loadConfig({ ...base, IMAGE_ALLOWLIST: bad });
      expect.unreachable();
    } catch (err) {
      expect((err as { problems: string[] }).problems).toEqual([
        `IMAGE_ALLOWLIST: ${bad}: line 2: "bad one" has a character no image reference has`,
        `IMAGE_ALLOWLIST: ${bad}: line 3: "Upper" is not an image reference`,
      ]);
    }
    expect(() => loadConfig({ ...base, IMAGE_ALLOWLIST: dir })).toThrow(
      `IMAGE_ALLOWLIST: cannot read "${dir}" (EISDIR)`,
    );
  });
});
