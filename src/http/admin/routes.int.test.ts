// The admin API end to end: token check, users, realm policies and the event log, on a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cookieHeader,
  errorCode,
  GOOD_PASSWORD,
  type InjectResponse,
  json,
  looksLikeStack,
  startTestDostup,
  TEST_ADMIN_TOKEN,
  type TestDostup,
  uniqueLogin,
} from '../../../test/support/test-server.ts';

interface ErrorJson {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}
interface UserJson {
  id: string;
  realm: string;
  login: string | null;
  email: string | null;
  status: string;
  rights: string[];
}
interface EventJson {
  id: string;
  kind: string;
  realm: string | null;
  userId: string | null;
  ip: string | null;
  userAgent: string | null;
  data: Record<string, unknown>;
}

const USERS = '/api/v1/admin/realms/main/users';
const seen: InjectResponse[] = [];

describe('admin API', () => {
  let t: TestDostup;

  beforeAll(async () => {
    t = await startTestDostup({ env: { RATE_SIGNIN_PER_ACCOUNT: '100000', RATE_SIGNIN_PER_IP: '1000000' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const admin = (
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) =>
    t
      .inject({
        method,
        url,
        headers: t.adminHeaders(headers),
        ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
      })
      .then((r) => {
        seen.push(r);
        return r;
      });
  const addUser = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    admin('POST', USERS, body, headers);

  describe('admin token', () => {
    const endpoints: { method: 'GET' | 'POST' | 'PUT'; url: string; body?: unknown }[] = [
      { method: 'GET', url: '/api/v1/admin/realms' },
      { method: 'GET', url: '/api/v1/admin/realms/main' },
      { method: 'PUT', url: '/api/v1/admin/realms/main', body: { name: 'main', baseUrl: 'https://evil.example' } },
      { method: 'POST', url: USERS, body: { login: 'intruder', password: GOOD_PASSWORD } },
      { method: 'GET', url: USERS },
      { method: 'GET', url: `${USERS}/${crypto.randomUUID()}` },
      { method: 'GET', url: '/api/v1/admin/events' },
      // Even requests that would be invalid must be refused for the token first (no oracle).
      { method: 'GET', url: '/api/v1/admin/realms/nosuchrealm' },
      { method: 'GET', url: `${USERS}/not-a-uuid` },
      { method: 'POST', url: USERS, body: { login: ['not', 'valid'] } },
    ];
    const badAuth: [string, Record<string, string>][] = [
      ['no header', {}],
      ['wrong token', { authorization: `Bearer ${'x'.repeat(TEST_ADMIN_TOKEN.length)}` }],
      ['token prefix', { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}` }],
      ['token plus a character', { authorization: `Bearer ${TEST_ADMIN_TOKEN}x` }],
      ['lower-case scheme', { authorization: `bearer ${TEST_ADMIN_TOKEN}` }],
      ['basic scheme', { authorization: `Basic ${Buffer.from(`admin:${TEST_ADMIN_TOKEN}`).toString('base64')}` }],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['token as a cookie', { cookie: cookieHeader({ dostup_session: TEST_ADMIN_TOKEN }) }],
      ['token in a custom header', { 'x-admin-token': TEST_ADMIN_TOKEN }],
    ];

    it.each(badAuth)('%s → 401 ADMIN_TOKEN_INVALID on every admin endpoint', async (_name, headers) => {
      for (const e of endpoints) {
        const res = await t.inject({
          method: e.method,
          url: e.url,
          headers,
          ...(e.body !== undefined ? { payload: e.body as Record<string, unknown> } : {}),
        });
        seen.push(res);
        expect(res.statusCode, `${e.method} ${e.url}: ${res.body}`).toBe(401);
        expect(errorCode(res)).toBe('ADMIN_TOKEN_INVALID');
        expect(res.headers['cache-control']).toBe('no-store');
      }
      // Nothing was changed behind the refusals.
      const realm = json<{ policy: { baseUrl: string } }>(await admin('GET', '/api/v1/admin/realms/main'));
      expect(realm.policy.baseUrl).not.toContain('evil');
      const users = json<{ users: UserJson[] }>(await admin('GET', `${USERS}?limit=500`));
      expect(users.users.map((u) => u.login)).not.toContain('intruder');
    });

    it('the token in the query string is not accepted', async () => {
      const res = await t.inject({ method: 'GET', url: `/api/v1/admin/realms?token=${TEST_ADMIN_TOKEN}` });
      expect(res.statusCode).toBe(401);
    });

    it('the right token is accepted (with surrounding spaces trimmed)', async () => {
      const res = await t.inject({
        method: 'GET',
        url: '/api/v1/admin/realms',
        headers: { authorization: `Bearer  ${TEST_ADMIN_TOKEN} ` },
      });
      expect(res.statusCode).toBe(200);
      expect(json<{ realms: { name: string }[] }>(res).realms.map((r) => r.name)).toContain('main');
    });
  });

  describe('users', () => {
    it('adds a user: 201 with the public view, never the hash', async () => {
      const login = uniqueLogin('adm');
      const res = await addUser({
        login,
        email: `${login}@example.com`,
        password: GOOD_PASSWORD,
        rights: ['portal:reader'],
      });
      expect(res.statusCode, res.body).toBe(201);
      const u = json<UserJson>(res);
      expect(u.login).toBe(login);
      expect(u.email).toBe(`${login}@example.com`);
      expect(u.realm).toBe('main');
      expect(u.status).toBe('active');
      expect(u.rights).toEqual(['portal:reader']);
      expect(u.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body).not.toMatch(/argon2|passwordHash|password/i);
      // And the user can sign in with that password.
      const signIn = await t.inject({
        method: 'POST',
        url: '/api/v1/realms/main/login',
        payload: { identifier: login, password: GOOD_PASSWORD },
      });
      expect(signIn.statusCode).toBe(200);
    });

    it('a login taken in another case is 409 IDENTIFIER_TAKEN naming /login', async () => {
      const login = uniqueLogin('Dup');
      expect((await addUser({ login, password: GOOD_PASSWORD })).statusCode).toBe(201);
      for (const variant of [login.toLowerCase(), login.toUpperCase(), ` ${login} `]) {
        const res = await addUser({ login: variant, password: GOOD_PASSWORD });
        expect(res.statusCode, variant).toBe(409);
        const body = json<ErrorJson>(res);
        expect(body.error.code).toBe('IDENTIFIER_TAKEN');
        expect(body.error.issues?.map((i) => i.path)).toEqual(['/login']);
      }
    });

    it('an e-mail taken in another case is 409 IDENTIFIER_TAKEN naming /email', async () => {
      const local = uniqueLogin('alice');
      const first = await addUser({
        login: uniqueLogin(),
        email: `${local[0]!.toUpperCase()}${local.slice(1)}@Example.com`,
        password: GOOD_PASSWORD,
      });
      expect(first.statusCode, first.body).toBe(201);
      const res = await addUser({ login: uniqueLogin(), email: `${local}@example.com`, password: GOOD_PASSWORD });
      expect(res.statusCode).toBe(409);
      const body = json<ErrorJson>(res);
      expect(body.error.code).toBe('IDENTIFIER_TAKEN');
      expect(body.error.issues?.map((i) => i.path)).toEqual(['/email']);
    });

    it('a failed add leaves no user and no user.created event behind', async () => {
      const before = json<{ total: number }>(await admin('GET', USERS)).total;
      const login = uniqueLogin('weak');
      expect((await addUser({ login, password: 'qwerty123' })).statusCode).toBeGreaterThanOrEqual(400);
      const after = json<{ total: number }>(await admin('GET', USERS)).total;
      expect(after).toBe(before);
    });

    it.each(['qwerty123', 'пароль', 'gfhjkm', 'password', 'йцукен123', 'qwertyuiop123'])(
      'weak password %j → 400/422 with /password issues',
      async (password) => {
        const res = await addUser({ login: uniqueLogin('weak'), password }, { 'accept-language': 'en' });
        expect([400, 422]).toContain(res.statusCode);
        const body = json<ErrorJson>(res);
        expect(['VALIDATION_FAILED', 'PASSWORD_REJECTED']).toContain(body.error.code);
        const issues = body.error.issues ?? [];
        expect(issues.length).toBeGreaterThan(0);
        expect(issues.every((i) => i.path === '/password')).toBe(true);
        for (const i of issues) expect(i.message.length).toBeGreaterThan(0);
      },
    );

    it('a password equal to the login is refused', async () => {
      const login = uniqueLogin('samesame-login-');
      const res = await addUser({ login, password: login });
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(json<ErrorJson>(res).error.issues?.some((i) => i.path === '/password')).toBe(true);
    });

    it('every problem is reported at once, each with its path', async () => {
      const res = await addUser({
        login: 'a\u0007b',
        email: 'not-an-email',
        phone: '12',
        birthDate: '2999-01-01',
        rights: ['Bad Right'],
        password: 'short',
      });
      expect(res.statusCode).toBe(400);
      const paths = new Set((json<ErrorJson>(res).error.issues ?? []).map((i) => i.path));
      for (const p of ['/login', '/email', '/phone', '/birthDate', '/rights', '/password'])
        expect(paths, p).toContain(p);
    });

    it('list and show users; unknown and malformed ids; unknown realm', async () => {
      const login = uniqueLogin('list');
      const created = json<UserJson>(await addUser({ login, password: GOOD_PASSWORD }));
      const list = await admin('GET', `${USERS}?limit=500&offset=0`);
      expect(list.statusCode).toBe(200);
      const body = json<{ users: UserJson[]; total: number }>(list);
      expect(body.total).toBeGreaterThanOrEqual(1);
      expect(body.users.map((u) => u.id)).toContain(created.id);
      expect(list.body).not.toMatch(/argon2/);

      const show = await admin('GET', `${USERS}/${created.id}`);
      expect(show.statusCode).toBe(200);
      expect(json<UserJson>(show)).toMatchObject({ id: created.id, login });

      const paged = json<{ users: UserJson[] }>(await admin('GET', `${USERS}?limit=1`));
      expect(paged.users).toHaveLength(1);

      const missing = await admin('GET', `${USERS}/${crypto.randomUUID()}`);
      expect(missing.statusCode).toBe(404);
      expect(errorCode(missing)).toBe('USER_NOT_FOUND');

      // The same user id under another realm is not found: realms are separate.
      await t.d.realms.apply(
        (await import('../../core/realm/policy.ts')).defaultRealmPolicy('other', 'http://localhost:8080'),
        {
          ip: null,
          userAgent: null,
          via: 'test',
        },
      );
      const cross = await admin('GET', `/api/v1/admin/realms/other/users/${created.id}`);
      expect(cross.statusCode).toBe(404);
    });
  });

  describe('bad input', () => {
    const huge = 'x'.repeat(70 * 1024);
    interface Case {
      name: string;
      method: 'GET' | 'POST' | 'PUT';
      url: string;
      body?: string;
      contentType?: string;
      status: number;
      code: string;
      issuePath?: string;
    }
    const j = (v: unknown) => JSON.stringify(v);
    const goodUser = () => ({ login: uniqueLogin('bad'), password: GOOD_PASSWORD });
    const cases: Case[] = [
      {
        name: 'user body over 64 KiB',
        method: 'POST',
        url: USERS,
        body: j({ login: 'x', password: huge }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'realm body over 64 KiB',
        method: 'PUT',
        url: '/api/v1/admin/realms/main',
        body: j({ name: 'main', x: huge }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'password over 4 KiB UTF-8',
        method: 'POST',
        url: USERS,
        body: j({ login: 'longpass', password: 'я'.repeat(5000) }),
        status: 400,
        code: 'PASSWORD_TOO_LONG',
      },
      {
        name: 'password is a number',
        method: 'POST',
        url: USERS,
        body: j({ login: 'numpass', password: 123 }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/password',
      },
      {
        name: 'login is an array',
        method: 'POST',
        url: USERS,
        body: j({ login: ['a'], password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/login',
      },
      {
        name: 'rights is a string',
        method: 'POST',
        url: USERS,
        body: j({ login: 'r1', rights: 'admin', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/rights',
      },
      {
        name: 'emailVerified is "yes"',
        method: 'POST',
        url: USERS,
        body: j({ login: 'ev', emailVerified: 'yes', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/emailVerified',
      },
      {
        name: 'status unknown',
        method: 'POST',
        url: USERS,
        body: j({ login: 'st', status: 'root', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/status',
      },
      {
        name: 'unknown field',
        method: 'POST',
        url: USERS,
        body: j({ ...goodUser(), isAdmin: true }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/isAdmin',
      },
      {
        name: 'passwordHash smuggled in',
        method: 'POST',
        url: USERS,
        body: j({ login: 'ph', passwordHash: '$argon2id$v=19$m=1,t=1,p=1$x$y' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/passwordHash',
      },
      {
        name: 'no identifier at all',
        method: 'POST',
        url: USERS,
        body: j({ password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/login',
      },
      {
        name: 'control character in login',
        method: 'POST',
        url: USERS,
        body: j({ login: 'ali\u0007ce', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/login',
      },
      {
        name: 'NUL in login',
        method: 'POST',
        url: USERS,
        body: j({ login: 'ali\u0000ce', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/login',
      },
      {
        name: 'zero-width space in login',
        method: 'POST',
        url: USERS,
        body: j({ login: '\u200Bbob', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/login',
      },
      {
        name: 'RTL override in login',
        method: 'POST',
        url: USERS,
        body: j({ login: 'gnp\u202Eexe', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/login',
      },
      {
        name: 'mixed-script login',
        method: 'POST',
        url: USERS,
        body: j({ login: 'аdmin', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/login',
      },
      {
        name: 'CRLF in e-mail',
        method: 'POST',
        url: USERS,
        body: j({ login: 'crlf', email: 'a@example.com\r\nBcc: b@example.com', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/email',
      },
      { name: 'invalid JSON', method: 'POST', url: USERS, body: '{"login":', status: 400, code: 'VALIDATION_FAILED' },
      { name: 'body is an array', method: 'POST', url: USERS, body: '[]', status: 400, code: 'VALIDATION_FAILED' },
      {
        name: 'unknown realm (add)',
        method: 'POST',
        url: '/api/v1/admin/realms/nosuchrealm/users',
        body: j(goodUser()),
        status: 404,
        code: 'REALM_NOT_FOUND',
      },
      {
        name: 'unknown realm (list)',
        method: 'GET',
        url: '/api/v1/admin/realms/nosuchrealm/users',
        status: 404,
        code: 'REALM_NOT_FOUND',
      },
      {
        name: 'unknown realm (get)',
        method: 'GET',
        url: '/api/v1/admin/realms/nosuchrealm',
        status: 404,
        code: 'REALM_NOT_FOUND',
      },
      {
        name: 'malformed realm name',
        method: 'GET',
        url: '/api/v1/admin/realms/NO_SUCH',
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/realm',
      },
      {
        name: 'malformed user id',
        method: 'GET',
        url: `${USERS}/not-a-uuid`,
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/id',
      },
      {
        name: 'user id with SQL',
        method: 'GET',
        url: `${USERS}/${encodeURIComponent("' or 1=1 --")}`,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'limit not a number',
        method: 'GET',
        url: `${USERS}?limit=abc`,
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/limit',
      },
      {
        name: 'negative offset',
        method: 'GET',
        url: `${USERS}?offset=-1`,
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/offset',
      },
      { name: 'unknown query field', method: 'GET', url: `${USERS}?sort=hash`, status: 400, code: 'VALIDATION_FAILED' },
      {
        name: 'events: malformed user',
        method: 'GET',
        url: '/api/v1/admin/events?user=x',
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/user',
      },
      {
        name: 'events: malformed before',
        method: 'GET',
        url: '/api/v1/admin/events?before=abc',
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/before',
      },
      {
        name: 'events: kind with SQL',
        method: 'GET',
        url: `/api/v1/admin/events?kind=${encodeURIComponent("x' or 1=1")}`,
        status: 400,
        code: 'VALIDATION_FAILED',
        issuePath: '/kind',
      },
      {
        name: 'realm PUT: array body',
        method: 'PUT',
        url: '/api/v1/admin/realms/main',
        body: '[]',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'realm PUT: invalid JSON',
        method: 'PUT',
        url: '/api/v1/admin/realms/main',
        body: '{',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      { name: 'unknown admin route', method: 'GET', url: '/api/v1/admin/nothing', status: 404, code: 'NOT_FOUND' },
    ];

    it.each(cases)('$name → $status $code', async (c) => {
      const res = await t.inject({
        method: c.method,
        url: c.url,
        headers: t.adminHeaders(c.body !== undefined ? { 'content-type': c.contentType ?? 'application/json' } : {}),
        ...(c.body !== undefined ? { body: c.body } : {}),
      });
      seen.push(res);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(c.status);
      expect(res.statusCode).toBeLessThan(500);
      const body = json<ErrorJson>(res);
      expect(body.error.code).toBe(c.code);
      if (c.issuePath) expect(body.error.issues?.map((i) => i.path)).toContain(c.issuePath);
      expect(looksLikeStack(res.body)).toBe(false);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it('a password over 4 KiB is refused before hashing', async () => {
      let hashed = 0;
      const orig = t.d.hasher.hash;
      t.d.hasher.hash = async (p) => {
        hashed += 1;
        return orig(p);
      };
      try {
        const res = await addUser({ login: uniqueLogin('lp'), password: 'я'.repeat(5000) });
        expect(res.statusCode).toBe(400);
        expect(errorCode(res)).toBe('PASSWORD_TOO_LONG');
      } finally {
        t.d.hasher.hash = orig;
      }
      expect(hashed).toBe(0);
    });
  });

  describe('realm policies', () => {
    const base = { name: 'main', baseUrl: 'http://localhost:8080' };

    it.each([
      ['password.minLength too small', { ...base, password: { minLength: 2 } }, '/password/minLength'],
      ['password.minLength wrong type', { ...base, password: { minLength: '12' } }, '/password/minLength'],
      ['minLength above maxLength', { ...base, password: { minLength: 100, maxLength: 50 } }, '/password/minLength'],
      ['unknown field in a section', { ...base, password: { minLenght: 12 } }, '/password/minLenght'],
      ['unknown top-level field', { ...base, colour: 'red' }, '/colour'],
      ['bad identifier kind', { ...base, signIn: { identifiers: ['login', 'passport'] } }, '/signIn/identifiers/1'],
      ['bad error mode', { ...base, signIn: { errorMode: 'verbose' } }, '/signIn/errorMode'],
      ['baseUrl not a URL', { ...base, baseUrl: 'javascript:alert(1)' }, '/baseUrl'],
      [
        'colour with CSS injection',
        { ...base, branding: { primaryColor: 'red;}body{display:none' } },
        '/branding/primaryColor',
      ],
      [
        'logo URL with a quote',
        { ...base, branding: { logoUrl: 'https://x.example/a"onerror="1' } },
        '/branding/logoUrl',
      ],
      ['default locale not available', { ...base, locales: { default: 'en', available: ['ru'] } }, '/locales/default'],
      ['negative rememberMeDays', { ...base, sessions: { rememberMeDays: -1 } }, '/sessions/rememberMeDays'],
      ['name differs from the URL', { ...base, name: 'other-name' }, '/name'],
    ])('%s → 400 REALM_POLICY_INVALID naming the field', async (_name, policy, path) => {
      const res = await admin('PUT', '/api/v1/admin/realms/main', policy);
      expect(res.statusCode, res.body).toBe(400);
      const body = json<ErrorJson>(res);
      expect(body.error.code).toBe('REALM_POLICY_INVALID');
      expect(body.error.issues?.map((i) => i.path)).toContain(path);
      // The stored policy is unchanged.
      const stored = json<{ policy: { password: { minLength: number } } }>(
        await admin('GET', '/api/v1/admin/realms/main'),
      );
      expect(stored.policy.password.minLength).toBe(t.realm.password.minLength);
    });

    it('a valid policy creates a realm whose users can sign in there, and only there', async () => {
      const name = `r${uniqueLogin('realm')}`.slice(0, 30);
      const put = await admin('PUT', `/api/v1/admin/realms/${name}`, {
        name,
        baseUrl: 'https://portal.example.org',
        password: { minLength: 8 },
        sessions: { rememberMeDays: 7 },
      });
      expect(put.statusCode, put.body).toBe(200);
      const rec = json<{
        name: string;
        policy: { password: { minLength: number }; sessions: { rememberMeDays: number } };
      }>(put);
      expect(rec.name).toBe(name);
      expect(rec.policy.password.minLength).toBe(8);
      const login = uniqueLogin('inrealm');
      expect(
        (await admin('POST', `/api/v1/admin/realms/${name}/users`, { login, password: GOOD_PASSWORD })).statusCode,
      ).toBe(201);
      const here = await t.inject({
        method: 'POST',
        url: `/api/v1/realms/${name}/login`,
        payload: { identifier: login, password: GOOD_PASSWORD, remember: true },
      });
      expect(here.statusCode).toBe(200);
      expect(String(here.headers['set-cookie'])).toMatch(/Max-Age=60479\d/);
      expect(String(here.headers['set-cookie'])).toMatch(/Secure/);
      const elsewhere = await t.inject({
        method: 'POST',
        url: '/api/v1/realms/main/login',
        payload: { identifier: login, password: GOOD_PASSWORD },
      });
      expect(elsewhere.statusCode).toBe(401);
    });

    it('the realm policy JSON Schema is published', async () => {
      const res = await t.inject({ method: 'GET', url: '/api/realm-policy.schema.json' });
      expect(res.statusCode).toBe(200);
      const schema = json<{ properties: Record<string, unknown> }>(res);
      expect(Object.keys(schema.properties)).toEqual(
        expect.arrayContaining(['name', 'baseUrl', 'password', 'sessions']),
      );
    });
  });

  describe('events', () => {
    it('records sign-in, sign-out, session and user events with ip and user agent', async () => {
      const ua = `events-test/${uniqueLogin('ua')}`;
      const ip = '198.51.100.7';
      const login = uniqueLogin('ev');
      const created = json<UserJson>(await addUser({ login, password: GOOD_PASSWORD }, { 'user-agent': ua }));
      const api = (o: Parameters<TestDostup['inject']>[0]) =>
        t.inject({
          ...o,
          remoteAddress: ip,
          headers: { 'user-agent': ua, ...((o.headers as Record<string, string>) ?? {}) },
        });
      const failed = await api({
        method: 'POST',
        url: '/api/v1/realms/main/login',
        payload: { identifier: login, password: 'wrong' },
      });
      expect(failed.statusCode).toBe(401);
      const a = json<{ session: { id: string; token: string } }>(
        await api({
          method: 'POST',
          url: '/api/v1/realms/main/login',
          payload: { identifier: login, password: GOOD_PASSWORD },
        }),
      );
      const b = json<{ session: { id: string; token: string } }>(
        await api({
          method: 'POST',
          url: '/api/v1/realms/main/login',
          payload: { identifier: login, password: GOOD_PASSWORD },
        }),
      );
      expect(
        (
          await api({
            method: 'DELETE',
            url: `/api/v1/sessions/${b.session.id}`,
            headers: { authorization: `Bearer ${a.session.token}` },
          })
        ).statusCode,
      ).toBe(204);
      expect(
        (
          await api({
            method: 'POST',
            url: '/api/v1/logout',
            headers: { authorization: `Bearer ${a.session.token}` },
            payload: {},
          })
        ).statusCode,
      ).toBe(204);

      const res = await admin('GET', `/api/v1/admin/events?user=${created.id}&limit=50`);
      expect(res.statusCode).toBe(200);
      const events = json<{ events: EventJson[] }>(res).events;
      const kinds = events.map((e) => e.kind);
      for (const k of ['user.created', 'signin.failed', 'signin.succeeded', 'session.revoked', 'signout'])
        expect(kinds, k).toContain(k);
      for (const e of events) {
        expect(e.userId).toBe(created.id);
        expect(e.realm).toBe('main');
        expect(e.userAgent, e.kind).toBe(ua);
        expect(e.ip, e.kind).toMatch(e.kind === 'user.created' ? /\S/ : /^198\.51\.100\.7$/);
      }
      expect(events.find((e) => e.kind === 'session.revoked')!.data).toMatchObject({ session: b.session.id });
      expect(events.find((e) => e.kind === 'signout')!.data).toMatchObject({ session: a.session.id });
      expect(events.find((e) => e.kind === 'signin.failed')!.data).toMatchObject({ reason: 'password' });
      // Newest first.
      expect(kinds[0]).toBe('signout');
      expect(kinds[kinds.length - 1]).toBe('user.created');
      // No secret ever reaches the log.
      expect(res.body).not.toContain(a.session.token);
      expect(res.body).not.toContain(GOOD_PASSWORD);
      expect(res.body).not.toContain('wrong"');
    });

    it("an unknown account's failed sign-in is logged without a user and without the typed password", async () => {
      const ghost = uniqueLogin('ghost');
      await t.inject({
        method: 'POST',
        url: '/api/v1/realms/main/login',
        payload: { identifier: ghost, password: 'Secret-Typed-1' },
      });
      const res = await admin('GET', '/api/v1/admin/events?kind=signin.failed&realm=main&limit=5');
      const events = json<{ events: EventJson[] }>(res).events;
      const mine = events.find((e) => e.data.reason === 'unknown_account');
      expect(mine).toBeDefined();
      expect(mine!.userId).toBeNull();
      expect(res.body).not.toContain('Secret-Typed-1');
    });

    it('filters by kind and pages with before', async () => {
      const all = json<{ events: EventJson[] }>(await admin('GET', '/api/v1/admin/events?limit=500')).events;
      expect(all.length).toBeGreaterThan(3);
      const onlyCreated = json<{ events: EventJson[] }>(
        await admin('GET', '/api/v1/admin/events?kind=user.created&limit=500'),
      ).events;
      expect(onlyCreated.length).toBeGreaterThan(0);
      expect(onlyCreated.every((e) => e.kind === 'user.created')).toBe(true);
      const first = json<{ events: EventJson[] }>(await admin('GET', '/api/v1/admin/events?limit=2')).events;
      expect(first).toHaveLength(2);
      const next = json<{ events: EventJson[] }>(
        await admin('GET', `/api/v1/admin/events?limit=2&before=${first[1]!.id}`),
      ).events;
      expect(next.length).toBeGreaterThan(0);
      expect(next.map((e) => e.id)).not.toContain(first[0]!.id);
      expect(next.map((e) => e.id)).not.toContain(first[1]!.id);
      expect(BigInt(next[0]!.id) < BigInt(first[1]!.id)).toBe(true);
    });
  });

  it('no response body in this file contained a stack trace', () => {
    expect(seen.length).toBeGreaterThan(40);
    expect(
      seen.filter((r) => looksLikeStack(r.body) || r.body.includes('    at ')).map((r) => r.body.slice(0, 200)),
    ).toEqual([]);
    expect(seen.filter((r) => r.statusCode >= 500).map((r) => r.body.slice(0, 200))).toEqual([]);
  });
});
