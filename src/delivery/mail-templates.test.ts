import { describe, expect, it } from 'vitest';
import { type Catalog, loadCatalog } from '../core/i18n/catalog.ts';
import { LOCALES, type Locale } from '../core/model.ts';
import { headerText, MAIL_TEMPLATES, type MailBranding, renderMail, TemplateError } from './mail-templates.ts';

const catalog = loadCatalog();

const recovery = (overrides: Record<string, unknown> = {}) => ({
  realmName: 'Портал услуг',
  code: '493817',
  link: 'https://portal.example.test/r/main/recovery/f00d?t=abc&u=1',
  linkLifetimeMinutes: 30,
  codeLifetimeMinutes: 15,
  userName: 'ivan.petrov',
  ...overrides,
});
const changed = (overrides: Record<string, unknown> = {}) => ({
  realmName: 'Портал услуг',
  when: '2025-03-01T09:05:00Z',
  ip: '203.0.113.7',
  signInLink: 'https://portal.example.test/r/main/signin',
  ...overrides,
});
const PARAMS: Record<string, Record<string, unknown>> = {
  'recovery-code': recovery(),
  'password-changed': changed(),
  'recovery-unknown-account': { realmName: 'Портал услуг' },
};
const branding: MailBranding = {
  primaryColor: '#0a7f3f',
  supportText: { ru: 'Поддержка: 8 800 000-00-00', en: 'Support: +7 800 000-00-00' },
};

describe('recovery-code mail', () => {
  it('ru: subject, greeting, link and code with their lifetimes in words', () => {
    const m = renderMail(catalog, 'recovery-code', 'ru', recovery(), branding);
    expect(m.subject).toBe('Восстановление пароля — Портал услуг');
    expect(m.text).toContain('Здравствуйте, ivan.petrov!');
    expect(m.text).toContain('https://portal.example.test/r/main/recovery/f00d?t=abc&u=1');
    expect(m.text).toContain('Ссылка действует 30 минут.');
    expect(m.text).toContain('493817');
    expect(m.text).toContain('Код действует 15 минут.');
    expect(m.text).toContain('Поддержка: 8 800 000-00-00');
    expect(m.html).toContain('href="https://portal.example.test/r/main/recovery/f00d?t=abc&amp;u=1"');
    expect(m.html).toContain('493817');
    expect(m.html).toContain('<html lang="ru">');
  });

  it.each([
    [1, 'Ссылка действует 1 минуту.', 'The link is valid for 1 minute.'],
    [2, 'Ссылка действует 2 минуты.', 'The link is valid for 2 minutes.'],
    [5, 'Ссылка действует 5 минут.', 'The link is valid for 5 minutes.'],
    [21, 'Ссылка действует 21 минуту.', 'The link is valid for 21 minutes.'],
    [30, 'Ссылка действует 30 минут.', 'The link is valid for 30 minutes.'],
    [60, 'Ссылка действует 1 час.', 'The link is valid for 1 hour.'],
    [90, 'Ссылка действует 1 час 30 минут.', 'The link is valid for 1 hour 30 minutes.'],
    [180, 'Ссылка действует 3 часа.', 'The link is valid for 3 hours.'],
    [24 * 60, 'Ссылка действует 1 день.', 'The link is valid for 1 day.'],
  ])('%d minutes read correctly in both languages', (minutes, ru, en) => {
    expect(renderMail(catalog, 'recovery-code', 'ru', recovery({ linkLifetimeMinutes: minutes })).text).toContain(ru);
    expect(renderMail(catalog, 'recovery-code', 'en', recovery({ linkLifetimeMinutes: minutes })).text).toContain(en);
  });

  it('en: the same mail in English, lifetimes in English', () => {
    const m = renderMail(catalog, 'recovery-code', 'en', recovery({ codeLifetimeMinutes: 21 }), branding);
    expect(m.subject).toBe('Password reset — Портал услуг');
    expect(m.text).toContain('Hello ivan.petrov,');
    expect(m.text).toContain('The code is valid for 21 minutes.');
    expect(m.text).toContain('Support: +7 800 000-00-00');
    expect(m.html).toContain('<html lang="en">');
  });

  it('a code-only or link-only mail leaves the other part out', () => {
    const codeOnly = renderMail(
      catalog,
      'recovery-code',
      'ru',
      recovery({ link: undefined, linkLifetimeMinutes: undefined }),
    );
    expect(codeOnly.text).toContain('Введите этот код');
    expect(codeOnly.text).not.toMatch(/https?:/);
    const linkOnly = renderMail(
      catalog,
      'recovery-code',
      'ru',
      recovery({ code: undefined, codeLifetimeMinutes: undefined }),
    );
    expect(linkOnly.text).not.toContain('Код действует');
    expect(() => renderMail(catalog, 'recovery-code', 'ru', recovery({ code: undefined, link: undefined }))).toThrow(
      TemplateError,
    );
  });

  it('greets without a name when there is none', () => {
    expect(renderMail(catalog, 'recovery-code', 'ru', recovery({ userName: undefined })).text).toMatch(
      /^Здравствуйте!/,
    );
  });
});

describe('password-changed mail', () => {
  it('states when (in the user language), from where, and how to get back in', () => {
    const ru = renderMail(catalog, 'password-changed', 'ru', changed());
    expect(ru.subject).toBe('Пароль изменён — Портал услуг');
    expect(ru.text).toContain('изменён 1 марта 2025 г. в 09:05 UTC');
    expect(ru.text).toContain('203.0.113.7');
    expect(ru.text).toContain('https://portal.example.test/r/main/signin');
    const en = renderMail(catalog, 'password-changed', 'en', changed({ ip: undefined, timeZone: 'Europe/Moscow' }));
    expect(en.text).toContain('was changed on March 1, 2025 at 12:05 GMT+3');
    expect(en.text).not.toContain('IP address');
  });
});

