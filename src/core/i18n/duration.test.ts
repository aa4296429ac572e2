import { describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog.ts';
import { formatDuration } from './duration.ts';

const catalog = loadCatalog();

describe('formatDuration', () => {
  it.each([
    [30, 'ru', '30 минут'],
    [1, 'ru', '1 минута'],
    [2, 'ru', '2 минуты'],
    [21, 'ru', '21 минута'],
    [60, 'ru', '1 час'],
    [120, 'ru', '2 часа'],
    [300, 'ru', '5 часов'],
    [90, 'ru', '1 час 30 минут'],
    [1440, 'ru', '1 день'],
    [2 * 1440 + 60 + 1, 'ru', '2 дня 1 час 1 минута'],
    [0, 'ru', '0 минут'],
    [30, 'en', '30 minutes'],
    [1, 'en', '1 minute'],
    [60, 'en', '1 hour'],
    [90, 'en', '1 hour 30 minutes'],
    [3 * 1440, 'en', '3 days'],
    [14.6, 'en', '15 minutes'],
  ] as const)('%d minutes in %s → %s', (minutes, locale, text) => {
    expect(formatDuration(catalog, locale, minutes)).toBe(text);
  });

  it('refuses negative and non-finite durations', () => {
    expect(() => formatDuration(catalog, 'ru', -1)).toThrow(RangeError);
    expect(() => formatDuration(catalog, 'ru', Number.NaN)).toThrow(RangeError);
  });
});
