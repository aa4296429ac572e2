// What the embedded database promises about a committed write: PGlite runs with fsync off (its build
// forces it), so a commit is in the operating system's page cache, not on the disk, when the caller
// hears "done". That survives the server process dying in any way — which is what this checks, with
// SIGKILL (no shutdown hook, no close) right after the commit. It does not survive a power loss or a
// kernel crash; the README says so and points production at PostgreSQL.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshNodeArgs } from '../infra/testing/fresh-node.ts';
import { openStoreWithRaw } from './open-store.ts';

const openStoreUrl = new URL('./open-store.ts', import.meta.url).href;

/** Starts a process that commits `rows` one autocommit statement each, then waits to be killed. */
function commitThenWait(dataDir: string, rows: number): { child: ChildProcess; committed: Promise<void> } {
  const script = `
    const { openStoreWithRaw } = await import(${JSON.stringify(openStoreUrl)});
    const { raw } = await openStoreWithRaw({ dataDir: ${JSON.stringify(dataDir)} });
    await raw('create table if not exists durability_probe (n int primary key)');
    for (let n = 1; n <= ${rows}; n++) await raw('insert into durability_probe (n) values ($1)', [n]);
    console.log('committed');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, freshNodeArgs(script), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  const committed = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before committing: ${err}`)));
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('committed')) resolve();
    });
  });
  return { child, committed };
}

/** SIGKILL: no shutdown hook, no close. Resolves with the signal the process died of. */
const killHard = (child: ChildProcess) =>
  new Promise<NodeJS.Signals | null>((done) => {
    child.once('exit', (_code, signal) => done(signal));
    child.kill('SIGKILL');
  });

describe('PGlite on a data directory', () => {
  let dir: string | null = null;
  let child: ChildProcess | null = null;
  afterEach(() => {
    // A child that never committed (the test failed or timed out) must not outlive the test.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('keeps every committed write when the process is killed without closing the database', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'dostup-durability-'));
    const dataDir = path.join(dir, 'pglite');
    const probe = commitThenWait(dataDir, 50);
    child = probe.child;
    await probe.committed;
    expect(await killHard(probe.child)).toBe('SIGKILL');
    // Reopened here: PostgreSQL's crash recovery replays the WAL the killed process had written.
    const { store, raw } = await openStoreWithRaw({ dataDir });
    try {
      const [row] = await raw('select count(*)::int as n, max(n) as last from durability_probe');
      expect(row).toEqual({ n: 50, last: 50 });
    } finally {
      await store.close();
    }
  });
});
