import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../core/i18n/catalog.ts';
import { LOCALES } from '../../../core/model.ts';
import type { PageChrome } from './layout.ts';
import {
  type RecoveryRequestModel,
  type RecoverySentModel,
  type ResetFormModel,
  type ResetPageModel,
  recoveryRequestPage,
  recoverySentPage,
  resetPage,
} from './recovery-pages.ts';

const chrome: PageChrome = {
  locale: 'ru',
  t: (id, params) => (params ? `${id}(${Object.values(params).join(',')})` : id),
  realm: { name: 'shop', title: 'Shop' },
  themeCssUrl: '/r/shop/theme.css',
  langLinks: [],
  title: '',
};

const XSS = '"><script>alert(1)</script>';
const XSS_ESCAPED = '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;';

function form(over: Partial<ResetFormModel> = {}): ResetFormModel {
  return {
    action: '/r/shop/reset',
    csrfToken: 'tok"en',
    hidden: { s: 'secret-1' },
    identifierFields: [],
    values: {},
    codeLabel: 'recovery.code_label_digits',
    codeHint: 'recovery.code_hint_digits(8)',
    codeInputMode: 'numeric',
    hints: ['От 8 до 20 символов', 'Хотя бы одна цифра'],
    ...over,
  };
}

const request = (over: Partial<RecoveryRequestModel> = {}): RecoveryRequestModel => ({
  chrome,
  action: '/r/shop/forgot',
  csrfToken: 'tok"en',
  fields: ['identifier'],
  identifierLabel: 'page.identifier_login',
  intro: 'recovery.intro_login',
  values: {},
  backHref: '/r/shop/login',
  ...over,
});

const sent = (over: Partial<RecoverySentModel> = {}): RecoverySentModel => ({
  chrome,
  csrfToken: 'tok"en',
  notice: 'recovery.sent_notice',
  advice: 'recovery.default_advice',
  resendAction: '/r/shop/recover/f1/resend',
  resendInSeconds: 0,
  form: form({ hidden: { flow: 'f1' } }),
  backHref: '/r/shop/login',
  ...over,
});

const reset = (over: Partial<ResetPageModel> = {}): ResetPageModel => ({
  chrome,
  form: form(),
  backHref: '/r/shop/login',
  ...over,
});

/** The opening tag of the element with this id. */
function tagWithId(doc: string, id: string): string {
  const m = doc.match(new RegExp(`<[a-z]+[^>]*\\sid="${id}"[^>]*>`));
  if (!m) throw new Error(`no element with id="${id}"`);
  return m[0];
}

const attr = (tag: string, name: string) => tag.match(new RegExp(`\\s${name}="([^"]*)"`))?.[1];
const cardContent = (doc: string) =>
  doc.slice(doc.indexOf('<div class="card">') + '<div class="card">'.length).trimStart();
const visibleInputs = (doc: string) =>
  [...doc.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]).filter((i) => !i.includes('type="hidden"'));

const everyPage = () => [
  recoveryRequestPage(request()).value,
  recoveryRequestPage(request({ fields: ['login', 'email'], error: { message: 'x', field: 'email' } })).value,
  recoverySentPage(sent()).value,
  recoverySentPage(
    sent({
      resendInSeconds: 30,
      resendNotice: { kind: 'error', message: 'wait' },
      form: form({ error: { message: 'bad', field: 'code' } }),
    }),
  ).value,
  resetPage(reset()).value,
  resetPage(
    reset({
      form: form({
        identifierFields: ['identifier'],
        error: { message: 'weak', field: 'password', details: ['a', 'b'] },
      }),
    }),
  ).value,
];

