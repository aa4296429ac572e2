import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCommonPasswordList, loadCommonPasswords } from './common-passwords.ts';
import { latinToRussianKeys, russianToLatinKeys } from './keyboard-layout.ts';

const FILE = new URL('./common-passwords.txt', import.meta.url);
const lines = readFileSync(FILE, 'utf8')
  .split('\n')
  .filter((l) => l !== '');

describe('keyboard layout', () => {
  it('maps the same keys between ЙЦУКЕН and QWERTY both ways', () => {
    expect(russianToLatinKeys('пароль')).toBe('gfhjkm');
    expect(russianToLatinKeys('привет')).toBe('ghbdtn');
    expect(russianToLatinKeys('любовь')).toBe('k.,jdm');
    expect(russianToLatinKeys('йцукен')).toBe('qwerty');
    expect(latinToRussianKeys('password')).toBe('зфыыцщкв');
    expect(latinToRussianKeys('qwerty')).toBe('йцукен');
    expect(latinToRussianKeys('Gfhjkm')).toBe('Пароль');
  });

  it('round-trips every key and leaves other characters alone', () => {
    const latin = '`1234567890-=qwertyuiop[]\\asdfghjkl;\'zxcvbnm,./~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?';
    expect(russianToLatinKeys(latinToRussianKeys(latin))).toBe(latin);
    expect(latinToRussianKeys('€ 😀 ß')).toBe('€ 😀 ß');
  });
});

describe('common-passwords.txt', () => {
  it('has at least 10,000 entries, lower-cased, NFKC, sorted and unique', () => {
    expect(lines.length).toBeGreaterThanOrEqual(10_000);
    for (const l of lines) expect(l).toBe(l.normalize('NFKC').toLowerCase());
    const sorted = [...lines].sort();
    expect(lines).toEqual(sorted);
    expect(new Set(lines).size).toBe(lines.length);
  });

  it('holds every Cyrillic word also as the Latin keys (the build script uses the same layout table)', () => {
    const set = new Set(lines);
    const cyrillic = lines.filter((l) => /^[а-яё]+$/u.test(l));
    expect(cyrillic.length).toBeGreaterThanOrEqual(300);
    for (const w of cyrillic) expect(set.has(russianToLatinKeys(w).toLowerCase()), w).toBe(true);
  });
});

describe('loadCommonPasswords', () => {
  const list = loadCommonPasswords();

  it('loads the built-in list', () => {
    expect(list.size()).toBe(lines.length);
  });

  it.each([
    'пароль',
    'ПАРОЛЬ',
    'gfhjkm',
    'Gfhjkm',
    'йцукен',
    'qwerty123',
    'Password1',
    'зфыыцщкв',
    'пароль123',
    'qwerty2024!',
    'ghbdtn',
    'k.,jdm',
    'солнышко',
    'ЁЖИК',
  ])('catches %s', (pw) => {
    expect(list.has(pw)).toBe(true);
  });

  it.each(['Xk9#pQ2m!vL7@wRt', 'кот в сапогах идёт по крыше', 'tr0ub4dor&3horse'])('lets %s through', (pw) => {
    expect(list.has(pw)).toBe(false);
  });

  it('lets a random 16-character string through', () => {
    const pw = randomBytes(12).toString('base64url');
    expect(pw).toHaveLength(16);
    expect(list.has(pw)).toBe(false);
  });

  it('does not strip a suffix down to a base shorter than 4 characters', () => {
    const tiny = createCommonPasswordList(['abc', 'qwerty']);
    expect(tiny.has('abc12')).toBe(false);
    expect(tiny.has('qwerty12!')).toBe(true);
    // Five digits is more than "up to 4".
    expect(tiny.has('qwerty12345')).toBe(false);
  });

  it('loads lazily, once per instance', () => {
    let reads = 0;
    const entries = {
      *[Symbol.iterator]() {
        reads++;
        yield 'secret';
      },
    };
    const l = createCommonPasswordList(entries);
    expect(reads).toBe(0);
    expect(l.has('SECRET')).toBe(true);
    expect(l.has('other')).toBe(false);
    expect(reads).toBe(1);
  });

  it('answers a lookup in a few microseconds', () => {
    list.has('warm-up');
    const n = 20_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) list.has(`candidate${i}word`);
    const perLookupUs = Number(process.hrtime.bigint() - start) / 1000 / n;
    expect(perLookupUs).toBeLessThan(50);
  });
});
