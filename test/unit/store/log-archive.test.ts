// The log archive: small logs as they are, larger ones gzip; the sha256 and size are those of the
// kept text; above the bound the end is kept, cut at a line start, or mid-line (at a character)
// when one line alone is longer than the bound.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { archiveLog, GZIP_FROM_BYTES, readArchive } from '../../../src/store/log-archive.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe('archiveLog', () => {
  it('keeps a small log as it is and a larger one gzip, both read back exactly', () => {
    const small = archiveLog('hi\n', 1000);
    expect(small).toMatchObject({ encoding: 'identity', size: 3, sha256: sha('hi\n') });
    const text = 'é line\n'.repeat(GZIP_FROM_BYTES);
    const big = archiveLog(text, 1_000_000);
    expect(big.encoding).toBe('gzip');
    expect(big.data.length).toBeLessThan(Buffer.byteLength(text) / 10);
    expect(readArchive(big.data, big.encoding)).toBe(text);
    expect(big.sha256).toBe(sha(text));
  });

  it('keeps the end above the bound: whole lines, else the last characters of one line', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join('');
    const kept = readArchive(archiveLog(lines, 50).data, 'identity');
    expect(kept).toBe('line 94\nline 95\nline 96\nline 97\nline 98\nline 99\n');
    const one = `${'é'.repeat(100)}\n`;
    const tail = archiveLog(one, 51);
    const text = readArchive(tail.data, tail.encoding);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(51);
    expect(one.endsWith(text)).toBe(true);
    expect(tail.size).toBe(Buffer.byteLength(text));
  });
});
