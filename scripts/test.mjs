#!/usr/bin/env node
// `npm test`: every vitest project (unit, store, e2e), then one closing line `N passed, N failed`
// that CI reads. Extra arguments go to vitest (e.g. `npm test -- --project unit`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

if (!process.env.TEST_DATABASE_URL) {
  console.warn('\n*** TEST_DATABASE_URL is not set: the PostgreSQL contract suite will be SKIPPED (PGlite only). ***');
  console.warn('*** Set TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run it. ***\n');
}
if (!process.env.TEST_REDIS_URL) {
  console.warn('*** TEST_REDIS_URL is not set: the Redis rate-limit suite will be SKIPPED (memory store only). ***\n');
}
mkdirSync('test-results', { recursive: true });
const out = 'test-results/vitest.json';
rmSync(out, { force: true });
const res = spawnSync(
  process.execPath,
  [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${out}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  passed = r.numPassedTests;
  failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  skipped = r.numPendingTests + r.numTodoTests;
} catch {
  failed = Math.max(1, failed);
}
if (res.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || res.status !== 0 ? 1 : 0);
