// Password recovery by e-mail, walked in a real Chromium against the real server (`node bin/dostup.js
// start`) that delivers its mail over SMTP to a real SMTP server on loopback. Each journey reads the
// link or the code from the mail a person would have received, and follows the manuals in their order:
//   S1 (000_…): "Forgot password?" by login → mail with a UUID code and a link → the link fills in
//               "Received code" → new password, confirmation, "Show" → done; S1.4 "Account does not
//               exist" when the realm opts in; S1.5 advice on the "mail sent" page.
//   S2 (001_…): username AND e-mail together (S2.2), the mail states the link's lifetime (S2.3) in the
//               user's language (S2.4), the S2.5 password rules (not one of the last three).
//   S4 (003_…): "Forgot password?" by e-mail, a control string (S4.1), the green notice (S4.2), advice
//               under the fields (S4.3), the "password changed" mail and signing in again (S4.4).
// One Dostup server, one SMTP server and one browser for the file; realms keep the presets apart.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { launchBrowser, shot } from './support/browser.ts';
import { type RunningServer, startServer } from './support/server.ts';
import { type ReceivedMail, type SmtpServer, startSmtpServer } from './support/smtp.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIL_FROM = 'Dostup <no-reply@dostup.test>';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 740 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let smtp: SmtpServer;
let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  smtp = await startSmtpServer();
  [server, browser] = await Promise.all([
    startServer({
      SMTP_URL: smtp.url,
      MAIL_FROM,
      // Every request of the file comes from 127.0.0.1: per-IP limits are not what these journeys test.
      RATE_RECOVERY_PER_IP: '1000',
      RATE_RECOVERY_VERIFY_PER_IP: '1000',
      RATE_SIGNIN_PER_IP: '1000',
    }),
    launchBrowser(),
  ]);
  // The default realm was created on first start with a base URL for port 0 (PORT=0 is resolved only
  // at listen): point it at the port the server really listens on, so the mailed links lead back to
  // it; and name the portal, as an operator would (realms/example.yaml).
  const main = await server.admin<{ policy: Record<string, unknown> }>('GET', '/api/v1/admin/realms/main');
  await putRealm({ ...main.json.policy, baseUrl: server.url, displayName: { ru: 'Мой портал', en: 'My portal' } });
}, 90_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.stop();
  await smtp?.close();
});

// ---------------------------------------------------------------------------------------------------
// helpers

async function putRealm(policy: Record<string, unknown>) {
  const r = await server.admin('PUT', `/api/v1/admin/realms/${String(policy.name)}`, policy);
  if (r.status !== 200) throw new Error(`realm ${String(policy.name)}: ${r.status} ${JSON.stringify(r.json)}`);
}

type Preset = Record<string, unknown> & { name: string; baseUrl: string; recovery: Record<string, unknown> };

/** A preset from realms/presets with the test server as its base URL (and optional changes). */
async function applyPreset(file: string, change: (p: Preset) => void = () => undefined): Promise<string> {
  const policy = parseYaml(readFileSync(path.join(ROOT, 'realms/presets', file), 'utf8')) as Preset;
  policy.baseUrl = server.url;
  change(policy);
  await putRealm(policy);
  return policy.name;
}

async function newPage(locale: 'ru-RU' | 'en-US', viewport = DESKTOP): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ locale, viewport });
  contexts.push(ctx);
  return { ctx, page: await ctx.newPage() };
}

/** The reset link and the code of a recovery mail, read from its plain-text part. */
function linkAndCode(mail: ReceivedMail, realm: string): { link: string; code: string } {
  const link = mail.text.match(/https?:\/\/\S+\/reset\?\S+/)?.[0];
  expect(link, `no reset link in:\n${mail.text}`).toBeDefined();
  const url = new URL(link!);
  expect(url.origin).toBe(server.url);
  expect(url.pathname).toBe(`/r/${realm}/reset`);
  const code = url.searchParams.get('code') ?? '';
  // The code is also in the mail on a line of its own, for typing it on another device (S1.2).
  expect(mail.text.split('\n').map((l) => l.trim())).toContain(code);
  return { link: link!, code };
}

/**
 * A screenshot of the mail's HTML part as a mail client would show it: in a blank page of its own
 * (a page of the site would apply the site's CSP, which blocks the mail's inline styles).
 */
async function shotMail(ctx: BrowserContext, mail: ReceivedMail, name: string) {
  const page = await ctx.newPage();
  await page.setContent(mail.html);
  await shot(page, name);
  await page.close();
}

