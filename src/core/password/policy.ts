// The password policy engine: one realm's `password` section applied to a candidate password.
// NIST 800-63B-4 is the default (length + blocklist, no composition rules); the composition rules
// exist because some portals are bound by their own standards (S2.5, S3.6) and must enforce them.
// Every failure is returned at once, so a person fixes everything in one go instead of guessing.
import { DostupError } from '../errors.ts';
import type { PasswordPolicy } from '../realm/policy-schema.ts';
import type { CommonPasswordList } from './common-passwords.ts';
import { latinToRussianKeys, russianToLatinKeys } from './keyboard-layout.ts';

export { type Hint, passwordHints } from './hints.ts';
export { PASSWORD_PRESETS } from './presets.ts';

export type PasswordRule =
  | 'too_short'
  | 'too_long'
  | 'needs_lower'
  | 'needs_upper'
  | 'needs_digit'
  | 'needs_special'
  | 'needs_letter'
  | 'disallowed_characters'
  | 'equals_identifier'
  | 'common'
  | 'reused'
  | 'control_characters';

export interface PasswordFailure {
  rule: PasswordRule;
  /** `password.<key>`, a key of locales/<locale>/password.json. */
  messageId: string;
  params?: Record<string, string | number>;
}

export type PasswordCheckResult = { ok: true } | { ok: false; failures: PasswordFailure[] };

export interface PasswordCheckContext {
  login?: string | null;
  email?: string | null;
  common: CommonPasswordList;
  /**
   * True when the (normalized) password matches one of the user's last `historySize` passwords.
   * It runs argon2 verifications, so it is called only when every other rule passed.
   */
  history?: (password: string) => Promise<boolean>;
}

/**
 * Hard cap on what is ever hashed. Argon2 first hashes the whole password with BLAKE2b and every
 * verification copies it to the threadpool, so an unbounded password lets one request (times the
 * history size, times the retries) buy CPU and memory with bandwidth — a cheap DoS. 4096 bytes is
 * 1024 code points of 4 bytes: the schema's largest `maxLength` always fits.
 */
export const MAX_PASSWORD_BYTES = 4096;

/** True when `password` is over MAX_PASSWORD_BYTES in UTF-8. */
export function isOversized(password: string): boolean {
  // A UTF-16 unit never encodes to fewer than 1 byte, so a long string is refused without scanning it.
  return password.length > MAX_PASSWORD_BYTES || Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES;
}

/** Throws PASSWORD_TOO_LONG when `password` is over MAX_PASSWORD_BYTES in UTF-8. Call before hashing. */
export function assertPasswordSize(password: string): void {
  if (isOversized(password)) throw new DostupError('PASSWORD_TOO_LONG', { params: { max: MAX_PASSWORD_BYTES } });
}

/**
 * The form that is checked, hashed and compared: NFKC, as NIST asks, so the same password typed on
 * another device (composed vs decomposed ё, full-width digits from an IME) is still the same password.
 * The argon2 hasher applies it itself; NFKC is idempotent, so normalizing twice is harmless.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length as NIST counts it: Unicode code points after normalization (an emoji is 1, not 2). */
export function passwordLength(normalized: string): number {
  let n = 0;
  for (const _ of normalized) n++;
  return n;
}

// Characters that cannot be seen or typed reliably: controls, format characters (bidi overrides,
// zero-width spaces, soft hyphen), lone surrogates, line separators, noncharacters, default-ignorables
// (Hangul fillers, variation selectors out of context). A pasted password carrying one of them works
// once and then never again when typed by hand, and bidi controls can make a password look like another.
const INVISIBLE =
  /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Noncharacter_Code_Point}\p{Default_Ignorable_Code_Point}\u115F\u1160\u3164\uFFA0\u2800]/u;
const PICTOGRAPH = /^(?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\uFE0F)$/u;
const EMOJI = /\p{Emoji}/u;
const ZWJ = '\u200D';
const VARIATION_SELECTORS = new Set(['\uFE0E', '\uFE0F']);

/** True when a character is invisible, except the joiners and selectors that are part of an emoji. */
export function hasControlCharacters(normalized: string): boolean {
  const cps = [...normalized];
  return cps.some((ch, i) => {
    if (!INVISIBLE.test(ch)) return false;
    const prev = cps[i - 1] ?? '';
    const next = cps[i + 1] ?? '';
    // 👩‍💻 is 👩 ZWJ 💻 and ❤️ is ❤ U+FE0F: both are visible, typable emoji.
    if (ch === ZWJ) return !(PICTOGRAPH.test(prev) && PICTOGRAPH.test(next));
    if (VARIATION_SELECTORS.has(ch)) return !(prev !== '' && EMOJI.test(prev));
    return true;
  });
}

interface CharClasses {
  lower: (ch: string) => boolean;
  upper: (ch: string) => boolean;
  letter: (ch: string) => boolean;
  digit: (ch: string) => boolean;
  special: (ch: string) => boolean;
  /** Null when every (visible) character is allowed. */
  allowed: ((ch: string) => boolean) | null;
}

