import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PasswordPolicy } from '../realm/policy-schema.ts';
import { createCommonPasswordList } from './common-passwords.ts';
import { checkPassword, type Hint, PASSWORD_PRESETS, passwordHints } from './policy.ts';

type Message = string | Record<string, string>;
const LOCALES = ['ru', 'en'] as const;
const catalog = Object.fromEntries(
  LOCALES.map((l) => {
    const file = new URL(`../../../locales/${l}/password.json`, import.meta.url);
    return [l, JSON.parse(readFileSync(file, 'utf8')) as Record<string, Message>];
  }),
) as Record<(typeof LOCALES)[number], Record<string, Message>>;

const keyOf = (messageId: string): string => {
  expect(messageId.startsWith('password.')).toBe(true);
  return messageId.slice('password.'.length);
};

const texts = (m: Message): string[] => (typeof m === 'string' ? [m] : Object.values(m));
const placeholders = (text: string): string[] => [...text.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((x) => x[1]!);

/** Every id exists in both locales, plural messages are used with `count`, and every `{x}` has its param. */
function expectRenderable(messageId: string, params: Record<string, string | number> = {}, extra: string[] = []): void {
  for (const locale of LOCALES) {
    const message = catalog[locale][keyOf(messageId)];
    expect(message, `${locale}: ${messageId}`).toBeDefined();
    if (message === undefined) continue;
    if (typeof message !== 'string') expect(typeof params.count, `${messageId} is plural`).toBe('number');
    for (const text of texts(message)) {
      for (const name of placeholders(text))
        expect([...Object.keys(params), ...extra], `${locale}: ${messageId}`).toContain(name);
    }
  }
}

const presets = Object.entries(PASSWORD_PRESETS) as [string, PasswordPolicy][];

describe('passwordHints', () => {
  it.each(presets)('%s: every hint has a message in both locales', (_name, policy) => {
    const hints = passwordHints(policy);
    expect(hints.length).toBeGreaterThan(2);
    for (const h of hints) expectRenderable(h.messageId, h.params, h.text ? ['text'] : []);
  });

  it('describes the S2.5 preset', () => {
    const ids = passwordHints(PASSWORD_PRESETS.s2).map((h) => h.messageId);
    expect(ids).toEqual([
      'password.hint.length',
      'password.hint.allowed_latin_digits',
      'password.hint.needs_letter',
      'password.hint.needs_digit',
      'password.hint.not_identifier',
      'password.hint.not_reused',
      'password.hint.not_common',
    ]);
    expect(passwordHints(PASSWORD_PRESETS.s2)[0]).toEqual({
      messageId: 'password.hint.length',
      params: { min: 8, count: 20 },
    });
  });

  it('lists the specials and the realm advice for the S3.6 preset', () => {
    const hints = passwordHints(PASSWORD_PRESETS.s3);
    const special = hints.find((h) => h.messageId === 'password.hint.needs_special_from');
    expect(special?.params).toEqual({ specials: PASSWORD_PRESETS.s3.specialCharacters });
    const custom = hints.filter((h): h is Hint & { text: object } => h.text !== undefined);
    expect(custom).toEqual([{ messageId: 'password.hint.custom', text: PASSWORD_PRESETS.s3.advice[0] }]);
  });

  it('says "previous password" for a history of one and counts otherwise', () => {
    const one = passwordHints({ ...PASSWORD_PRESETS.nist, historySize: 1 }).map((h) => h.messageId);
    expect(one).toContain('password.hint.not_previous');
    expect(passwordHints(PASSWORD_PRESETS.nist).map((h) => h.messageId)).not.toContain('password.hint.not_reused');
  });
});

describe('locales/*/password.json', () => {
  it('has the same keys in ru and en', () => {
    expect(Object.keys(catalog.ru).sort()).toEqual(Object.keys(catalog.en).sort());
  });

  it('has every plural form each language needs (Russian: one, few, many, other)', () => {
    for (const locale of LOCALES) {
      const needed = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
      for (const [key, message] of Object.entries(catalog[locale])) {
        if (typeof message === 'string') continue;
        for (const form of needed) expect(message[form], `${locale}: ${key}.${form}`).toBeTypeOf('string');
      }
    }
    expect(Object.keys(catalog.ru.too_short as object).sort()).toEqual(['few', 'many', 'one', 'other']);
  });

  it('has a message for every failure the engine can produce', async () => {
    const common = createCommonPasswordList(['password']);
    const ctx = { common, login: 'ivanov', history: async () => true };
    const policies: PasswordPolicy[] = [
      ...presets.map(([, p]) => ({ ...p, historySize: 3 })),
      {
        ...PASSWORD_PRESETS.nist,
        requireLower: true,
        requireUpper: true,
        requireDigit: true,
        requireSpecial: true,
        requireLetter: true,
      },
    ];
    const inputs = ['', 'ivanov', 'password', 'ж\u0000', 'a'.repeat(2000), 'Tundra7!xyz', 'очень длинная фраза'];
    const seen = new Set<string>();
    for (const policy of policies) {
      for (const pw of inputs) {
        const res = await checkPassword(policy, pw, ctx);
        if (res.ok) continue;
        for (const f of res.failures) {
          seen.add(f.rule);
          expectRenderable(f.messageId, f.params);
        }
      }
    }
    // The inputs above reach every rule, so no rule can ship without its message.
    expect([...seen].sort()).toEqual(
      [
        'common',
        'control_characters',
        'disallowed_characters',
        'equals_identifier',
        'needs_digit',
        'needs_letter',
        'needs_lower',
        'needs_special',
        'needs_upper',
        'reused',
        'too_long',
        'too_short',
      ].sort(),
    );
  });
});