const sessionCookie = async (ctx: BrowserContext) => (await ctx.cookies()).find((c) => c.name === 'dostup_session');

async function signIn(page: Page, realm: string, identifier: string, password: string) {
  await page.goto(`${server.url}/r/${realm}/login`);
  await page.locator('#identifier').fill(identifier);
  await page.locator('#password').fill(password);
  await page.locator('form.form button[type="submit"]').click();
  await page.waitForLoadState();
}

/** Sign-in page → "Forgot password?" → type the identifier(s) → "Send" → the "mail sent" page. */
async function requestRecovery(
  page: Page,
  realm: string,
  values: { identifier?: string; login?: string; email?: string },
  name?: string,
) {
  await page.goto(`${server.url}/r/${realm}/login`);
  await page.getByRole('link', { name: /Забыли пароль\?|Forgot (your )?password\?/ }).click();
  await page.waitForURL(new RegExp(`/r/${realm}/forgot$`));
  for (const [field, value] of Object.entries(values)) await page.locator(`#${field}`).fill(value);
  if (name) await shot(page, `${name}-forgot-filled`);
  const requestedAt = Date.now();
  await page.getByRole('button', { name: /^(Отправить|Send)$/ }).click();
  await page.waitForURL(new RegExp(`/r/${realm}/recover/[0-9a-f-]{36}$`));
  return requestedAt;
}

async function isGreen(page: Page, selector: string) {
  const bg = await page
    .locator(selector)
    .evaluate((el) => el.ownerDocument.defaultView?.getComputedStyle(el).backgroundColor ?? '');
  const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number) as [number, number, number];
  return g > r && g > b;
}

/** Fill the new password twice, check the S1.3 "Show" toggle flips both fields to text and back. */
async function typeNewPassword(page: Page, password: string, name?: string) {
  await page.locator('#password').fill(password);
  await page.locator('#confirm').fill(password);
  const toggle = page.locator('[data-toggle-password]');
  await toggle.waitFor({ state: 'visible' });
  expect(await toggle.innerText()).toMatch(/^(Показать|Show)$/);
  expect(await page.locator('#password').getAttribute('type')).toBe('password');
  await toggle.click();
  expect(await page.locator('#password').getAttribute('type')).toBe('text');
  expect(await page.locator('#confirm').getAttribute('type')).toBe('text');
  expect(await toggle.getAttribute('aria-pressed')).toBe('true');
  expect(await toggle.innerText()).toMatch(/^(Скрыть|Hide)$/);
  expect(await page.locator('#password').inputValue()).toBe(password);
  if (name) await shot(page, `${name}-password-shown`);
  await toggle.click();
  expect(await page.locator('#password').getAttribute('type')).toBe('password');
}

/** The advice lines under the fields (S4.3): below the confirmation, tied to the password field. */
async function hintsUnderFields(page: Page): Promise<string[]> {
  const hints = page.locator('#password-hints');
  await hints.waitFor({ state: 'visible' });
  const hintsBox = await hints.boundingBox();
  const confirmBox = await page.locator('#confirm').boundingBox();
  expect(hintsBox!.y).toBeGreaterThanOrEqual(confirmBox!.y + confirmBox!.height);
  expect(await page.locator('#password').getAttribute('aria-describedby')).toContain('password-hints');
  return (await hints.locator('li').allInnerTexts()).map((s) => s.trim());
}

async function submitNewPassword(page: Page, realm: string) {
  const at = Date.now();
  await page.getByRole('button', { name: /^(Сохранить пароль|Set password)$/ }).click();
  await page.waitForURL(new RegExp(`/r/${realm}/login\\?notice=password_changed$`));
  return at;
}

/** A page's visible text with the changing parts (countdown numbers) blanked. */
const neutral = async (page: Page) => (await page.locator('main').innerText()).replace(/\d+/g, 'N');

// ---------------------------------------------------------------------------------------------------