const matcher = (re: RegExp) => (ch: string) => re.test(ch);

function charClasses(policy: PasswordPolicy): CharClasses {
  if (policy.allowedCharacters === 'any') {
    return {
      lower: matcher(/\p{Ll}/u),
      upper: matcher(/[\p{Lu}\p{Lt}]/u),
      letter: matcher(/\p{L}/u),
      digit: matcher(/\p{Nd}/u),
      // Anything that is not a letter, digit or mark: punctuation, symbols, emoji, the space.
      special: matcher(/[^\p{L}\p{N}\p{M}]/u),
      allowed: null,
    };
  }
  // S2.5 / S3.6 mean ASCII: `ж` is not a "lower-case letter" there, it is a forbidden character.
  const latinDigit = /^[A-Za-z0-9]$/;
  const specials = new Set(
    policy.allowedCharacters === 'latin-digits-special' ? [...normalizePassword(policy.specialCharacters)] : [],
  );
  return {
    lower: matcher(/[a-z]/),
    upper: matcher(/[A-Z]/),
    letter: matcher(/[A-Za-z]/),
    digit: matcher(/[0-9]/),
    special: (ch) => specials.has(ch),
    allowed: (ch) => latinDigit.test(ch) || specials.has(ch),
  };
}

const fail = (rule: PasswordRule, params?: Record<string, string | number>, key: string = rule): PasswordFailure =>
  params ? { rule, messageId: `password.${key}`, params } : { rule, messageId: `password.${key}` };

const lowerNfkc = (s: string): string => s.normalize('NFKC').toLowerCase();

/** Login, e-mail and the e-mail's local part — `ivan.petrov` is as guessable as ivan.petrov@mail.ru. */
function identifierForms(ctx: PasswordCheckContext): Set<string> {
  const forms = new Set<string>();
  if (ctx.login) forms.add(lowerNfkc(ctx.login));
  if (ctx.email) {
    const email = lowerNfkc(ctx.email);
    forms.add(email);
    const at = email.lastIndexOf('@');
    if (at > 0) forms.add(email.slice(0, at));
  }
  forms.delete('');
  return forms;
}

function equalsIdentifier(normalized: string, ctx: PasswordCheckContext): boolean {
  const ids = identifierForms(ctx);
  if (ids.size === 0) return false;
  const typed = normalized.toLowerCase();
  // The login typed with the wrong layout on (`ivanov` → `шмфтщм`) is the same secret.
  const candidates = [typed, russianToLatinKeys(typed).toLowerCase(), latinToRussianKeys(typed).toLowerCase()];
  return candidates.some((c) => ids.has(c));
}

/** Apply `policy` to `password`; resolves with every rule that failed. Never throws for bad input. */
export async function checkPassword(
  policy: PasswordPolicy,
  password: string,
  ctx: PasswordCheckContext,
): Promise<PasswordCheckResult> {
  // Refuse oversized input before normalizing it: NFKC and the regexes are linear, but not free.
  if (isOversized(password)) {
    return { ok: false, failures: [fail('too_long', { count: policy.maxLength })] };
  }
  const pw = normalizePassword(password);
  const chars = [...pw];
  const cls = charClasses(policy);
  const failures: PasswordFailure[] = [];

  if (hasControlCharacters(pw)) failures.push(fail('control_characters'));

  const length = chars.length;
  if (length < policy.minLength) failures.push(fail('too_short', { count: policy.minLength }));
  if (length > policy.maxLength) failures.push(fail('too_long', { count: policy.maxLength }));

  const allowed = cls.allowed;
  if (allowed && chars.some((ch) => !allowed(ch))) {
    failures.push(
      policy.allowedCharacters === 'latin-digits-special'
        ? fail('disallowed_characters', { specials: policy.specialCharacters }, 'disallowed_latin_digits_special')
        : fail('disallowed_characters', undefined, 'disallowed_latin_digits'),
    );
  }

  if (policy.requireLower && !chars.some(cls.lower)) failures.push(fail('needs_lower'));
  if (policy.requireUpper && !chars.some(cls.upper)) failures.push(fail('needs_upper'));
  if (policy.requireLetter && !chars.some(cls.letter)) failures.push(fail('needs_letter'));
  if (policy.requireDigit && !chars.some(cls.digit)) failures.push(fail('needs_digit'));
  if (policy.requireSpecial && !chars.some(cls.special)) {
    failures.push(
      policy.allowedCharacters === 'any'
        ? fail('needs_special')
        : fail('needs_special', { specials: policy.specialCharacters }, 'needs_special_from'),
    );
  }

  if (policy.notEqualIdentifiers && equalsIdentifier(pw, ctx)) failures.push(fail('equals_identifier'));
  if (policy.rejectCommon && ctx.common.has(pw)) failures.push(fail('common'));

  if (failures.length > 0) return { ok: false, failures };

  // Last and only when everything else passed: each history entry is a full argon2 verification.
  if (policy.historySize > 0 && ctx.history && (await ctx.history(pw))) {
    return { ok: false, failures: [fail('reused', { count: policy.historySize })] };
  }
  return { ok: true };
}
