// Test tiers (architecture.md §10): unit and http need nothing; contract runs fakes on loopback;
// engine needs a real Docker engine + swarm (mandatory with CI=true); cluster needs KUBECONFIG.
// `npm run test:fast` runs unit + http + contract; `npm test` (what CI runs) adds engine.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'http', include: ['test/http/**/*.test.ts'] } },
      { test: { name: 'contract', include: ['test/contract/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'engine',
          include: ['test/engine/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Engine tests share one dockerd; run files one at a time to keep the 2-core box sane.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
