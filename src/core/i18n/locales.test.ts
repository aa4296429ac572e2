// Checks on the product's real catalogue (locales/): both languages complete, every error code and
// identifier message has a text, plural messages have every form the language needs.
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../errors.ts';
import { LOCALES } from '../model.ts';
import { loadCatalog } from './catalog.ts';

const catalog = loadCatalog();

describe('locales/', () => {
  it.each(LOCALES)('%s has every id the other locale has', (locale) => {
    expect(catalog.missing(locale)).toEqual([]);
  });

  it.each(LOCALES)('%s plural messages have every form the language needs', (locale) => {
    expect(catalog.missingPluralForms(locale)).toEqual([]);
  });

  it.each(LOCALES)('%s has a text for every error code', (locale) => {
    const lacking = Object.values(ERRORS)
      .map((e) => e.messageId)
      .filter((id) => !catalog.has(locale, id));
    expect(lacking).toEqual([]);
  });

  it.each(LOCALES)('%s has a text for every identifier message', (locale) => {
    const ids = ['invalid', 'login_invalid', 'login_mixed_script', 'email_invalid', 'phone_invalid'];
    expect(ids.filter((k) => !catalog.has(locale, `identifier.${k}`))).toEqual([]);
  });

  it('gives one generic message for wrong credentials and a count-free rate-limit message', () => {
    expect(catalog.t('ru', 'error.invalid_credentials')).toBe('Неверный логин или пароль.');
    expect(catalog.t('ru', 'error.rate_limited')).toBe('Слишком много попыток. Попробуйте позже.');
    expect(catalog.t('en', 'error.rate_limited')).not.toMatch(/\{/);
  });
});
