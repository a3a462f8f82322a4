// A full disk: a write that does not fit rejects with StoreFullError naming the store, nothing of
// it is kept, and the store works again once space returns. A real 1 MiB tmpfs when this runs as
// root and may mount (unmounted after); skipped otherwise.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreFullError } from '../../../src/store/errors.js';
import { Ledger } from '../../../src/store/ledger.js';
import { spec } from './ledger-fixtures.js';

const root = mkdtempSync(path.join(tmpdir(), 'pman-full-'));

/** Mounts a 1 MiB tmpfs on `dir`; false when this process may not. */
function smallDisk(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const mount = path.join(root, 'disk');
mkdirSync(mount);
const mounted = smallDisk(mount);

afterAll(() => {
  if (mounted) execFileSync('umount', [mount]);
  rmSync(root, { recursive: true, force: true });
});

const intake = (jid: string, pad = 0) => ({
  jid,
  spec: spec(jid, { env: { PAD: 'x'.repeat(pad) } }),
  fingerprint: `sha256:${jid}`,
});

// Without root the same failure is simulated with SQLite's page limit in group-commit.test.ts.
describe.skipIf(!mounted)('a full disk (a 1 MiB tmpfs)', () => {
  it('rejects the write with StoreFullError naming the store; nothing half-created', async () => {
    const stateDir = path.join(mount, 'state');
    const ledger = Ledger.open(stateDir);
    try {
      const first = await ledger.intake(intake('fits'));
      const filler = path.join(mount, 'filler');
      {
        // Leave the store only a little room: the next big write needs more than that.
        let size = 512 * 1024;
        for (;;) {
          try {
            writeFileSync(filler, Buffer.alloc(size));
            break;
          } catch {
            size -= 64 * 1024;
          }
        }
      }
      const results = await Promise.allSettled([
        ledger.intake(intake('big-1', 400 * 1024)),
        ledger.intake(intake('big-2', 400 * 1024)),
      ]);
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as unknown;
        expect(reason).toBeInstanceOf(StoreFullError);
        expect((reason as StoreFullError).message).toContain(ledger.file);
      }
      expect(ledger.runsOf('big-1')).toEqual([]);
      expect(ledger.runsOf('big-2')).toEqual([]);
      expect(ledger.current('fits')?.id).toBe(first.runId);
      // space returns: the same request fits now
      rmSync(filler);
      const again = await ledger.intake(intake('big-1', 100 * 1024));
      expect(again.run).toBe(1);
    } finally {
      ledger.close();
    }
  });
});
