// The public JSON API end to end: a real server (createDostup + PGlite) driven through app.inject.
// Each test states one property a client or an attacker relies on, and fails if it breaks.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  cookieHeader,
  cookieOf,
  errorCode,
  GOOD_PASSWORD,
  type InjectResponse,
  json,
  looksLikeStack,
  startTestDostup,
  type TestDostup,
  uniqueIp,
  uniqueLogin,
} from '../../../test/support/test-server.ts';

const LOGIN_URL = '/api/v1/realms/main/login';
const TOKEN_RE = /^[A-Za-z0-9_-]{43,}$/;

interface LoginOk {
  status: 'completed';
  user: { id: string; login: string | null; realm: string; rights: string[] };
  session: { id: string; token: string; expiresAt: string; remember: boolean };
}
interface ErrorJson {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}

/** Every body this file sees is checked for stack traces. */
const seen: InjectResponse[] = [];
function track(res: InjectResponse): InjectResponse {
  seen.push(res);
  return res;
}

function signIn(t: TestDostup, payload: unknown, headers: Record<string, string> = {}, remoteAddress?: string) {
  return t
    .inject({
      method: 'POST',
      url: LOGIN_URL,
      payload: payload as Record<string, unknown>,
      headers,
      ...(remoteAddress ? { remoteAddress } : {}),
    })
    .then(track);
}

async function newUser(t: TestDostup, extra: Record<string, unknown> = {}) {
  const login = uniqueLogin('api');
  const user = await t.addUser({ login, password: GOOD_PASSWORD, ...extra });
  return { login, user };
}

async function signedIn(t: TestDostup, login: string, remember = false) {
  const res = await signIn(t, { identifier: login, password: GOOD_PASSWORD, remember });
  expect(res.statusCode, res.body).toBe(200);
  return json<LoginOk>(res);
}

const whoamiByCookie = (t: TestDostup, token: string) =>
  t
    .inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: cookieHeader({ dostup_session: token }) } })
    .then(track);
const whoamiByBearer = (t: TestDostup, token: string) =>
  t.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: `Bearer ${token}` } }).then(track);

/** Header names of a response minus the ones whose presence may legitimately vary. */
function headerNames(res: InjectResponse): string[] {
  return Object.keys(res.headers)
    .map((h) => h.toLowerCase())
    .filter((h) => h !== 'date' && h !== 'x-request-id' && h !== 'request-id')
    .sort();
}