describe('recovery pages: shared rules', () => {
  it('label every visible input with <label for>', () => {
    for (const doc of everyPage()) {
      const inputs = visibleInputs(doc);
      expect(inputs.length).toBeGreaterThan(0);
      for (const input of inputs) {
        const id = attr(input, 'id');
        expect(id, input).toBeDefined();
        expect(doc).toContain(`<label class="field__label" for="${id}">`);
      }
    }
  });

  it('have no inline style and no inline script: only script src', () => {
    for (const doc of everyPage()) {
      expect(doc).not.toMatch(/\sstyle=/i);
      expect(doc).not.toMatch(/\son[a-z]+=/i);
      for (const tag of doc.match(/<script\b[^>]*>/gi) ?? [])
        expect(tag).toBe('<script src="/assets/dostup.js" defer>');
      expect(doc).not.toMatch(/<script\b[^>]*>[^<]/i);
    }
  });

  it('point every aria-describedby at an element that exists', () => {
    for (const doc of everyPage()) {
      for (const m of doc.matchAll(/aria-describedby="([^"]+)"/g)) {
        for (const id of m[1]!.split(' ')) expect(() => tagWithId(doc, id)).not.toThrow();
      }
    }
  });
});

describe('recoveryRequestPage', () => {
  const doc = recoveryRequestPage(request({ codeHref: '/r/shop/reset' })).value;

  it('posts the identifier with the CSRF token and the page texts', () => {
    expect(doc).toContain('<form class="form" method="post" action="/r/shop/forgot">');
    expect(doc).toContain('<input type="hidden" name="_csrf" value="tok&quot;en">');
    expect(doc).toContain('<h1 class="card__title">recovery.request_title</h1>');
    expect(doc).toContain('<p class="card__intro">recovery.intro_login</p>');
    expect(tagWithId(doc, 'identifier')).toContain('autocomplete="username"');
    expect(doc).toContain('<label class="field__label" for="identifier">page.identifier_login</label>');
    expect(doc).toContain('type="submit">recovery.send_button</button>');
    expect(doc).toContain('<a class="link" href="/r/shop/login">recovery.back_to_signin</a>');
    expect(doc).toContain('<a class="link" href="/r/shop/reset">recovery.have_code</a>');
    expect(doc).not.toContain('dostup.js');
  });

  it('renders login AND e-mail in the S2.2 mode', () => {
    const both = recoveryRequestPage(
      request({ fields: ['login', 'email'], values: { login: 'ivan', email: 'i@x.example' } }),
    ).value;
    expect(tagWithId(both, 'login')).toContain('value="ivan"');
    expect(tagWithId(both, 'login')).toContain('autocomplete="username"');
    expect(tagWithId(both, 'email')).toContain('type="email"');
    expect(tagWithId(both, 'email')).toContain('autocomplete="email"');
    expect(tagWithId(both, 'email')).toContain('value="i@x.example"');
    expect(both).not.toContain('id="identifier"');
  });

  it('opens the card with the error and marks the field', () => {
    const failed = recoveryRequestPage(
      request({ error: { message: 'recovery.account_not_found', field: 'identifier' } }),
    ).value;
    expect(cardContent(failed)).toMatch(/^<div class="alert alert--error" role="alert">/);
    expect(tagWithId(failed, 'identifier')).toContain('aria-invalid="true" aria-describedby="form-error"');
    expect(tagWithId(failed, 'form-error')).toContain('class="alert__body"');
    expect(failed).toContain('<title>page.title_with_error(recovery.request_title) — Shop</title>');
  });

  it('marks both S2.2 fields for an error about the pair', () => {
    const failed = recoveryRequestPage(
      request({ fields: ['login', 'email'], error: { message: 'm', field: 'identifier' } }),
    ).value;
    expect(tagWithId(failed, 'login')).toContain('aria-invalid="true"');
    expect(tagWithId(failed, 'email')).toContain('aria-invalid="true"');
  });

  it('escapes what the user typed', () => {
    const page = recoveryRequestPage(request({ values: { identifier: XSS } })).value;
    expect(tagWithId(page, 'identifier')).toContain(`value="${XSS_ESCAPED}"`);
    expect(page).not.toMatch(/<script/i);
  });
});

