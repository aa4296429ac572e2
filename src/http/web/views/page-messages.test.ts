// Every `page.*` id a view asks for must exist in every locale: a missing text would show the raw id.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../core/i18n/catalog.ts';
import { LOCALES } from '../../../core/model.ts';

const VIEWS = fileURLToPath(new URL('.', import.meta.url));

/** The ids written literally in the views' source: every branch, not only the ones a render reaches. */
function usedIds(): string[] {
  const ids = new Set<string>();
  for (const file of readdirSync(VIEWS)) {
    if (!file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    const source = readFileSync(`${VIEWS}${file}`, 'utf8');
    for (const m of source.matchAll(/['"`](page\.[a-z0-9_]+)['"`]/g)) ids.add(m[1]!);
  }
  return [...ids].sort();
}

describe('page messages', () => {
  const catalog = loadCatalog();
  const used = usedIds();
  const isPage = (id: string) => id.startsWith('page.');

  it('finds the ids the views use', () => {
    expect(used).toContain('page.signin_title');
    expect(used).toContain('page.session_end');
  });

  it.each(LOCALES)('has every id the views use in %s', (locale) => {
    expect(used.filter((id) => !catalog.has(locale, id))).toEqual([]);
  });

  it.each(LOCALES)('has no page text missing from %s that another locale has', (locale) => {
    expect(catalog.missing(locale).filter(isPage)).toEqual([]);
  });

  it.each(LOCALES)('has every plural form %s needs', (locale) => {
    expect(catalog.missingPluralForms(locale).filter(isPage)).toEqual([]);
  });

  it('chooses Russian plural forms', () => {
    expect(catalog.t('ru', 'page.sessions_count', { count: 1 })).toBe('Активен 1 сеанс.');
    expect(catalog.t('ru', 'page.sessions_count', { count: 3 })).toBe('Активно 3 сеанса.');
    expect(catalog.t('ru', 'page.sessions_count', { count: 5 })).toBe('Активно 5 сеансов.');
    expect(catalog.t('en', 'page.sessions_count', { count: 1 })).toBe('1 active session.');
  });
});
