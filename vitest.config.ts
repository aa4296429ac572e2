import { defineConfig } from 'vitest/config';

// Three projects so CI can run them separately (e.g. unit + store again on Node 24):
// unit  — pure tests beside the source, no I/O beyond the file system;
// store — repository contract tests on PGlite and (when TEST_DATABASE_URL is set) PostgreSQL;
// e2e   — journeys in a real Chromium against a real server (test/e2e).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.contract.test.ts', 'src/**/*.int.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'store',
          include: ['src/**/*.contract.test.ts', 'src/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