describe('resetPage and the reset form', () => {
  const doc = resetPage(reset({ form: form({ values: { code: XSS } }) })).value;

  it('has the S1.3 fields in order: code, new password, confirmation, then the hints', () => {
    const order = [
      'id="code"',
      'id="password"',
      'data-toggle-password',
      'id="confirm"',
      'id="password-hints"',
      'type="submit"',
    ].map((s) => doc.indexOf(s));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(doc).toContain('<h1 class="card__title">recovery.reset_title</h1>');
    expect(doc).toContain('type="submit">recovery.set_password</button>');
  });

  it('prefills the code from the link, escaped, as a one-time code', () => {
    const code = tagWithId(doc, 'code');
    expect(code).toContain(`value="${XSS_ESCAPED}"`);
    expect(code).toContain('autocomplete="one-time-code"');
    expect(code).toContain('inputmode="numeric"');
    expect(code).not.toContain('autocapitalize');
    expect(doc).not.toMatch(/<script(?! src="\/assets\/dostup\.js" defer>)/i);
    const text = resetPage(reset({ form: form({ codeInputMode: 'text' }) })).value;
    expect(tagWithId(text, 'code')).toContain('inputmode="text" autocapitalize="characters"');
  });

  it('renders the hidden inputs escaped', () => {
    const page = resetPage(reset({ form: form({ hidden: { s: XSS, 'a"b': 'c' } }) })).value;
    expect(page).toContain(`<input type="hidden" name="s" value="${XSS_ESCAPED}">`);
    expect(page).toContain('<input type="hidden" name="a&quot;b" value="c">');
    expect(page).not.toMatch(/<script>/i);
  });

  it('ties the code hint and the password hints to their fields', () => {
    expect(attr(tagWithId(doc, 'code'), 'aria-describedby')).toBe('code-hint');
    expect(tagWithId(doc, 'code-hint')).toContain('class="field__hint"');
    expect(attr(tagWithId(doc, 'password'), 'aria-describedby')).toBe('password-hints');
    expect(doc).toContain('<li>От 8 до 20 символов</li><li>Хотя бы одна цифра</li>');
    expect(tagWithId(doc, 'password')).toContain('autocomplete="new-password"');
    expect(tagWithId(doc, 'confirm')).toContain('autocomplete="new-password"');
    const bare = resetPage(reset({ form: form({ hints: [], codeHint: undefined }) })).value;
    expect(bare).not.toContain('aria-describedby');
    expect(bare).not.toContain('class="hints"');
  });

  it('never renders a password value', () => {
    expect(tagWithId(doc, 'password')).not.toContain('value=');
    expect(tagWithId(doc, 'confirm')).not.toContain('value=');
  });

  it('hides the Show toggle until the script runs, with both labels from the catalogue', () => {
    const toggle = doc.match(/<button[^>]*data-toggle-password[^>]*>[^<]*<\/button>/)?.[0] ?? '';
    expect(toggle).toContain('type="button"');
    expect(toggle).toMatch(/\shidden>/);
    expect(toggle).toContain('aria-pressed="false"');
    expect(toggle).toContain('aria-controls="password confirm"');
    expect(toggle).toContain('data-label-show="recovery.show_password"');
    expect(toggle).toContain('data-label-hide="recovery.hide_password"');
    expect(toggle).toContain('>recovery.show_password</button>');
    expect(tagWithId(doc, 'password')).toContain('data-password');
    expect(tagWithId(doc, 'confirm')).toContain('data-password');
    expect(doc).toContain('<script src="/assets/dostup.js" defer></script>');
  });

  describe('with failed password rules', () => {
    const failed = resetPage(
      reset({
        form: form({
          error: { message: 'error.password_rejected', field: 'password', details: ['too <short>', 'needs digit'] },
        }),
      }),
    ).value;

    it('opens the card with the summary listing each failed rule', () => {
      expect(cardContent(failed)).toMatch(/^<div class="alert alert--error" role="alert">/);
      expect(failed).toContain(
        '<p class="alert__text">error.password_rejected</p><ul class="alert__list"><li>too &lt;short&gt;</li><li>needs digit</li></ul>',
      );
    });

    it('marks the password field, described by the error first and the hints after', () => {
      const password = tagWithId(failed, 'password');
      expect(password).toContain('aria-invalid="true"');
      expect(attr(password, 'aria-describedby')).toBe('form-error password-hints');
      expect(tagWithId(failed, 'confirm')).not.toContain('aria-invalid');
      expect(tagWithId(failed, 'code')).not.toContain('aria-invalid');
      expect(failed).toContain('<title>page.title_with_error(recovery.reset_title) — Shop</title>');
    });
  });

  it('asks for the account when the code was typed on another device', () => {
    const typed = resetPage(
      reset({ form: form({ hidden: {}, identifierFields: ['login', 'email'], values: { login: XSS } }) }),
    ).value;
    expect(typed.indexOf('id="login"')).toBeLessThan(typed.indexOf('id="email"'));
    expect(typed.indexOf('id="email"')).toBeLessThan(typed.indexOf('id="code"'));
    expect(tagWithId(typed, 'login')).toContain(`value="${XSS_ESCAPED}"`);
    expect(typed).toContain('<p class="card__intro">recovery.reset_intro_typed</p>');
  });
});

