// Renders every hosted-page view with sample data, in Russian and English, to /tmp/views/*.html and
// screenshots them in Chromium at desktop and phone sizes — to look at the pages, not to test them.
//   npx tsx scripts/render-views.ts [--no-shots]
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadCatalog } from '../src/core/i18n/catalog.ts';
import type { Html } from '../src/http/web/html.ts';
import { accountPage } from '../src/http/web/views/account-page.ts';
import type { PageChrome } from '../src/http/web/views/layout.ts';
import { loginPage } from '../src/http/web/views/login-page.ts';
import { messagePage } from '../src/http/web/views/message-page.ts';
import {
  type ResetFormModel,
  recoveryRequestPage,
  recoverySentPage,
  resetPage,
} from '../src/http/web/views/recovery-pages.ts';

const OUT = '/tmp/views';
const CSS = fileURLToPath(new URL('../public/dostup.css', import.meta.url));
const JS = fileURLToPath(new URL('../public/dostup.js', import.meta.url));
type Locale = 'ru' | 'en';

mkdirSync(OUT, { recursive: true });
// Two realms: the default colours with no logo, and a green one with a logo, to see branding work.
writeFileSync(`${OUT}/theme.css`, ':root { --brand: #1f5fbf; --bg: #f4f6fa; }\n');
writeFileSync(`${OUT}/theme-green.css`, ':root { --brand: #0b7a55; --bg: #eef4f1; }\n');
writeFileSync(
  `${OUT}/logo.svg`,
  `<svg xmlns="http://www.w3.org/2000/svg" width="180" height="40" viewBox="0 0 180 40">
<rect x="0" y="4" width="32" height="32" rx="8" fill="#0b7a55"/><path d="M9 20l6 6 10-12" stroke="#fff" stroke-width="4" fill="none"/>
<text x="42" y="27" font-family="DejaVu Sans, sans-serif" font-size="18" font-weight="700" fill="#123">ЭкоОператор</text></svg>`,
);

const catalog = loadCatalog();

function chrome(locale: Locale, green = false): PageChrome {
  const realm = green
    ? {
        name: 'eco',
        title: locale === 'ru' ? 'ЭкоОператор' : 'EcoOperator',
        logoUrl: pathToFileURL(`${OUT}/logo.svg`).href,
        supportText:
          locale === 'ru'
            ? 'Служба поддержки: 8 800 000-00-00, ежедневно с 9:00 до 21:00\nsupport@eco.example'
            : 'Support: 8 800 000-00-00, daily 9:00–21:00\nsupport@eco.example',
      }
    : {
        name: 'zakupki',
        title: locale === 'ru' ? 'Электронная торговая площадка' : 'E-procurement platform',
        supportText: locale === 'ru' ? 'Поддержка: help@zakupki.example' : 'Support: help@zakupki.example',
      };
  return {
    locale,
    t: (id, params) => catalog.t(locale, id, params),
    realm,
    themeCssUrl: pathToFileURL(`${OUT}/${green ? 'theme-green.css' : 'theme.css'}`).href,
    langLinks: [
      { locale: 'ru', label: 'Русский', href: '?lang=ru', current: locale === 'ru' },
      { locale: 'en', label: 'English', href: '?lang=en', current: locale === 'en' },
    ],
    title: '',
  };
}

const csrfToken = 'csrf-token-sample';
const hour = 3_600_000;
const now = new Date('2025-05-15T11:32:00Z');

// S2.5's policy as the reset form lists it under the fields (S4.3).
const hints = (l: Locale) => [
  catalog.t(l, 'password.hint.length', { min: 8, count: 20 }),
  catalog.t(l, 'password.hint.allowed_latin_digits'),
  catalog.t(l, 'password.hint.needs_letter'),
  catalog.t(l, 'password.hint.needs_digit'),
  catalog.t(l, 'password.hint.not_reused', { count: 3 }),
];

const resetFormFor = (l: Locale, over: Partial<ResetFormModel> = {}): ResetFormModel => ({
  action: '/r/zakupki/recovery/reset',
  csrfToken,
  hidden: { s: 'sec_01HZX"><b>' },
  identifierFields: [],
  values: {},
  codeLabel: catalog.t(l, 'recovery.code_label_digits'),
  codeHint: catalog.t(l, 'recovery.code_hint_digits', { count: 8 }),
  codeInputMode: 'numeric',
  hints: hints(l),
  ...over,
});

