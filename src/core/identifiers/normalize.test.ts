import { describe, expect, it } from 'vitest';
import { DostupError } from '../errors.ts';
import {
  classifyIdentifier,
  cleanText,
  maskPhone,
  normalizeEmail,
  normalizeLogin,
  normalizePhone,
} from './normalize.ts';

/** Runs fn, expects IDENTIFIER_INVALID, returns the first issue's messageId. */
function rejection(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DostupError);
    const err = e as DostupError;
    expect(err.code).toBe('IDENTIFIER_INVALID');
    expect(err.status).toBe(400);
    return err.issues[0]?.messageId;
  }
  throw new Error('expected IDENTIFIER_INVALID, nothing was thrown');
}

describe('cleanText', () => {
  it('trims and applies NFKC', () => {
    expect(cleanText('  ＡＢＣ　')).toBe('ABC');
    expect(cleanText('ﬁle')).toBe('file');
  });

  it.each([
    ['zero-width space', 'ad\u200Bmin'],
    ['zero-width joiner', 'ad\u200Dmin'],
    ['RTL override', 'user\u202Egnp.exe'],
    ['LTR embedding', '\u202Aadmin'],
    ['bidi isolate', 'admin\u2066'],
    ['soft hyphen', 'ad\u00ADmin'],
    ['BOM at the start', '\uFEFFadmin'],
    ['line separator', 'admin\u2028'],
    ['paragraph separator', 'ad\u2029min'],
    ['NUL', 'ad\u0000min'],
    ['newline', 'admin\n'],
    ['private use', 'ad\uE000min'],
    ['unassigned', 'ad\u0378min'],
    ['lone surrogate', 'ad\uD800min'],
  ])('rejects %s', (_name, s) => {
    expect(rejection(() => cleanText(s, { messageId: 'identifier.invalid' }))).toBe('identifier.invalid');
  });

  it('caps the length, also before normalizing', () => {
    expect(cleanText('a'.repeat(10), { maxLength: 10 })).toHaveLength(10);
    rejection(() => cleanText('a'.repeat(11), { maxLength: 10 }));
    rejection(() => cleanText('a'.repeat(1_000_000)));
  });

  it('names the field in the issue', () => {
    expect.assertions(1);
    try {
      cleanText('a\u200Db', { path: '/login', messageId: 'identifier.login_invalid' });
    } catch (e) {
      expect((e as DostupError).issues).toEqual([
        { path: '/login', messageId: 'identifier.login_invalid', detail: 'forbidden_character' },
      ]);
    }
  });
});

describe('normalizeLogin', () => {
  it('accepts Cyrillic logins and lower-cases the key only', () => {
    expect(normalizeLogin('  Иван.Петров ')).toEqual({ display: 'Иван.Петров', key: 'иван.петров' });
    expect(normalizeLogin('ЁЖИК_2024').key).toBe('ёжик_2024');
  });

  it('folds fullwidth forms with NFKC', () => {
    expect(normalizeLogin('ＡＢＣ')).toEqual({ display: 'ABC', key: 'abc' });
    expect(normalizeLogin('ＡＢＣ').key).toBe(normalizeLogin('abc').key);
  });

  it('allows letters of any script, digits and . _ - @ +', () => {
    expect(normalizeLogin('ivan.petrov_1-2@corp+x').key).toBe('ivan.petrov_1-2@corp+x');
    expect(normalizeLogin('山田太郎').key).toBe('山田太郎');
    expect(normalizeLogin('Ἀθηνᾶ').display).toBe('Ἀθηνᾶ');
  });

  it('is locale-independent (Turkish I) and folds final sigma', () => {
    expect(normalizeLogin('ILYA').key).toBe('ilya');
    expect(normalizeLogin('ΟΔΟΣ').key).toBe(normalizeLogin('οδοσ').key);
  });

  it.each([
    ['too short', 'a'],
    ['too long', 'a'.repeat(65)],
    ['space inside', 'ivan petrov'],
    ['slash', 'ivan/petrov'],
    ['angle bracket', '<script>'],
    ['emoji', 'ivan😀'],
    ['empty', '   '],
  ])('rejects %s', (_name, s) => {
    expect(rejection(() => normalizeLogin(s))).toBe('identifier.login_invalid');
  });

  it('counts length in code points', () => {
    expect(normalizeLogin('я'.repeat(64)).display).toHaveLength(64);
    expect(normalizeLogin('𠀋'.repeat(64)).display).toHaveLength(128);
  });

  it('rejects invisible characters with the login message', () => {
    expect(rejection(() => normalizeLogin('ad\u200Dmin'))).toBe('identifier.login_invalid');
    expect(rejection(() => normalizeLogin('admin\u202E'))).toBe('identifier.login_invalid');
  });

  it('rejects logins mixing Latin and Cyrillic look-alikes', () => {
    // "аdmin" with a Cyrillic "а" (U+0430) would pass for "admin" on screen.
    expect(rejection(() => normalizeLogin('\u0430dmin'))).toBe('identifier.login_mixed_script');
  });
});

