// The hosted password-recovery pages end to end, as a browser without JavaScript uses them (and as a
// mail scanner follows links): GET a form, read its CSRF token, POST it back with the cookies, follow
// the redirect; the mail is read back from the dev mailbox. Each test states one property.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeFromMail,
  type DevMailJson,
  headerNames,
  latestMail,
  looksLikeLeak,
  newPassword,
  newUser,
  putRealm,
  type RecoveryTestDostup,
  settleFlow,
  sleep,
  startRecoveryTestDostup,
  uniqueRealm,
  withoutUuids,
} from '../../../test/support/recovery-helpers.ts';
import {
  cookieHeader,
  csrfFromHtml,
  GOOD_PASSWORD,
  type InjectResponse,
  setCookies,
  uniqueIp,
  uniqueLogin,
} from '../../../test/support/test-server.ts';
import type { RealmPolicy } from '../../core/realm/policy-schema.ts';

const MSG = {
  csrf: 'This page has expired. Please reload it and try again.',
  flowNotFound: 'This action was not found. Please start again.',
  codeInvalid: 'The code is wrong or has expired.',
  passwordChanged: 'Your password has been changed. Sign in with the new password.',
  sentNotice:
    'If an account with these details exists, we have sent an e-mail with a link and a code to its e-mail address.',
  differ: 'The passwords do not match.',
  realmNotFound: 'Portal not found.',
  recoveryDisabled: 'Password recovery is not available on this portal.',
  validation: 'Please check the information you entered.',
  tooLong: 'The password is too long.',
  tooLarge: 'The request is too large.',
  rejected: 'This password cannot be used. Please choose another one.',
  linkDead: 'This link no longer works',
};

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const seen: InjectResponse[] = [];

/** A cookie-keeping client; every response is recorded for the check at the end. */
class Browser {
  readonly jar = new Map<string, string>();
  constructor(
    private readonly t: RecoveryTestDostup,
    private readonly headers: Record<string, string> = { 'accept-language': 'en' },
    readonly ip: string = uniqueIp(),
  ) {}

  async request(
    method: 'GET' | 'POST' | 'HEAD',
    url: string,
    form?: Record<string, string | string[]>,
    headers: Record<string, string> = {},
  ) {
    let body: string | undefined;
    if (form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(form)) for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
      body = p.toString();
    }
    const res = await this.t.inject({
      method,
      url,
      remoteAddress: this.ip,
      headers: {
        ...this.headers,
        ...(this.jar.size > 0 ? { cookie: cookieHeader(Object.fromEntries(this.jar)) } : {}),
        ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body } : {}),
    });
    seen.push(res);
    for (const c of setCookies(res)) {
      const gone = c.value === '' || c.attrs['max-age'] === '0';
      if (gone) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
    return res;
  }
  get(url: string, headers?: Record<string, string>) {
    return this.request('GET', url, undefined, headers);
  }
  head(url: string, headers?: Record<string, string>) {
    return this.request('HEAD', url, undefined, headers);
  }
  post(url: string, form: Record<string, string | string[]>, headers?: Record<string, string>) {
    return this.request('POST', url, form, headers);
  }
  async csrf(url: string): Promise<string> {
    const res = await this.get(url);
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    return csrfFromHtml(res.body);
  }
}

/** The path of a URL the server links to (the mailed link is absolute, on the realm's base URL). */
const pathOf = (link: string) => {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
};

function expectHtmlPage(res: InjectResponse) {
  expect(String(res.headers['content-type'])).toMatch(/^text\/html/);
  expect(res.body.startsWith('<!doctype html>')).toBe(true);
  expect(looksLikeLeak(res.body)).toBe(false);
  expect(res.headers['cache-control']).toBe('no-store');
}

/** The value attribute of the input named `name`, or undefined. */
function inputValue(html: string, name: string): string | undefined {
  const m = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html);
  if (!m) return undefined;
  return /value="([^"]*)"/.exec(m[0])?.[1];
}

