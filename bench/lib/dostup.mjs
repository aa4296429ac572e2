// Step c: Dostup as a child process, started exactly the way an operator would (`node bin/dostup.js
// start`), so the numbers include the real config loading and the real plugin stack.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertLoopback, jsonRequest, pool, sleep } from './util.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const ADMIN_TOKEN = 'bench-admin-token-not-secret-0123456789abcdef';

// One loopback IP sends everything, so the production defaults (60/min per IP, 10 per 15 min per
// account) would measure the limiter, not the service; the peer harness turns Better Auth's off too.
// 100000 is the per-account maximum src/config.ts accepts.
export const BENCH_RATE_LIMITS = {
  RATE_SIGNIN_PER_IP: '1000000',
  RATE_SIGNIN_PER_ACCOUNT: '100000',
  RATE_RECOVERY_PER_IP: '1000000',
  RATE_RECOVERY_PER_ACCOUNT: '1000000',
  RATE_RECOVERY_PER_DESTINATION: '1000000',
  RATE_RECOVERY_VERIFY_PER_IP: '1000000',
};

// Same deterministic users as the peer harness (/work/shared/peers/better-auth/lib/common.mjs).
export const userEmail = (i) => `bench-${String(i).padStart(4, '0')}@example.test`;
export const userPassword = (i) => `bench-Pass-${String(i).padStart(4, '0')}-x9!`;

let built = false;
/**
 * Build dist/ once per benchmark process. bin/dostup.js runs the sources through tsx when any is
 * newer than the build, and tsx's loader thread is a second V8 isolate: a benchmark of an edited
 * tree without this measured ~40 MiB more idle RSS (and a loader thread) than the server users run.
 */
function ensureBuilt() {
  if (built) return;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  built = true;
}

/**
 * Start one server; `databaseUrl` undefined means the embedded PGlite default. `nodeArgs` go before
 * the script (e.g. ['--cpu-prof'] to see where a phase's time goes; NODE_OPTIONS refuses that flag).
 */
export async function startDostup({ port, databaseUrl, label, nodeArgs = [], dataDir: reuse }) {
  ensureBuilt();
  const dataDir = reuse ?? fs.mkdtempSync(path.join(os.tmpdir(), `dostup-bench-${label}-`));
  const env = { ...process.env };
  // Whatever the caller's shell has must not leak into the scenario: each run picks its own storage.
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'DOSTUP_CONFIG', 'DOSTUP_PUBLIC_URL', 'TRUST_PROXY']) delete env[k];
  Object.assign(env, BENCH_RATE_LIMITS, {
    PORT: String(port),
    HOST: '127.0.0.1',
    DOSTUP_DATA_DIR: dataDir,
    DOSTUP_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
  });
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const logFile = path.join(dataDir, 'server.log');
  const fd = fs.openSync(logFile, 'a');
  // Spawned directly (no shell), so child.pid is the serving process and /proc/<pid> is the server's.
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin/dostup.js'), 'start'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  const base = `http://127.0.0.1:${port}`;
  assertLoopback(base);
  const srv = { child, pid: child.pid, base, dataDir, logFile, label, exited: false };
  child.once('exit', () => {
    srv.exited = true;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (srv.exited) throw new Error(`dostup (${label}) exited during start:\n${tail(logFile)}`);
    try {
      if ((await jsonRequest(base, 'GET', '/health', { timeoutMs: 2000 })).status === 200) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`dostup (${label}) not healthy within 60 s:\n${tail(logFile)}`);
    await sleep(100);
  }
  return srv;
}

export async function stopDostup(srv, { keepDataDir = false } = {}) {
  if (!srv) return;
  if (!srv.exited) {
    srv.child.kill('SIGTERM');
    for (let i = 0; i < 100 && !srv.exited; i++) await sleep(100);
    if (!srv.exited) srv.child.kill('SIGKILL');
  }
  if (!keepDataDir) fs.rmSync(srv.dataDir, { recursive: true, force: true });
}

const tail = (file) => {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
};

/** USERS users through the admin API (201 created, 409 already there; anything else is fatal). */
export async function seedUsers(srv, users, concurrency = 4) {
  const t0 = performance.now();
  const res = await pool(users, concurrency, async (i) => {
    const r = await jsonRequest(srv.base, 'POST', '/api/v1/admin/realms/main/users', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: { email: userEmail(i), password: userPassword(i) },
    });
    if (r.status !== 201 && r.status !== 409) throw new Error(`seeding user ${i}: ${r.status} ${r.text.slice(0, 200)}`);
    return r.status;
  });
  return { users, created: res.filter((s) => s === 201).length, seconds: (performance.now() - t0) / 1000 };
}

export async function signIn(srv, i) {
  const r = await jsonRequest(srv.base, 'POST', '/api/v1/realms/main/login', {
    body: { identifier: userEmail(i), password: userPassword(i), remember: false },
  });
  const cookie = r.setCookie.find((c) => c.startsWith('dostup_session='))?.split(';')[0];
  if (r.status !== 200 || r.json?.status !== 'completed' || !cookie) {
    throw new Error(`sign-in of user ${i} failed: ${r.status} ${r.text.slice(0, 200)}`);
  }
  return { cookie, token: r.json.session.token, sessionId: r.json.session.id };
}

/** SESSIONS distinct sessions (users 0..n-1), two sign-ins in flight. */
export const signInMany = (srv, n) => pool(n, 2, (i) => signIn(srv, i));