describe('recovery-unknown-account mail', () => {
  it.each(LOCALES)('%s: says there is no account, carries no link, says to ignore it', (locale) => {
    const m = renderMail(catalog, 'recovery-unknown-account', locale, { realmName: 'Портал услуг' }, branding);
    expect(m.text).toContain(
      locale === 'ru' ? 'Учётной записи с этим адресом на портале нет.' : 'There is no account with this address',
    );
    expect(m.text).toContain(locale === 'ru' ? 'просто проигнорируйте' : 'just ignore');
    expect(m.text).not.toMatch(/https?:\/\//);
    expect(m.html).not.toContain('<a ');
  });
});

describe('every template', () => {
  it('uses only ids that exist in both locales, and mail.json has the same ids in each', () => {
    const used = new Set<string>();
    const recording: Catalog = {
      ...catalog,
      t: (l, id, p) => {
        used.add(id);
        return catalog.t(l, id, p);
      },
    };
    for (const template of MAIL_TEMPLATES) {
      for (const locale of LOCALES) {
        renderMail(recording, template, locale, { ...PARAMS[template], supportText: 'x' }, branding);
        if (template === 'recovery-code') {
          renderMail(
            recording,
            template,
            locale,
            recovery({ link: undefined, userName: undefined, linkLifetimeMinutes: 1441 }),
          );
        }
      }
    }
    expect(used.size).toBeGreaterThan(20);
    for (const locale of LOCALES) {
      expect([...used].filter((id) => !catalog.has(locale, id))).toEqual([]);
      expect(catalog.missing(locale).filter((id) => id.startsWith('mail.'))).toEqual([]);
      expect(catalog.missingPluralForms(locale).filter((id) => id.startsWith('mail.'))).toEqual([]);
    }
  });

  it.each(MAIL_TEMPLATES.flatMap((t) => LOCALES.map((l) => [t, l] as [string, Locale])))(
    '%s/%s: no unfilled placeholder or raw message id; text and HTML both present',
    (template, locale) => {
      const m = renderMail(catalog, template, locale, PARAMS[template]!, branding);
      for (const part of [m.subject, m.text, m.html]) {
        expect(part).not.toMatch(/\{[A-Za-z_]+\}/);
        expect(part).not.toMatch(/\bmail\.[a-z_]+/);
      }
      expect(m.text.length).toBeGreaterThan(50);
      expect(m.html).toMatch(/^<!doctype html>/);
    },
  );

  it('escapes every parameter in the HTML part', () => {
    const evil = '<script>alert(1)</script>"\'';
    const m = renderMail(
      catalog,
      'recovery-code',
      'ru',
      recovery({ realmName: evil, userName: evil, code: evil }),
      branding,
    );
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;');
    // The plain-text part is not HTML: it shows the text as it is.
    expect(m.text).toContain(evil);
  });

  it('refuses links that are not absolute http(s) URLs', () => {
    for (const link of [
      'javascript:alert(1)',
      'data:text/html,x',
      '//evil.example/x',
      'https://a.example/x" onclick="y',
      'https://a.example/\r\nX',
    ]) {
      expect(() => renderMail(catalog, 'recovery-code', 'ru', recovery({ link })), link).toThrow(TemplateError);
    }
    expect(() => renderMail(catalog, 'password-changed', 'ru', changed({ signInLink: 'javascript:x' }))).toThrow(
      TemplateError,
    );
  });

  it('uses the realm colour, with readable button text, and falls back on a bad colour', () => {
    expect(renderMail(catalog, 'recovery-code', 'ru', recovery(), { primaryColor: '#0a7f3f' }).html).toMatch(
      /background:#0a7f3f;color:#ffffff/,
    );
    expect(renderMail(catalog, 'recovery-code', 'ru', recovery(), { primaryColor: '#ffe066' }).html).toMatch(
      /background:#ffe066;color:#18202c/,
    );
    const bad = renderMail(catalog, 'recovery-code', 'ru', recovery(), { primaryColor: 'red;background:url(x)' });
    expect(bad.html).not.toContain('url(x)');
    expect(bad.html).toContain('#1f5fbf');
  });

  it('header injection through a parameter is impossible: the subject is always one clean line', () => {
    for (const realmName of [
      'Портал\r\nBcc: evil@example.test',
      'Портал\nX-Evil: 1',
      'Портал\u2028Bcc: x',
      'Портал\u0000\u0085',
    ]) {
      for (const template of MAIL_TEMPLATES) {
        const { subject } = renderMail(catalog, template, 'ru', { ...PARAMS[template], realmName });
        expect(subject).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
      }
    }
    expect(headerText('a\r\n\tb  c')).toBe('a b c');
  });

  it('falls back to the branding name, and refuses unknown templates and bad parameters', () => {
    const m = renderMail(catalog, 'recovery-unknown-account', 'en', {}, { name: { ru: 'Портал', en: 'The Portal' } });
    expect(m.subject).toBe('Password reset request — The Portal');
    expect(() => renderMail(catalog, 'recovery-unknown-account', 'en', {}, null)).toThrow(/realmName/);
    expect(() => renderMail(catalog, 'welcome', 'ru', {})).toThrow(TemplateError);
    expect(() => renderMail(catalog, 'recovery-code', 'ru', recovery({ linkLifetimeMinutes: '30' }))).toThrow(
      TemplateError,
    );
    expect(() => renderMail(catalog, 'recovery-code', 'ru', recovery({ code: 493817 }))).toThrow(TemplateError);
    expect(() => renderMail(catalog, 'password-changed', 'ru', changed({ when: 'yesterday' }))).toThrow(TemplateError);
  });
});