describe('JSON API', () => {
  let t: TestDostup;

  beforeAll(async () => {
    // Rate limits high: this instance tests everything but the limits themselves. Argon2 a little
    // dearer than the test default so the timing test can tell "did argon2" from "skipped it".
    t = await startTestDostup({
      env: {
        RATE_SIGNIN_PER_ACCOUNT: '100000',
        RATE_SIGNIN_PER_IP: '1000000',
        ARGON2_MEMORY_KIB: '32768',
        ARGON2_ITERATIONS: '2',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe('sign-in', () => {
    it('sets an HttpOnly, SameSite=Lax, Path=/ session cookie that ends with the browser without "remember me"', async () => {
      const { login } = await newUser(t);
      const res = await signIn(t, { identifier: login, password: GOOD_PASSWORD });
      expect(res.statusCode).toBe(200);
      const body = json<LoginOk>(res);
      const c = cookieOf(res, 'dostup_session');
      expect(c).toBeDefined();
      expect(c!.value).toBe(body.session.token);
      expect(c!.attrs.httponly).toBe(true);
      expect(String(c!.attrs.samesite).toLowerCase()).toBe('lax');
      expect(c!.attrs.path).toBe('/');
      expect(c!.attrs['max-age']).toBeUndefined();
      expect(c!.attrs.expires).toBeUndefined();
      // The default realm is http://localhost: a Secure cookie would never come back.
      expect(c!.attrs.secure).toBeUndefined();
      expect(body.session.remember).toBe(false);
      expect(body.user.login).toBe(login);
      expect(JSON.stringify(body)).not.toMatch(/argon2|passwordHash/i);
    });

    it('with "remember me" the cookie lives the realm\'s rememberMeDays', async () => {
      const { login } = await newUser(t);
      const res = await signIn(t, { identifier: login, password: GOOD_PASSWORD, remember: true });
      expect(res.statusCode).toBe(200);
      const c = cookieOf(res, 'dostup_session')!;
      const want = t.realm.sessions.rememberMeDays * 86_400;
      expect(want).toBeGreaterThan(0);
      const maxAge = Number(c.attrs['max-age']);
      expect(maxAge).toBeGreaterThan(want - 60);
      expect(maxAge).toBeLessThanOrEqual(want);
      const body = json<LoginOk>(res);
      expect(body.session.remember).toBe(true);
      const expiresIn = new Date(body.session.expiresAt).getTime() - Date.now();
      expect(Math.abs(expiresIn / 1000 - want)).toBeLessThan(60);
    });

    it('the token is at least 43 base64url characters and each sign-in gets a new one', async () => {
      const { login } = await newUser(t);
      const a = await signedIn(t, login);
      const b = await signedIn(t, login);
      expect(a.session.token).toMatch(TOKEN_RE);
      expect(b.session.token).toMatch(TOKEN_RE);
      expect(b.session.token).not.toBe(a.session.token);
      expect(b.session.id).not.toBe(a.session.id);
    });

    it('a realm served over https gets a Secure cookie', async () => {
      await t.d.realms.apply(
        (await import('../../core/realm/policy.ts')).defaultRealmPolicy('securerealm', 'https://id.example.org'),
        { ip: null, userAgent: null, via: 'test' },
      );
      const realm = await t.d.realms.require('securerealm');
      const login = uniqueLogin('sec');
      await t.addUser({ login, password: GOOD_PASSWORD }, realm);
      const res = await t
        .inject({
          method: 'POST',
          url: '/api/v1/realms/securerealm/login',
          payload: { identifier: login, password: GOOD_PASSWORD },
        })
        .then(track);
      expect(res.statusCode).toBe(200);
      expect(cookieOf(res, 'dostup_session')!.attrs.secure).toBe(true);
    });

    it('a locked account gets the generic answer unless the password is right', async () => {
      const { login } = await newUser(t, { status: 'locked' });
      const wrong = await signIn(t, { identifier: login, password: 'not the password' });
      expect(wrong.statusCode).toBe(401);
      expect(errorCode(wrong)).toBe('INVALID_CREDENTIALS');
      const right = await signIn(t, { identifier: login, password: GOOD_PASSWORD });
      expect(right.statusCode).toBe(403);
      expect(errorCode(right)).toBe('ACCOUNT_LOCKED');
      expect(cookieOf(right, 'dostup_session')).toBeUndefined();
    });

    it('an identifier with an invisible character is another identifier: no sign-in, generic 401', async () => {
      const { login } = await newUser(t);
      for (const identifier of [
        `\u200B${login}`,
        `${login}\u200D`,
        `${login}\u0000`,
        `\u202E${login}`,
        `${login}\r\n`,
      ]) {
        const res = await signIn(t, { identifier, password: GOOD_PASSWORD });
        expect(res.statusCode, JSON.stringify(identifier)).toBe(401);
        expect(errorCode(res)).toBe('INVALID_CREDENTIALS');
        expect(cookieOf(res, 'dostup_session')).toBeUndefined();
      }
    });

    it('login is case-insensitive and NFKC-folded', async () => {
      const { login } = await newUser(t);
      expect((await signIn(t, { identifier: login.toUpperCase(), password: GOOD_PASSWORD })).statusCode).toBe(200);
      expect((await signIn(t, { identifier: `  ${login}  `, password: GOOD_PASSWORD })).statusCode).toBe(200);
    });
  });

  describe('sessions', () => {
    it('whoami answers by cookie and by bearer with user, realm and rights', async () => {
      const { login, user } = await newUser(t, { rights: ['password:change-own', 'portal:editor'] });
      const s = await signedIn(t, login);
      for (const res of [await whoamiByCookie(t, s.session.token), await whoamiByBearer(t, s.session.token)]) {
        expect(res.statusCode, res.body).toBe(200);
        const body = json<{
          user: { id: string; login: string };
          realm: string;
          rights: string[];
          session: { id: string };
        }>(res);
        expect(body.user.id).toBe(user.id);
        expect(body.user.login).toBe(login);
        expect(body.realm).toBe('main');
        expect(body.rights.sort()).toEqual(['password:change-own', 'portal:editor']);
        expect(body.session.id).toBe(s.session.id);
      }
    });

    it('whoami without a credential is 401 UNAUTHENTICATED', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/v1/whoami' }).then(track);
      expect(res.statusCode).toBe(401);
      expect(errorCode(res)).toBe('UNAUTHENTICATED');
    });

    it('whoami from the session cache answers the same bytes and headers as from the database', async () => {
      const { login, user } = await newUser(t, { rights: ['password:change-own', 'portal:editor'] });
      const s = await signedIn(t, login);
      const fromDb = await whoamiByBearer(t, s.session.token); // first use: a database lookup
      const fromCache = await whoamiByCookie(t, s.session.token); // same token again: the cache
      expect(fromDb.statusCode, fromDb.body).toBe(200);
      expect(fromCache.statusCode, fromCache.body).toBe(200);
      expect(fromCache.body).toBe(fromDb.body);
      expect(headerNames(fromCache)).toEqual(headerNames(fromDb));
      for (const h of headerNames(fromDb)) expect(fromCache.headers[h], h).toEqual(fromDb.headers[h]);
      expect(fromDb.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(fromDb.headers['cache-control']).toBe('no-store');
      // The JSON API's own header set (OWASP REST): nothing may load or frame it, nothing sniffed.
      expect(fromDb.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(fromDb.headers['x-content-type-options']).toBe('nosniff');
      expect(fromDb.headers['x-frame-options']).toBe('DENY');
      expect(fromDb.headers['referrer-policy']).toBe('no-referrer');
      expect(fromDb.headers['cross-origin-opener-policy']).toBeUndefined(); // a document-only header
      // Serialized by the response schema: every field, in schema order, nothing else.
      expect(Object.keys(json<Record<string, unknown>>(fromDb))).toEqual(['user', 'realm', 'rights', 'session']);
      expect(json<{ user: Record<string, unknown> }>(fromDb).user).toEqual({
        id: user.id,
        realm: 'main',
        login,
        email: null,
        emailVerified: false,
        phone: null,
        phoneVerified: false,
        birthDate: null,
        locale: null,
        status: 'active',
        rights: user.rights,
        createdAt: user.createdAt.toISOString(),
        updatedAt: user.updatedAt.toISOString(),
      });
      expect(json<{ session: unknown }>(fromDb).session).toEqual({
        id: s.session.id,
        expiresAt: s.session.expiresAt,
        remember: false,
      });
    });

    it("two sessions of one user each get their own whoami, never the other's cached one", async () => {
      const { login } = await newUser(t);
      const a = await signedIn(t, login);
      const b = await signedIn(t, login);
      for (let i = 0; i < 2; i++) {
        expect(json<{ session: { id: string } }>(await whoamiByBearer(t, a.session.token)).session.id).toBe(
          a.session.id,
        );
        expect(json<{ session: { id: string } }>(await whoamiByBearer(t, b.session.token)).session.id).toBe(
          b.session.id,
        );
      }
    });

    it('an unknown token is 401 every time, also once its denial is cached', async () => {
      const unknown = 'A'.repeat(43);
      const first = await whoamiByBearer(t, unknown);
      const second = await whoamiByBearer(t, unknown);
      for (const res of [first, second]) {
        expect(res.statusCode).toBe(401);
        expect(errorCode(res)).toBe('UNAUTHENTICATED');
        expect(res.headers['cache-control']).toBe('no-store');
      }
      expect(second.body).toBe(first.body);
    });

    it('logout ends the session at once (cookie) and clears the cookie', async () => {
      const { login } = await newUser(t);
      const s = await signedIn(t, login);
      // Warm this node's session cache first: revocation must not wait for it to expire.
      expect((await whoamiByCookie(t, s.session.token)).statusCode).toBe(200);
      const out = await t
        .inject({
          method: 'POST',
          url: '/api/v1/logout',
          headers: { cookie: cookieHeader({ dostup_session: s.session.token }) },
          payload: {},
        })
        .then(track);
      expect(out.statusCode, out.body).toBe(204);
      const cleared = cookieOf(out, 'dostup_session');
      expect(cleared).toBeDefined();
      expect(cleared!.value).toBe('');
      expect((await whoamiByCookie(t, s.session.token)).statusCode).toBe(401);
      expect((await whoamiByBearer(t, s.session.token)).statusCode).toBe(401);
      // A second logout with the same token has nothing to end.
      const again = await t
        .inject({ method: 'POST', url: '/api/v1/logout', headers: { authorization: `Bearer ${s.session.token}` } })
        .then(track);
      expect(again.statusCode).toBe(401);
    });

    it('logout by bearer needs no body and no content type', async () => {
      const { login } = await newUser(t);
      const s = await signedIn(t, login);
      const out = await t
        .inject({ method: 'POST', url: '/api/v1/logout', headers: { authorization: `Bearer ${s.session.token}` } })
        .then(track);
      expect(out.statusCode, out.body).toBe(204);
      expect((await whoamiByBearer(t, s.session.token)).statusCode).toBe(401);
    });

    it('lists own sessions, marks the current one, and DELETE ends one at once', async () => {
      const { login } = await newUser(t);
      const a = await signedIn(t, login);
      const b = await signedIn(t, login);
      const list = await t
        .inject({ method: 'GET', url: '/api/v1/sessions', headers: { authorization: `Bearer ${a.session.token}` } })
        .then(track);
      expect(list.statusCode).toBe(200);
      const sessions = json<{
        sessions: { id: string; current: boolean; ip: string | null; userAgent: string | null }[];
      }>(list).sessions;
      expect(sessions.map((s) => s.id).sort()).toEqual([a.session.id, b.session.id].sort());
      expect(sessions.find((s) => s.id === a.session.id)!.current).toBe(true);
      expect(sessions.find((s) => s.id === b.session.id)!.current).toBe(false);
      expect(JSON.stringify(sessions)).not.toContain(b.session.token);

      // b is in use (and cached on this node) when a ends it.
      expect((await whoamiByBearer(t, b.session.token)).statusCode).toBe(200);
      const del = await t
        .inject({
          method: 'DELETE',
          url: `/api/v1/sessions/${b.session.id}`,
          headers: { cookie: cookieHeader({ dostup_session: a.session.token }) },
        })
        .then(track);
      expect(del.statusCode, del.body).toBe(204);
      expect((await whoamiByBearer(t, b.session.token)).statusCode).toBe(401);
      expect((await whoamiByCookie(t, b.session.token)).statusCode).toBe(401);
      expect((await whoamiByBearer(t, a.session.token)).statusCode).toBe(200);
      const after = json<{ sessions: { id: string }[] }>(
        await t.inject({
          method: 'GET',
          url: '/api/v1/sessions',
          headers: { authorization: `Bearer ${a.session.token}` },
        }),
      );
      expect(after.sessions.map((s) => s.id)).toEqual([a.session.id]);
    });

    it("another user's session id is 404 and that session keeps working", async () => {
      const mallory = await newUser(t);
      const victim = await newUser(t);
      const m = await signedIn(t, mallory.login);
      const v = await signedIn(t, victim.login);
      const del = await t
        .inject({
          method: 'DELETE',
          url: `/api/v1/sessions/${v.session.id}`,
          headers: { authorization: `Bearer ${m.session.token}` },
        })
        .then(track);
      expect(del.statusCode).toBe(404);
      expect(errorCode(del)).toBe('SESSION_NOT_FOUND');
      expect((await whoamiByBearer(t, v.session.token)).statusCode).toBe(200);
    });

    it('a random (unknown) session id is 404, a malformed one 400', async () => {
      const { login } = await newUser(t);
      const s = await signedIn(t, login);
      const headers = { authorization: `Bearer ${s.session.token}` };
      const unknown = await t
        .inject({ method: 'DELETE', url: `/api/v1/sessions/${crypto.randomUUID()}`, headers })
        .then(track);
      expect(unknown.statusCode).toBe(404);
      expect(errorCode(unknown)).toBe('SESSION_NOT_FOUND');
      const bad = await t.inject({ method: 'DELETE', url: '/api/v1/sessions/not-a-uuid', headers }).then(track);
      expect(bad.statusCode).toBe(400);
      expect(errorCode(bad)).toBe('VALIDATION_FAILED');
    });

    it('a cross-site DELETE authenticated by the cookie is refused', async () => {
      const { login } = await newUser(t);
      const a = await signedIn(t, login);
      const b = await signedIn(t, login);
      const res = await t
        .inject({
          method: 'DELETE',
          url: `/api/v1/sessions/${b.session.id}`,
          headers: { cookie: cookieHeader({ dostup_session: a.session.token }), 'sec-fetch-site': 'cross-site' },
        })
        .then(track);
      expect(res.statusCode).toBe(403);
      expect(errorCode(res)).toBe('CSRF_INVALID');
      expect((await whoamiByBearer(t, b.session.token)).statusCode).toBe(200);
    });
  });

  describe('account enumeration', () => {
    it('wrong password for a known login and any password for an unknown one look the same', async () => {
      const { login } = await newUser(t);
      const headers = { 'user-agent': 'enum-test' };
      const known = await signIn(t, { identifier: login, password: 'wrong password 1' }, headers);
      const unknown = await signIn(t, { identifier: uniqueLogin('ghost'), password: 'wrong password 1' }, headers);
      const unknownEmail = await signIn(t, { identifier: 'ghost@example.com', password: 'wrong password 1' }, headers);
      const malformed = await signIn(t, { identifier: 'x\u0007', password: 'wrong password 1' }, headers);
      for (const other of [unknown, unknownEmail, malformed]) {
        expect(other.statusCode).toBe(known.statusCode);
        expect(other.body).toBe(known.body);
        expect(headerNames(other)).toEqual(headerNames(known));
        expect(other.headers['content-type']).toBe(known.headers['content-type']);
      }
      expect(known.statusCode).toBe(401);
      expect(errorCode(known)).toBe('INVALID_CREDENTIALS');
    });

    it('both a known and an unknown login cost one argon2 verification', async () => {
      const { login } = await newUser(t);
      const verify = vi.spyOn(t.d.hasher, 'verify');
      const dummy = vi.spyOn(t.d.hasher, 'dummyVerify');
      await signIn(t, { identifier: login, password: 'wrong password 2' });
      expect(verify.mock.calls.length + dummy.mock.calls.length).toBe(1);
      verify.mockClear();
      dummy.mockClear();
      await signIn(t, { identifier: uniqueLogin('ghost'), password: 'wrong password 2' });
      expect(verify.mock.calls.length + dummy.mock.calls.length).toBe(1);
      expect(dummy).toHaveBeenCalledTimes(1);
    });

    it('response times of known and unknown logins are within a factor of 2', async () => {
      const { login } = await newUser(t);
      const attempt = async (identifier: string) => {
        const start = performance.now();
        const res = await signIn(t, { identifier, password: 'wrong password 3' });
        expect(res.statusCode).toBe(401);
        return performance.now() - start;
      };
      // Warm up both paths (the dummy hash is computed on first use; JIT; PGlite caches).
      for (let i = 0; i < 3; i++) {
        await attempt(login);
        await attempt(uniqueLogin('ghost'));
      }
      const known: number[] = [];
      const unknown: number[] = [];
      for (let i = 0; i < 20; i++) {
        known.push(await attempt(login));
        unknown.push(await attempt(uniqueLogin('ghost')));
      }
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      const [k, u] = [mean(known), mean(unknown)];
      expect(u, `known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`).toBeGreaterThan(k / 2);
      expect(u, `known ${k.toFixed(1)} ms, unknown ${u.toFixed(1)} ms`).toBeLessThan(k * 2);
    });
  });

  describe('bad input', () => {
    const huge = 'x'.repeat(70 * 1024);
    const tooLongPassword = 'я'.repeat(5000); // 5000 code units (< schema's 8192) but 10000 UTF-8 bytes

    it('a password over 4 KiB of UTF-8 is refused with PASSWORD_TOO_LONG before any hashing', async () => {
      const { login } = await newUser(t);
      expect(Buffer.byteLength(tooLongPassword)).toBe(10_000);
      const verify = vi.spyOn(t.d.hasher, 'verify');
      const dummy = vi.spyOn(t.d.hasher, 'dummyVerify');
      const hash = vi.spyOn(t.d.hasher, 'hash');
      for (const identifier of [login, uniqueLogin('ghost')]) {
        const res = await signIn(t, { identifier, password: tooLongPassword });
        expect(res.statusCode).toBe(400);
        expect(errorCode(res)).toBe('PASSWORD_TOO_LONG');
      }
      expect(verify).not.toHaveBeenCalled();
      expect(dummy).not.toHaveBeenCalled();
      expect(hash).not.toHaveBeenCalled();
    });

    it('a password of exactly 4096 UTF-8 bytes is still checked (boundary)', async () => {
      const { login } = await newUser(t);
      const res = await signIn(t, { identifier: login, password: 'я'.repeat(2048) });
      expect(res.statusCode).toBe(401);
      expect(errorCode(res)).toBe('INVALID_CREDENTIALS');
    });

    interface Case {
      name: string;
      method: 'GET' | 'POST' | 'DELETE';
      url: string;
      headers?: Record<string, string>;
      body?: string;
      status: number;
      code: string;
      issuePath?: string;
    }
    const json_ = { 'content-type': 'application/json' };
    const login = (body: unknown): string => JSON.stringify(body);
    const cases: Case[] = [
      {
        name: 'body over 64 KiB (login)',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: 'a', password: huge }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'body over 64 KiB (logout)',
        method: 'POST',
        url: '/api/v1/logout',
        headers: json_,
        body: login({ x: huge }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'password is a number',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: 'a', password: 123 }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/password',
      },
      {
        name: 'password is null',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: 'a', password: null }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/password',
      },
      {
        name: 'password is an array',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: 'a', password: ['p'] }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/password',
      },
      {
        name: 'identifier is an array',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: ['a'], password: 'p' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/identifier',
      },
      {
        name: 'identifier is an object',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: { $ne: '' }, password: 'p' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/identifier',
      },
      {
        name: 'identifier is empty',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: '', password: 'p' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/identifier',
      },
      {
        name: 'identifier missing',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ password: 'p' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/identifier',
      },
      {
        name: 'remember is "yes"',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: 'a', password: 'p', remember: 'yes' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/remember',
      },
      {
        name: 'remember is 1',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: 'a', password: 'p', remember: 1 }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/remember',
      },
      {
        name: 'unknown field',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: login({ identifier: 'a', password: 'p', admin: true }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/admin',
      },
      {
        name: 'prototype pollution key',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: '{"identifier":"a","password":"p","__proto__":{"x":1}}',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'body is an array',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: '[]',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'body is null',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: 'null',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'invalid JSON',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: '{"identifier":',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'empty JSON body',
        method: 'POST',
        url: LOGIN_URL,
        headers: json_,
        body: '',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'no content type',
        method: 'POST',
        url: LOGIN_URL,
        body: login({ identifier: 'a', password: 'p' }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'form content type',
        method: 'POST',
        url: LOGIN_URL,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'identifier=a&password=p',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'text/plain content type',
        method: 'POST',
        url: LOGIN_URL,
        headers: { 'content-type': 'text/plain' },
        body: login({ identifier: 'a', password: 'p' }),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'multipart content type',
        method: 'POST',
        url: LOGIN_URL,
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x--',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'form post to logout (cookie)',
        method: 'POST',
        url: '/api/v1/logout',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'dostup_session=x' },
        body: 'a=1',
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'unknown field in logout',
        method: 'POST',
        url: '/api/v1/logout',
        headers: json_,
        body: login({ all: true }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/all',
      },
      {
        name: 'unknown realm',
        method: 'POST',
        url: '/api/v1/realms/nosuchrealm/login',
        headers: json_,
        body: login({ identifier: 'a', password: 'p' }),
        status: 404,
        code: 'REALM_NOT_FOUND',
      },
      {
        name: 'malformed realm name',
        method: 'POST',
        url: '/api/v1/realms/Bad_Realm!/login',
        headers: json_,
        body: login({ identifier: 'a', password: 'p' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/realm',
      },
      {
        name: 'realm name with traversal',
        method: 'POST',
        url: '/api/v1/realms/..%2f..%2fetc/login',
        headers: json_,
        body: login({ identifier: 'a', password: 'p' }),
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'malformed session id',
        method: 'DELETE',
        url: '/api/v1/sessions/123',
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/id',
      },
      {
        name: 'session id with SQL',
        method: 'DELETE',
        url: `/api/v1/sessions/${encodeURIComponent("1' or '1'='1")}`,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      { name: 'unknown route', method: 'GET', url: '/api/v1/nothing-here', status: 404, code: 'NOT_FOUND' },
      {
        name: 'junk cookie ../../x',
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { cookie: 'dostup_session=../../x' },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: '10 KB cookie',
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { cookie: `dostup_session=${'A'.repeat(10_000)}` },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'percent-junk cookie',
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { cookie: 'dostup_session=%E0%A4%A' },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'cookie of 43 chars but no session',
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { cookie: `dostup_session=${'B'.repeat(43)}` },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'empty bearer',
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { authorization: 'Bearer ' },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'junk bearer',
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { authorization: `Bearer ${'../'.repeat(2000)}` },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'basic auth',
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { authorization: 'Basic YTpi' },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'junk cookie on session list',
        method: 'GET',
        url: '/api/v1/sessions',
        headers: { cookie: 'dostup_session=../../x' },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'junk cookie on logout',
        method: 'POST',
        url: '/api/v1/logout',
        headers: { ...json_, cookie: 'dostup_session=../../x' },
        body: '{}',
        status: 401,
        code: 'UNAUTHENTICATED',
      },
      {
        name: 'junk bearer on delete',
        method: 'DELETE',
        url: `/api/v1/sessions/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`,
        headers: { authorization: 'Bearer ../../x' },
        status: 401,
        code: 'UNAUTHENTICATED',
      },
    ];

    it.each(cases)('$name → $status $code', async (c) => {
      const res = await t
        .inject({
          method: c.method,
          url: c.url,
          headers: c.headers ?? {},
          ...(c.body !== undefined ? { body: c.body } : {}),
        })
        .then(track);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(c.status);
      expect(res.statusCode).toBeLessThan(500);
      const body = json<ErrorJson>(res);
      expect(body.error.code).toBe(c.code);
      expect(typeof body.error.message).toBe('string');
      expect(body.error.message.length).toBeGreaterThan(0);
      if (c.issuePath) expect(body.error.issues?.map((i) => i.path)).toContain(c.issuePath);
      expect(looksLikeStack(res.body)).toBe(false);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
    });

    // The router refuses these before any route runs. They must still get our error shape, code and
    // security headers — not fastify's bare default body (which also echoes the path back).
    it.each([
      { name: 'path parameter over maxParamLength', url: `/api/v1/realms/${'a'.repeat(300)}/login` },
      { name: 'broken percent-encoding in the path', url: '/api/v1/realms/%E0%A4%A/login' },
    ])('router-level error ($name) goes through the error handler', async ({ url }) => {
      const res = await t
        .inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json', 'accept-language': 'en' },
          body: '{}',
        })
        .then(track);
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      const body = json<ErrorJson>(res);
      expect(body.error?.code, res.body.slice(0, 200)).toMatch(/^(NOT_FOUND|VALIDATION_FAILED)$/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('a validation error lists every bad field at once', async () => {
      const res = await signIn(t, { identifier: 5, password: 6, remember: 'no', extra: 1 });
      expect(res.statusCode).toBe(400);
      const paths = json<ErrorJson>(res).error.issues?.map((i) => i.path) ?? [];
      expect(paths).toEqual(expect.arrayContaining(['/identifier', '/password', '/remember', '/extra']));
    });
  });

  describe('localization', () => {
    it('the message follows cookie > Accept-Language > realm default; the code never changes', async () => {
      const { login } = await newUser(t);
      const wrong = { identifier: login, password: 'wrong password 4' };
      const en = json<ErrorJson>(await signIn(t, wrong, { 'accept-language': 'en-GB,en;q=0.9' }));
      const ru = json<ErrorJson>(await signIn(t, wrong, { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8' }));
      const cookieEn = json<ErrorJson>(await signIn(t, wrong, { 'accept-language': 'ru', cookie: 'dostup_lang=en' }));
      const none = json<ErrorJson>(await signIn(t, wrong));
      const junk = json<ErrorJson>(
        await signIn(t, wrong, { 'accept-language': `${'x-'.repeat(600)};q=2`, cookie: 'dostup_lang=../../etc' }),
      );
      expect(en.error.message).toBe('Incorrect login or password.');
      expect(ru.error.message).toBe('Неверный логин или пароль.');
      expect(cookieEn.error.message).toBe('Incorrect login or password.');
      expect(none.error.message).toBe(ru.error.message); // realm default: ru
      expect(junk.error.message).toBe(ru.error.message);
      for (const b of [en, ru, cookieEn, none, junk]) expect(b.error.code).toBe('INVALID_CREDENTIALS');
    });

    it('validation and 404 errors are localized too', async () => {
      const en = await t
        .inject({
          method: 'POST',
          url: LOGIN_URL,
          headers: { 'accept-language': 'en', 'content-type': 'application/json' },
          body: '{',
        })
        .then(track);
      expect(json<ErrorJson>(en).error.message).toBe('Please check the information you entered.');
      const nf = await t
        .inject({ method: 'GET', url: '/api/v1/nope', headers: { 'accept-language': 'en' } })
        .then(track);
      expect(json<ErrorJson>(nf).error.message).toBe('Page not found.');
      const nfRu = await t
        .inject({ method: 'GET', url: '/api/v1/nope', headers: { 'accept-language': 'ru' } })
        .then(track);
      expect(errorCode(nfRu)).toBe('NOT_FOUND');
      expect(json<ErrorJson>(nfRu).error.message).not.toBe('Page not found.');
    });
  });

  describe('headers, health, docs', () => {
    it('API answers carry nosniff and no-store, successes included', async () => {
      const { login } = await newUser(t);
      const ok = await signIn(t, { identifier: login, password: GOOD_PASSWORD });
      const who = await whoamiByBearer(t, json<LoginOk>(ok).session.token);
      const fail = await signIn(t, { identifier: login, password: 'nope nope' });
      for (const res of [ok, who, fail]) {
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['cache-control']).toBe('no-store');
        expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    });

    it('a client-sent request id is not echoed', async () => {
      const res = await t.inject({
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { 'request-id': 'evil\u0000id', 'x-request-id': 'evil' },
      });
      expect(JSON.stringify(res.headers)).not.toContain('evil');
    });

    it('/health is 200 and /ready names the database driver', async () => {
      const h = await t.inject({ method: 'GET', url: '/health' }).then(track);
      expect(h.statusCode).toBe(200);
      expect(json(h)).toEqual({ status: 'ok' });
      const r = await t.inject({ method: 'GET', url: '/ready' }).then(track);
      expect(r.statusCode).toBe(200);
      expect(json(r)).toEqual({ status: 'ready', database: t.d.store.driver });
      expect(['pglite', 'pg']).toContain(t.d.store.driver);
    });

    it('/api/openapi.json describes login and whoami with their schemas', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/openapi.json' }).then(track);
      expect(res.statusCode).toBe(200);
      type Op = {
        requestBody?: {
          content: Record<string, { schema: { properties?: Record<string, unknown>; required?: string[] } }>;
        };
        responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>;
        parameters?: { name: string; in: string }[];
      };
      const doc = json<{ openapi: string; paths: Record<string, Record<string, Op>> }>(res);
      expect(doc.openapi).toMatch(/^3\./);
      const loginOp = doc.paths['/api/v1/realms/{realm}/login']?.post;
      expect(loginOp).toBeDefined();
      const reqSchema = loginOp!.requestBody!.content['application/json']!.schema;
      expect(Object.keys(reqSchema.properties ?? {}).sort()).toEqual(['identifier', 'password', 'remember']);
      expect(reqSchema.required).toEqual(expect.arrayContaining(['identifier', 'password']));
      expect(loginOp!.parameters?.some((p) => p.name === 'realm' && p.in === 'path')).toBe(true);
      expect(Object.keys(loginOp!.responses['200']!.content!['application/json']!.schema.properties ?? {})).toEqual(
        expect.arrayContaining(['status', 'user', 'session']),
      );
      expect(loginOp!.responses['401']).toBeDefined();
      expect(loginOp!.responses['429']).toBeDefined();
      const who = doc.paths['/api/v1/whoami']?.get;
      expect(who).toBeDefined();
      expect(Object.keys(who!.responses['200']!.content!['application/json']!.schema.properties ?? {})).toEqual(
        expect.arrayContaining(['user', 'realm', 'rights', 'session']),
      );
      // Internal routes stay out of the public document.
      expect(Object.keys(doc.paths)).not.toContain('/health');
    });

    it('/api/docs serves the API browser', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/docs' }).then(track);
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['content-type'])).toMatch(/text\/html/);
    });
  });

  it('no response body in this file contained a stack trace', () => {
    expect(seen.length).toBeGreaterThan(50);
    const leaking = seen.filter((r) => looksLikeStack(r.body) || r.body.includes('    at '));
    expect(leaking.map((r) => r.body.slice(0, 200))).toEqual([]);
  });
});

describe('JSON API rate limits', () => {
  let t: TestDostup;
  beforeAll(async () => {
    t = await startTestDostup({ env: { RATE_SIGNIN_PER_ACCOUNT: '3', RATE_SIGNIN_PER_IP: '5' }, listen: true });
  });
  afterAll(async () => {
    await t?.close();
  });

  const attempt = (identifier: string, password: string, ip: string, headers: Record<string, string> = {}) =>
    signIn(t, { identifier, password }, headers, ip);

  it('the 4th attempt on one account is 429 RATE_LIMITED with Retry-After, for a known and an unknown account alike', async () => {
    const login = uniqueLogin('rl');
    await t.addUser({ login, password: GOOD_PASSWORD });
    const ghost = uniqueLogin('ghost');
    const results: Record<string, InjectResponse[]> = { known: [], unknown: [] };
    for (let i = 0; i < 4; i++) {
      // A new address for every attempt: only the account bucket can be what refuses.
      results.known!.push(await attempt(login, 'wrong password', uniqueIp()));
      results.unknown!.push(await attempt(ghost, 'wrong password', uniqueIp()));
    }
    for (const kind of ['known', 'unknown'] as const) {
      const rs = results[kind]!;
      expect(rs.slice(0, 3).map((r) => r.statusCode)).toEqual([401, 401, 401]);
      const limited = rs[3]!;
      expect(limited.statusCode).toBe(429);
      expect(errorCode(limited)).toBe('RATE_LIMITED');
      const retry = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retry)).toBe(true);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(15 * 60);
    }
    const k = results.known![3]!;
    const u = results.unknown![3]!;
    expect(u.statusCode).toBe(k.statusCode);
    expect(u.body).toBe(k.body);
    expect(headerNames(u)).toEqual(headerNames(k));
    // Even the right password does not get through while the account is limited.
    const right = await attempt(login, GOOD_PASSWORD, uniqueIp());
    expect(right.statusCode).toBe(429);
    expect(cookieOf(right, 'dostup_session')).toBeUndefined();
  });

  it('the account bucket ignores case and surrounding spaces (one account, one bucket)', async () => {
    const login = uniqueLogin('rlcase');
    await t.addUser({ login, password: GOOD_PASSWORD });
    const spellings = [login, login.toUpperCase(), ` ${login} `, `${login[0]!.toUpperCase()}${login.slice(1)}`];
    const statuses: number[] = [];
    for (const s of spellings) statuses.push((await attempt(s, 'wrong password', uniqueIp())).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('a successful sign-in resets the account counter', async () => {
    const login = uniqueLogin('rlreset');
    await t.addUser({ login, password: GOOD_PASSWORD });
    expect((await attempt(login, 'wrong 1', uniqueIp())).statusCode).toBe(401);
    expect((await attempt(login, 'wrong 2', uniqueIp())).statusCode).toBe(401);
    expect((await attempt(login, GOOD_PASSWORD, uniqueIp())).statusCode).toBe(200);
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push((await attempt(login, `wrong ${i}`, uniqueIp())).statusCode);
    expect(after).toEqual([401, 401, 401, 429]);
  });

  it('per IP: the 6th attempt from one address is 429 whatever the account; another address is unaffected', async () => {
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt(uniqueLogin('spray'), 'Password1!', ip)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);
    const login = uniqueLogin('rlip');
    await t.addUser({ login, password: GOOD_PASSWORD });
    const limited = await attempt(login, GOOD_PASSWORD, ip);
    expect(limited.statusCode).toBe(429);
    expect(errorCode(limited)).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // The IP-limited attempt did not burn the account's own budget, and another address signs in.
    expect((await attempt(login, GOOD_PASSWORD, uniqueIp())).statusCode).toBe(200);
  });

  it('without TRUST_PROXY a forged X-Forwarded-For does not buy a fresh per-IP budget', async () => {
    const ip = uniqueIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await attempt(uniqueLogin('xff'), 'Password1!', ip, { 'x-forwarded-for': `203.0.113.${i + 1}` });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('over a real socket: sign-in, whoami by cookie, and an oversized header refused without a 5xx', async () => {
    expect(t.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const login = uniqueLogin('sock');
    await t.addUser({ login, password: GOOD_PASSWORD });
    const res = await fetch(`${t.baseUrl}${LOGIN_URL}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: login, password: GOOD_PASSWORD }),
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^dostup_session=[A-Za-z0-9_-]{43,};/);
    const cookie = setCookie.split(';')[0]!;
    const who = await fetch(`${t.baseUrl}/api/v1/whoami`, { headers: { cookie } });
    expect(who.status).toBe(200);
    expect(((await who.json()) as { user: { login: string } }).user.login).toBe(login);
    const big = await fetch(`${t.baseUrl}/api/v1/whoami`, {
      headers: { cookie: `dostup_session=${'A'.repeat(20_000)}` },
    });
    expect(big.status).toBeGreaterThanOrEqual(400);
    expect(big.status).toBeLessThan(500);
    const body = await big.text();
    expect(looksLikeStack(body)).toBe(false);
  });

  it('429 bodies are localized; the code stays RATE_LIMITED', async () => {
    const ghost = uniqueLogin('ghostl');
    for (let i = 0; i < 3; i++) await attempt(ghost, 'x', uniqueIp());
    const en = await attempt(ghost, 'x', uniqueIp(), { 'accept-language': 'en' });
    const ru = await attempt(ghost, 'x', uniqueIp(), { 'accept-language': 'ru' });
    expect(json<ErrorJson>(en).error).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'Too many attempts. Please try again later.',
    });
    expect(json<ErrorJson>(ru).error).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'Слишком много попыток. Попробуйте позже.',
    });
  });

  it('rate-limited attempts are recorded as events without naming the account', async () => {
    const res = await t.inject({
      method: 'GET',
      url: '/api/v1/admin/events?kind=signin.rate_limited&realm=main',
      headers: t.adminHeaders(),
    });
    expect(res.statusCode).toBe(200);
    const events = json<{ events: { kind: string; userId: string | null; ip: string | null }[] }>(res).events;
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) {
      expect(e.userId).toBeNull();
      expect(e.ip).toMatch(/^10\./);
    }
  });
});