const pages: Record<string, (l: Locale) => Html> = {
  login: (l) =>
    loginPage({
      chrome: chrome(l),
      action: '/r/zakupki/signin',
      csrfToken,
      values: { identifier: '', remember: false },
      identifierLabel: catalog.t(l, 'page.identifier_login'),
      showRemember: true,
      forgotHref: '/r/zakupki/recovery',
      notice: { kind: 'success', message: catalog.t(l, 'page.signed_out') },
    }),
  'login-error': (l) =>
    loginPage({
      chrome: chrome(l),
      action: '/r/zakupki/signin',
      csrfToken,
      values: { identifier: 'ivanov"><script>alert(1)</script>', remember: true },
      identifierLabel: catalog.t(l, 'page.identifier_login_or_email'),
      showRemember: true,
      forgotHref: '/r/zakupki/recovery',
      error: { message: catalog.t(l, 'error.invalid_credentials') },
    }),
  'login-green': (l) =>
    loginPage({
      chrome: chrome(l, true),
      action: '/r/eco/signin',
      csrfToken,
      values: { identifier: '', remember: false },
      identifierLabel: catalog.t(l, 'page.identifier_email'),
      showRemember: false,
      forgotHref: '/r/eco/recovery',
      notice: { kind: 'info', message: catalog.t(l, 'page.password_changed') },
    }),
  account: (l) =>
    accountPage({
      chrome: chrome(l),
      csrfToken,
      user: {
        login: 'ivanov.ai',
        email: 'ivanov@firma.example',
        phone: '+79161234567',
        rights: ['orders:read', 'reports:read'],
      },
      logoutAction: '/r/zakupki/signout',
      notice: { kind: 'success', message: catalog.t(l, 'page.session_ended') },
      sessions: [
        {
          id: 's2',
          current: false,
          createdAt: new Date(now.getTime() - 50 * hour),
          lastSeenAt: new Date(now.getTime() - 26 * hour),
          expiresAt: new Date(now.getTime() + 24 * 30 * hour),
          remember: true,
          ip: '2001:db8:85a3::8a2e:370:7334',
          userAgent:
            'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
          revokeAction: '/r/zakupki/sessions/s2/revoke',
        },
        {
          id: 's1',
          current: true,
          createdAt: new Date(now.getTime() - 2 * hour),
          lastSeenAt: now,
          expiresAt: new Date(now.getTime() + 8 * hour),
          remember: false,
          ip: '203.0.113.42',
          userAgent:
            'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
          revokeAction: '/r/zakupki/sessions/s1/revoke',
        },
        {
          id: 's3',
          current: false,
          createdAt: new Date(now.getTime() - 200 * hour),
          lastSeenAt: new Date(now.getTime() - 190 * hour),
          expiresAt: new Date(now.getTime() + 5 * hour),
          remember: false,
          ip: null,
          userAgent: '<b>curl/8.5</b>',
          revokeAction: '/r/zakupki/sessions/s3/revoke',
        },
      ],
    }),
  'recovery-request': (l) =>
    recoveryRequestPage({
      chrome: chrome(l),
      action: '/r/zakupki/recovery',
      csrfToken,
      fields: ['identifier'],
      identifierLabel: catalog.t(l, 'page.identifier_login'),
      intro: catalog.t(l, 'recovery.intro_login'),
      values: {},
      backHref: '/r/zakupki/login',
      codeHref: '/r/zakupki/recovery/code',
    }),
  'recovery-request-error': (l) =>
    recoveryRequestPage({
      chrome: chrome(l, true),
      action: '/r/eco/recovery',
      csrfToken,
      fields: ['login', 'email'],
      identifierLabel: catalog.t(l, 'page.identifier_login'),
      intro: catalog.t(l, 'recovery.intro_login_and_email'),
      values: { login: 'ivanov', email: 'ivanov@firma.example' },
      error: { message: catalog.t(l, 'recovery.no_user_or_wrong_email'), field: 'identifier' },
      backHref: '/r/eco/login',
    }),
  'recovery-sent': (l) =>
    recoverySentPage({
      chrome: chrome(l),
      csrfToken,
      notice: catalog.t(l, 'recovery.sent_notice'),
      advice: catalog.t(l, 'recovery.default_advice'),
      resendAction: '/r/zakupki/recovery/f1/resend',
      resendInSeconds: 45,
      form: resetFormFor(l, { hidden: { flow: 'f1' } }),
      backHref: '/r/zakupki/login',
    }),
  'recovery-sent-error': (l) =>
    recoverySentPage({
      chrome: chrome(l),
      csrfToken,
      notice: catalog.t(l, 'recovery.sent_notice'),
      resendAction: '/r/zakupki/recovery/f1/resend',
      resendInSeconds: 0,
      resendNotice: { kind: 'success', message: catalog.t(l, 'recovery.resend_done') },
      form: resetFormFor(l, {
        hidden: { flow: 'f1' },
        values: { code: '1234567' },
        error: {
          message: `${catalog.t(l, 'error.code_invalid')} ${catalog.t(l, 'recovery.code_invalid_help')}`,
          field: 'code',
        },
      }),
      backHref: '/r/zakupki/login',
    }),
  reset: (l) =>
    resetPage({
      chrome: chrome(l),
      form: resetFormFor(l, {
        codeLabel: catalog.t(l, 'recovery.code_label_uuid'),
        codeHint: catalog.t(l, 'recovery.code_hint_uuid'),
        codeInputMode: 'text',
        values: { code: '41774119-5bad-4e60-9869-1c041eca04bb' },
      }),
      backHref: '/r/zakupki/login',
    }),
  'reset-error': (l) =>
    resetPage({
      chrome: chrome(l, true),
      form: resetFormFor(l, {
        action: '/r/eco/recovery/reset',
        hidden: {},
        identifierFields: ['identifier'],
        identifierLabel: catalog.t(l, 'page.identifier_email'),
        values: { identifier: 'ivanov@firma.example', code: 'K7M2QX9P' },
        codeLabel: catalog.t(l, 'recovery.code_label_control_string'),
        codeHint: catalog.t(l, 'recovery.code_hint_control_string', { count: 8 }),
        codeInputMode: 'text',
        error: {
          message: catalog.t(l, 'error.password_rejected'),
          field: 'password',
          details: [catalog.t(l, 'password.too_short', { count: 8 }), catalog.t(l, 'password.needs_digit')],
        },
      }),
      backHref: '/r/eco/login',
    }),
  'message-error': (l) =>
    messagePage({
      chrome: chrome(l),
      heading: catalog.t(l, 'page.page_expired_title'),
      message: catalog.t(l, 'error.csrf_invalid'),
      kind: 'error',
      links: [{ href: '/r/zakupki/signin', label: catalog.t(l, 'page.back_to_signin') }],
    }),
  'message-info': (l) =>
    messagePage({
      chrome: chrome(l, true),
      heading: catalog.t(l, 'page.recovery_unavailable_title'),
      message: catalog.t(l, 'page.recovery_unavailable_text'),
      kind: 'info',
      links: [
        { href: '/r/eco/signin', label: catalog.t(l, 'page.back_to_signin') },
        { href: '/r/eco/help', label: catalog.t(l, 'page.try_again') },
      ],
    }),
  'message-bare': (l) =>
    messagePage({
      chrome: { ...chrome(l), langLinks: [] },
      heading: catalog.t(l, 'page.not_found_title'),
      message: catalog.t(l, 'error.realm_not_found'),
      kind: 'error',
    }),
};

