// A whole Dostup server for integration tests: the real composition root (createDostup), a fresh
// database (PGlite in memory, or a throw-away PostgreSQL database when asked and TEST_DATABASE_URL is
// set), the default realm created as on first start, and `app.inject` for requests without a socket.
// PGlite takes seconds to start: keep one instance per test file (beforeAll) and isolate tests by
// giving each its own users (uniqueLogin()) and, for rate limits, its own client IP (uniqueIp()).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse as InjectResponse } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import type { User } from '../../src/core/model.ts';
import type { RealmPolicy } from '../../src/core/realm/policy-schema.ts';
import type { NewUserInput } from '../../src/core/users/user-service.ts';
import { createDostup, type Dostup, prepareForServing } from '../../src/server.ts';
import { openStoreWithRaw, type RawSql } from '../../src/store/open-store.ts';
import { createFreshPgDatabase, type FreshDatabase } from '../../src/store/testing/each-driver.ts';

export type { InjectResponse };

/** The admin token every test server uses (≥ 32 characters, as the config demands). */
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789-abcdefghijklmnop';
/** A password every default realm accepts: long, not common, not equal to an identifier. */
export const GOOD_PASSWORD = 'correct horse battery staple 42';

export interface StartOptions {
  /** Extra environment for loadConfig (strings, as in a real environment). */
  env?: Record<string, string>;
  /**
   * Use PostgreSQL (a fresh database next to TEST_DATABASE_URL, dropped on close) instead of PGlite;
   * throws without TEST_DATABASE_URL. Defaults to true when DOSTUP_TEST_HTTP_DRIVER=pg, so the HTTP
   * suites can be run on PostgreSQL unchanged.
   */
  pg?: boolean;
  /** Also listen on 127.0.0.1:<random port> and report baseUrl (for tests needing a real socket). */
  listen?: boolean;
  /** Test-only routes added before the app is ready (e.g. to watch the response pipeline from inside). */
  routes?: (app: FastifyInstance) => void;
}

export interface TestDostup {
  d: Dostup;
  app: FastifyInstance;
  /** Set when started with `listen: true`. */
  baseUrl?: string;
  adminToken: string;
  /** The default realm's policy ('main'). */
  realm: RealmPolicy;
  /** Create a user in the default realm (or `realm`) through the user service; password checked by policy. */
  addUser(input: NewUserInput, realm?: RealmPolicy): Promise<User>;
  /** app.inject, typed. */
  inject(opts: InjectOptions): Promise<InjectResponse>;
  /** `authorization: Bearer <admin token>` plus `extra`. */
  adminHeaders(extra?: Record<string, string>): Record<string, string>;
  /**
   * Plain SQL on the server's database, bypassing the repositories: one-time secrets and flows age
   * by the DATABASE clock, so tests move `created_at` / `expires_at` back instead of waiting.
   */
  raw: RawSql;
  close(): Promise<void>;
}

/** True when PostgreSQL tests can run. */
export const pgAvailable = (): boolean => Boolean(process.env.TEST_DATABASE_URL);

