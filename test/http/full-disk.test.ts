// A full disk under STATE_DIR (a real 1 MiB tmpfs, when this runs as root and may mount): a POST
// answers 503 + Retry-After naming the store, and nothing is half-created — no engine object, no
// output directory, no run; once space returns the same POST goes through.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/store/ledger.js';
import { postJson, sampleBody, testApp } from '../fixtures.js';

const root = mkdtempSync(path.join(tmpdir(), 'pman-http-full-'));
const disk = path.join(root, 'disk');
mkdirSync(disk);

function mountSmallDisk(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const mounted = mountSmallDisk();

afterAll(() => {
  if (mounted) execFileSync('umount', [disk]);
  rmSync(root, { recursive: true, force: true });
});

/** Fills the disk to the last byte; returns the filler file. */
function fill(): string {
  const filler = path.join(disk, 'filler');
  for (const size of [64 * 1024, 4096, 512, 64, 1]) {
    for (;;) {
      try {
        appendFileSync(filler, Buffer.alloc(size));
      } catch {
        break;
      }
    }
  }
  return filler;
}

describe.skipIf(!mounted)('POST with the job store on a full disk', () => {
  it('answers 503 + Retry-After naming the store; nothing is created; works again with room', async () => {
    const storeBase = path.join(root, 'storeBase');
    mkdirSync(path.join(storeBase, 'key-chris-jid-42/incoming'), { recursive: true });
    const ledger = Ledger.open(path.join(disk, 'state'));
    try {
      const { app, backend } = await testApp({
        ledger,
        storage: { type: 'host', storeBase },
        storeBaseCheck: storeBase,
        config: { storage: { type: 'host', storeBase } },
      });
      const filler = fill();
      const res = await postJson(app, sampleBody());
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const { message } = (await res.json()) as { message: string };
      expect(message).toContain(ledger.file);
      expect(message).toContain('nothing was created');
      expect(backend.specOf('chris-jid-42')).toBeUndefined();
      expect(existsSync(path.join(storeBase, 'key-chris-jid-42/outgoing'))).toBe(false);
      expect(ledger.runsOf('chris-jid-42')).toEqual([]);
      rmSync(filler);
      expect((await postJson(app, sampleBody())).status).toBe(201);
      expect(ledger.current('chris-jid-42')).toMatchObject({ run: 1 });
    } finally {
      ledger.close();
    }
  });
});
