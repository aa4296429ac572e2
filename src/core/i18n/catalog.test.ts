import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog.ts';

// A throw-away catalogue, so these tests do not depend on the product's wording.
let dir: string;

function write(locale: string, namespace: string, doc: unknown): void {
  mkdirSync(join(dir, locale), { recursive: true });
  writeFileSync(join(dir, locale, `${namespace}.json`), JSON.stringify(doc));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dostup-i18n-'));
  write('ru', 'test', {
    hello: 'Привет, {name}!',
    attempts: { one: '{count} попытка', few: '{count} попытки', many: '{count} попыток', other: '{count} попытки' },
    only_other: { other: '{count} раз' },
    only_ru: 'Только по-русски',
  });
  write('en', 'test', {
    hello: 'Hello, {name}!',
    attempts: { one: '{count} attempt', other: '{count} attempts' },
    only_other: { other: '{count} times' },
    only_en: 'English only',
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadCatalog', () => {
  it('interpolates params', () => {
    const c = loadCatalog(dir);
    expect(c.t('ru', 'test.hello', { name: 'Иван' })).toBe('Привет, Иван!');
    expect(c.t('en', 'test.hello', { name: 'Ivan' })).toBe('Hello, Ivan!');
  });

  it('inserts values as plain text, once', () => {
    const c = loadCatalog(dir);
    expect(c.t('en', 'test.hello', { name: '<b>{name}</b>' })).toBe('Hello, <b>{name}</b>!');
    expect(c.t('en', 'test.hello')).toBe('Hello, {name}!');
  });

  it.each([
    [1, '1 попытка'],
    [2, '2 попытки'],
    [4, '4 попытки'],
    [5, '5 попыток'],
    [11, '11 попыток'],
    [21, '21 попытка'],
    [22, '22 попытки'],
    [0, '0 попыток'],
    [1.5, '1.5 попытки'],
  ])('Russian plural for %d', (count, text) => {
    expect(loadCatalog(dir).t('ru', 'test.attempts', { count })).toBe(text);
  });

  it('English plurals, and "other" when a form or the count is missing', () => {
    const c = loadCatalog(dir);
    expect(c.t('en', 'test.attempts', { count: 1 })).toBe('1 attempt');
    expect(c.t('en', 'test.attempts', { count: 3 })).toBe('3 attempts');
    expect(c.t('ru', 'test.only_other', { count: 1 })).toBe('1 раз');
    expect(c.t('en', 'test.attempts')).toBe('{count} attempts');
  });

  it('falls back to the other locale, then to the id', () => {
    const c = loadCatalog(dir);
    expect(c.t('en', 'test.only_ru')).toBe('Только по-русски');
    expect(c.t('ru', 'test.only_en')).toBe('English only');
    expect(c.t('ru', 'test.nope')).toBe('test.nope');
    expect(c.t('ru', 'nonamespace')).toBe('nonamespace');
  });

  it('lists ids one locale lacks', () => {
    const c = loadCatalog(dir);
    expect(c.missing('ru')).toEqual(['test.only_en']);
    expect(c.missing('en')).toEqual(['test.only_ru']);
    expect(c.has('ru', 'test.hello')).toBe(true);
    expect(c.has('en', 'test.only_ru')).toBe(false);
  });

  it('lists plural messages lacking a form of the locale', () => {
    const c = loadCatalog(dir);
    expect(c.missingPluralForms('ru')).toEqual(['test.only_other']);
    expect(c.missingPluralForms('en')).toEqual(['test.only_other']);
  });

  it('refuses a malformed file at start-up, naming it', () => {
    const bad = mkdtempSync(join(tmpdir(), 'dostup-i18n-bad-'));
    try {
      mkdirSync(join(bad, 'ru'));
      writeFileSync(join(bad, 'ru', 'x.json'), JSON.stringify({ a: { one: 'x' } }));
      expect(() => loadCatalog(bad)).toThrow(/x\.json.*"a"/);
      writeFileSync(join(bad, 'ru', 'x.json'), JSON.stringify({ a: 1 }));
      expect(() => loadCatalog(bad)).toThrow(/x\.json/);
      writeFileSync(join(bad, 'ru', 'x.json'), '[]');
      expect(() => loadCatalog(bad)).toThrow(/must be a JSON object/);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('treats a missing locale directory as empty', () => {
    const empty = mkdtempSync(join(tmpdir(), 'dostup-i18n-empty-'));
    try {
      expect(loadCatalog(empty).t('ru', 'a.b')).toBe('a.b');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
