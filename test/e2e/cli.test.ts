// The CLI as an operator uses it: realm files (a bad one is rejected naming the field), users,
// and the same commands against a running server (which owns the embedded database).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from './support/server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dostup(args: string[], env: Record<string, string>, input?: string) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/dostup.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1', ...env },
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tempDir() {
  const d = mkdtempSync(path.join(tmpdir(), 'dostup-cli-'));
  dirs.push(d);
  return d;
}

describe('dostup CLI', () => {
  it('rejects a bad realm file naming the field path, and applies a good one', () => {
    const dir = tempDir();
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'name: shop\nbaseUrl: https://shop.example\npassword:\n  minLength: 2\nsessions:\n  idleMinuts: 5\n',
    );
    const checked = dostup(['realm', 'check', bad], { DOSTUP_DATA_DIR: dir });
    expect(checked.code).toBe(1);
    expect(checked.err).toContain('REALM_POLICY_INVALID');
    expect(checked.err).toContain('/password/minLength');
    expect(checked.err).toContain('/sessions/idleMinuts');
    const applied = dostup(['realm', 'apply', bad], { DOSTUP_DATA_DIR: dir });
    expect(applied.code).toBe(1);

    const good = dostup(['realm', 'apply', path.join(ROOT, 'realms/presets/s2-payments.yaml')], {
      DOSTUP_DATA_DIR: dir,
    });
    expect(good.err).toBe('');
    expect(good.code).toBe(0);
    const listed = dostup(['realm', 'list'], { DOSTUP_DATA_DIR: dir });
    expect(listed.out).toMatch(/^main\t/m);
    expect(listed.out).toMatch(/^s2-payments\t/m);
    const shown = JSON.parse(dostup(['realm', 'show', 's2-payments'], { DOSTUP_DATA_DIR: dir }).out);
    expect(shown.policy.password.historySize).toBe(3);
  });

  it('adds a user with a password from stdin; refuses a weak one naming the rule', () => {
    const dir = tempDir();
    const ok = dostup(
      ['user', 'add', '--login', 'petrov', '--email', 'petrov@example.ru', '--password-stdin'],
      { DOSTUP_DATA_DIR: dir },
      'длинная-фраза-для-входа\n',
    );
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out.slice(0, ok.out.lastIndexOf('}') + 1)).login).toBe('petrov');
    const weak = dostup(
      ['user', 'add', '--login', 'sidorov', '--password-stdin'],
      { DOSTUP_DATA_DIR: dir },
      'gfhjkm\n',
    );
    expect(weak.code).toBe(1);
    expect(weak.err).toContain('/password');
    const dup = dostup(['user', 'add', '--login', 'PETROV'], { DOSTUP_DATA_DIR: dir });
    expect(dup.code).toBe(1);
    expect(dup.err).toContain('IDENTIFIER_TAKEN');
    expect(dostup(['user', 'list'], { DOSTUP_DATA_DIR: dir }).out).toMatch(/\tpetrov\tpetrov@example\.ru\tactive/);
  });

  it('talks to a running server instead of opening its embedded database', async () => {
    server = await startServer();
    const env = { DOSTUP_DATA_DIR: server.dataDir, DOSTUP_ADMIN_TOKEN: server.adminToken };
    const added = dostup(['user', 'add', '--login', 'live', '--password-stdin'], env, 'ещё-одна-длинная-фраза\n');
    expect(added.err).toBe('');
    expect(added.code).toBe(0);
    const res = await fetch(`${server.url}/api/v1/realms/main/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: 'live', password: 'ещё-одна-длинная-фраза' }),
    });
    expect(res.status).toBe(200);
  });
});
