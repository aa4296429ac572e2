// Ready-made password sections for the standards Dostup is deployed under. A realm file can start from
// one (`password: { ...PASSWORD_PRESETS.s2 }` in code, or the same values in YAML).
import type { PasswordPolicy } from '../realm/policy-schema.ts';

const NIST: PasswordPolicy = {
  minLength: 12,
  maxLength: 128,
  requireLower: false,
  requireUpper: false,
  requireDigit: false,
  requireSpecial: false,
  requireLetter: false,
  allowedCharacters: 'any',
  specialCharacters: '!@#$%^&*()-_=+[]{};:,.<>/?~',
  notEqualIdentifiers: true,
  historySize: 0,
  rejectCommon: true,
  advice: [],
};

/** Frozen so that one realm adjusting a preset in place cannot change it for every other realm. */
function freeze(policy: PasswordPolicy): PasswordPolicy {
  for (const line of policy.advice) Object.freeze(line);
  Object.freeze(policy.advice);
  return Object.freeze(policy);
}

export const PASSWORD_PRESETS: Readonly<Record<'nist' | 's2' | 's3', PasswordPolicy>> = Object.freeze({
  /**
   * NIST 800-63B-4, the default: length and a blocklist, no composition rules (they push people to
   * `Password1!`), any character including spaces, so passphrases work.
   */
  nist: freeze({ ...NIST }),
  /**
   * S2.5: 8 to 20 characters; only Latin letters (either case) and digits; at least one letter and one
   * digit (no case is required); none of the last 3 passwords.
   */
  s2: freeze({
    ...NIST,
    minLength: 8,
    maxLength: 20,
    allowedCharacters: 'latin-digits',
    requireLetter: true,
    requireDigit: true,
    historySize: 3,
  }),
  /**
   * S3.6: at least 8 characters with a lower-case and an upper-case Latin letter, a digit and a special
   * character from the listed set; nothing else allowed; and the advice not to reuse the password of
   * the electronic signature, which the server cannot check.
   */
  s3: freeze({
    ...NIST,
    minLength: 8,
    maxLength: 128,
    allowedCharacters: 'latin-digits-special',
    specialCharacters: '!@#$%^&*()-_=+[]{};:,.<>/?~',
    requireLower: true,
    requireUpper: true,
    requireDigit: true,
    requireSpecial: true,
    advice: [
      {
        ru: 'Не используйте пароль от электронной подписи.',
        en: 'Do not reuse the password of your electronic signature.',
      },
    ],
  }),
});
