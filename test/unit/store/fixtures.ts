// Temporary STATE_DIRs for the store tests, and the stores opened in them, closed and removed
// after each test (also when it fails).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { openStore } from '../../../src/store/open.js';
import type { OpenedStore, OpenOptions } from '../../../src/store/open.js';

/** Registers the cleanup; returns fresh() for a new, not yet existing STATE_DIR, and open(). */
export function storeFixtures(): {
  fresh: () => string;
  open: (stateDir: string, options?: OpenOptions) => OpenedStore;
} {
  const roots: string[] = [];
  const stores: OpenedStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) if (store.db.open) store.db.close();
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  return {
    fresh: () => {
      const root = mkdtempSync(path.join(tmpdir(), 'pman-store-'));
      roots.push(root);
      return path.join(root, 'state');
    },
    open: (stateDir, options) => {
      const store = openStore(stateDir, options);
      stores.push(store);
      return store;
    },
  };
}