export async function startTestDostup(opts: StartOptions = {}): Promise<TestDostup> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'dostup-test-'));
  let fresh: FreshDatabase | undefined;
  if (opts.pg ?? process.env.DOSTUP_TEST_HTTP_DRIVER === 'pg') {
    const url = process.env.TEST_DATABASE_URL;
    if (!url) throw new Error('startTestDostup({ pg: true }) needs TEST_DATABASE_URL');
    fresh = await createFreshPgDatabase(url);
  }
  const config = loadConfig({
    DOSTUP_DATA_DIR: dataDir,
    DOSTUP_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    // The lowest cost the config accepts: tests hash a lot, and the cost is not what they test.
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    ...(fresh ? { DATABASE_URL: fresh.url, DATABASE_POOL_MAX: '4' } : {}),
    ...opts.env,
  });
  // PGlite in memory (no files to clean up, nothing shared with another test file), or the fresh
  // PostgreSQL database; either way with a raw SQL handle on it.
  const { store, raw } = await openStoreWithRaw(fresh ? { databaseUrl: fresh.url, poolMax: 4 } : {});
  let d: Dostup;
  try {
    d = await createDostup(config, { store });
  } catch (e) {
    await store.close();
    await fresh?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  let app: FastifyInstance;
  let baseUrl: string | undefined;
  let realm: RealmPolicy;
  try {
    await prepareForServing(d);
    app = await d.http();
    opts.routes?.(app);
    d.startBackground();
    await app.ready();
    if (opts.listen) baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    realm = await d.realms.require(config.DOSTUP_DEFAULT_REALM);
  } catch (e) {
    await d.close();
    await fresh?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const actor = { ip: null, userAgent: 'test-server', via: 'test' };

  return {
    d,
    app,
    ...(baseUrl ? { baseUrl } : {}),
    adminToken: TEST_ADMIN_TOKEN,
    realm,
    addUser: (input, r) => d.users.create(r ?? realm, input, actor),
    inject: (o) => app.inject(o),
    adminHeaders: (extra = {}) => ({ authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...extra }),
    raw,
    async close() {
      await d.close();
      await fresh?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A login nobody else in this process uses: lower-case latin + digits. */
export function uniqueLogin(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}${randomBytes(3).toString('hex')}`;
}

/** A client address nobody else in this process uses (for inject's `remoteAddress`). */
export function uniqueIp(): string {
  counter += 1;
  const b = randomBytes(2);
  return `10.${counter % 250}.${b[0]}.${b[1]}`;
}

// ---------------------------------------------------------------------------------------------
// Cookies and pages.

export interface CookieInfo {
  name: string;
  value: string;
  /** The raw Set-Cookie line. */
  raw: string;
  attrs: Record<string, string | true>;
}

/** Every Set-Cookie of a response, parsed (attribute names lower-cased). */
export function setCookies(res: InjectResponse): CookieInfo[] {
  const h = res.headers['set-cookie'];
  const lines = h === undefined ? [] : Array.isArray(h) ? h : [String(h)];
  return lines.map((raw) => {
    const [pair = '', ...rest] = raw.split(';');
    const eq = pair.indexOf('=');
    const attrs: Record<string, string | true> = {};
    for (const a of rest) {
      const i = a.indexOf('=');
      if (i < 0) attrs[a.trim().toLowerCase()] = true;
      else attrs[a.slice(0, i).trim().toLowerCase()] = a.slice(i + 1).trim();
    }
    return { name: pair.slice(0, eq).trim(), value: decodeURIComponent(pair.slice(eq + 1).trim()), raw, attrs };
  });
}

export function cookieOf(res: InjectResponse, name: string): CookieInfo | undefined {
  return setCookies(res).find((c) => c.name === name);
}

/** The value of the hidden `_csrf` input of an HTML form. */
export function csrfFromHtml(body: string): string {
  const m = /<input type="hidden" name="_csrf" value="([^"]*)">/.exec(body);
  if (!m?.[1]) throw new Error('no _csrf input in the page');
  return m[1];
}

/** `a=1; b=2` from a name → value map. */
export function cookieHeader(cookies: Record<string, string | undefined>): string {
  return Object.entries(cookies)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
}

/** Response body as JSON (throws a readable error when it is not). */
export function json<T = Record<string, unknown>>(res: InjectResponse): T {
  try {
    return JSON.parse(res.body) as T;
  } catch {
    throw new Error(`not JSON (status ${res.statusCode}): ${res.body.slice(0, 300)}`);
  }
}

/** `error.code` of an error response, or undefined. */
export function errorCode(res: InjectResponse): string | undefined {
  try {
    return (JSON.parse(res.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** What a stack trace of our TypeScript sources looks like in a body. */
export function looksLikeStack(body: string): boolean {
  return /\bat [^\n]*\.ts:\d+/.test(body) || /\.ts:\d+:\d+/.test(body) || body.includes('node_modules/');
}
