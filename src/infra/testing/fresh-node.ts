import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

/** node's arguments that run an ES-module script (TypeScript imports through tsx) in a new process. */
export const freshNodeArgs = (script: string, nodeArgs: string[] = []): string[] => [
  ...nodeArgs,
  '--import',
  'tsx',
  '--input-type=module',
  '-e',
  script,
];

/**
 * Run an ES-module script in a new node process (TypeScript imports through tsx) and return what it
 * printed. For memory behaviour that a test worker's own heap, already grown by other tests, would hide.
 */
export function runInFreshNode(script: string, nodeArgs: string[] = []): string {
  const r = spawnSync(process.execPath, freshNodeArgs(script, nodeArgs), {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}