describe('hosted password-recovery pages', () => {
  let t: RecoveryTestDostup;
  let realm: RealmPolicy;

  beforeAll(async () => {
    t = await startRecoveryTestDostup({
      env: {
        RATE_RECOVERY_PER_IP: '1000000',
        RATE_RECOVERY_PER_ACCOUNT: '1000000',
        RATE_RECOVERY_PER_DESTINATION: '1000000',
        RATE_RECOVERY_VERIFY_PER_IP: '1000000',
        RATE_SIGNIN_PER_ACCOUNT: '100000',
        RATE_SIGNIN_PER_IP: '1000000',
      },
    });
    realm = await putRealm(t, uniqueRealm('web'));
  });
  afterAll(async () => {
    await t?.close();
  });

  /** "Forgot password?" in browser `b`: returns the flow id of the "mail sent" page it was sent to. */
  async function forgot(
    b: Browser,
    r: RealmPolicy,
    fields: Record<string, string>,
  ): Promise<{ res: InjectResponse; flowId: string }> {
    const token = await b.csrf(`/r/${r.name}/forgot`);
    const res = await b.post(`/r/${r.name}/forgot`, { _csrf: token, ...fields });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
    const m = new RegExp(`^/r/${r.name}/recover/(${UUID})$`).exec(String(res.headers.location));
    expect(m, String(res.headers.location)).not.toBeNull();
    return { res, flowId: m![1]! };
  }

  /** The recovery mail of `flowId` (the secret it issued last: the one not invalidated, since PGlite's millisecond clock can tie two), from the dev mailbox. */
  async function mailOf(
    flowId: string,
    to: string,
  ): Promise<DevMailJson & { secretId: string; code: string; link: string }> {
    await settleFlow(t, flowId);
    const rows = await t.raw(
      'select id::text as id from one_time_secrets where flow_id = $1 order by invalidated_at is null desc, created_at desc limit 1',
      [flowId],
    );
    const secretId = String(rows[0]?.id);
    const mail = await latestMail(t, to);
    expect(
      mail?.links.some((l) => l.includes(`s=${secretId}`)),
      `mail for ${flowId}`,
    ).toBe(true);
    return { ...mail!, ...codeFromMail(mail!) };
  }

  async function signInWorks(r: RealmPolicy, login: string, password: string): Promise<boolean> {
    const res = await t.inject({
      method: 'POST',
      url: `/api/v1/realms/${r.name}/login`,
      remoteAddress: uniqueIp(),
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ identifier: login, password }),
    });
    seen.push(res);
    return res.statusCode === 200;
  }

  describe('"Forgot password?"', () => {
    it("the form is HTML with a CSRF token; a POST without it, with a forged or another browser's token is 403 and starts nothing", async () => {
      const u = await newUser(t, realm);
      const a = new Browser(t);
      const page = await a.get(`/r/${realm.name}/forgot`);
      expect(page.statusCode).toBe(200);
      expectHtmlPage(page);
      expect(page.body).toContain(`action="/r/${realm.name}/forgot"`);
      expect(page.body).toContain('name="identifier"');
      const tokenA = csrfFromHtml(page.body);
      const b = new Browser(t);
      const tokenB = await b.csrf(`/r/${realm.name}/forgot`);
      const before = await t.raw("select count(*)::int as n from flows where kind = 'recovery'");
      const attempts = [
        await a.post(`/r/${realm.name}/forgot`, { identifier: u.login }),
        await a.post(`/r/${realm.name}/forgot`, { _csrf: '', identifier: u.login }),
        await a.post(`/r/${realm.name}/forgot`, { _csrf: 'forged', identifier: u.login }),
        await a.post(`/r/${realm.name}/forgot`, { _csrf: tokenB, identifier: u.login }),
        await new Browser(t).post(`/r/${realm.name}/forgot`, { _csrf: tokenA, identifier: u.login }),
      ];
      for (const res of attempts) {
        expect(res.statusCode).toBe(403);
        expectHtmlPage(res);
        expect(res.body).toContain(MSG.csrf);
      }
      const after = await t.raw("select count(*)::int as n from flows where kind = 'recovery'");
      expect(Number(after[0]?.n)).toBe(Number(before[0]?.n));
      await sleep(50);
      await t.d.outbox.runOnce();
      expect(await latestMail(t, u.email)).toBeNull();
    });

    it('known and unknown accounts: the same 303 and the same "mail sent" page (except ids and tokens); no mail for the unknown', async () => {
      const u = await newUser(t, realm);
      const ghost = `${uniqueLogin('ghost')}@mail.example.test`;
      const kb = new Browser(t);
      const ub = new Browser(t);
      const k = await forgot(kb, realm, { identifier: u.email });
      const x = await forgot(ub, realm, { identifier: ghost });
      expect(x.res.statusCode).toBe(k.res.statusCode);
      expect(headerNames(x.res)).toEqual(headerNames(k.res));
      expect(withoutUuids(String(x.res.headers.location))).toBe(withoutUuids(String(k.res.headers.location)));
      expect(withoutUuids(x.res.body)).toBe(withoutUuids(k.res.body));
      await settleFlow(t, k.flowId);
      await settleFlow(t, x.flowId);
      const kp = await kb.get(`/r/${realm.name}/recover/${k.flowId}`);
      const xp = await ub.get(`/r/${realm.name}/recover/${x.flowId}`);
      expect(kp.statusCode).toBe(200);
      expect(xp.statusCode).toBe(200);
      expectHtmlPage(kp);
      expect(kp.body).toContain(MSG.sentNotice);
      expect(headerNames(xp)).toEqual(headerNames(kp));
      const normalize = (s: string) =>
        withoutUuids(s)
          .replace(/name="_csrf" value="[^"]*"/g, 'CSRF')
          .replace(/data-seconds="\d+"/g, 'SECONDS')
          .replace(/\b\d+ seconds?\b/g, 'N seconds');
      expect(normalize(xp.body)).toBe(normalize(kp.body));
      expect(await latestMail(t, u.email)).not.toBeNull();
      expect(await latestMail(t, ghost)).toBeNull();
    });

    it('a locked user and one without the right to change the password get the same page and no mail', async () => {
      const locked = await newUser(t, realm, { status: 'locked' });
      const noRight = await newUser(t, realm, { rights: [] });
      for (const u of [locked, noRight]) {
        const b = new Browser(t);
        const f = await forgot(b, realm, { identifier: u.login });
        await settleFlow(t, f.flowId);
        const page = await b.get(`/r/${realm.name}/recover/${f.flowId}`);
        expect(page.statusCode).toBe(200);
        expect(page.body).toContain(MSG.sentNotice);
        expect(await latestMail(t, u.email)).toBeNull();
      }
    });

    it('login-and-email realms (S2.2) show both fields; with reveal, a wrong pair gets the S2.2 message on the page', async () => {
      const r = await putRealm(t, uniqueRealm('s2web'), {
        recovery: { identifyBy: 'login-and-email', unknownAccounts: 'reveal' },
      });
      const u = await newUser(t, r);
      const b = new Browser(t);
      const page = await b.get(`/r/${r.name}/forgot`);
      expect(page.body).toContain('name="login"');
      expect(page.body).toContain('name="email"');
      const res = await b.post(`/r/${r.name}/forgot`, {
        _csrf: csrfFromHtml(page.body),
        login: u.login,
        email: `other-${u.email}`,
      });
      expect(res.statusCode).toBe(404);
      expectHtmlPage(res);
      expect(res.body).toContain('No such user, or the e-mail address is wrong.');
      // The typed values are kept (escaped) and the page can be sent again.
      expect(res.body).toContain(`value="${u.login}"`);
      const ok = await b.post(`/r/${r.name}/forgot`, { _csrf: csrfFromHtml(res.body), login: u.login, email: u.email });
      expect(ok.statusCode).toBe(303);
    });

    it('forged Host / X-Forwarded-* on the form never reach the mailed link, a Location or the page', async () => {
      const portal = await putRealm(t, uniqueRealm('portalweb'), { baseUrl: 'https://portal.example.test' });
      const u = await newUser(t, portal);
      const b = new Browser(t, {
        'accept-language': 'en',
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'http',
      });
      const f = await forgot(b, portal, { identifier: u.login });
      expect(String(f.res.headers.location)).not.toContain('evil');
      const page = await b.get(`/r/${portal.name}/recover/${f.flowId}`);
      expect(page.body).not.toContain('evil.example');
      const mail = await mailOf(f.flowId, u.email);
      expect(mail.link.startsWith(`https://portal.example.test/r/${portal.name}/reset?`)).toBe(true);
      expect(`${mail.text}${mail.html}`).not.toContain('evil.example');
    });
  });

  describe('the "mail sent" page', () => {
    it('is bound to the browser that asked: another browser (another CSRF cookie) or none gets the 404 FLOW_NOT_FOUND page, not the flow', async () => {
      const u = await newUser(t, realm);
      const a = new Browser(t);
      const f = await forgot(a, realm, { identifier: u.login });
      const mail = await mailOf(f.flowId, u.email);
      const mine = await a.get(`/r/${realm.name}/recover/${f.flowId}`);
      expect(mine.statusCode).toBe(200);
      expect(mine.body).toContain(`name="flow" value="${f.flowId}"`);

      const other = new Browser(t);
      await other.get(`/r/${realm.name}/forgot`); // has a CSRF cookie of its own
      const seenByOther = await other.get(`/r/${realm.name}/recover/${f.flowId}`);
      const noCookie = await new Browser(t).get(`/r/${realm.name}/recover/${f.flowId}`);
      for (const res of [seenByOther, noCookie]) {
        expect(res.statusCode).toBe(404);
        expectHtmlPage(res);
        expect(res.body).toContain(MSG.flowNotFound);
        // Nothing of the flow: no form bound to it, no notice (the id only echoes the URL in the language links).
        expect(res.body).not.toContain(`name="flow" value="${f.flowId}"`);
        expect(res.body).not.toContain(`/recover/${f.flowId}/resend`);
        expect(res.body).not.toContain('name="code"');
        expect(res.body).not.toContain(MSG.sentNotice);
      }
      // Posting the right code to that flow from the other browser does not work either…
      const token = await other.csrf(`/r/${realm.name}/forgot`);
      const pw = newPassword();
      const stolen = await other.post(`/r/${realm.name}/reset`, {
        _csrf: token,
        flow: f.flowId,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(stolen.statusCode).toBe(404);
      expect(stolen.body).toContain(MSG.flowNotFound);
      expect(await signInWorks(realm, u.login, pw)).toBe(false);
      // …nor does "send again".
      const resend = await other.post(`/r/${realm.name}/recover/${f.flowId}/resend`, { _csrf: token });
      expect(resend.statusCode).toBe(404);
      // The asking browser still can.
      const mine2 = csrfFromHtml(mine.body);
      const done = await a.post(`/r/${realm.name}/reset`, {
        _csrf: mine2,
        flow: f.flowId,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(done.statusCode, done.body.slice(0, 300)).toBe(303);
      expect(await signInWorks(realm, u.login, pw)).toBe(true);
    });

    it('a browser-bound flow id (leaked from a URL or a log) is not usable through the JSON API either', async () => {
      const u = await newUser(t, realm);
      const f = await forgot(new Browser(t), realm, { identifier: u.login });
      const mail = await mailOf(f.flowId, u.email);
      const api = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
        t
          .inject({
            method,
            url,
            remoteAddress: uniqueIp(),
            headers: payload ? { 'content-type': 'application/json' } : {},
            ...(payload ? { payload: JSON.stringify(payload) } : {}),
          })
          .then((r) => {
            seen.push(r);
            return r;
          });
      const base = `/api/v1/realms/${realm.name}/recovery`;
      for (const res of [
        await api('GET', `${base}/${f.flowId}`),
        await api('POST', `${base}/${f.flowId}/resend`, {}),
        await api('POST', `${base}/complete`, { flowId: f.flowId, code: mail.code, password: newPassword() }),
      ]) {
        expect(res.statusCode).toBe(404);
        expect(JSON.parse(res.body).error.code).toBe('FLOW_NOT_FOUND');
      }
      expect(await signInWorks(realm, u.login, GOOD_PASSWORD)).toBe(true);
    });

    it('typing the code there → 303 to the sign-in page with the "password changed" notice; the old password stops working', async () => {
      const u = await newUser(t, realm);
      const b = new Browser(t);
      const f = await forgot(b, realm, { identifier: u.login });
      const mail = await mailOf(f.flowId, u.email);
      const page = await b.get(`/r/${realm.name}/recover/${f.flowId}`);
      const pw = newPassword();
      const res = await b.post(`/r/${realm.name}/reset`, {
        _csrf: csrfFromHtml(page.body),
        flow: f.flowId,
        code: ` ${mail.code} `,
        password: pw,
        confirm: pw,
      });
      expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
      expect(res.headers.location).toBe(`/r/${realm.name}/login?notice=password_changed`);
      const login = await b.get(String(res.headers.location));
      expect(login.statusCode).toBe(200);
      expect(login.body).toContain(MSG.passwordChanged);
      expect(await signInWorks(realm, u.login, pw)).toBe(true);
      expect(await signInWorks(realm, u.login, GOOD_PASSWORD)).toBe(false);
      // The finished flow's page now sends to the sign-in page.
      const after = await b.get(`/r/${realm.name}/recover/${f.flowId}`);
      expect(after.statusCode).toBe(303);
    });

    it('a wrong code shows the error on the same page, keeps the typed code, and the right code still works after', async () => {
      const u = await newUser(t, realm);
      const b = new Browser(t);
      const f = await forgot(b, realm, { identifier: u.login });
      const mail = await mailOf(f.flowId, u.email);
      const page = await b.get(`/r/${realm.name}/recover/${f.flowId}`);
      const bad = mail.code.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      const pw = newPassword();
      const res = await b.post(`/r/${realm.name}/reset`, {
        _csrf: csrfFromHtml(page.body),
        flow: f.flowId,
        code: bad,
        password: pw,
        confirm: pw,
      });
      expect(res.statusCode).toBe(400);
      expectHtmlPage(res);
      expect(res.body).toContain(MSG.codeInvalid);
      expect(inputValue(res.body, 'code')).toBe(bad);
      expect(res.body).not.toContain(pw);
      const ok = await b.post(`/r/${realm.name}/reset`, {
        _csrf: csrfFromHtml(res.body),
        flow: f.flowId,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(ok.statusCode).toBe(303);
    });

    it('"Send again" right away → 429 page with Retry-After and the wait', async () => {
      const u = await newUser(t, realm);
      const b = new Browser(t);
      const f = await forgot(b, realm, { identifier: u.login });
      await mailOf(f.flowId, u.email);
      const page = await b.get(`/r/${realm.name}/recover/${f.flowId}`);
      expect(page.body).toContain(`action="/r/${realm.name}/recover/${f.flowId}/resend"`);
      const res = await b.post(`/r/${realm.name}/recover/${f.flowId}/resend`, { _csrf: csrfFromHtml(page.body) });
      expect(res.statusCode).toBe(429);
      expectHtmlPage(res);
      const retry = Number(res.headers['retry-after']);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(realm.recovery.resendCooldownSeconds);
      expect(res.body).toMatch(/The e-mail has just been sent\. You can ask again in \d+ seconds?\./);
    });

    it('too many wrong codes: the page then says the code is exhausted (410), and the right code is refused', async () => {
      const r = await putRealm(t, uniqueRealm('exh'), { recovery: { code: { maxAttempts: 2 } } });
      const u = await newUser(t, r);
      const b = new Browser(t);
      const f = await forgot(b, r, { identifier: u.login });
      const mail = await mailOf(f.flowId, u.email);
      let html = (await b.get(`/r/${r.name}/recover/${f.flowId}`)).body;
      const bad = mail.code.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      const pw = newPassword();
      const statuses: number[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await b.post(`/r/${r.name}/reset`, {
          _csrf: csrfFromHtml(html),
          flow: f.flowId,
          code: bad,
          password: pw,
          confirm: pw,
        });
        statuses.push(res.statusCode);
        expectHtmlPage(res);
        if (res.statusCode === 400) html = res.body;
      }
      expect(statuses).toEqual([400, 410]);
      const token = await b.csrf(`/r/${r.name}/forgot`);
      const right = await b.post(`/r/${r.name}/reset`, {
        _csrf: token,
        flow: f.flowId,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(right.statusCode).toBe(410);
      const viaLink = await b.post(`/r/${r.name}/reset`, {
        _csrf: token,
        s: mail.secretId,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(viaLink.statusCode).toBe(400);
      expect(await signInWorks(r, u.login, pw)).toBe(false);
    });
  });

  describe('the mailed link', () => {
    it('GET and HEAD by a mail scanner leave it valid; the GET shows the form with the code filled in and nothing of a finished reset', async () => {
      const u = await newUser(t, realm);
      const f = await forgot(new Browser(t), realm, { identifier: u.login });
      const mail = await mailOf(f.flowId, u.email);
      const path = pathOf(mail.link);
      const scanners = [
        'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))',
        'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro) SafeLinks',
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
      ];
      let shown: InjectResponse | undefined;
      for (const ua of scanners) {
        const scanner = new Browser(t, { 'accept-language': 'en', 'user-agent': ua });
        const head = await scanner.head(path);
        expect(head.statusCode).toBe(200);
        expect(head.body).toBe('');
        shown = await scanner.get(path);
        expect(shown.statusCode).toBe(200);
        expectHtmlPage(shown);
        // Twice, as link checkers do.
        expect((await scanner.get(path)).statusCode).toBe(200);
      }
      const body = shown!.body;
      expect(inputValue(body, 'code')).toBe(mail.code);
      expect(inputValue(body, 's')).toBe(mail.secretId);
      expect(body).toContain(`action="/r/${realm.name}/reset"`);
      expect(body).not.toContain(MSG.passwordChanged);
      expect(body).not.toMatch(/password has been changed|has been reset|пароль изменён/i);
      // Nothing was counted or used.
      const row = await t.raw('select attempts, used_at from one_time_secrets where id = $1', [mail.secretId]);
      expect(Number(row[0]?.attempts)).toBe(0);
      expect(row[0]?.used_at).toBeNull();
      const flow = await t.d.store.flows.get(f.flowId);
      expect(flow?.state).toBe('code_sent');
      // The person then completes with the same link.
      const person = new Browser(t);
      const form = await person.get(path);
      const pw = newPassword();
      const done = await person.post(`/r/${realm.name}/reset`, {
        _csrf: csrfFromHtml(form.body),
        s: mail.secretId,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(done.statusCode, done.body.slice(0, 300)).toBe(303);
      expect(await signInWorks(realm, u.login, pw)).toBe(true);
    });

    it('works in a fresh cookie jar (another device): GET the link, POST the new password → 303 with the notice; the flow is completed', async () => {
      const u = await newUser(t, realm);
      const asker = new Browser(t);
      const f = await forgot(asker, realm, { identifier: u.email });
      const mail = await mailOf(f.flowId, u.email);
      const phone = new Browser(t, { 'accept-language': 'en', 'user-agent': 'Mozilla/5.0 (iPhone)' });
      expect(phone.jar.size).toBe(0);
      const form = await phone.get(pathOf(mail.link));
      expect(form.statusCode).toBe(200);
      const pw = newPassword();
      const res = await phone.post(`/r/${realm.name}/reset`, {
        _csrf: csrfFromHtml(form.body),
        s: mail.secretId,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/r/${realm.name}/login?notice=password_changed`);
      const login = await phone.get(String(res.headers.location));
      expect(login.body).toContain(MSG.passwordChanged);
      expect((await t.d.store.flows.get(f.flowId))?.state).toBe('completed');
      // The asking browser's page now leads to sign-in.
      const page = await asker.get(`/r/${realm.name}/recover/${f.flowId}`);
      expect(page.statusCode).toBe(303);
      expect(page.headers.location).toBe(`/r/${realm.name}/login?notice=password_changed`);
      // Used: the link now says so up front (410, no form, a way to ask again)…
      const again = await phone.get(pathOf(mail.link));
      expect(again.statusCode).toBe(410);
      expectHtmlPage(again);
      expect(again.body).toContain(MSG.linkDead);
      expect(again.body).toContain(`href="/r/${realm.name}/forgot"`);
      expect(again.body).not.toContain('name="password"');
      // …and posting the code anyway is refused.
      const token = await phone.csrf(`/r/${realm.name}/forgot`);
      const pw2 = newPassword();
      const reuse = await phone.post(`/r/${realm.name}/reset`, {
        _csrf: token,
        s: mail.secretId,
        code: mail.code,
        password: pw2,
        confirm: pw2,
      });
      expect(reuse.statusCode).toBe(400);
      expect(reuse.body).toContain(MSG.codeInvalid);
      expect(await signInWorks(realm, u.login, pw)).toBe(true);
    });

    it('an expired or replaced link says so on GET (410) without spending anything; the newest link still works', async () => {
      const u = await newUser(t, realm);
      const b = new Browser(t);
      const older = await mailOf((await forgot(b, realm, { identifier: u.login })).flowId, u.email);
      const newer = await mailOf((await forgot(b, realm, { identifier: u.login })).flowId, u.email);
      const replaced = await b.get(pathOf(older.link));
      expect(replaced.statusCode).toBe(410);
      expect(replaced.body).toContain(MSG.linkDead);
      expect((await b.get(pathOf(newer.link))).statusCode).toBe(200);
      await t.raw("update one_time_secrets set expires_at = now() - interval '1 second' where id = $1", [
        newer.secretId,
      ]);
      const expired = await b.get(pathOf(newer.link));
      expect(expired.statusCode).toBe(410);
      expect(expired.body).toContain(MSG.linkDead);
      const rows = await t.raw('select attempts from one_time_secrets where id = any($1::uuid[])', [
        [older.secretId, newer.secretId],
      ]);
      expect(rows.map((r) => Number(r.attempts))).toEqual([0, 0]);
    });

    it('"I have a code" on another device: identifier + code typed into /reset works; a wrong identifier is refused', async () => {
      const u = await newUser(t, realm);
      const other = await newUser(t, realm);
      const f = await forgot(new Browser(t), realm, { identifier: u.login });
      const mail = await mailOf(f.flowId, u.email);
      const b = new Browser(t);
      const page = await b.get(`/r/${realm.name}/reset`);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('name="identifier"');
      const pw = newPassword();
      const wrong = await b.post(`/r/${realm.name}/reset`, {
        _csrf: csrfFromHtml(page.body),
        identifier: other.login,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(wrong.statusCode).toBe(400);
      expect(wrong.body).toContain(MSG.codeInvalid);
      expect(inputValue(wrong.body, 'identifier')).toBe(other.login);
      const ok = await b.post(`/r/${realm.name}/reset`, {
        _csrf: csrfFromHtml(wrong.body),
        identifier: u.login,
        code: mail.code,
        password: pw,
        confirm: pw,
      });
      expect(ok.statusCode).toBe(303);
      expect(await signInWorks(realm, u.login, pw)).toBe(true);
      expect(await signInWorks(realm, other.login, GOOD_PASSWORD)).toBe(true);
    });
  });

  describe('the reset form', () => {
    let strict: RealmPolicy;
    beforeAll(async () => {
      // S2.5's policy plus an S3.6-style advice line (S4.3: advice shown under the fields).
      strict = await putRealm(t, uniqueRealm('strict'), {
        password: {
          minLength: 8,
          maxLength: 20,
          allowedCharacters: 'latin-digits',
          requireLower: true,
          requireUpper: true,
          requireDigit: true,
          historySize: 3,
          advice: [
            { en: 'Do not reuse the password of your signature key.', ru: 'Не используйте пароль от ключа подписи.' },
          ],
        },
      });
    });

    async function linkForm(r: RealmPolicy, lang = 'en') {
      const u = await newUser(t, r, r === strict ? { password: 'Zebra7Lamp9x' } : {});
      const f = await forgot(new Browser(t), r, { identifier: u.login });
      const mail = await mailOf(f.flowId, u.email);
      const b = new Browser(t, { 'accept-language': lang });
      const page = await b.get(pathOf(mail.link));
      expect(page.statusCode).toBe(200);
      return { u, mail, b, page };
    }

    it("shows the realm's password hints under the fields (S4.3), including the advice line", async () => {
      const { page } = await linkForm(strict);
      const hints = /<ul class="hints__list">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? '';
      expect(hints).toContain('8 to 20 characters');
      expect(hints).toContain('Only Latin letters (A–Z, a–z) and digits');
      expect(hints).toContain('At least one lower-case letter');
      expect(hints).toContain('At least one capital letter');
      expect(hints).toContain('At least one digit');
      expect(hints).toContain('Not one of your last 3 passwords');
      expect(hints).toContain('Do not reuse the password of your signature key.');
      // And in Russian for a Russian browser.
      const ru = await linkForm(strict, 'ru');
      expect(ru.page.body).toContain('Не используйте пароль от ключа подписи.');
    });

    it('lists each failed rule on the page, keeps the code, and the code still works after (a weak password spends no attempt)', async () => {
      const { u, mail, b, page } = await linkForm(strict);
      const weak = 'абв';
      const res = await b.post(`/r/${strict.name}/reset`, {
        _csrf: csrfFromHtml(page.body),
        s: mail.secretId,
        code: mail.code,
        password: weak,
        confirm: weak,
      });
      expect(res.statusCode).toBe(422);
      expectHtmlPage(res);
      const list = /<ul class="alert__list">([\s\S]*?)<\/ul>/.exec(res.body)?.[1] ?? '';
      expect(list).toContain('Too short: use at least 8 characters.');
      expect(list).toContain('Use only Latin letters (A–Z, a–z) and digits.');
      expect(list).toContain('Add at least one capital letter.');
      expect(list).toContain('Add at least one digit.');
      expect(res.body).toContain(MSG.rejected);
      expect(inputValue(res.body, 'code')).toBe(mail.code);
      expect(inputValue(res.body, 's')).toBe(mail.secretId);
      expect(res.body).not.toContain(`value="${weak}"`);
      // Reuse of the current password (S2.5) is named too.
      const reused = await b.post(`/r/${strict.name}/reset`, {
        _csrf: csrfFromHtml(res.body),
        s: mail.secretId,
        code: mail.code,
        password: 'Zebra7Lamp9x',
        confirm: 'Zebra7Lamp9x',
      });
      expect(reused.statusCode).toBe(422);
      expect(reused.body).toContain('You have used this password recently.');
      const good = 'Fresh2024pass';
      const ok = await b.post(`/r/${strict.name}/reset`, {
        _csrf: csrfFromHtml(reused.body),
        s: mail.secretId,
        code: mail.code,
        password: good,
        confirm: good,
      });
      expect(ok.statusCode, ok.body.slice(0, 400)).toBe(303);
      expect(await signInWorks(strict, u.login, good)).toBe(true);
    });

    it('different password and confirmation → 400 with the message, nothing spent', async () => {
      const { mail, b, page } = await linkForm(realm);
      const res = await b.post(`/r/${realm.name}/reset`, {
        _csrf: csrfFromHtml(page.body),
        s: mail.secretId,
        code: mail.code,
        password: newPassword(),
        confirm: newPassword(),
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain(MSG.differ);
      const row = await t.raw('select attempts from one_time_secrets where id = $1', [mail.secretId]);
      expect(Number(row[0]?.attempts)).toBe(0);
    });

    it('has the S1.3 fields in order and a "Show" toggle that is hidden until the script shows it', async () => {
      const { page } = await linkForm(realm);
      const body = page.body;
      const order = ['name="code"', 'name="password"', 'name="confirm"'].map((s) => body.indexOf(s));
      expect(order.every((i) => i > 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      const toggle = /<button[^>]*data-toggle-password[^>]*>([^<]*)<\/button>/.exec(body);
      expect(toggle).not.toBeNull();
      expect(toggle![0]).toMatch(/\shidden[\s>]/);
      expect(toggle![0]).toContain('type="button"');
      expect(toggle![1]).toBe('Show');
      expect(body).toContain('src="/assets/dostup.js"');
      expect(body).toContain('autocomplete="new-password"');
      expect(body).toContain('autocomplete="one-time-code"');
    });

    it('the code field follows the realm format: numeric for digits, a hint with the length', async () => {
      const r = await putRealm(t, uniqueRealm('digits'), { recovery: { code: { format: 'digits', length: 6 } } });
      const { page, mail } = await linkForm(r);
      expect(mail.code).toMatch(/^\d{6}$/);
      expect(page.body).toContain('inputmode="numeric"');
      expect(page.body).toContain('6 digits');
    });
  });

  describe('bad input on the recovery forms', () => {
    let disabled: RealmPolicy;
    const someUuid = '6f1c3f0e-8d2a-4b5c-9e7f-0a1b2c3d4e5f';
    const huge = 'x'.repeat(70 * 1024);
    beforeAll(async () => {
      disabled = await putRealm(t, uniqueRealm('offweb'), { recovery: { enabled: false } });
    });

    interface Case {
      name: string;
      method: 'GET' | 'POST';
      url: () => string;
      /** `_csrf: true` = a valid token of this browser. */
      form?: Record<string, string | string[] | true>;
      status: number;
      message?: string;
    }
    const R = () => realm.name;
    const pw = GOOD_PASSWORD;
    const cases: Case[] = [
      {
        name: 'forgot: unknown realm (GET)',
        method: 'GET',
        url: () => '/r/nosuchrealm/forgot',
        status: 404,
        message: MSG.realmNotFound,
      },
      {
        name: 'forgot: unknown realm (POST)',
        method: 'POST',
        url: () => '/r/nosuchrealm/forgot',
        form: { _csrf: true, identifier: 'abc' },
        status: 404,
        message: MSG.realmNotFound,
      },
      {
        name: 'forgot: recovery disabled (GET)',
        method: 'GET',
        url: () => `/r/${disabled.name}/forgot`,
        status: 404,
        message: MSG.recoveryDisabled,
      },
      {
        name: 'forgot: recovery disabled (POST)',
        method: 'POST',
        url: () => `/r/${disabled.name}/forgot`,
        form: { _csrf: true, identifier: 'abc' },
        status: 404,
        message: MSG.recoveryDisabled,
      },
      { name: 'forgot: malformed realm', method: 'GET', url: () => '/r/NO_SUCH!/forgot', status: 400 },
      {
        name: 'forgot: unknown field',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true, identifier: 'abc', admin: '1' },
        status: 400,
        message: MSG.validation,
      },
      {
        name: 'forgot: identifier twice (array)',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true, identifier: ['abc', 'def'] },
        status: 400,
        message: MSG.validation,
      },
      {
        name: 'forgot: identifier missing',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true },
        status: 400,
      },
      {
        name: 'forgot: identifier blank',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true, identifier: '   ' },
        status: 400,
      },
      {
        name: 'forgot: identifier with NUL',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true, identifier: 'ivan\u0000' },
        status: 400,
      },
      {
        name: 'forgot: identifier with CR/LF',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true, identifier: 'a@b.ru\r\nBcc: c@d.ru' },
        status: 400,
      },
      {
        name: 'forgot: identifier over 320 chars',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true, identifier: 'a'.repeat(400) },
        status: 400,
      },
      {
        name: 'forgot: body over 64 KiB',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true, identifier: huge },
        status: 413,
        message: MSG.tooLarge,
      },
      {
        name: 'forgot: markup in the identifier is escaped',
        method: 'POST',
        url: () => `/r/${R()}/forgot`,
        form: { _csrf: true, identifier: '<script>alert(1)</script>' },
        status: 400,
      },
      {
        name: 'recover: malformed flow id',
        method: 'GET',
        url: () => `/r/${R()}/recover/not-a-uuid`,
        status: 400,
        message: MSG.validation,
      },
      {
        name: 'recover: SQL in the flow id',
        method: 'GET',
        url: () => `/r/${R()}/recover/${encodeURIComponent("1' or '1'='1")}`,
        status: 400,
      },
      {
        name: 'recover: unknown flow',
        method: 'GET',
        url: () => `/r/${R()}/recover/${someUuid}`,
        status: 404,
        message: MSG.flowNotFound,
      },
      {
        name: 'recover: recovery disabled',
        method: 'GET',
        url: () => `/r/${disabled.name}/recover/${someUuid}`,
        status: 404,
        message: MSG.recoveryDisabled,
      },
      {
        name: 'resend: unknown flow',
        method: 'POST',
        url: () => `/r/${R()}/recover/${someUuid}/resend`,
        form: { _csrf: true },
        status: 404,
        message: MSG.flowNotFound,
      },
      {
        name: 'resend: malformed flow id',
        method: 'POST',
        url: () => `/r/${R()}/recover/xyz/resend`,
        form: { _csrf: true },
        status: 400,
      },
      {
        name: 'resend: unknown field',
        method: 'POST',
        url: () => `/r/${R()}/recover/${someUuid}/resend`,
        form: { _csrf: true, to: 'x@y.ru' },
        status: 400,
      },
      {
        name: 'resend: without CSRF token',
        method: 'POST',
        url: () => `/r/${R()}/recover/${someUuid}/resend`,
        form: {},
        status: 403,
        message: MSG.csrf,
      },
      { name: 'reset page: malformed s', method: 'GET', url: () => `/r/${R()}/reset?s=not-a-uuid&code=1`, status: 400 },
      {
        name: 'reset page: code over 100 chars',
        method: 'GET',
        url: () => `/r/${R()}/reset?s=${someUuid}&code=${'1'.repeat(101)}`,
        status: 400,
      },
      {
        name: 'reset page: markup in the code is escaped',
        method: 'GET',
        url: () => `/r/${R()}/reset?code=${encodeURIComponent('"><script>alert(1)</script>')}`,
        status: 200,
      },
      {
        name: 'reset page: an unknown secret id is a dead link',
        method: 'GET',
        url: () => `/r/${R()}/reset?s=${someUuid}&code=${encodeURIComponent('"><script>alert(1)</script>')}`,
        status: 410,
        message: MSG.linkDead,
      },
      {
        name: 'reset page: unknown realm',
        method: 'GET',
        url: () => `/r/nosuchrealm/reset?s=${someUuid}&code=1`,
        status: 404,
        message: MSG.realmNotFound,
      },
      {
        name: 'reset page: recovery disabled',
        method: 'GET',
        url: () => `/r/${disabled.name}/reset`,
        status: 404,
        message: MSG.recoveryDisabled,
      },
      {
        name: 'reset: password over 4 KiB of UTF-8',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, code: '1', password: 'я'.repeat(5000), confirm: 'я'.repeat(5000) },
        status: 400,
        message: MSG.tooLong,
      },
      {
        name: 'reset: body over 64 KiB',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, code: '1', password: huge, confirm: huge },
        status: 413,
        message: MSG.tooLarge,
      },
      {
        name: 'reset: malformed s',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: '../../etc', code: '1', password: pw, confirm: pw },
        status: 400,
        message: MSG.validation,
      },
      {
        name: 'reset: malformed flow',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, flow: 'abc', code: '1', password: pw, confirm: pw },
        status: 400,
        message: MSG.validation,
      },
      {
        name: 'reset: code missing',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, password: pw, confirm: pw },
        status: 400,
      },
      {
        name: 'reset: confirm missing',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, code: '1', password: pw },
        status: 400,
      },
      {
        name: 'reset: code twice (array)',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, code: ['1', '2'], password: pw, confirm: pw },
        status: 400,
      },
      {
        name: 'reset: unknown field',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, code: '1', password: pw, confirm: pw, userId: someUuid },
        status: 400,
      },
      {
        name: 'reset: control characters in the code',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, code: '\u0000\u001b[2J', password: pw, confirm: pw },
        status: 400,
        message: MSG.codeInvalid,
      },
      {
        name: 'reset: control characters in the password',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, code: '1', password: `${pw}\u0007`, confirm: `${pw}\u0007` },
        status: 422,
        message: MSG.rejected,
      },
      {
        name: 'reset: unknown secret',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, s: someUuid, code: '12345678', password: pw, confirm: pw },
        status: 400,
        message: MSG.codeInvalid,
      },
      {
        name: 'reset: unknown flow',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { _csrf: true, flow: someUuid, code: '12345678', password: pw, confirm: pw },
        status: 404,
        message: MSG.flowNotFound,
      },
      {
        name: 'reset: without CSRF token',
        method: 'POST',
        url: () => `/r/${R()}/reset`,
        form: { s: someUuid, code: '1', password: pw, confirm: pw },
        status: 403,
        message: MSG.csrf,
      },
      {
        name: 'reset: recovery disabled',
        method: 'POST',
        url: () => `/r/${disabled.name}/reset`,
        form: { _csrf: true, s: someUuid, code: '1', password: pw, confirm: pw },
        status: 404,
        message: MSG.recoveryDisabled,
      },
      {
        name: 'reset: unknown realm',
        method: 'POST',
        url: () => '/r/nosuchrealm/reset',
        form: { _csrf: true, s: someUuid, code: '1', password: pw, confirm: pw },
        status: 404,
        message: MSG.realmNotFound,
      },
    ];

    it.each(cases)('$name → $status HTML page', async (c) => {
      const b = new Browser(t);
      let res: InjectResponse;
      if (c.method === 'GET') {
        res = await b.get(c.url());
      } else {
        const token = await b.csrf(`/r/${realm.name}/forgot`);
        const form: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(c.form ?? {})) form[k] = v === true ? token : v;
        res = await b.post(c.url(), form);
      }
      expect(res.statusCode, res.body.slice(0, 300)).toBe(c.status);
      expectHtmlPage(res);
      if (c.message) expect(res.body).toContain(c.message);
      expect(res.body).not.toContain('<script>');
      expect(res.body).not.toContain(huge.slice(0, 1000));
    });

    it('a form post in another content type is refused without a 5xx', async () => {
      const b = new Browser(t);
      const token = await b.csrf(`/r/${realm.name}/forgot`);
      for (const [type, body] of [
        ['multipart/form-data; boundary=x', '--x--'],
        ['text/plain', `_csrf=${token}&identifier=abc`],
      ] as const) {
        const res = await t.inject({
          method: 'POST',
          url: `/r/${realm.name}/forgot`,
          remoteAddress: b.ip,
          headers: { 'accept-language': 'en', 'content-type': type, cookie: cookieHeader(Object.fromEntries(b.jar)) },
          body,
        });
        seen.push(res);
        expect(res.statusCode, `${type}: ${res.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
      }
    });
  });

  it('no page in this file was a 5xx or carried a stack trace', () => {
    expect(seen.length).toBeGreaterThan(50);
    for (const r of seen) {
      expect(r.statusCode, r.body.slice(0, 200)).toBeLessThan(500);
      expect(looksLikeLeak(r.body), r.body.slice(0, 200)).toBe(false);
    }
  });
});
