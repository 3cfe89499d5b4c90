import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    // Hooks start real servers and browsers; on a loaded 2-core machine that has taken over a minute.
    hookTimeout: 120_000,
    // PGlite instances are heavy (WASM); two workers fit the 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
  },
});
