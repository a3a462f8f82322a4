// The image catalogue's pure parts (issue 15): the allow-list lines as entries (exact, repository,
// pattern) and the match the create path uses, the engine's image list as LocalImages, and the
// catalogue built from both — filtered by ?q=, sorted by reference, with the OCI labels.
import { describe, expect, it } from 'vitest';
import type { LocalImage } from '../../src/backends/backend.js';
import { localImagesOf } from '../../src/backends/docker/images.js';
import {
  admittingEntry,
  describeAllowlist,
  imageAllowed,
  parseAllowlist,
} from '../../src/domain/image-allowlist.js';
import type { ImageAllowlist } from '../../src/domain/image-allowlist.js';
import { buildCatalogue } from '../../src/service/image-catalogue.js';
import { parseImagesQuery, toWireImageCatalogue } from '../../src/http/wire/images.js';
import { ValidationError } from '../../src/domain/errors.js';

function patterns(text: string): ImageAllowlist {
  const parsed = parseAllowlist(text);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.patterns;
}

const OCI = 'org.opencontainers.image.';

function local(reference: string, labels: Record<string, string> = {}): LocalImage {
  return {
    reference,
    id: `sha256:${'a'.repeat(64)}`,
    sizeBytes: 4_400_000,
    created: '2026-01-02T03:04:05.000Z',
    labels,
  };
}

describe('the allow-list as catalogue entries', () => {
  const list = patterns(
    [
      'busybox:1.36',
      'fnndsc/pl-dircopy # a repository: every tag and digest',
      'ghcr.io/fnndsc/pl-*',
      '127.0.0.1:5999/x@sha256:' + 'b'.repeat(64),
      'busybox:1.36',
    ].join('\n'),
  );

  it('gives one entry per line with its kind, a repository line once, a repeated line once', () => {
    expect(describeAllowlist(list).map(({ pattern, kind }) => ({ pattern, kind }))).toEqual([
      { pattern: 'docker.io/library/busybox:1.36', kind: 'exact' },
      { pattern: 'docker.io/fnndsc/pl-dircopy', kind: 'repository' },
      { pattern: 'ghcr.io/fnndsc/pl-*', kind: 'pattern' },
      { pattern: `127.0.0.1:5999/x@sha256:${'b'.repeat(64)}`, kind: 'exact' },
    ]);
  });

  it('keeps a written `repo:*` a pattern (only the pair a repository line makes is collapsed)', () => {
    expect(describeAllowlist(patterns('fnndsc/pl-x:*')).map((e) => e.kind)).toEqual(['pattern']);
  });

  it('admits exactly what the create path allows, naming the line', () => {
    const entries = describeAllowlist(list);
    const images = [
      'busybox:1.36',
      'busybox:1.37',
      'docker.io/fnndsc/pl-dircopy:2.1',
      'fnndsc/pl-dircopy',
      'ghcr.io/fnndsc/pl-fshack:1',
      'ghcr.io/other/pl-fshack:1',
      'not a reference',
    ];
    for (const image of images)
      expect(admittingEntry(image, entries) !== undefined, image).toBe(imageAllowed(image, list));
    expect(admittingEntry('fnndsc/pl-dircopy:2.1', entries)?.pattern).toBe(
      'docker.io/fnndsc/pl-dircopy',
    );
    expect(admittingEntry('busybox:1.37', entries)).toBeUndefined();
  });
});

describe("the engine's image list (GET /images/json)", () => {
  it('gives one entry per tag, leaves untagged and malformed entries out', () => {
    const raw = [
      {
        Id: 'sha256:1',
        RepoTags: ['a:1', 'b:2', 'a:1'],
        Created: 1_700_000_000,
        Size: 10,
        Labels: { [`${OCI}title`]: 'A' },
      },
      { Id: 'sha256:2', RepoTags: ['<none>:<none>'], Created: 1, Size: 1, Labels: null },
      { Id: 'sha256:3', RepoTags: null, Created: 1, Size: 1 },
      { Id: 'sha256:4', RepoTags: ['c:3'], Created: 'yesterday', Size: 1 },
      { Id: 'sha256:5', RepoTags: ['d:4'], Created: 1e300, Size: 1 },
      { Id: 'sha256:6', RepoTags: ['localhost/e:5'], Created: 0, Size: 7, Labels: null },
    ];
    expect(localImagesOf(raw)).toEqual([
      {
        reference: 'a:1',
        id: 'sha256:1',
        sizeBytes: 10,
        created: '2023-11-14T22:13:20.000Z',
        labels: { [`${OCI}title`]: 'A' },
      },
      {
        reference: 'b:2',
        id: 'sha256:1',
        sizeBytes: 10,
        created: '2023-11-14T22:13:20.000Z',
        labels: { [`${OCI}title`]: 'A' },
      },
      {
        reference: 'localhost/e:5',
        id: 'sha256:6',
        sizeBytes: 7,
        created: '1970-01-01T00:00:00.000Z',
        labels: {},
      },
    ]);
    expect(localImagesOf({ message: 'not a list' })).toEqual([]);
  });
});

