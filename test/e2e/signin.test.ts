// Journeys in a real Chromium against the real server started as a user would start it:
// sign-in in Russian and in English, the generic wrong-password message (S2.1), "remember me"
// (S1.1) persistence vs a browser-session cookie, sign-out, and ending a session from another device.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, shot } from './support/browser.ts';
import { type RunningServer, startServer } from './support/server.ts';

let server: RunningServer;
let browser: Browser;
const PASSWORD = 'тихий-ветер-над-рекой-42';

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  await server.addUser({ login: 'ivanova', email: 'M.Ivanova@example.ru', password: PASSWORD, locale: 'ru' });
  await server.addUser({ login: 'smith', email: 'j.smith@example.com', password: PASSWORD, locale: 'en' });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function newPage(
  locale: 'ru-RU' | 'en-US',
  viewport = { width: 1280, height: 800 },
): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ locale, viewport });
  return { ctx, page: await ctx.newPage() };
}

async function signIn(page: Page, identifier: string, password: string, remember = false) {
  await page.goto(`${server.url}/r/main/login`);
  await page.getByLabel(/Логин|Login/).fill(identifier);
  await page.getByLabel(/^(Пароль|Password)$/).fill(password);
  if (remember) await page.getByLabel(/Запомнить меня|Remember me/).check();
  await page.getByRole('button', { name: /Войти|Sign in/ }).click();
}

const sessionCookie = async (ctx: BrowserContext) => (await ctx.cookies()).find((c) => c.name === 'dostup_session');

describe('sign-in journeys', () => {
  it('signs in in Russian, shows the account, signs out', async () => {
    const { ctx, page } = await newPage('ru-RU');
    await page.goto(`${server.url}/r/main/login`);
    expect(await page.locator('html').getAttribute('lang')).toBe('ru');
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Вход');
    await page.getByRole('link', { name: 'Забыли пароль?' }).waitFor({ state: 'visible' });
    await shot(page, 'signin-ru');
    await signIn(page, 'IVANOVA', PASSWORD);
    await page.waitForURL(/\/r\/main\/account$/);
    expect(await page.locator('.account__name').innerText()).toBe('ivanova');
    await shot(page, 'account-ru');
    await page.getByRole('button', { name: 'Выйти' }).click();
    await page.waitForURL(/\/r\/main\/login\?notice=signed_out$/);
    await page.getByRole('status').waitFor({ state: 'visible' });
    await shot(page, 'signed-out-ru');
    expect(await sessionCookie(ctx)).toBeUndefined();
    await page.goto(`${server.url}/r/main/account`);
    expect(new URL(page.url()).pathname).toBe('/r/main/login');
    await ctx.close();
  });

  it('signs in in English by e-mail typed in another case', async () => {
    const { ctx, page } = await newPage('en-US');
    await page.goto(`${server.url}/r/main/login`);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Sign in');
    await shot(page, 'signin-en');
    await signIn(page, 'J.SMITH@EXAMPLE.COM', PASSWORD);
    await page.waitForURL(/\/r\/main\/account$/);
    await shot(page, 'account-en');
    await ctx.close();
  });

  it('wrong password and unknown login show the same generic message, tied to the field (S2.1)', async () => {
    const { ctx, page } = await newPage('ru-RU');
    await signIn(page, 'ivanova', 'не-тот-пароль-совсем');
    const alert = page.getByRole('alert');
    expect((await alert.innerText()).trim()).toBe('Неверный логин или пароль.');
    expect(await page.getByLabel('Пароль', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel(/Логин/).inputValue()).toBe('ivanova');
    await shot(page, 'signin-error-ru');
    const known = await page.locator('main').innerText();
    await signIn(page, 'nobody-here', 'не-тот-пароль-совсем');
    expect((await page.getByRole('alert').innerText()).trim()).toBe('Неверный логин или пароль.');
    const unknown = await page.locator('main').innerText();
    expect(unknown.replace('nobody-here', 'X')).toBe(known.replace('ivanova', 'X'));
    await ctx.close();
  });

  it('switches language with the switcher and keeps it', async () => {
    const { ctx, page } = await newPage('ru-RU');
    await page.goto(`${server.url}/r/main/login`);
    await page.getByRole('link', { name: 'English' }).click();
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Sign in');
    await page.reload();
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await ctx.close();
  });

  it('without "remember me" the cookie ends with the browser; with it, it persists', async () => {
    const a = await newPage('ru-RU');
    await signIn(a.page, 'ivanova', PASSWORD, false);
    await a.page.waitForURL(/account$/);
    const plain = await sessionCookie(a.ctx);
    expect(plain?.expires).toBe(-1); // a browser-session cookie
    expect(plain?.httpOnly).toBe(true);
    expect(plain?.sameSite).toBe('Lax');

    const b = await newPage('ru-RU');
    await signIn(b.page, 'ivanova', PASSWORD, true);
    await b.page.waitForURL(/account$/);
    const remembered = await sessionCookie(b.ctx);
    const days = ((remembered?.expires ?? 0) * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);

    // "Restart the browser": a new context gets only the persistent cookies of the old one.
    const persistent = (await b.ctx.cookies()).filter((c) => c.expires > 0);
    const restarted = await browser.newContext({ locale: 'ru-RU' });
    await restarted.addCookies(persistent);
    const page = await restarted.newPage();
    await page.goto(`${server.url}/r/main/account`);
    expect(new URL(page.url()).pathname).toBe('/r/main/account');

    const plainPersistent = (await a.ctx.cookies()).filter((c) => c.expires > 0);
    const restartedPlain = await browser.newContext({ locale: 'ru-RU' });
    await restartedPlain.addCookies(plainPersistent);
    const page2 = await restartedPlain.newPage();
    await page2.goto(`${server.url}/r/main/account`);
    expect(new URL(page2.url()).pathname).toBe('/r/main/login');
    for (const c of [a.ctx, b.ctx, restarted, restartedPlain]) await c.close();
  });

  it('lists sessions and ends the one on another device', async () => {
    const laptop = await newPage('en-US');
    const phone = await newPage('en-US', { width: 375, height: 740 });
    await signIn(phone.page, 'smith', PASSWORD);
    await phone.page.waitForURL(/account$/);
    await shot(phone.page, 'account-phone-en');
    await signIn(laptop.page, 'smith', PASSWORD);
    await laptop.page.waitForURL(/account$/);
    const endButtons = laptop.page.getByRole('button', { name: /End session/ });
    expect(await endButtons.count()).toBeGreaterThanOrEqual(2);
    await shot(laptop.page, 'sessions-en');
    // End every session but this one, from the laptop.
    const rows = laptop.page.locator('li.session:not(.session--current)');
    while ((await rows.count()) > 0) {
      await rows
        .first()
        .getByRole('button', { name: /End session/ })
        .click();
      await laptop.page.waitForURL(/account$/);
    }
    await phone.page.reload();
    expect(new URL(phone.page.url()).pathname).toBe('/r/main/login');
    await laptop.page.reload();
    expect(new URL(laptop.page.url()).pathname).toBe('/r/main/account');
    await laptop.ctx.close();
    await phone.ctx.close();
  });
});
