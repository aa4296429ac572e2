// What the embedded database promises about a committed write: PGlite runs with fsync off (its build
// forces it), so a commit is in the operating system's page cache, not on the disk, when the caller
// hears "done". That survives the server process dying in any way — which is what this checks, with
// SIGKILL (no shutdown hook, no close) right after the commit. It does not survive a power loss or a
// kernel crash; the README says so and points production at PostgreSQL.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStoreWithRaw } from './open-store.ts';

const openStoreUrl = new URL('./open-store.ts', import.meta.url).href;

/** Commits `rows` one autocommit statement each in a child process, then waits to be killed. */
function commitThenWait(dataDir: string, rows: number): Promise<{ kill: () => Promise<number | null> }> {
  const script = `
    const { openStoreWithRaw } = await import(${JSON.stringify(openStoreUrl)});
    const { raw } = await openStoreWithRaw({ dataDir: ${JSON.stringify(dataDir)} });
    await raw('create table if not exists durability_probe (n int primary key)');
    for (let n = 1; n <= ${rows}; n++) await raw('insert into durability_probe (n) values ($1)', [n]);
    console.log('committed');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before committing: ${err}`)));
    child.stdout.on('data', (d: Buffer) => {
      if (!d.toString().includes('committed')) return;
      child.removeAllListeners('exit');
      resolve({
        kill: () =>
          new Promise((done) => {
            child.on('exit', (_code, signal) => done(signal === 'SIGKILL' ? 9 : null));
            child.kill('SIGKILL');
          }),
      });
    });
  });
}

describe('PGlite on a data directory', () => {
  let dir: string | null = null;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
  });

  it('keeps every committed write when the process is killed without closing the database', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'dostup-durability-'));
    const dataDir = path.join(dir, 'pglite');
    const child = await commitThenWait(dataDir, 50);
    expect(await child.kill()).toBe(9);
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