describe('the catalogue', () => {
  const held = [
    local('127.0.0.1:5999/algo/denoise:1.0', {
      [`${OCI}title`]: 'Denoise',
      [`${OCI}description`]: 'Removes noise from MRI slices',
      [`${OCI}version`]: '1.0.3',
      [`${OCI}source`]: 'https://example.org/denoise',
      maintainer: 'someone',
    }),
    local('127.0.0.1:5999/algo/align:2', { [`${OCI}title`]: 'Brain Align' }),
    local('127.0.0.1:5999/other/tool:1'),
    local('busybox:latest'),
  ];
  const list = patterns('127.0.0.1:5999/algo/*\nbusybox:1.36\n');

  it('with an allow-list: its lines and the local tags it admits, sorted by reference', () => {
    const c = buildCatalogue('docker', list, held);
    expect(c.images.map((i) => [i.source, i.reference])).toEqual([
      ['allowlist', '127.0.0.1:5999/algo/*'],
      ['local', '127.0.0.1:5999/algo/align:2'],
      ['local', '127.0.0.1:5999/algo/denoise:1.0'],
      ['allowlist', 'docker.io/library/busybox:1.36'],
    ]);
    expect(c.allowlist?.map((e) => e.kind)).toEqual(['pattern', 'exact']);
    const denoise = c.images[2];
    expect(denoise).toEqual({
      source: 'local',
      reference: '127.0.0.1:5999/algo/denoise:1.0',
      id: `sha256:${'a'.repeat(64)}`,
      sizeBytes: 4_400_000,
      created: '2026-01-02T03:04:05.000Z',
      title: 'Denoise',
      description: 'Removes noise from MRI slices',
      version: '1.0.3',
      ociLabels: {
        [`${OCI}description`]: 'Removes noise from MRI slices',
        [`${OCI}source`]: 'https://example.org/denoise',
        [`${OCI}title`]: 'Denoise',
        [`${OCI}version`]: '1.0.3',
      },
      allowedBy: '127.0.0.1:5999/algo/*',
    });
  });

  it('without an allow-list: every local tag, no allow-list, nothing marked as admitting', () => {
    const c = buildCatalogue('docker', undefined, held);
    expect(c.allowlist).toBeUndefined();
    expect(c.images.map((i) => i.reference)).toEqual([
      '127.0.0.1:5999/algo/align:2',
      '127.0.0.1:5999/algo/denoise:1.0',
      '127.0.0.1:5999/other/tool:1',
      'busybox:latest',
    ]);
    expect(c.images.every((i) => i.source === 'local' && i.allowedBy === undefined)).toBe(true);
  });

  it('on a backend that does not list: the allow-list lines only', () => {
    const c = buildCatalogue('swarm', list, undefined);
    expect(c.images.map((i) => i.source)).toEqual(['allowlist', 'allowlist']);
    expect(buildCatalogue('swarm', undefined, undefined).images).toEqual([]);
  });

  it('?q= matches the reference or the title, in any case', () => {
    const refs = (q: string) =>
      buildCatalogue('docker', list, held, { q }).images.map((i) => i.reference);
    expect(refs('brain')).toEqual(['127.0.0.1:5999/algo/align:2']);
    expect(refs('DENOISE')).toEqual(['127.0.0.1:5999/algo/denoise:1.0']);
    expect(refs('busybox')).toEqual(['docker.io/library/busybox:1.36']);
    expect(refs('algo/')).toEqual([
      '127.0.0.1:5999/algo/*',
      '127.0.0.1:5999/algo/align:2',
      '127.0.0.1:5999/algo/denoise:1.0',
    ]);
    // The description is not searched: only name and title.
    expect(refs('mri')).toEqual([]);
  });

  it('?q= finds a local tag by its normalized name too, as the allow-list lines are shown', () => {
    const refs = (q: string) =>
      buildCatalogue('docker', undefined, held, { q }).images.map((i) => i.reference);
    expect(refs('docker.io/library/busybox')).toEqual(['busybox:latest']);
    expect(refs('library/')).toEqual(['busybox:latest']);
    // With the allow-list shown in that form, a line's text finds the tags it admits.
    const admitted = buildCatalogue('docker', ['docker.io/library/busybox:*'], held, {
      q: 'docker.io/library/busybox',
    });
    expect(admitted.images.map((i) => `${i.source} ${i.reference}`)).toEqual([
      'local busybox:latest',
      'allowlist docker.io/library/busybox:*',
    ]);
  });

  it('serializes in snake_case with nulls for missing labels', () => {
    const wire = toWireImageCatalogue(buildCatalogue('docker', undefined, held, { q: 'tool' }));
    expect(wire).toEqual({
      container_env: 'docker',
      allowlist: null,
      images: [
        {
          source: 'local',
          reference: '127.0.0.1:5999/other/tool:1',
          id: `sha256:${'a'.repeat(64)}`,
          size_bytes: 4_400_000,
          created: '2026-01-02T03:04:05.000Z',
          title: null,
          description: null,
          version: null,
          labels: {},
          allowed_by: null,
        },
      ],
    });
  });
});

describe('?q= parsing', () => {
  const url = (query: string) => `http://localhost/api/v1/images/${query}`;
  const problem = (query: string): unknown => {
    try {
      parseImagesQuery(url(query));
    } catch (err) {
      if (err instanceof ValidationError) return err.fields;
      throw err;
    }
    return undefined;
  };

  it('takes one non-empty q', () => {
    expect(parseImagesQuery(url(''))).toEqual({});
    expect(parseImagesQuery(url('?q=Denoise'))).toEqual({ q: 'Denoise' });
  });

  it('refuses an unknown, repeated, empty or overlong parameter, naming it', () => {
    expect(problem('?name=x&tag=y')).toEqual({
      name: expect.stringContaining('not a parameter') as unknown,
      tag: expect.stringContaining('not a parameter') as unknown,
    });
    expect(problem('?q=a&q=b')).toEqual({ q: 'may be given once' });
    expect(problem('?q=')).toEqual({ q: 'must not be empty' });
    expect(problem(`?q=${'x'.repeat(513)}`)).toEqual({ q: 'must be at most 512 characters' });
  });
});
