import { describe, expect, it } from 'vitest';
import type { PageChrome } from './layout.ts';
import { type LoginPageModel, loginPage } from './login-page.ts';

const chrome: PageChrome = {
  locale: 'ru',
  t: (id, params) => (params ? `${id}(${Object.values(params).join(',')})` : id),
  realm: { name: 'shop', title: 'Shop' },
  themeCssUrl: '/r/shop/theme.css',
  langLinks: [],
  title: '',
};

function model(over: Partial<LoginPageModel> = {}): LoginPageModel {
  return {
    chrome,
    action: '/r/shop/signin',
    csrfToken: 'tok"en',
    values: { identifier: '', remember: false },
    identifierLabel: 'page.identifier_login',
    showRemember: true,
    forgotHref: '/r/shop/recovery',
    ...over,
  };
}

/** The opening tag of the element with this id. */
function tagWithId(doc: string, id: string): string {
  const m = doc.match(new RegExp(`<[a-z]+[^>]*\\sid="${id}"[^>]*>`));
  if (!m) throw new Error(`no element with id="${id}"`);
  return m[0];
}

function cardContent(doc: string): string {
  return doc.slice(doc.indexOf('<div class="card">') + '<div class="card">'.length).trimStart();
}

describe('loginPage', () => {
  const doc = loginPage(model()).value;

  it('posts to the action with the CSRF token', () => {
    expect(doc).toContain('<form class="form" method="post" action="/r/shop/signin">');
    expect(doc).toContain('<input type="hidden" name="_csrf" value="tok&quot;en">');
  });

  it('labels every visible input with <label for>', () => {
    const inputs = [...doc.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]).filter((i) => !i.includes('type="hidden"'));
    expect(inputs).toHaveLength(3);
    for (const input of inputs) {
      const id = input.match(/\sid="([^"]+)"/)?.[1];
      expect(id, input).toBeDefined();
      expect(doc).toContain(`<label class="${id === 'remember' ? 'check__label' : 'field__label'}" for="${id}">`);
    }
  });

  it('has the S1.1 fields with the right autocomplete hints', () => {
    expect(tagWithId(doc, 'identifier')).toContain('name="identifier"');
    expect(tagWithId(doc, 'identifier')).toContain('autocomplete="username"');
    expect(doc).toContain('<label class="field__label" for="identifier">page.identifier_login</label>');
    expect(tagWithId(doc, 'password')).toContain('type="password"');
    expect(tagWithId(doc, 'password')).toContain('autocomplete="current-password"');
    expect(tagWithId(doc, 'remember')).toMatch(/type="checkbox" value="1">$/);
    expect(doc).toContain('>page.remember_me</label>');
    expect(doc).toContain('<a class="link form__forgot" href="/r/shop/recovery">page.forgot_password</a>');
    expect(doc).toContain(
      '<button class="button button--primary button--block" type="submit">page.signin_button</button>',
    );
    expect(doc).toContain('<h1 class="card__title">page.signin_title</h1>');
  });

  it('never renders a password value', () => {
    expect(tagWithId(doc, 'password')).not.toContain('value=');
  });

  it('keeps the remember choice, and leaves the checkbox out when the realm has none', () => {
    expect(tagWithId(loginPage(model({ values: { identifier: '', remember: true } })).value, 'remember')).toContain(
      ' checked',
    );
    const without = loginPage(model({ showRemember: false })).value;
    expect(without).not.toContain('name="remember"');
    expect(without).not.toContain('page.remember_me');
    expect(without).toContain('page.forgot_password');
  });

  it('has no error markup without an error', () => {
    expect(doc).not.toContain('role="alert"');
    expect(doc).not.toContain('aria-invalid');
    expect(doc).not.toContain('aria-describedby');
  });

  describe('with the generic sign-in error (S2.1)', () => {
    const failed = loginPage(model({ error: { message: 'Неверный логин или пароль.' } })).value;

    it('opens the card with an alert summary', () => {
      expect(cardContent(failed)).toMatch(/^<div class="alert alert--error" role="alert">/);
      expect(failed).toContain('Неверный логин или пароль.');
    });

    it('ties the error to the password field', () => {
      const password = tagWithId(failed, 'password');
      expect(password).toContain('aria-invalid="true"');
      const describedBy = password.match(/aria-describedby="([^"]+)"/)?.[1];
      expect(describedBy).toBeDefined();
      expect(tagWithId(failed, describedBy!)).toContain('class="alert__text"');
      expect(failed).toContain(`id="${describedBy}">Неверный логин или пароль.</p>`);
      expect(tagWithId(failed, 'identifier')).not.toContain('aria-invalid');
    });

    it('says "error" in the tab title', () => {
      expect(failed).toContain('<title>page.title_with_error(page.signin_title) — Shop</title>');
    });
  });

  it('ties a field-specific error to that field', () => {
    const failed = loginPage(model({ error: { message: 'bad', field: 'identifier' } })).value;
    expect(tagWithId(failed, 'identifier')).toContain('aria-invalid="true" aria-describedby="form-error"');
    expect(tagWithId(failed, 'password')).not.toContain('aria-invalid');
  });

  it('shows a notice as a status message', () => {
    const page = loginPage(model({ notice: { kind: 'success', message: 'page.signed_out' } })).value;
    expect(cardContent(page)).toMatch(/^<div class="notice notice--success" role="status">/);
    expect(page).toContain('page.signed_out');
  });

  it('escapes what the user typed', () => {
    const page = loginPage(model({ values: { identifier: '"><script>alert(1)</script>', remember: false } })).value;
    expect(tagWithId(page, 'identifier')).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(page).not.toMatch(/<script/i);
  });

  it('has no inline style or script in any state', () => {
    for (const m of [
      model(),
      model({ error: { message: 'x' }, notice: { kind: 'info', message: 'y' }, showRemember: false }),
    ]) {
      const page = loginPage(m).value;
      expect(page).not.toMatch(/\sstyle=/i);
      expect(page).not.toMatch(/<script/i);
    }
  });
});