describe('normalizeEmail', () => {
  it('keeps the display as typed and lower-cases the key', () => {
    expect(normalizeEmail(' Ivan.Petrov@Example.RU ')).toEqual({
      display: 'Ivan.Petrov@Example.RU',
      key: 'ivan.petrov@example.ru',
    });
    expect(normalizeEmail('IVAN@example.ru').key).toBe(normalizeEmail('ivan@EXAMPLE.ru').key);
  });

  it('accepts IDNs and keys them by the ASCII domain', () => {
    const idn = normalizeEmail('Иван@Почта.рф');
    expect(idn.display).toBe('Иван@Почта.рф');
    expect(idn.key).toBe('иван@xn--80a1acny.xn--p1ai');
    expect(normalizeEmail('иван@xn--80a1acny.xn--p1ai').key).toBe(idn.key);
  });

  it('accepts common valid forms', () => {
    expect(normalizeEmail('first.last+tag@sub.example.co.uk').key).toBe('first.last+tag@sub.example.co.uk');
    expect(normalizeEmail('a_b-c@x-y.io').key).toBe('a_b-c@x-y.io');
  });

  it.each([
    ['CRLF header injection', 'ivan@example.ru\r\nBcc: all@example.ru'],
    ['LF', 'ivan@example.ru\n'],
    ['two addresses with a comma', 'a@example.ru,b@example.ru'],
    ['semicolon', 'a@example.ru;b@example.ru'],
    ['angle brackets', 'Ivan <ivan@example.ru>'],
    ['double quotes', '"ivan"@example.ru'],
    ['single quote', "o'brien@example.ru"],
    ['space', 'ivan petrov@example.ru'],
    ['no @', 'ivan.example.ru'],
    ['two @', 'ivan@petrov@example.ru'],
    ['empty local part', '@example.ru'],
    ['no dot in the domain', 'ivan@localhost'],
    ['leading dot', '.ivan@example.ru'],
    ['double dot', 'iv..an@example.ru'],
    ['trailing dot in domain', 'ivan@example.ru.'],
    ['hyphen at label start', 'ivan@-example.ru'],
    ['IP literal', 'ivan@[127.0.0.1]'],
    ['numeric TLD', 'ivan@1.2.3.4'],
    ['underscore in domain', 'ivan@exa_mple.ru'],
    ['local part over 64', `${'a'.repeat(65)}@example.ru`],
    [
      'over 254 characters',
      `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(10)}.ru`,
    ],
    ['zero-width joiner', 'iv\u200Dan@example.ru'],
  ])('rejects %s', (_name, s) => {
    expect(rejection(() => normalizeEmail(s))).toBe('identifier.email_invalid');
  });
});

