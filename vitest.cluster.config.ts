import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the production topology on this machine (platform/cluster-topology.ts),
 * started by the test file itself (it kills and restarts the cluster's processes). One file, one
 * fork; never part of `npm test` (whose include is `*.test.ts`).
 */
export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 1,
    include: ['**/*.cluster-test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'data/**'],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
