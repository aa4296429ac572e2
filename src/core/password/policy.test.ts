import { describe, expect, it } from 'vitest';
import { DostupError } from '../errors.ts';
import type { PasswordPolicy } from '../realm/policy-schema.ts';
import { createCommonPasswordList } from './common-passwords.ts';
import {
  assertPasswordSize,
  checkPassword,
  MAX_PASSWORD_BYTES,
  PASSWORD_PRESETS,
  type PasswordCheckContext,
  type PasswordRule,
} from './policy.ts';

const common = createCommonPasswordList(['password', 'qwerty', 'пароль']);
const nist: PasswordPolicy = { ...PASSWORD_PRESETS.nist, minLength: 8, maxLength: 20 };

async function rules(
  policy: PasswordPolicy,
  pw: string,
  ctx: Partial<PasswordCheckContext> = {},
): Promise<PasswordRule[]> {
  const res = await checkPassword(policy, pw, { common, ...ctx });
  return res.ok ? [] : res.failures.map((f) => f.rule);
}

describe('checkPassword: length', () => {
  it('refuses too short and too long, accepts the bounds', async () => {
    expect(await rules(nist, 'abcdefg')).toEqual(['too_short']);
    expect(await rules(nist, 'abcdefgh')).toEqual([]);
    expect(await rules(nist, 'a'.repeat(20))).toEqual([]);
    expect(await rules(nist, 'a'.repeat(21))).toEqual(['too_long']);
  });

  it('counts Unicode code points, not UTF-16 units or bytes', async () => {
    expect(await rules(nist, '😀'.repeat(8))).toEqual([]); // 16 UTF-16 units, 32 bytes
    expect(await rules(nist, '😀'.repeat(7))).toEqual(['too_short']);
    expect(await rules(nist, 'ж'.repeat(20))).toEqual([]); // 40 bytes
    expect(await rules(nist, 'ж'.repeat(21))).toEqual(['too_long']);
  });

  it('counts after NFKC: a decomposed ё is one character', async () => {
    const decomposed = 'е\u0308'.repeat(7); // 14 code points as typed, 7 after NFKC
    expect(await rules(nist, decomposed)).toEqual(['too_short']);
  });

  it('answers too_long without throwing for input over MAX_PASSWORD_BYTES', async () => {
    const res = await checkPassword(nist, 'a'.repeat(1_000_000), { common });
    expect(res).toEqual({
      ok: false,
      failures: [{ rule: 'too_long', messageId: 'password.too_long', params: { count: 20 } }],
    });
  });
});

describe('checkPassword: control and invisible characters', () => {
  it.each([
    ['NUL', 'abcdefgh\u0000'],
    ['a newline', 'abcd\nefgh'],
    ['a zero-width space', 'abcd\u200Befgh'],
    ['a right-to-left override', 'abcd\u202Eefgh'],
    ['a soft hyphen', 'abcd\u00ADefgh'],
    ['a lone surrogate', 'abcdefgh\uD800'],
    ['a joiner between letters', 'abcd\u200Defgh'],
    ['a Hangul filler', 'abcd\u3164efgh'],
  ])('refuses %s', async (_name, pw) => {
    expect(await rules(nist, pw)).toContain('control_characters');
  });

  it('accepts emoji with joiners and variation selectors, and spaces', async () => {
    expect(await rules(nist, 'я 👩‍💻 люблю ❤️ код')).toEqual([]);
    expect(await rules(nist, 'огонь ❤️‍🔥 в сердце')).toEqual([]);
  });
});

describe('checkPassword: character classes', () => {
  const all: PasswordPolicy = {
    ...nist,
    requireLower: true,
    requireUpper: true,
    requireDigit: true,
    requireSpecial: true,
  };

  it('names each missing class', async () => {
    expect(await rules(all, 'ABCDEFG1!')).toEqual(['needs_lower']);
    expect(await rules(all, 'abcdefg1!')).toEqual(['needs_upper']);
    expect(await rules(all, 'Abcdefgh!')).toEqual(['needs_digit']);
    expect(await rules(all, 'Abcdefgh1')).toEqual(['needs_special']);
    expect(await rules(all, 'Abcdefg1!')).toEqual([]);
    expect(await rules({ ...nist, requireLetter: true }, '12345678!')).toEqual(['needs_letter']);
    expect(await rules({ ...nist, requireLetter: true }, '1234567ы')).toEqual([]);
  });

  it('is Unicode-aware when any character is allowed', async () => {
    expect(await rules(all, 'Ёжик в тумане 1')).toEqual([]); // Ё upper, ж lower, space special
  });

  it('latin-digits (S2.5) allows only A–Z, a–z, 0–9', async () => {
    const s2 = PASSWORD_PRESETS.s2;
    expect(await rules(s2, 'Tundra7kq')).toEqual([]);
    expect(await rules(s2, 'tundra7kq')).toEqual([]); // no case is required
    expect(await rules(s2, 'tundra7 kq')).toEqual(['disallowed_characters']);
    expect(await rules(s2, 'тундра7kq')).toEqual(['disallowed_characters']);
    expect(await rules(s2, 'tundrakq')).toEqual(['needs_digit']);
    expect(await rules(s2, '12345678')).toEqual(['needs_letter']);
    // Cyrillic letters do not count as letters under S2.5.
    expect(await rules(s2, 'жжжж1234')).toEqual(['disallowed_characters', 'needs_letter']);
  });

  it('latin-digits-special (S3.6) allows only the listed specials', async () => {
    const s3 = PASSWORD_PRESETS.s3;
    expect(await rules(s3, 'Tundra7!')).toEqual([]);
    expect(await rules(s3, 'Tundra7"')).toEqual(['disallowed_characters', 'needs_special']);
    const res = await checkPassword(s3, 'Tundra7Ж!', { common });
    expect(res.ok ? [] : res.failures).toEqual([
      {
        rule: 'disallowed_characters',
        messageId: 'password.disallowed_latin_digits_special',
        params: { specials: s3.specialCharacters },
      },
    ]);
    // Ж is an upper-case letter, but not an A–Z one.
    expect(await rules(s3, 'tundraЖ7!')).toEqual(['disallowed_characters', 'needs_upper']);
  });

  it('reports every failure at once', async () => {
    expect(await rules(PASSWORD_PRESETS.s3, 'ab')).toEqual([
      'too_short',
      'needs_upper',
      'needs_digit',
      'needs_special',
    ]);
  });
});

