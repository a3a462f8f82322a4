// `pman images` (issue 15), pure parts: the command line and the table it prints.
import { describe, expect, it } from 'vitest';
import { parseCli } from '../../src/cli.js';
import { formatSize, imagesTable } from '../../src/client/format.js';

const NOW = new Date('2026-12-05T18:00:00Z');

describe('pman images', () => {
  it('parses --q and --json; the synopsis lists it', async () => {
    expect(await parseCli(['images'], '1.0.0')).toEqual({
      kind: 'client',
      command: { name: 'images', json: false },
    });
    expect(await parseCli(['images', '--q', 'brain align', '--json'], '1.0.0')).toEqual({
      kind: 'client',
      command: { name: 'images', json: true, q: 'brain align' },
    });
    const action = await parseCli(['-y'], '1.0.0');
    expect(action.kind === 'print' && action.text).toMatch(/pman images \[--q <text>\]/);
  });

  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1 kB'],
    [1_984_241, '1.98 MB'],
    [4_400_000_000, '4.4 GB'],
  ])('formatSize(%i) = %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('prints one row per entry: allow-list lines by kind, local tags with title, version, size, age', () => {
    const text = imagesTable(
      {
        allowlist: [{ pattern: 'registry.example/algo/*', kind: 'pattern' }],
        images: [
          { source: 'allowlist', reference: 'registry.example/algo/*', kind: 'pattern' },
          {
            source: 'local',
            reference: 'registry.example/algo/align:1',
            size_bytes: 1_984_241,
            created: '2026-12-05T17:58:00.000Z',
            title: 'Brain Align',
            version: '1.0.4',
          },
        ],
      },
      NOW,
    );
    expect(text).toBe(
      [
        'REFERENCE                      KIND     TITLE        VERSION  SIZE     AGE',
        'registry.example/algo/*        pattern',
        'registry.example/algo/align:1  local    Brain Align  1.0.4    1.98 MB  2m00s',
        '',
      ].join('\n'),
    );
  });

  it('says when there is no allow-list and when local images are not listed', () => {
    expect(imagesTable({ allowlist: null, images: [] }, NOW)).toBe(
      'no images\n(no IMAGE_ALLOWLIST: any image may run; these are the images held locally)\n',
    );
    const text = imagesTable(
      {
        allowlist: [],
        local_images_unavailable: 'the swarm backend does not list local images',
        images: [
          { source: 'allowlist', reference: 'docker.io/library/busybox:1.36', kind: 'exact' },
        ],
      },
      NOW,
    );
    expect(text.split('\n')[1]).toBe('docker.io/library/busybox:1.36  exact');
    expect(text).toContain(
      '(local images not listed: the swarm backend does not list local images)\n',
    );
  });
});