describe('recoverySentPage', () => {
  const doc = recoverySentPage(sent()).value;

  it('says what happened as a status, then the form to finish here', () => {
    expect(cardContent(doc)).toMatch(
      /^<div class="notice notice--success" role="status"><p class="notice__text">recovery\.sent_notice<\/p>/,
    );
    expect(doc).toContain('<input type="hidden" name="flow" value="f1">');
    expect(doc.indexOf('id="code"')).toBeLessThan(doc.indexOf('id="resend-title"'));
    expect(doc).toContain('<p class="resend__advice">recovery.default_advice</p>');
  });

  it('posts "send again" with the CSRF token; no wait text when none is due', () => {
    expect(doc).toContain(
      '<form class="resend__form" method="post" action="/r/shop/recover/f1/resend">\n<input type="hidden" name="_csrf" value="tok&quot;en">',
    );
    expect(doc).toContain('type="submit">recovery.resend_button</button>');
    expect(doc).not.toContain('data-seconds');
  });

  it('shows the wait, tied to the button, with plural templates for the countdown', () => {
    const waiting = recoverySentPage(sent({ resendInSeconds: 42 })).value;
    const note = tagWithId(waiting, 'resend-wait');
    expect(note).toContain('data-seconds="42"');
    expect(note).toContain('data-plural-one="recovery.resend_wait_hint({count})"');
    expect(note).toContain('data-plural-many="recovery.resend_wait_hint({count})"');
    expect(note).toContain('data-ready="recovery.resend_ready"');
    expect(waiting).toContain('>recovery.resend_wait_hint(42)</p>');
    expect(waiting).toContain('<button class="button button--secondary" type="submit" aria-describedby="resend-wait">');
  });

  it('puts an error first and lets "sent again" replace the first notice', () => {
    const wait = recoverySentPage(sent({ resendNotice: { kind: 'error', message: 'recovery.resend_wait(9)' } })).value;
    expect(cardContent(wait)).toMatch(
      /^<div class="alert alert--error" role="alert"><p class="alert__text">recovery\.resend_wait\(9\)/,
    );
    expect(wait).toContain('<title>page.title_with_error(recovery.sent_title) — Shop</title>');
    const again = recoverySentPage(sent({ resendNotice: { kind: 'success', message: 'recovery.resend_done' } })).value;
    expect(cardContent(again)).toMatch(
      /^<div class="notice notice--success" role="status"><p class="notice__text">recovery\.resend_done/,
    );
    expect(again).not.toContain('recovery.sent_notice');
  });

  it('marks the code field after a wrong code', () => {
    const failed = recoverySentPage(
      sent({ form: form({ hidden: { flow: 'f1' }, error: { message: 'error.code_invalid', field: 'code' } }) }),
    ).value;
    expect(cardContent(failed)).toMatch(/^<div class="alert alert--error" role="alert">/);
    expect(attr(tagWithId(failed, 'code'), 'aria-describedby')).toBe('form-error code-hint');
    expect(tagWithId(failed, 'code')).toContain('aria-invalid="true"');
  });
});

