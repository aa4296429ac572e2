// The CLI's two back ends with one interface: the admin API of a running server (when it owns the
// embedded database) or the core services directly (server stopped, or PostgreSQL).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { RealmPolicy } from '../core/realm/policy-schema.ts';
import type { NewUserInput } from '../core/users/user-service.ts';
import { userView } from '../http/api/schemas.ts';
import type { Dostup } from '../server.ts';

type UserJson = ReturnType<typeof userView>;
interface RealmJson {
  name: string;
  policy: unknown;
}

export interface AdminClient {
  applyRealm(p: RealmPolicy): Promise<void>;
  listRealms(): Promise<RealmJson[]>;
  getRealm(name: string): Promise<RealmJson>;
  addUser(realm: string, u: NewUserInput): Promise<UserJson>;
  listUsers(realm: string, limit: number): Promise<UserJson[]>;
  getUser(realm: string, id: string): Promise<UserJson>;
}

export const LOCK_FILE = 'server.json';

/** A live server that owns this data dir (PGlite only), with the admin token to reach it. */
export async function runningServer(config: Config): Promise<{ url: string; token: string } | null> {
  if (config.DATABASE_URL) return null;
  const lock = path.join(config.DOSTUP_DATA_DIR, LOCK_FILE);
  if (!existsSync(lock)) return null;
  const { pid, url } = JSON.parse(readFileSync(lock, 'utf8')) as { pid: number; url: string };
  try {
    process.kill(pid, 0);
  } catch {
    return null; // stale lock from a crashed server
  }
  const tokenFile = path.join(config.DOSTUP_DATA_DIR, 'admin-token');
  const token = config.DOSTUP_ADMIN_TOKEN ?? (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '');
  return { url, token };
}

async function call<T>(base: string, token: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
      'accept-language': 'en',
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json().catch(() => ({}))) as {
    error?: { code: string; message: string; issues?: { path: string; message: string }[] };
  };
  if (!res.ok) {
    const issues = json.error?.issues?.map((i) => `\n  at ${i.path}: ${i.message}`).join('') ?? '';
    throw new Error(`${json.error?.code ?? res.status}: ${json.error?.message ?? res.statusText}${issues}`);
  }
  return json as T;
}

export function adminClient(base: string, token: string): AdminClient {
  const api = '/api/v1/admin';
  return {
    applyRealm: async (p) => void (await call(base, token, 'PUT', `${api}/realms/${p.name}`, p)),
    listRealms: async () => (await call<{ realms: RealmJson[] }>(base, token, 'GET', `${api}/realms`)).realms,
    getRealm: (name) => call<RealmJson>(base, token, 'GET', `${api}/realms/${encodeURIComponent(name)}`),
    addUser: (realm, u) => call<UserJson>(base, token, 'POST', `${api}/realms/${encodeURIComponent(realm)}/users`, u),
    listUsers: async (realm, limit) =>
      (
        await call<{ users: UserJson[] }>(
          base,
          token,
          'GET',
          `${api}/realms/${encodeURIComponent(realm)}/users?limit=${limit}`,
        )
      ).users,
    getUser: (realm, id) =>
      call<UserJson>(base, token, 'GET', `${api}/realms/${encodeURIComponent(realm)}/users/${encodeURIComponent(id)}`),
  };
}

const CLI_ACTOR = { ip: null, userAgent: null, via: 'cli' };

adminClient.direct = (d: Dostup): AdminClient => ({
  applyRealm: async (p) => void (await d.realms.apply(p, CLI_ACTOR)),
  listRealms: async () => (await d.realms.list()).map((r) => ({ name: r.name, policy: r.policy })),
  getRealm: async (name) => {
    const r = await d.store.realms.get(name);
    if (!r) throw new Error(`REALM_NOT_FOUND: no realm "${name}"`);
    return { name: r.name, policy: r.policy };
  },
  addUser: async (realm, u) => userView(await d.users.create(await d.realms.require(realm), u, CLI_ACTOR)),
  listUsers: async (realm, limit) => (await d.users.list(realm, limit, 0)).map(userView),
  getUser: async (realm, id) => {
    const u = await d.users.get(realm, id);
    if (!u) throw new Error(`USER_NOT_FOUND: no user ${id} in realm "${realm}"`);
    return userView(u);
  },
});