describe('password recovery by e-mail (default realm)', () => {
  it('ru: sign-in → "Забыли пароль?" → mail over SMTP → the link fills the code → new password → sign in (S1.2, S1.3, S1.5, S4.2–S4.4)', async () => {
    const OLD = 'старый-добрый-пароль-2019';
    const NEW = 'новая-тропинка-в-саду-77';
    await server.addUser({ login: 'ivanova', email: 'M.Ivanova@example.ru', password: OLD, locale: 'ru' });
    // A session on another device, signed in before the reset: it must end with the reset.
    const laptop = await newPage('ru-RU');
    await signIn(laptop.page, 'main', 'ivanova', OLD);
    expect(new URL(laptop.page.url()).pathname).toBe('/r/main/account');

    const { ctx, page } = await newPage('ru-RU');
    await page.goto(`${server.url}/r/main/login`);
    await shot(page, 'recovery-ru-01-signin');
    await page.getByRole('link', { name: 'Забыли пароль?' }).click();
    await page.waitForURL(/\/r\/main\/forgot$/);
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Восстановление пароля');
    await shot(page, 'recovery-ru-02-forgot');
    await page.getByLabel(/Логин/).fill('ivanova');
    const requestedAt = Date.now();
    await page.getByRole('button', { name: 'Отправить' }).click();
    await page.waitForURL(/\/r\/main\/recover\/[0-9a-f-]{36}$/);

    // S4.2: the green notice; S1.5: what to do when the mail is not there (spam folder, then support).
    const notice = page.getByRole('status');
    expect(await notice.innerText()).toMatch(/отправили .*письмо со ссылкой и кодом/);
    expect(await isGreen(page, '.notice--success')).toBe(true);
    expect(await page.locator('.resend__advice').innerText()).toMatch(/«Спам».*поддержк/s);
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Проверьте почту');
    await shot(page, 'recovery-ru-03-mail-sent');

    const mail = await smtp.waitForMail('m.ivanova@example.ru', { after: requestedAt });
    expect(mail.from).toBe('no-reply@dostup.test');
    expect(mail.subject).toBe('Восстановление пароля — Мой портал');
    expect(mail.text).toMatch(/Ссылка действует 30 минут\./);
    const { link, code } = linkAndCode(mail, 'main');
    expect(code).toMatch(/^\d{8}$/);
    await shotMail(ctx, mail, 'recovery-ru-04-mail');

    // The link, opened in the same browser: the code is already in (S1.2).
    await page.goto(link);
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Новый пароль');
    expect(await page.getByLabel('Код из письма').inputValue()).toBe(code);
    expect(await page.locator('.card__intro').innerText()).toMatch(/уже подставлен/);
    await shot(page, 'recovery-ru-05-reset-from-link');
    await typeNewPassword(page, NEW, 'recovery-ru-06');
    const hints = await hintsUnderFields(page);
    expect(hints).toContain('От 12 до 128 символов');
    expect(hints).toContain('Не из списка распространённых паролей');
    expect(await page.locator('.hints__title').innerText()).toBe('Требования к паролю:');
    const changedAt = await submitNewPassword(page, 'main');

    // The sign-in page with the success notice; nobody is signed in automatically.
    expect((await page.getByRole('status').innerText()).trim()).toBe('Пароль изменён. Войдите с новым паролем.');
    expect(await sessionCookie(ctx)).toBeUndefined();
    await shot(page, 'recovery-ru-07-changed');

    // S4.4: "your password was changed", in the user's language.
    const changed = await smtp.waitForMail('m.ivanova@example.ru', { after: changedAt });
    expect(changed.subject).toBe('Пароль изменён — Мой портал');
    expect(changed.text).toMatch(/Пароль вашей учётной записи на портале «Мой портал» изменён/);
    expect(changed.text).toContain(`${server.url}/r/main/login`);
    await shotMail(ctx, changed, 'recovery-ru-08-changed-mail');

    // The old password no longer works, the new one does; the session from before ended.
    await signIn(page, 'main', 'ivanova', OLD);
    expect((await page.getByRole('alert').innerText()).trim()).toBe('Неверный логин или пароль.');
    await signIn(page, 'main', 'ivanova', NEW);
    await page.waitForURL(/\/r\/main\/account$/);
    await shot(page, 'recovery-ru-09-signed-in');
    await laptop.page.goto(`${server.url}/r/main/account`);
    expect(new URL(laptop.page.url()).pathname).toBe('/r/main/login');

    // The link is single-use: opened again, it says so before anything is typed, and offers a new mail.
    const again = await page.goto(link);
    expect(again?.status()).toBe(410);
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Ссылка больше не действует');
    await page.getByRole('link', { name: 'Запросить новое письмо' }).waitFor({ state: 'visible' });
    await shot(page, 'recovery-ru-10-link-used');
  });

  it('the code typed by hand on another device: "I already have a code" (S1.2)', async () => {
    const NEW = 'кот-на-подоконнике-дремлет';
    await server.addUser({
      login: 'sidorov',
      email: 'sidorov@example.ru',
      password: 'первоначальный-пароль-01',
      locale: 'ru',
    });
    const laptop = await newPage('ru-RU');
    const requestedAt = await requestRecovery(laptop.page, 'main', { identifier: 'sidorov' });
    const { code } = linkAndCode(await smtp.waitForMail('sidorov@example.ru', { after: requestedAt }), 'main');

    // Another device (a phone): no flow, no cookie — the account and the code are typed.
    const phone = await newPage('ru-RU', PHONE);
    await phone.page.goto(`${server.url}/r/main/login`);
    await phone.page.getByRole('link', { name: 'Забыли пароль?' }).click();
    await phone.page.waitForURL(/\/forgot$/);
    await shot(phone.page, 'recovery-ru-phone-01-forgot');
    await phone.page.getByRole('link', { name: 'У меня уже есть код' }).click();
    await phone.page.waitForURL(/\/r\/main\/reset$/);
    expect(await phone.page.locator('.card__intro').innerText()).toMatch(
      /Введите данные учётной записи и код из письма/,
    );
    await phone.page.locator('#identifier').fill('sidorov');
    await phone.page.getByLabel('Код из письма').fill(code);
    await typeNewPassword(phone.page, NEW);
    await hintsUnderFields(phone.page);
    await shot(phone.page, 'recovery-ru-phone-02-typed-code');
    await submitNewPassword(phone.page, 'main');
    await shot(phone.page, 'recovery-ru-phone-03-changed');
    await signIn(phone.page, 'main', 'sidorov', NEW);
    await phone.page.waitForURL(/\/account$/);
  });

  it('the code typed on the "mail sent" page of the browser that asked', async () => {
    const NEW = 'весенний-ливень-на-крыше';
    await server.addUser({
      login: 'kozlova',
      email: 'kozlova@example.ru',
      password: 'первоначальный-пароль-02',
      locale: 'ru',
    });
    const { page } = await newPage('ru-RU');
    const requestedAt = await requestRecovery(page, 'main', { identifier: 'kozlova' });
    const sentUrl = page.url();
    const { code } = linkAndCode(await smtp.waitForMail('kozlova@example.ru', { after: requestedAt }), 'main');
    expect(await page.locator('.card__intro').innerText()).toMatch(/введите код из него здесь/);
    await page.getByLabel('Код из письма').fill(code);
    await typeNewPassword(page, NEW);
    await hintsUnderFields(page);
    await shot(page, 'recovery-ru-10-code-on-sent-page');
    await submitNewPassword(page, 'main');
    // The flow is done: its page now leads to sign-in.
    await page.goto(sentUrl);
    expect(new URL(page.url()).pathname).toBe('/r/main/login');
    await signIn(page, 'main', 'kozlova', NEW);
    await page.waitForURL(/\/account$/);
  });

  it('a wrong code is an error on the code field; after maxAttempts wrong codes the flow is dead', async () => {
    const PASSWORD = 'первоначальный-пароль-03';
    await server.addUser({ login: 'orlov', email: 'orlov@example.ru', password: PASSWORD, locale: 'ru' });
    const { page } = await newPage('ru-RU');
    const requestedAt = await requestRecovery(page, 'main', { identifier: 'orlov' });
    const { link, code } = linkAndCode(await smtp.waitForMail('orlov@example.ru', { after: requestedAt }), 'main');
    const wrong = code === '00000000' ? '11111111' : '00000000';
    const maxAttempts = 5; // the default realm's recovery.code.maxAttempts

    for (let i = 1; i < maxAttempts; i++) {
      await page.getByLabel('Код из письма').fill(wrong);
      await page.locator('#password').fill('новый-пароль-не-пригодится');
      await page.locator('#confirm').fill('новый-пароль-не-пригодится');
      await page.getByRole('button', { name: 'Сохранить пароль' }).click();
      await page.waitForLoadState();
      const alert = page.getByRole('alert');
      expect(await alert.innerText()).toMatch(/Код неверен или срок его действия истёк/);
      const codeInput = page.getByLabel('Код из письма');
      expect(await codeInput.getAttribute('aria-invalid')).toBe('true');
      expect(await codeInput.getAttribute('aria-describedby')).toContain('form-error');
      expect(await page.locator('.field--invalid #code').count()).toBe(1);
      expect(await page.locator('#password').getAttribute('aria-invalid')).toBeNull();
      // The typed code stays for correcting it; the passwords are typed again.
      expect(await codeInput.inputValue()).toBe(wrong);
      if (i === 1) await shot(page, 'recovery-ru-11-wrong-code');
    }
    await page.getByLabel('Код из письма').fill(wrong);
    await page.locator('#password').fill('новый-пароль-не-пригодится');
    await page.locator('#confirm').fill('новый-пароль-не-пригодится');
    await page.getByRole('button', { name: 'Сохранить пароль' }).click();
    await page.waitForLoadState();
    expect(await page.locator('main').innerText()).toMatch(/Слишком много неверных попыток\. Запросите новый код\./);
    await shot(page, 'recovery-ru-12-attempts-exhausted');

    // Dead: the right code through the mailed link does not work either, and the password is unchanged.
    const dead = await page.goto(link);
    expect(dead?.status()).toBe(410);
    expect(await page.locator('main').innerText()).toMatch(/Ссылка больше не действует/);
    expect(await page.locator('#password').count()).toBe(0);
    await shot(page, 'recovery-ru-13-link-after-exhausted');
    await signIn(page, 'main', 'orlov', PASSWORD);
    await page.waitForURL(/\/account$/);
  });

  it('en: the whole journey in English, desktop and phone', async () => {
    const NEW = 'quiet-river-under-the-bridge-9';
    await server.addUser({
      login: 'smith',
      email: 'j.smith@example.com',
      password: 'first-password-of-smith-1',
      locale: 'en',
    });
    const { ctx, page } = await newPage('en-US');
    await page.goto(`${server.url}/r/main/login`);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.waitForURL(/\/forgot$/);
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Forgot your password?');
    await shot(page, 'recovery-en-01-forgot');
    await page.locator('#identifier').fill('J.Smith@Example.com');
    const requestedAt = Date.now();
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/recover\/[0-9a-f-]{36}$/);
    expect(await page.getByRole('status').innerText()).toMatch(/we have sent an e-mail with a link and a code/);
    expect(await isGreen(page, '.notice--success')).toBe(true);
    expect(await page.locator('.resend__advice').innerText()).toMatch(/spam folder.*support/s);
    await shot(page, 'recovery-en-02-mail-sent');

    const mail = await smtp.waitForMail('j.smith@example.com', { after: requestedAt });
    expect(mail.subject).toBe('Password reset — My portal');
    expect(mail.text).toMatch(/The link is valid for 30 minutes\./);
    expect(mail.text).toMatch(/The code is valid for 10 minutes\./);
    const { link, code } = linkAndCode(mail, 'main');
    await shotMail(ctx, mail, 'recovery-en-03-mail');

    // The same pages on a phone (opening the link changes nothing).
    const phone = await newPage('en-US', PHONE);
    await phone.page.goto(`${server.url}/r/main/forgot`);
    await shot(phone.page, 'recovery-en-phone-01-forgot');
    await phone.page.goto(link);
    await hintsUnderFields(phone.page);
    await shot(phone.page, 'recovery-en-phone-02-reset');
    await shotMail(phone.ctx, mail, 'recovery-en-phone-03-mail');

    await page.goto(link);
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('New password');
    expect(await page.getByLabel('Code from the e-mail').inputValue()).toBe(code);
    await typeNewPassword(page, NEW, 'recovery-en-04');
    const hints = await hintsUnderFields(page);
    expect(hints).toContain('12 to 128 characters');
    await shot(page, 'recovery-en-05-reset');
    const changedAt = await submitNewPassword(page, 'main');
    expect((await page.getByRole('status').innerText()).trim()).toBe(
      'Your password has been changed. Sign in with the new password.',
    );
    await shot(page, 'recovery-en-06-changed');
    const changed = await smtp.waitForMail('j.smith@example.com', { after: changedAt });
    expect(changed.subject).toBe('Password changed — My portal');
    await signIn(page, 'main', 'smith', NEW);
    await page.waitForURL(/\/account$/);
  });

  it("the user's locale wins for the mail: ru user, en browser → Russian mail (S2.4)", async () => {
    await server.addUser({
      login: 'petrov',
      email: 'petrov@example.ru',
      password: 'первоначальный-пароль-04',
      locale: 'ru',
    });
    const { page } = await newPage('en-US');
    const requestedAt = await requestRecovery(page, 'main', { identifier: 'petrov' });
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Check your e-mail');
    const mail = await smtp.waitForMail('petrov@example.ru', { after: requestedAt });
    expect(mail.subject).toBe('Восстановление пароля — Мой портал');
    expect(mail.text).toMatch(/Здравствуйте!/);
    expect(mail.text).toMatch(/Ссылка действует 30 минут\./);
    expect(mail.html).toMatch(/<html lang="ru">/);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('the manuals, reproduced by realm presets', () => {
  it('S1 — e-procurement: by login, a UUID code and a link that fills "Полученный код", "Показать" (S1.1–S1.3, S1.5)', async () => {
    const realm = await applyPreset('s1-procurement.yaml');
    const NEW = 'zakupka-2025-vesna';
    await server.addUser(
      { login: 'lsr-buyer', email: 'buyer@lsr.example', password: 'nachalnyi-parol-1', locale: 'ru' },
      realm,
    );
    const { ctx, page } = await newPage('ru-RU');

    // S1.1: "Вход": login, password, "remember me", "Forgot password?".
    await page.goto(`${server.url}/r/${realm}/login`);
    expect(await page.locator('label[for="identifier"]').innerText()).toBe('Логин');
    await page.locator('#remember').waitFor({ state: 'visible' });
    await shot(page, 'recovery-s1-01-signin');

    const requestedAt = await requestRecovery(page, realm, { identifier: 'lsr-buyer' }, 'recovery-s1-02');
    expect(await isGreen(page, '.notice--success')).toBe(true);
    // S1.5: the spam folder, then support with the organisation's INN and the expected address.
    expect(await page.locator('.resend__advice').innerText()).toMatch(
      /«Спам».*ИНН организации.*адрес электронной почты/s,
    );
    await shot(page, 'recovery-s1-03-mail-sent');

    const mail = await smtp.waitForMail('buyer@lsr.example', { after: requestedAt });
    expect(mail.subject).toBe('Восстановление пароля — Торговая площадка');
    const { link, code } = linkAndCode(mail, realm);
    expect(code).toMatch(UUID);
    expect(mail.text).toMatch(/Ссылка действует 1 час\./);
    await shotMail(ctx, mail, 'recovery-s1-mail');
    const phone = await newPage('ru-RU', PHONE);
    await shotMail(phone.ctx, mail, 'recovery-s1-mail-phone');
    await phone.page.goto(link); // showing the form consumes nothing
    await shot(phone.page, 'recovery-s1-phone-reset-from-link');

    // S1.3: "Восстановление пароля": received code, new password + "Show", confirmation.
    await page.goto(link);
    const order = await page
      .locator('form.form')
      .last()
      .locator('input:not([type="hidden"]), button')
      .evaluateAll((els) => els.map((e) => e.id || e.textContent?.trim()));
    expect(order).toEqual(['code', 'password', 'Показать', 'confirm', 'Сохранить пароль']);
    expect(await page.getByLabel('Полученный код').inputValue()).toBe(code);
    await shot(page, 'recovery-s1-04-reset-from-link');
    await typeNewPassword(page, NEW, 'recovery-s1-05');
    expect(await hintsUnderFields(page)).toContain('От 8 до 64 символов');
    await submitNewPassword(page, realm);
    await shot(page, 'recovery-s1-06-changed');
    await signIn(page, realm, 'lsr-buyer', NEW);
    await page.waitForURL(new RegExp(`/r/${realm}/account$`));
  });

  it('S1.4 — with unknownAccounts: reveal, an unknown login gets "Учётная запись не существует"', async () => {
    const realm = await applyPreset('s1-procurement.yaml', (p) => {
      p.name = 's1-reveal';
      p.recovery.unknownAccounts = 'reveal';
    });
    await server.addUser(
      { login: 'known-buyer', email: 'known@lsr.example', password: 'nachalnyi-parol-2', locale: 'ru' },
      realm,
    );
    const { page } = await newPage('ru-RU');
    await page.goto(`${server.url}/r/${realm}/forgot`);
    await page.locator('#identifier').fill('no-such-buyer');
    await page.getByRole('button', { name: 'Отправить' }).click();
    await page.waitForLoadState();
    expect(new URL(page.url()).pathname).toBe(`/r/${realm}/forgot`);
    expect(await page.getByRole('alert').innerText()).toMatch(/^Учётная запись не существует\./);
    // Said once: not repeated as a list of one under the summary.
    expect((await page.getByRole('alert').innerText()).match(/не существует/g)).toHaveLength(1);
    expect(await page.locator('#identifier').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#identifier').inputValue()).toBe('no-such-buyer');
    await shot(page, 'recovery-s1-07-reveal-unknown');
    // A known login goes on as usual.
    const requestedAt = Date.now();
    await page.locator('#identifier').fill('known-buyer');
    await page.getByRole('button', { name: 'Отправить' }).click();
    await page.waitForURL(/\/recover\/[0-9a-f-]{36}$/);
    expect(linkAndCode(await smtp.waitForMail('known@lsr.example', { after: requestedAt }), realm).code).toMatch(UUID);
  });

  it("S2 — merchant cabinet: login AND e-mail, lifetime in the mail in the user's language, the S2.5 rules (S2.2–S2.5)", async () => {
    const realm = await applyPreset('s2-payments.yaml');
    const CURRENT = 'Merchant2024a';
    const NEW = 'Spring2025merchant';
    await server.addUser({ login: 'shop-minsk', email: 'owner@shop.example', password: CURRENT, locale: 'en' }, realm);
    // S2.2: a user without the right to change their own password is answered like an unknown one.
    await server.addUser(
      { login: 'shop-viewer', email: 'viewer@shop.example', password: 'Viewer2024b', rights: [] },
      realm,
    );
    const { page } = await newPage('ru-RU');

    // The right login with a wrong e-mail: the same neutral page, and no mail to anyone.
    const wrongAt = await requestRecovery(
      page,
      realm,
      { login: 'shop-minsk', email: 'someone-else@shop.example' },
      'recovery-s2-01',
    );
    expect(await page.locator('#login').count()).toBe(0);
    const wrongPage = await neutral(page);
    await shot(page, 'recovery-s2-02-sent-wrong-email');
    await requestRecovery(page, realm, { login: 'shop-viewer', email: 'viewer@shop.example' });
    const noRightPage = await neutral(page);

    const rightAt = await requestRecovery(page, realm, { login: 'shop-minsk', email: 'owner@shop.example' });
    expect(await neutral(page)).toBe(wrongPage);
    expect(noRightPage).toBe(wrongPage);
    await shot(page, 'recovery-s2-03-sent');
    const mail = await smtp.waitForMail('owner@shop.example', { after: rightAt });
    expect(rightAt).toBeGreaterThan(wrongAt);
    expect(smtp.mailsTo('owner@shop.example')).toHaveLength(1);
    expect(smtp.mailsTo('someone-else@shop.example')).toHaveLength(0);
    expect(smtp.mailsTo('viewer@shop.example')).toHaveLength(0);

    // S2.3 + S2.4: the mail says how long the link lives, in the user's language (en), not the browser's (ru).
    expect(mail.subject).toBe('Password reset — Merchant cabinet');
    expect(mail.text).toMatch(/The link is valid for 1 hour\./);
    const { link } = linkAndCode(mail, realm);
    expect(link).toMatch(/code=[A-Z0-9]{10}(&|$)/);

    // S2.5 shown under the fields.
    await page.goto(link);
    const hints = await hintsUnderFields(page);
    expect(hints).toEqual(
      expect.arrayContaining([
        'От 8 до 20 символов',
        'Только латинские буквы (A–Z, a–z) и цифры',
        'Хотя бы одна буква',
        'Хотя бы одна цифра',
        'Не совпадает ни с одним из 3 последних паролей',
      ]),
    );
    await shot(page, 'recovery-s2-04-reset-from-link');

    const attempt = async (password: string) => {
      await page.locator('#password').fill(password);
      await page.locator('#confirm').fill(password);
      await page.getByRole('button', { name: 'Сохранить пароль' }).click();
      await page.waitForLoadState();
    };
    // The current password is one of the last three: refused, with the rule named; the code stays.
    await attempt(CURRENT);
    expect(await page.getByRole('alert').innerText()).toMatch(/Этот пароль вы уже использовали недавно/);
    expect(await page.locator('#password').getAttribute('aria-invalid')).toBe('true');
    await hintsUnderFields(page);
    await shot(page, 'recovery-s2-05-reused-refused');
    // Cyrillic letters (a wrong keyboard layout) and too long: refused, the rules listed.
    await attempt('Пароль2025');
    expect(await page.getByRole('alert').innerText()).toMatch(/только латинские буквы/i);
    await attempt('Abcdefgh12345678901234');
    expect(await page.getByRole('alert').innerText()).toMatch(/не больше 20 символов/);
    await attempt('OnlyLettersHere');
    expect(await page.getByRole('alert').innerText()).toMatch(/хотя бы одну цифру/i);
    await shot(page, 'recovery-s2-06-rules-refused');

    await typeNewPassword(page, NEW);
    await submitNewPassword(page, realm);
    await shot(page, 'recovery-s2-07-changed');
    await signIn(page, realm, 'shop-minsk', CURRENT);
    expect(await page.getByRole('alert').innerText()).toMatch(/Неверный логин или пароль/);
    await signIn(page, realm, 'shop-minsk', NEW);
    await page.waitForURL(new RegExp(`/r/${realm}/account$`));
  });

  it('S3.4 and S5.4 — recycling operator and school diary: "Forgot password?" on the sign-in form → a mail with a link → the new password twice → sign in', async () => {
    const cases = [
      // S3.4: login or e-mail; the S3.6 rules (upper, lower, digit, one of the listed special characters).
      { preset: 's3-recycling.yaml', login: 'rop-operator', email: 'operator@rop.example', NEW: 'Vtorsyrio-2025!' },
      // S5.4: by login (the captcha comes with a later issue); the school's advice in the mail.
      { preset: 's5-school.yaml', login: 'ivanov-7b', email: 'parent@school.example', NEW: 'dnevnik-vesna-2025' },
    ];
    for (const c of cases) {
      const realm = await applyPreset(c.preset);
      const name = `recovery-${realm.slice(0, 2)}`;
      await server.addUser({ login: c.login, email: c.email, password: 'nachalnyi-parol-3!A', locale: 'ru' }, realm);
      const { page } = await newPage('ru-RU');
      const requestedAt = await requestRecovery(page, realm, { identifier: c.login }, `${name}-01`);
      expect(await isGreen(page, '.notice--success')).toBe(true);
      const mail = await smtp.waitForMail(c.email, { after: requestedAt });
      const { link, code } = linkAndCode(mail, realm);
      if (realm === 's5-school') expect(mail.text).toContain('Обратитесь к администратору школы.');
      await page.goto(link);
      expect(await page.locator('#code').inputValue()).toBe(code);
      await shot(page, `${name}-02-reset-from-link`);
      await typeNewPassword(page, c.NEW);
      await submitNewPassword(page, realm);
      await signIn(page, realm, c.login, c.NEW);
      await page.waitForURL(new RegExp(`/r/${realm}/account$`));
    }
  });

  it('S4 — CRM: by e-mail, a control string, the green notice, advice under the fields, "password changed" mail, sign in again (S4.1–S4.4)', async () => {
    const realm = await applyPreset('s4-crm.yaml');
    const NEW = 'bitrix-vesna-2025-crm';
    await server.addUser({ email: 'manager@crm.example', password: 'nachalnyi-parol-crm', locale: 'ru' }, realm);
    const { ctx, page } = await newPage('ru-RU', PHONE);

    // S4.1: "Forgot your password?" asks for the e-mail.
    const requestedAt = await requestRecovery(page, realm, { identifier: 'manager@crm.example' }, 'recovery-s4-01');
    expect(await page.locator('html').getAttribute('lang')).toBe('ru');
    // S4.2: the green notice; otherwise "contact your administrator".
    expect(await isGreen(page, '.notice--success')).toBe(true);
    expect(await page.locator('.resend__advice').innerText()).toMatch(/обратитесь к администратору/);
    await shot(page, 'recovery-s4-02-mail-sent');

    const mail = await smtp.waitForMail('manager@crm.example', { after: requestedAt });
    const { link, code } = linkAndCode(mail, realm);
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    await shotMail(ctx, mail, 'recovery-s4-mail-phone');

    // S4.3: the link opens the form; new password + confirmation, the advice under the fields.
    await page.goto(link);
    expect(await page.getByLabel('Контрольная строка').inputValue()).toBe(code);
    const hints = await hintsUnderFields(page);
    expect(hints).toContain('От 10 до 128 символов');
    await shot(page, 'recovery-s4-03-reset-from-link');
    await typeNewPassword(page, NEW, 'recovery-s4-04');
    const changedAt = await submitNewPassword(page, realm);
    await shot(page, 'recovery-s4-05-changed');

    // S4.4: the "password changed" mail, then sign in with the new password.
    const changed = await smtp.waitForMail('manager@crm.example', { after: changedAt });
    expect(changed.subject).toBe('Пароль изменён — CRM');
    expect(changed.text).toMatch(/Пароль вашей учётной записи на портале «CRM» изменён/);
    await signIn(page, realm, 'manager@crm.example', NEW);
    await page.waitForURL(new RegExp(`/r/${realm}/account$`));
    await shot(page, 'recovery-s4-06-signed-in');
  });
});