describe('recovery messages', () => {
  const catalog = loadCatalog();
  const source = readFileSync(new URL('./recovery-pages.ts', import.meta.url), 'utf8');
  const used = [...new Set([...source.matchAll(/['"`]((?:recovery|page)\.[a-z0-9_]+)['"`]/g)].map((m) => m[1]!))];
  // The ids the server and the route code choose by name.
  const server = [
    'field_required',
    'passwords_differ',
    'account_not_found',
    'no_user_or_wrong_email',
    'password_changed_notice',
    'resend_done',
    'resend_wait',
    'default_advice',
    'code_invalid_help',
    'sent_notice',
    'sent_title',
    'request_title',
    'reset_title',
    'intro_login',
    'intro_email',
    'intro_login_and_email',
    'intro_login_or_email',
    'code_label_uuid',
    'code_label_digits',
    'code_label_control_string',
    'code_hint_uuid',
    'code_hint_digits',
    'code_hint_control_string',
  ].map((k) => `recovery.${k}`);

  it('finds the ids the view uses', () => {
    expect(used).toContain('recovery.show_password');
    expect(used).toContain('page.title_with_error');
  });

  it.each(LOCALES)('has every id the view and the server use in %s', (locale) => {
    expect([...used, ...server].filter((id) => !catalog.has(locale, id))).toEqual([]);
  });

  it.each(LOCALES)('has every recovery text and plural form in %s', (locale) => {
    const mine = (id: string) => id.startsWith('recovery.');
    expect(catalog.missing(locale).filter(mine)).toEqual([]);
    expect(catalog.missingPluralForms(locale).filter(mine)).toEqual([]);
  });

  it('chooses Russian plural forms and never claims the account exists', () => {
    expect(catalog.t('ru', 'recovery.code_hint_digits', { count: 8 })).toBe('8 цифр');
    expect(catalog.t('ru', 'recovery.code_hint_digits', { count: 6 })).toBe('6 цифр');
    expect(catalog.t('ru', 'recovery.resend_wait_hint', { count: 21 })).toContain('21 секунду');
    expect(catalog.t('ru', 'recovery.resend_wait_hint', { count: 43 })).toContain('43 секунды');
    expect(catalog.t('ru', 'recovery.resend_wait_hint', { count: 45 })).toContain('45 секунд.');
    expect(catalog.t('en', 'recovery.resend_wait_hint', { count: 1 })).toBe('You can ask again in 1 second.');
    for (const locale of LOCALES) {
      expect(catalog.t(locale, 'recovery.sent_notice')).toMatch(/^(Если|If)/);
      expect(catalog.t(locale, 'recovery.resend_done')).toMatch(/^(Если|If)/);
    }
  });

  it('gives the countdown a template for each plural form a real page needs', () => {
    const ru: PageChrome = { ...chrome, t: (id, params) => catalog.t('ru', id, params) };
    const note = tagWithId(recoverySentPage(sent({ chrome: ru, resendInSeconds: 5 })).value, 'resend-wait');
    expect(note).toContain('data-plural-one="Запросить письмо снова можно через {count} секунду."');
    expect(note).toContain('data-plural-few="Запросить письмо снова можно через {count} секунды."');
    expect(note).toContain('data-plural-many="Запросить письмо снова можно через {count} секунд."');
  });
});
