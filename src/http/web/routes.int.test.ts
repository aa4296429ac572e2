// The hosted pages end to end, as a browser without JavaScript uses them: GET a form, read its CSRF
// token, POST it back with the cookies, follow the redirect. Driven through app.inject.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cookieHeader,
  cookieOf,
  csrfFromHtml,
  GOOD_PASSWORD,
  type InjectResponse,
  looksLikeStack,
  setCookies,
  startTestDostup,
  type TestDostup,
  uniqueIp,
  uniqueLogin,
} from '../../../test/support/test-server.ts';

const MSG = {
  invalidCredentials: { en: 'Incorrect login or password.', ru: 'Неверный логин или пароль.' },
  csrf: { en: 'This page has expired. Please reload it and try again.' },
  tooLong: { en: 'The password is too long.' },
  tooLarge: { en: 'The request is too large.' },
  validation: { en: 'Please check the information you entered.' },
  realmNotFound: { en: 'Portal not found.' },
  notFound: { en: 'Page not found.' },
  sessionNotFound: { en: 'The session was not found or has already ended.' },
  rateLimited: { en: 'Too many attempts. Please try again later.' },
  signedOut: { en: 'You have signed out.' },
};

const seen: InjectResponse[] = [];

/** A cookie-keeping client; every request is recorded for the stack-trace check at the end. */
class Browser {
  readonly jar = new Map<string, string>();
  constructor(
    private readonly t: TestDostup,
    private readonly headers: Record<string, string> = { 'accept-language': 'en' },
    private readonly remoteAddress: string = uniqueIp(),
  ) {}

  async request(
    method: 'GET' | 'POST',
    url: string,
    form?: Record<string, string | string[]>,
    headers: Record<string, string> = {},
  ) {
    const cookies = Object.fromEntries(this.jar);
    let body: string | undefined;
    if (form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
      body = p.toString();
    }
    const res = await this.t.inject({
      method,
      url,
      remoteAddress: this.remoteAddress,
      headers: {
        ...this.headers,
        ...(this.jar.size > 0 ? { cookie: cookieHeader(cookies) } : {}),
        ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body } : {}),
    });
    seen.push(res);
    for (const c of setCookies(res)) {
      const gone =
        c.value === '' ||
        c.attrs['max-age'] === '0' ||
        (typeof c.attrs.expires === 'string' && Date.parse(c.attrs.expires) < Date.now());
      if (gone) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    return res;
  }
  get(url: string, headers?: Record<string, string>) {
    return this.request('GET', url, undefined, headers);
  }
  post(url: string, form: Record<string, string | string[]>, headers?: Record<string, string>) {
    return this.request('POST', url, form, headers);
  }
  /** GET the page at `url` and return its form's CSRF token. */
  async csrf(url = '/r/main/login'): Promise<string> {
    const res = await this.get(url);
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    return csrfFromHtml(res.body);
  }
  async signIn(login: string, password = GOOD_PASSWORD, extra: Record<string, string> = {}) {
    const token = await this.csrf();
    return this.post('/r/main/login', { _csrf: token, identifier: login, password, ...extra });
  }
}

function expectHtmlPage(res: InjectResponse) {
  expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
  expect(res.body.startsWith('<!doctype html>')).toBe(true);
  expect(looksLikeStack(res.body)).toBe(false);
  expect(res.headers['cache-control']).toBe('no-store');
  expect(String(res.headers['content-security-policy'])).toContain("default-src 'self'");
}