describe('checkPassword: identifiers and common passwords', () => {
  it('refuses the login or e-mail, case-insensitively and in the other layout', async () => {
    const ctx = { login: 'IvanovAB', email: 'ivan.petrov@mail.ru' };
    expect(await rules(nist, 'ivanovab', ctx)).toEqual(['equals_identifier']);
    expect(await rules(nist, 'шмфтщмфи', ctx)).toEqual(['equals_identifier']);
    expect(await rules(nist, 'Ivan.Petrov@mail.ru', ctx)).toEqual(['equals_identifier']);
    expect(await rules(nist, 'ivan.petrov', ctx)).toEqual(['equals_identifier']);
    expect(await rules(nist, 'ivanovab7', ctx)).toEqual([]);
    expect(await rules({ ...nist, notEqualIdentifiers: false }, 'ivanovab', ctx)).toEqual([]);
    expect(await rules(nist, 'ivanovab', { login: null, email: null })).toEqual([]);
  });

  it('refuses common passwords unless the realm turned it off', async () => {
    expect(await rules(nist, 'Password')).toEqual(['common']);
    expect(await rules(nist, 'gfhjkm12')).toEqual(['common']);
    expect(await rules({ ...nist, rejectCommon: false }, 'Password')).toEqual([]);
  });
});

describe('checkPassword: history', () => {
  const withHistory: PasswordPolicy = { ...nist, historySize: 3 };

  it('refuses a reused password and passes the normalized form', async () => {
    const seen: string[] = [];
    const history = async (pw: string) => {
      seen.push(pw);
      return pw === 'ёжик в тумане';
    };
    expect(await rules(withHistory, 'е\u0308жик в тумане', { history })).toEqual(['reused']);
    expect(seen).toEqual(['ёжик в тумане']);
    expect(await rules(withHistory, 'новый пароль', { history })).toEqual([]);
  });

  it('carries the history size for the message', async () => {
    const res = await checkPassword(withHistory, 'ёжик в тумане', { common, history: async () => true });
    expect(res).toEqual({
      ok: false,
      failures: [{ rule: 'reused', messageId: 'password.reused', params: { count: 3 } }],
    });
  });

  it('is not consulted when a cheaper rule already failed, or when the history is off', async () => {
    let calls = 0;
    const history = async () => {
      calls++;
      return true;
    };
    expect(await rules(withHistory, 'short', { history })).toEqual(['too_short']);
    expect(await rules(withHistory, 'password', { history })).toEqual(['common']);
    expect(await rules(nist, 'ёжик в тумане', { history })).toEqual([]);
    expect(calls).toBe(0);
  });
});

describe('assertPasswordSize', () => {
  const refused = (pw: string) => {
    try {
      assertPasswordSize(pw);
      return false;
    } catch (e) {
      expect(e).toBeInstanceOf(DostupError);
      expect((e as DostupError).code).toBe('PASSWORD_TOO_LONG');
      return true;
    }
  };

  it('accepts 4096 bytes and refuses 4097', () => {
    expect(MAX_PASSWORD_BYTES).toBe(4096);
    expect(refused('a'.repeat(4096))).toBe(false);
    expect(refused('a'.repeat(4097))).toBe(true);
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(refused('ж'.repeat(2048))).toBe(false); // 4096 bytes
    expect(refused(`${'ж'.repeat(2048)}a`)).toBe(true); // 2049 characters, 4097 bytes
    expect(refused('😀'.repeat(1024))).toBe(false); // 4096 bytes
    expect(refused(`${'😀'.repeat(1024)}a`)).toBe(true);
  });
});