const files: string[] = [];
for (const [name, render] of Object.entries(pages)) {
  for (const locale of ['ru', 'en'] as const) {
    // The server serves the stylesheet at /assets/; from a file the link must point at the source.
    const doc = render(locale)
      .value.replace('href="/assets/dostup.css"', `href="${pathToFileURL(CSS).href}"`)
      .replace('src="/assets/dostup.js"', `src="${pathToFileURL(JS).href}"`);
    const file = `${OUT}/${name}-${locale}.html`;
    writeFileSync(file, doc);
    files.push(file);
  }
}
console.log(`wrote ${files.length} pages to ${OUT}`);

if (!process.argv.includes('--no-shots')) {
  const { launchBrowser } = await import('../test/e2e/support/browser.ts');
  // The pages must work without the script: the plain shots run with JavaScript off.
  const browser = await launchBrowser();
  try {
    const sizes = [
      { tag: 'desktop', width: 1280, height: 800 },
      { tag: 'phone', width: 375, height: 740 },
      { tag: 'narrow', width: 320, height: 640 },
    ];
    for (const size of sizes) {
      const page = await browser.newPage({
        viewport: { width: size.width, height: size.height },
        javaScriptEnabled: false,
      });
      for (const file of files) {
        await page.goto(pathToFileURL(file).href);
        await page.screenshot({ path: file.replace(/\.html$/, `.${size.tag}.png`), fullPage: true });
      }
      await page.close();
    }
    // Keyboard focus as a keyboard user sees it: tab to the first field, then to the button.
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(pathToFileURL(`${OUT}/login-ru.html`).href);
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
    await page.screenshot({ path: `${OUT}/login-ru.focus-field.png` });
    for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
    await page.screenshot({ path: `${OUT}/login-ru.focus-button.png` });
    await page.close();
    // With the script: the "Show" toggle appears and works, the resend countdown runs.
    for (const size of sizes.slice(0, 2)) {
      const js = await browser.newPage({ viewport: { width: size.width, height: size.height } });
      for (const locale of ['ru', 'en'] as const) {
        await js.goto(pathToFileURL(`${OUT}/recovery-sent-${locale}.html`).href);
        await js.fill('#code', '12345678');
        await js.fill('#password', 'Summer2025x');
        await js.fill('#confirm', 'Summer2025x');
        await js.click('[data-toggle-password]');
        await js.waitForTimeout(2100);
        await js.screenshot({ path: `${OUT}/recovery-sent-${locale}.js.${size.tag}.png`, fullPage: true });
      }
      await js.close();
    }
  } finally {
    await browser.close();
  }
  console.log(`screenshots in ${OUT}`);
}
