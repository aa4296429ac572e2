import { describe, expect, it } from 'vitest';
import { matchLocale, negotiateLocale, parseAcceptLanguage } from './negotiate.ts';

describe('negotiateLocale', () => {
  const base = { realmDefault: 'ru', available: ['ru', 'en'] as const };

  it('prefers the user setting, then the cookie, then Accept-Language, then the realm default', () => {
    expect(negotiateLocale({ ...base, userLocale: 'en', cookie: 'ru', acceptLanguage: 'ru' })).toBe('en');
    expect(negotiateLocale({ ...base, userLocale: null, cookie: 'en', acceptLanguage: 'ru' })).toBe('en');
    expect(negotiateLocale({ ...base, acceptLanguage: 'en-GB,en;q=0.9' })).toBe('en');
    expect(negotiateLocale({ ...base })).toBe('ru');
    expect(negotiateLocale({ realmDefault: 'en', available: ['ru', 'en'] })).toBe('en');
  });

  it('counts only available locales', () => {
    const ruOnly = { realmDefault: 'ru', available: ['ru'] as const };
    expect(negotiateLocale({ ...ruOnly, userLocale: 'en', cookie: 'en', acceptLanguage: 'en' })).toBe('ru');
    expect(negotiateLocale({ realmDefault: 'ru', available: ['en'], cookie: 'de' })).toBe('en');
  });

  it('skips unusable values instead of stopping at them', () => {
    expect(negotiateLocale({ ...base, userLocale: 'de', cookie: 'garbage!!', acceptLanguage: 'en' })).toBe('en');
  });

  it('maps regional tags to the language', () => {
    expect(negotiateLocale({ ...base, realmDefault: 'en', acceptLanguage: 'ru-RU' })).toBe('ru');
    expect(negotiateLocale({ ...base, cookie: 'EN_us' })).toBe('en');
  });

  it('follows q-values, not header order', () => {
    expect(negotiateLocale({ ...base, acceptLanguage: 'de;q=0.9, ru;q=0.5, en;q=0.8' })).toBe('en');
    expect(negotiateLocale({ ...base, realmDefault: 'en', acceptLanguage: 'en;q=0, ru;q=0.1' })).toBe('ru');
  });

  it('ignores "*"', () => {
    expect(negotiateLocale({ ...base, realmDefault: 'ru', acceptLanguage: '*, en;q=0.5' })).toBe('en');
    expect(negotiateLocale({ ...base, realmDefault: 'ru', acceptLanguage: '*' })).toBe('ru');
  });

  it.each([
    '',
    ';;;,,,',
    'en;q=abc',
    'en;q=2',
    'en;q=',
    '=;q=1',
    'ru-RU;q=0.5;;;q',
    '\u0000\u202e',
    'x'.repeat(100_000),
    `${'zz;q=0.1,'.repeat(10_000)}en`,
  ])('never throws on malformed Accept-Language %#', (h) => {
    expect(() => negotiateLocale({ ...base, acceptLanguage: h })).not.toThrow();
    expect(negotiateLocale({ ...base, acceptLanguage: h })).toBe('ru');
  });

  it('accepts a header given as an array', () => {
    expect(negotiateLocale({ ...base, acceptLanguage: ['de', 'en;q=0.5'] })).toBe('en');
  });
});

describe('parseAcceptLanguage', () => {
  it('orders by q, keeps header order on ties, drops q=0 and bad q', () => {
    expect(parseAcceptLanguage('fr;q=0.5, ru-RU, en;q=0.5, de;q=0, it;q=x, ru;q=0.9')).toEqual([
      'ru-RU',
      'ru',
      'fr',
      'en',
    ]);
  });
});

describe('matchLocale', () => {
  it('matches the primary subtag case-insensitively', () => {
    expect(matchLocale('RU')).toBe('ru');
    expect(matchLocale(' en-US ')).toBe('en');
    expect(matchLocale('english')).toBeNull();
    expect(matchLocale(42)).toBeNull();
  });
});
