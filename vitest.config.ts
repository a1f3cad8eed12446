import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's core bridge is native: one process per file (forks), never worker threads.
    pool: 'forks',
    maxWorkers: 2,
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'data/**'],
    // One Temporal dev server, one database and one workflow bundle for the whole run.
    globalSetup: ['test-support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
