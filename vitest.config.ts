import { defineConfig } from 'vitest/config';

// One config for the whole `npm test` run: unit, integration and browser (e2e) tests.
// A single embedded PostgreSQL is started by the global setup and shared by all files
// (each test file makes its own fresh databases through test/support/databases.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    environment: 'node',
    globalSetup: ['test/support/global-setup.ts'],
    // Integration and browser tests start servers, databases and Chromium.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // expect.poll waits for a page to catch up (browser tests). Vitest's default of 1 s
    // fails a step that merely ran slow while another test file loaded the 2 cores.
    expect: { poll: { timeout: 10_000 } },
    // Child processes: SQLite's native code and Chromium are safest there.
    pool: 'forks',
    // The machine has 2 cores; files run in parallel, at most 2 at a time.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
