// Starts the real server the way a user does (`node bin/dostup.js start`) on a free port with a
// fresh data dir, and talks to its admin API. Journeys run against this, not against app.inject.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');

export interface RunningServer {
  url: string;
  /** The server's process id (to look at it in /proc). */
  pid: number;
  adminToken: string;
  dataDir: string;
  output: () => string;
  admin<T = unknown>(method: string, p: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** Adds a user to `realm` (default: the realm `main` created on first start). */
  addUser(u: Record<string, unknown>, realm?: string): Promise<{ id: string }>;
  stop(): Promise<void>;
}

export async function startServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'dostup-e2e-'));
  const adminToken = randomBytes(24).toString('base64url');
  const child: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin/dostup.js'), 'start'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DOSTUP_DATA_DIR: dataDir,
      DOSTUP_ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'warn',
      // Cheaper hashing keeps journeys quick; parameters stay at the allowed minimum.
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_ITERATIONS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    const check = () => {
      const m = out.match(/Dostup is listening on http:\/\/localhost:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });

  const admin = async <T>(method: string, p: string, body?: unknown) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as T };
  };
  return {
    url,
    pid: child.pid as number,
    adminToken,
    dataDir,
    output: () => out,
    admin,
    async addUser(u, realm = 'main') {
      const r = await admin<{ id: string }>('POST', `/api/v1/admin/realms/${realm}/users`, u);
      if (r.status !== 201) throw new Error(`addUser failed: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