describe('hosted pages', () => {
  let t: TestDostup;

  beforeAll(async () => {
    // Per-account limit low so a 429 page is reachable; per-IP high (each Browser has its own address anyway).
    t = await startTestDostup({ env: { RATE_SIGNIN_PER_ACCOUNT: '3', RATE_SIGNIN_PER_IP: '1000000' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function newUser(extra: Record<string, unknown> = {}) {
    const login = uniqueLogin('web');
    const user = await t.addUser({ login, password: GOOD_PASSWORD, ...extra });
    return { login, user };
  }

  describe('sign-in page', () => {
    it('is HTML with CSP, no framing, no-store, nosniff and a CSRF token tied to a cookie', async () => {
      const b = new Browser(t);
      const res = await b.get('/r/main/login');
      expect(res.statusCode).toBe(200);
      expectHtmlPage(res);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options']).toBeDefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      // Pages get the document headers the JSON API does without.
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['origin-agent-cluster']).toBe('?1');
      const csrfCookie = cookieOf(res, 'dostup_csrf');
      expect(csrfCookie).toBeDefined();
      expect(csrfCookie!.attrs.httponly).toBe(true);
      expect(String(csrfCookie!.attrs.samesite).toLowerCase()).toBe('strict');
      const token = csrfFromHtml(res.body);
      expect(token.length).toBeGreaterThan(10);
      expect(token).not.toBe(csrfCookie!.value); // the form carries a token, the cookie the secret
      expect(res.body).toContain('action="/r/main/login"');
      expect(res.body).toContain('name="identifier"');
      expect(res.body).toContain('autocomplete="current-password"');
      expect(res.body).toContain('<html lang="en">');
    });

    it('speaks the language of the cookie, else Accept-Language, else the realm default (ru)', async () => {
      const en = await new Browser(t, { 'accept-language': 'en' }).get('/r/main/login');
      const ru = await new Browser(t, { 'accept-language': 'ru' }).get('/r/main/login');
      const none = await new Browser(t, {}).get('/r/main/login');
      const cookie = await new Browser(t, { 'accept-language': 'ru', cookie: 'dostup_lang=en' }).get('/r/main/login');
      expect(en.body).toContain('<html lang="en">');
      expect(ru.body).toContain('<html lang="ru">');
      expect(none.body).toContain('<html lang="ru">');
      expect(cookie.body).toContain('<html lang="en">');
    });

    it("a POST without the CSRF token, without the cookie or with another browser's token is 403 HTML", async () => {
      const { login } = await newUser();
      const a = new Browser(t);
      const tokenA = await a.csrf();
      const b = new Browser(t);
      const tokenB = await b.csrf();
      const attempts = [
        await a.post('/r/main/login', { identifier: login, password: GOOD_PASSWORD }),
        await a.post('/r/main/login', { _csrf: '', identifier: login, password: GOOD_PASSWORD }),
        await a.post('/r/main/login', { _csrf: tokenB, identifier: login, password: GOOD_PASSWORD }),
        await a.post('/r/main/login', { _csrf: 'forged', identifier: login, password: GOOD_PASSWORD }),
        await new Browser(t).post('/r/main/login', { _csrf: tokenA, identifier: login, password: GOOD_PASSWORD }),
      ];
      for (const res of attempts) {
        expect(res.statusCode).toBe(403);
        expectHtmlPage(res);
        expect(res.body).toContain(MSG.csrf.en);
        expect(cookieOf(res, 'dostup_session')).toBeUndefined();
      }
    });

    it('the right password with the token → 303 to the account page and a session cookie', async () => {
      const { login } = await newUser();
      const b = new Browser(t);
      const res = await b.signIn(login);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
      expect(res.headers.location).toBe('/r/main/account');
      const c = cookieOf(res, 'dostup_session');
      expect(c).toBeDefined();
      expect(c!.attrs.httponly).toBe(true);
      expect(String(c!.attrs.samesite).toLowerCase()).toBe('lax');
      expect(c!.attrs['max-age']).toBeUndefined();
      const account = await b.get('/r/main/account');
      expect(account.statusCode).toBe(200);
      expectHtmlPage(account);
      expect(account.body).toContain(login);
      // Signed in, the sign-in page sends you on.
      const again = await b.get('/r/main/login');
      expect(again.statusCode).toBe(303);
      expect(again.headers.location).toBe('/r/main/account');
    });

    it('"remember me" on the form gives a persistent cookie', async () => {
      const { login } = await newUser();
      const res = await new Browser(t).signIn(login, GOOD_PASSWORD, { remember: '1' });
      expect(res.statusCode).toBe(303);
      expect(Number(cookieOf(res, 'dostup_session')!.attrs['max-age'])).toBeGreaterThan(86_400);
    });

    it('a wrong password → 401 page with the generic message, the typed login kept, and a fresh token', async () => {
      const { login } = await newUser();
      const b = new Browser(t);
      const res = await b.signIn(login, 'wrong password');
      expect(res.statusCode).toBe(401);
      expectHtmlPage(res);
      expect(res.body).toContain(MSG.invalidCredentials.en);
      expect(res.body).toContain(`value="${login}"`);
      expect(res.body).not.toContain('wrong password');
      expect(cookieOf(res, 'dostup_session')).toBeUndefined();
      // The page can be submitted again.
      const retry = await b.post('/r/main/login', {
        _csrf: csrfFromHtml(res.body),
        identifier: login,
        password: GOOD_PASSWORD,
      });
      expect(retry.statusCode).toBe(303);
    });

    it('an unknown login gets the same page as a wrong password', async () => {
      const { login } = await newUser();
      const ghost = uniqueLogin('ghost').padEnd(login.length, 'x').slice(0, login.length);
      const known = await new Browser(t).signIn(login, 'wrong password');
      const unknown = await new Browser(t).signIn(ghost, 'wrong password');
      expect(unknown.statusCode).toBe(known.statusCode);
      const normalize = (s: string, typed: string) =>
        s.replace(/name="_csrf" value="[^"]*"/, '').replaceAll(typed, 'TYPED');
      expect(normalize(unknown.body, ghost)).toBe(normalize(known.body, login));
    });

    it('the typed login is escaped on the error page', async () => {
      const nasty = '<img src=x onerror=1>"\'><script>alert(1)</script>';
      const res = await new Browser(t).signIn(nasty, 'whatever');
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('<img src=x');
      expect(res.body).not.toContain('<script>alert');
      expect(res.body).toContain('&lt;img src=x onerror=1&gt;&quot;&#39;&gt;&lt;script&gt;');
    });

    it('the 4th attempt on an account shows a 429 page with Retry-After', async () => {
      const { login } = await newUser();
      for (let i = 0; i < 3; i++) expect((await new Browser(t).signIn(login, `wrong ${i}`)).statusCode).toBe(401);
      const res = await new Browser(t).signIn(login, GOOD_PASSWORD);
      expect(res.statusCode).toBe(429);
      expectHtmlPage(res);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.body).toContain(MSG.rateLimited.en);
      expect(cookieOf(res, 'dostup_session')).toBeUndefined();
    });
  });

  describe('account page and sign-out', () => {
    it('without a session (or with junk cookies) redirects to the sign-in page', async () => {
      for (const cookie of [
        undefined,
        'dostup_session=../../x',
        `dostup_session=${'A'.repeat(10_000)}`,
        `dostup_session=${'A'.repeat(43)}`,
        'dostup_session=%00%0d%0a',
      ]) {
        const res = await t.inject({ method: 'GET', url: '/r/main/account', headers: cookie ? { cookie } : {} });
        seen.push(res);
        expect(res.statusCode, cookie).toBe(303);
        expect(res.headers.location).toBe('/r/main/login');
      }
    });

    it("a session of another realm does not open this realm's account page", async () => {
      const { defaultRealmPolicy } = await import('../../core/realm/policy.ts');
      await t.d.realms.apply(defaultRealmPolicy('webother', 'http://localhost:8080'), {
        ip: null,
        userAgent: null,
        via: 'test',
      });
      const other = await t.d.realms.require('webother');
      const login = uniqueLogin('wo');
      await t.addUser({ login, password: GOOD_PASSWORD }, other);
      const signIn = await t.inject({
        method: 'POST',
        url: '/api/v1/realms/webother/login',
        payload: { identifier: login, password: GOOD_PASSWORD },
      });
      const token = cookieOf(signIn, 'dostup_session')!.value;
      const res = await t.inject({
        method: 'GET',
        url: '/r/main/account',
        headers: { cookie: `dostup_session=${token}` },
      });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/r/main/login');
    });

    it('user-controlled text on the account page (user agent) is escaped', async () => {
      const { login } = await newUser();
      const b = new Browser(t, {
        'accept-language': 'en',
        'user-agent': '<script>alert(1)</script> Mozilla/5.0 "onmouseover="x',
      });
      expect((await b.signIn(login)).statusCode).toBe(303);
      const account = await b.get('/r/main/account');
      expect(account.statusCode).toBe(200);
      expect(account.body).not.toContain('<script>alert');
      expect(account.body).not.toContain('"onmouseover="');
    });

    it('sign-out needs the CSRF token; with it the session ends and the cookie is cleared', async () => {
      const { login } = await newUser();
      const b = new Browser(t);
      expect((await b.signIn(login)).statusCode).toBe(303);
      const token = b.jar.get('dostup_session')!;
      const account = await b.get('/r/main/account');
      const csrf = csrfFromHtml(account.body);

      const forged = await b.post('/r/main/logout', {});
      expect(forged.statusCode).toBe(403);
      expectHtmlPage(forged);
      const forged2 = await b.post('/r/main/logout', { _csrf: 'nope' });
      expect(forged2.statusCode).toBe(403);
      expect((await b.get('/r/main/account')).statusCode).toBe(200);

      const out = await b.post('/r/main/logout', { _csrf: csrf });
      expect(out.statusCode).toBe(303);
      expect(out.headers.location).toBe('/r/main/login?notice=signed_out');
      expect(cookieOf(out, 'dostup_session')?.value).toBe('');
      const after = await t.inject({
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(after.statusCode).toBe(401);
      const page = await b.get(out.headers.location as string);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(MSG.signedOut.en);
      // A notice that is not one of ours shows nothing.
      const junk = await b.get('/r/main/login?notice=%3Cb%3Ehacked%3C%2Fb%3E');
      expect(junk.statusCode).toBe(200);
      expect(junk.body).not.toMatch(/hacked/);
    });

    it("ends another session from the account page; another user's session is 404; own → signed out", async () => {
      const { login } = await newUser();
      const laptop = new Browser(t);
      const phone = new Browser(t, {
        'accept-language': 'en',
        'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)',
      });
      expect((await laptop.signIn(login)).statusCode).toBe(303);
      expect((await phone.signIn(login)).statusCode).toBe(303);
      const phoneWhoami = await t.inject({
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { cookie: `dostup_session=${phone.jar.get('dostup_session')}` },
      });
      const phoneSession = (JSON.parse(phoneWhoami.body) as { session: { id: string } }).session.id;

      const page = await laptop.get('/r/main/account');
      expect(page.body).toContain(`action="/r/main/sessions/${phoneSession}/end"`);
      const csrf = csrfFromHtml(page.body);
      const noToken = await laptop.post(`/r/main/sessions/${phoneSession}/end`, {});
      expect(noToken.statusCode).toBe(403);
      expect((await phone.get('/r/main/account')).statusCode).toBe(200);

      const ended = await laptop.post(`/r/main/sessions/${phoneSession}/end`, { _csrf: csrf });
      expect(ended.statusCode).toBe(303);
      expect(ended.headers.location).toBe('/r/main/account');
      const phoneAfter = await phone.get('/r/main/account');
      expect(phoneAfter.statusCode).toBe(303);
      expect(phoneAfter.headers.location).toBe('/r/main/login');

      // Someone else's session id: 404 page, and their session lives on.
      const stranger = await newUser();
      const sb = new Browser(t);
      expect((await sb.signIn(stranger.login)).statusCode).toBe(303);
      const sw = await t.inject({
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { cookie: `dostup_session=${sb.jar.get('dostup_session')}` },
      });
      const strangerSession = (JSON.parse(sw.body) as { session: { id: string } }).session.id;
      const notMine = await laptop.post(`/r/main/sessions/${strangerSession}/end`, { _csrf: csrf });
      expect(notMine.statusCode).toBe(404);
      expectHtmlPage(notMine);
      expect(notMine.body).toContain(MSG.sessionNotFound.en);
      expect((await sb.get('/r/main/account')).statusCode).toBe(200);

      const laptopWhoami = await t.inject({
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { cookie: `dostup_session=${laptop.jar.get('dostup_session')}` },
      });
      const laptopSession = (JSON.parse(laptopWhoami.body) as { session: { id: string } }).session.id;
      const own = await laptop.post(`/r/main/sessions/${laptopSession}/end`, { _csrf: csrf });
      expect(own.statusCode).toBe(303);
      expect(own.headers.location).toBe('/r/main/login?notice=session_ended');
      expect(laptop.jar.has('dostup_session')).toBe(false);
    });
  });

  describe('language switch and redirects', () => {
    it('sets the language cookie and returns to a page of this realm', async () => {
      const b = new Browser(t, {});
      const res = await b.get('/r/main/lang?set=en&back=%2Fr%2Fmain%2Faccount');
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/r/main/account');
      const c = cookieOf(res, 'dostup_lang');
      expect(c?.value).toBe('en');
      expect(c!.attrs.httponly).toBe(true);
      expect((await b.get('/r/main/login')).body).toContain('<html lang="en">');
      const unsupported = await new Browser(t, {}).get('/r/main/lang?set=de&back=%2Fr%2Fmain%2Flogin');
      expect(unsupported.statusCode).toBe(303);
      expect(cookieOf(unsupported, 'dostup_lang')).toBeUndefined();
    });

    const offsite = [
      '//evil.example',
      '//evil.example/r/main/login',
      'https://evil.example/',
      'http:evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      '/r/main//evil.example',
      '/r/main/\\evil.example',
      '/r/main/../../evil',
      '/r/main/%2e%2e/%2e%2e/evil',
      '/r/main/%2F%2Fevil.example',
      '/r/other-realm/login',
      'javascript:alert(1)',
      ' /r/main/login',
      '/r/main/\r\nSet-Cookie: evil=1',
      '/r/main/\tevil',
      '/r/main/пароль',
      '/r/main/\u2028evil',
    ];
    it.each(offsite)("back=%j never leaves the realm's pages (and never 500s)", async (back) => {
      const res = await t.inject({ method: 'GET', url: `/r/main/lang?set=en&back=${encodeURIComponent(back)}` });
      seen.push(res);
      expect(res.statusCode, res.body.slice(0, 200)).toBe(303);
      const loc = String(res.headers.location);
      expect(loc.startsWith('/r/main/')).toBe(true);
      // Where a browser would actually go (WHATWG URL: resolves ../ and %2e%2e, drops tabs): still
      // this origin, still this realm's pages.
      const where = new URL(loc, 'https://id.example.org/r/main/lang');
      expect(where.origin).toBe('https://id.example.org');
      expect(where.pathname.startsWith('/r/main/'), `${loc} → ${where.pathname}`).toBe(true);
      expect(where.pathname).not.toContain('//');
      expect(res.headers['set-cookie']?.toString() ?? '').not.toContain('evil');
    });

    it('Host and X-Forwarded-Host never reach a Location header or a page link', async () => {
      const evil = {
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        forwarded: 'host=evil.example',
      };
      const { login } = await newUser();
      const b = new Browser(t, { 'accept-language': 'en', ...evil });
      const responses: InjectResponse[] = [
        await b.get('/'),
        await b.get('/r/main/login'),
        await b.get('/r/main/account'),
        await b.get('/r/main/forgot'),
        await b.get('/r/main/lang?set=en&back=%2Fr%2Fmain%2Flogin'),
        await b.get('/r/nosuchrealm/login'),
        await b.get('/r/main/nothing-here'),
        await b.signIn(login, 'wrong password'),
        await b.signIn(login),
        await b.get('/r/main/account'),
      ];
      const account = responses[responses.length - 1]!;
      responses.push(await b.post('/r/main/logout', { _csrf: csrfFromHtml(account.body) }));
      expect(responses.map((r) => r.statusCode)).toEqual([302, 200, 303, 200, 303, 404, 404, 401, 303, 200, 303]);
      for (const r of responses) {
        expect(String(r.headers.location ?? '')).not.toContain('evil');
        expect(r.body).not.toContain('evil.example');
        expect(JSON.stringify(r.headers)).not.toContain('evil.example');
      }
    });
  });

  describe('bad input on the forms', () => {
    interface Case {
      name: string;
      method: 'GET' | 'POST';
      url: string;
      /** Fields; `_csrf: true` means "a valid token". */
      form?: Record<string, string | string[] | true>;
      raw?: { body: string; contentType: string };
      cookie?: string;
      status: number;
      message?: string;
    }
    const huge = 'x'.repeat(70 * 1024);
    const cases: Case[] = [
      {
        name: 'form body over 64 KiB',
        method: 'POST',
        url: '/r/main/login',
        form: { _csrf: true, identifier: 'a', password: huge },
        status: 413,
        message: MSG.tooLarge.en,
      },
      {
        name: 'password over 4 KiB UTF-8',
        method: 'POST',
        url: '/r/main/login',
        form: { _csrf: true, identifier: 'someone', password: 'я'.repeat(5000) },
        status: 400,
        message: MSG.tooLong.en,
      },
      {
        name: 'password missing',
        method: 'POST',
        url: '/r/main/login',
        form: { _csrf: true, identifier: 'someone' },
        status: 400,
        message: MSG.validation.en,
      },
      {
        name: 'identifier given twice',
        method: 'POST',
        url: '/r/main/login',
        form: { _csrf: true, identifier: ['a', 'b'], password: 'p' },
        status: 400,
        message: MSG.validation.en,
      },
      {
        name: 'unknown field',
        method: 'POST',
        url: '/r/main/login',
        form: { _csrf: true, identifier: 'a', password: 'p', admin: '1' },
        status: 400,
        message: MSG.validation.en,
      },
      {
        name: 'identifier over 320 characters',
        method: 'POST',
        url: '/r/main/login',
        form: { _csrf: true, identifier: 'a'.repeat(400), password: 'p' },
        status: 400,
        message: MSG.validation.en,
      },
      {
        name: 'control characters in identifier',
        method: 'POST',
        url: '/r/main/login',
        form: { _csrf: true, identifier: 'ali\u0000ce\r\n', password: 'p' },
        status: 401,
        message: MSG.invalidCredentials.en,
      },
      {
        name: 'zero-width identifier',
        method: 'POST',
        url: '/r/main/login',
        form: { _csrf: true, identifier: '\u200B\u200D', password: 'p' },
        status: 401,
        message: MSG.invalidCredentials.en,
      },
      {
        name: 'broken form encoding',
        method: 'POST',
        url: '/r/main/login',
        raw: { body: '_csrf={csrf}&identifier=%E0%A4%A&password=%', contentType: 'application/x-www-form-urlencoded' },
        status: 401,
      },
      {
        name: 'multipart body',
        method: 'POST',
        url: '/r/main/login',
        raw: { body: '--x--', contentType: 'multipart/form-data; boundary=x' },
        status: 415,
      },
      {
        name: 'unknown realm (GET)',
        method: 'GET',
        url: '/r/nosuchrealm/login',
        status: 404,
        message: MSG.realmNotFound.en,
      },
      {
        name: 'unknown realm (POST)',
        method: 'POST',
        url: '/r/nosuchrealm/login',
        form: { _csrf: true, identifier: 'a', password: 'p' },
        status: 404,
        message: MSG.realmNotFound.en,
      },
      { name: 'unknown realm theme', method: 'GET', url: '/r/nosuchrealm/theme.css', status: 404 },
      {
        name: 'malformed realm name',
        method: 'GET',
        url: '/r/NO_SUCH!/login',
        status: 400,
        message: MSG.validation.en,
      },
      { name: 'unknown page', method: 'GET', url: '/r/main/admin', status: 404, message: MSG.notFound.en },
      {
        name: 'malformed session id',
        method: 'POST',
        url: '/r/main/sessions/not-a-uuid/end',
        form: { _csrf: true },
        status: 400,
        message: MSG.validation.en,
      },
      {
        name: 'session id with SQL',
        method: 'POST',
        url: `/r/main/sessions/${encodeURIComponent("1' or '1'='1")}/end`,
        form: { _csrf: true },
        status: 400,
      },
      {
        name: 'unknown field on logout',
        method: 'POST',
        url: '/r/main/logout',
        form: { _csrf: true, all: '1' },
        status: 400,
      },
      { name: 'lang without set', method: 'GET', url: '/r/main/lang', status: 400 },
      {
        name: 'junk session cookie on sign-in page',
        method: 'GET',
        url: '/r/main/login',
        cookie: 'dostup_session=../../x',
        status: 200,
      },
      {
        name: '10 KB session cookie on sign-in page',
        method: 'GET',
        url: '/r/main/login',
        cookie: `dostup_session=${'A'.repeat(10_000)}`,
        status: 200,
      },
      {
        name: 'junk language cookie',
        method: 'GET',
        url: '/r/main/login',
        cookie: 'dostup_lang=<script>',
        status: 200,
      },
    ];

    it.each(cases)('$name → $status HTML page', async (c) => {
      const b = new Browser(t);
      if (c.cookie)
        for (const part of c.cookie.split('; '))
          b.jar.set(part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1));
      let res: InjectResponse;
      if (c.method === 'GET') {
        res = await b.get(c.url);
      } else if (c.raw) {
        const token = await b.csrf();
        res = await t.inject({
          method: 'POST',
          url: c.url,
          headers: {
            'accept-language': 'en',
            'content-type': c.raw.contentType,
            cookie: cookieHeader(Object.fromEntries(b.jar)),
          },
          body: c.raw.body.replace('{csrf}', encodeURIComponent(token)),
        });
        seen.push(res);
      } else {
        const token = await b.csrf();
        const form: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(c.form ?? {})) form[k] = v === true ? token : v;
        res = await b.post(c.url, form);
      }
      expect(res.statusCode, res.body.slice(0, 300)).toBe(c.status);
      expect(res.statusCode).toBeLessThan(500);
      if (!c.url.endsWith('.css')) expectHtmlPage(res);
      if (c.message) expect(res.body).toContain(c.message);
      expect(res.body).not.toContain('<script>');
    });

    it('a password over 4 KiB is refused before any hashing', async () => {
      const calls = { verify: 0, dummy: 0 };
      const h = t.d.hasher;
      const [verify, dummy] = [h.verify, h.dummyVerify];
      h.verify = async (...a) => {
        calls.verify += 1;
        return verify(...a);
      };
      h.dummyVerify = async (...a) => {
        calls.dummy += 1;
        return dummy(...a);
      };
      try {
        const { login } = await newUser();
        const res = await new Browser(t).signIn(login, 'я'.repeat(5000));
        expect(res.statusCode).toBe(400);
      } finally {
        h.verify = verify;
        h.dummyVerify = dummy;
      }
      expect(calls).toEqual({ verify: 0, dummy: 0 });
    });
  });

  it('static assets and the theme are served; the theme only carries validated colours', async () => {
    const css = await t.inject({ method: 'GET', url: '/assets/dostup.css' });
    expect(css.statusCode).toBe(200);
    expect(String(css.headers['content-type'])).toMatch(/^text\/css/);
    const theme = await t.inject({ method: 'GET', url: '/r/main/theme.css' });
    expect(theme.statusCode).toBe(200);
    expect(theme.body).toMatch(/^:root\{--brand:#[0-9a-fA-F]{6};--bg:#[0-9a-fA-F]{6}\}\n$/);
  });

  it('no page in this file contained a stack trace or was a 5xx', () => {
    expect(seen.length).toBeGreaterThan(50);
    expect(
      seen.filter((r) => looksLikeStack(r.body) || r.body.includes('    at ')).map((r) => r.body.slice(0, 200)),
    ).toEqual([]);
    expect(seen.filter((r) => r.statusCode >= 500).map((r) => `${r.statusCode} ${r.body.slice(0, 200)}`)).toEqual([]);
  });
});