describe('normalizePhone', () => {
  it.each([
    '+7 (916) 123-45-67',
    '8 916 123 45 67',
    '8(916)1234567',
    '79161234567',
    '+79161234567',
    '9161234567',
    '+7.916.123.45.67',
    '＋７ ９１６ １２３ ４５ ６７',
    '+7 916 123–45–67',
  ])('%s → +79161234567', (s) => {
    expect(normalizePhone(s)).toEqual({ display: '+79161234567', key: '+79161234567' });
  });

  it('keeps foreign numbers typed with + or 00', () => {
    expect(normalizePhone('+44 20 7946 0958').key).toBe('+442079460958');
    expect(normalizePhone('0044 20 7946 0958').key).toBe('+442079460958');
  });

  it('uses the given default country for national formats', () => {
    expect(normalizePhone('020 7946 0958', 'GB').key).toBe('+442079460958');
    expect(normalizePhone('8 029 123-45-67', 'BY').key).toBe('+375291234567');
  });

  it.each([
    ['too short', '+7 916 123'],
    ['a digit missing for +7', '+7 916 123 45 6'],
    ['a digit too many for +7', '8 916 123 45 678'],
    ['more than 15 digits', '+1234567890123456'],
    ['letters', '+7 916 ABC 45 67'],
    ['plus in the middle', '7+9161234567'],
    ['leading zero country code', '+0 916 123 45 67'],
    ['national format of an unknown country', '020 7946 0958'],
    ['newline', '+79161234567\n'],
  ])('rejects %s', (_name, s) => {
    expect(rejection(() => normalizePhone(s))).toBe('identifier.phone_invalid');
  });
});

describe('maskPhone', () => {
  it('masks Russian numbers leaving the last two digits', () => {
    expect(maskPhone('+79161234531')).toBe('+7 (•••) •••-••-31');
  });

  it('masks other numbers generically', () => {
    expect(maskPhone('+442079460958')).toBe('+44 ••••••••58');
    expect(maskPhone('+9981234567')).toBe('+••••••••67');
  });

  it('refuses what is not E.164', () => {
    expect(() => maskPhone('8 916 123 45 67')).toThrow(TypeError);
  });
});

describe('classifyIdentifier', () => {
  const all = ['login', 'email', 'phone'] as const;

  it('sees e-mail by the @', () => {
    expect(classifyIdentifier('Ivan@Example.ru', all)).toEqual({ kind: 'email', key: 'ivan@example.ru' });
  });

  it('sees phones by + or mostly digits', () => {
    expect(classifyIdentifier('+7 (916) 123-45-67', all)).toEqual({ kind: 'phone', key: '+79161234567' });
    expect(classifyIdentifier('8 916 123 45 67', all)).toEqual({ kind: 'phone', key: '+79161234567' });
  });

  it('otherwise takes a login', () => {
    expect(classifyIdentifier('Иван', all)).toEqual({ kind: 'login', key: 'иван' });
    expect(classifyIdentifier('ivan2024', all)).toEqual({ kind: 'login', key: 'ivan2024' });
  });

  it('falls back to a login when the likely kind is not allowed or does not parse', () => {
    expect(classifyIdentifier('89161234567', ['login', 'email'])).toEqual({ kind: 'login', key: '89161234567' });
    expect(classifyIdentifier('ivan@corp', ['login', 'email'])).toEqual({ kind: 'login', key: 'ivan@corp' });
  });

  it('returns null when no allowed kind fits', () => {
    expect(classifyIdentifier('ivan', ['email', 'phone'])).toBeNull();
    expect(classifyIdentifier('Ivan@Example.ru', ['login', 'phone'])?.kind).toBe('login');
    expect(classifyIdentifier('ivan@example.ru', ['phone'])).toBeNull();
    expect(classifyIdentifier('+7 916', ['phone'])).toBeNull();
    expect(classifyIdentifier('ad\u200Bmin', all)).toBeNull();
    expect(classifyIdentifier('', all)).toBeNull();
  });
});
