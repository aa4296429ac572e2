// The one place where logins, e-mail addresses and phone numbers are cleaned and turned into lookup
// keys. Every path that stores or looks up an identifier (sign-up, sign-in, recovery, admin, CLI) must
// go through here: if two paths normalized differently, "Ivan" and "ivan" could become two accounts,
// or a look-alike string could reach someone else's account.
import { domainToASCII } from 'node:url';
import { DostupError } from '../errors.ts';
import type { IdentifierKind } from '../realm/policy-schema.ts';

export type { IdentifierKind };

/** `display` is what we show and send to; `key` is what uniqueness and lookups use. */
export interface NormalizedIdentifier {
  display: string;
  key: string;
}

export interface CleanTextOptions {
  /** JSON pointer of the field, for the error issue. */
  path?: string;
  messageId?: string;
  /** Cap in UTF-16 code units after cleaning. */
  maxLength?: number;
}

export const DEFAULT_MAX_TEXT_LENGTH = 256;
export const LOGIN_MIN_LENGTH = 2;
export const LOGIN_MAX_LENGTH = 64;
export const EMAIL_MAX_LENGTH = 254;
const PHONE_MAX_RAW_LENGTH = 40;

// Cc controls (incl. CR/LF/TAB/NUL), Cf invisibles (zero-width space/joiner, bidi overrides and
// isolates, soft hyphen, BOM), Cn unassigned, Co private use, Cs lone surrogates, Zl/Zp separators.
// All of them either are invisible — so two identifiers that look the same would get different keys
// (spoofing), or an RTL override makes "gnp.exe" display as "exe.png" — or break headers and logs.
// Note: ZWJ/ZWNJ are needed in some scripts (Persian, Indic); we reject them anyway for identifiers.
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u;

function invalid(path: string, messageId: string, detail: string): DostupError {
  return new DostupError('IDENTIFIER_INVALID', {
    message: `${path}: ${detail}`,
    issues: [{ path, messageId, detail }],
  });
}

/**
 * Trim and NFKC-normalize, rejecting invisible and control characters. NFKC folds compatibility forms
 * (fullwidth "ＡＢＣ" → "ABC", ligatures, superscripts) so visually equal inputs compare equal.
 */
export function cleanText(s: string, opts: CleanTextOptions = {}): string {
  const path = opts.path ?? '';
  const messageId = opts.messageId ?? 'identifier.invalid';
  const max = opts.maxLength ?? DEFAULT_MAX_TEXT_LENGTH;
  if (typeof s !== 'string') throw invalid(path, messageId, 'not_a_string');
  // Refuse absurd input before NFKC touches it (NFKC can expand a string up to 18×): bounded work.
  if (s.length > max * 4) throw invalid(path, messageId, 'too_long');
  // Checked on the raw string: String.trim() would silently drop a BOM or U+2028 at the ends, and we
  // want such input refused, not quietly accepted as something else.
  if (FORBIDDEN.test(s)) throw invalid(path, messageId, 'forbidden_character');
  const out = s.normalize('NFKC').trim();
  if (FORBIDDEN.test(out)) throw invalid(path, messageId, 'forbidden_character');
  if (out.length > max) throw invalid(path, messageId, 'too_long');
  return out;
}

/**
 * Case-insensitive key. `toLowerCase()` is Unicode's default, locale-independent mapping: a locale-
 * specific one (`toLocaleLowerCase('tr')` maps I → ı) would give the same login different keys
 * depending on the server's or the request's locale, i.e. duplicate accounts. Final sigma ς is folded
 * to σ, as Unicode case folding does, because toLowerCase() picks ς or σ by position in the word.
 */
function caseKey(s: string): string {
  return s.toLowerCase().replace(/ς/g, 'σ').normalize('NFKC');
}

// Letters of any script (with their combining marks, needed by e.g. Devanagari), digits, . _ - @ +.
const LOGIN_SHAPE = /^(?:\p{L}\p{M}{0,4}|\p{Nd}|[._@+-])+$/u;
// Latin, Cyrillic and Greek share many look-alike letters ("аdmin" with a Cyrillic "а"). A login
// mixing them is almost always a spoofing attempt, so it is refused (UTS #39 "single script" idea).
const CONFUSABLE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u];

export function normalizeLogin(raw: string, path = '/login'): NormalizedIdentifier {
  const messageId = 'identifier.login_invalid';
  const display = cleanText(raw, { path, messageId, maxLength: LOGIN_MAX_LENGTH * 4 });
  // Length in code points, not UTF-16 units, so an emoji-free Cyrillic or CJK login counts as typed.
  const len = [...display].length;
  if (len < LOGIN_MIN_LENGTH || len > LOGIN_MAX_LENGTH) throw invalid(path, messageId, 'length');
  if (!LOGIN_SHAPE.test(display)) throw invalid(path, messageId, 'characters');
  if (CONFUSABLE_SCRIPTS.filter((re) => re.test(display)).length > 1) {
    throw invalid(path, 'identifier.login_mixed_script', 'mixed_script');
  }
  return { display, key: caseKey(display) };
}

// Dot-atom local part. Letters and digits of any script are allowed (RFC 6531 addresses such as
// иван@почта.рф). Quotes, spaces, CR/LF, < > , ; ( ) [ ] \ and backticks never pass: they are what
// header injection and address-list smuggling ("a@x.ru, b@y.ru") are made of.
const LOCAL_ATOM = /^[\p{L}\p{M}\p{N}!#$%&*+/=?^_{|}~-]+$/u;
const DOMAIN_DISPLAY = /^[\p{L}\p{M}\p{N}.-]+$/u;
const ASCII_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const ASCII_TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

export function normalizeEmail(raw: string, path = '/email'): NormalizedIdentifier {
  const messageId = 'identifier.email_invalid';
  const display = cleanText(raw, { path, messageId, maxLength: EMAIL_MAX_LENGTH });
  const at = display.indexOf('@');
  if (at < 1 || at !== display.lastIndexOf('@')) throw invalid(path, messageId, 'at_sign');
  const local = display.slice(0, at);
  const domain = display.slice(at + 1);
  // RFC 5321 limits are in octets, so a Cyrillic local part is measured in UTF-8 bytes.
  if (Buffer.byteLength(local, 'utf8') > 64) throw invalid(path, messageId, 'local_too_long');
  if (!local.split('.').every((atom) => LOCAL_ATOM.test(atom))) throw invalid(path, messageId, 'local_part');
  if (!DOMAIN_DISPLAY.test(domain)) throw invalid(path, messageId, 'domain');
  // The key uses the ASCII (punycode) domain, so "почта.рф" and "xn--80a1acny.xn--p1ai" are one address.
  const asciiDomain = domainToASCII(domain);
  const labels = asciiDomain.split('.');
  if (
    asciiDomain === '' ||
    asciiDomain.length > 253 ||
    labels.length < 2 ||
    !labels.every((l) => ASCII_LABEL.test(l)) ||
    !ASCII_TLD.test(labels[labels.length - 1]!)
  ) {
    throw invalid(path, messageId, 'domain');
  }
  // The whole address is case-insensitive for lookup. Strictly the local part is case-sensitive, but
  // no real provider treats it so, and "Ivan@" vs "ivan@" as two accounts is a recovery trap.
  const key = `${caseKey(local)}@${asciiDomain}`;
  if (Buffer.byteLength(key, 'utf8') > EMAIL_MAX_LENGTH) throw invalid(path, messageId, 'too_long');
  return { display, key };
}

interface PhoneCountry {
  code: string;
  /** National trunk prefix dropped before the country code is added ("8" in Russia, "0" in the UK). */
  trunk: string;
  /** Allowed lengths of the national significant number. */
  lengths: readonly number[];
}

/** Countries whose national formats are understood; others must be typed with "+". */
export const PHONE_COUNTRIES: Readonly<Record<string, PhoneCountry>> = {
  RU: { code: '7', trunk: '8', lengths: [10] },
  KZ: { code: '7', trunk: '8', lengths: [10] },
  BY: { code: '375', trunk: '80', lengths: [9] },
  UA: { code: '380', trunk: '0', lengths: [9] },
  GB: { code: '44', trunk: '0', lengths: [9, 10] },
  DE: { code: '49', trunk: '0', lengths: [6, 7, 8, 9, 10, 11] },
  FR: { code: '33', trunk: '0', lengths: [9] },
  US: { code: '1', trunk: '1', lengths: [10] },
};

// Spaces, dots, parentheses and the dash family (a phone pasted from a document often has "–").
const PHONE_PUNCTUATION = /[\s.()\-\u2010-\u2015\u2212]/g;

export function normalizePhone(raw: string, defaultCountry = 'RU', path = '/phone'): NormalizedIdentifier {
  const messageId = 'identifier.phone_invalid';
  const cleaned = cleanText(raw, { path, messageId, maxLength: PHONE_MAX_RAW_LENGTH });
  const compact = cleaned.replace(PHONE_PUNCTUATION, '');
  // ASCII digits only (NFKC already turned fullwidth digits into ASCII); other scripts' digits are
  // refused rather than guessed at.
  if (!/^\+?[0-9]+$/.test(compact)) throw invalid(path, messageId, 'characters');
  let digits: string | null = null;
  if (compact.startsWith('+')) {
    digits = compact.slice(1);
  } else if (compact.startsWith('00')) {
    digits = compact.slice(2); // the international prefix used across Europe and Asia
  } else {
    const c = PHONE_COUNTRIES[defaultCountry.toUpperCase()];
    if (c) {
      const fits = (nsn: string) => c.lengths.includes(nsn.length);
      if (compact.startsWith(c.trunk) && fits(compact.slice(c.trunk.length))) {
        digits = c.code + compact.slice(c.trunk.length); // 8 916 … → +7 916 …
      } else if (compact.startsWith(c.code) && fits(compact.slice(c.code.length))) {
        digits = compact; // 79161234567: already has the country code, just no "+"
      } else if (fits(compact)) {
        digits = c.code + compact; // 9161234567
      }
    }
  }
  if (digits === null || !/^[1-9][0-9]{7,14}$/.test(digits)) throw invalid(path, messageId, 'length');
  // +7 (Russia, Kazakhstan) and +1 (NANP) have fixed-length plans; catch a missing or extra digit.
  if ((digits.startsWith('7') || digits.startsWith('1')) && digits.length !== 11) {
    throw invalid(path, messageId, 'length');
  }
  const e164 = `+${digits}`;
  return { display: e164, key: e164 };
}

const KNOWN_CODES = [...new Set(Object.values(PHONE_COUNTRIES).map((c) => c.code))].sort((a, b) => b.length - a.length);

/**
 * A phone as shown on "we sent a code to …" pages (S5.5): only the last two digits are visible, so a
 * page seen by someone who typed another person's login does not reveal that person's number.
 */
export function maskPhone(e164: string): string {
  if (!/^\+[1-9][0-9]{7,14}$/.test(e164)) throw new TypeError('maskPhone expects an E.164 number');
  const digits = e164.slice(1);
  const last = digits.slice(-2);
  if (digits.startsWith('7') && digits.length === 11) return `+7 (•••) •••-••-${last}`;
  const code = KNOWN_CODES.find((c) => digits.startsWith(c));
  const hidden = (n: number) => '•'.repeat(Math.max(n, 0));
  if (code) return `+${code} ${hidden(digits.length - code.length - 2)}${last}`;
  return `+${hidden(digits.length - 2)}${last}`;
}

export interface ClassifiedIdentifier {
  kind: IdentifierKind;
  key: string;
}

// "+7 916…", "8 (916) 123-45-67", "89161234567": digits and phone punctuation only.
const PHONE_LIKE = /^\+?[0-9\s.()\-\u2010-\u2015\u2212]+$/;

/**
 * Decide what the one sign-in field holds. With "@" it is an e-mail, else if it looks like a phone it
 * is a phone, else a login; when that kind is not allowed or does not parse, a login is tried as the
 * fallback (logins may contain "@" and digits). Null when it can be none of the allowed kinds.
 */
export function classifyIdentifier(
  raw: string,
  allowed: readonly IdentifierKind[],
  opts: { defaultCountry?: string } = {},
): ClassifiedIdentifier | null {
  if (typeof raw !== 'string') return null;
  const attempt = (kind: IdentifierKind): ClassifiedIdentifier | null => {
    if (!allowed.includes(kind)) return null;
    try {
      if (kind === 'email') return { kind, key: normalizeEmail(raw).key };
      if (kind === 'phone') return { kind, key: normalizePhone(raw, opts.defaultCountry).key };
      return { kind, key: normalizeLogin(raw).key };
    } catch (e) {
      if (e instanceof DostupError) return null;
      throw e;
    }
  };
  let trimmed: string;
  try {
    trimmed = cleanText(raw, { path: '/identifier' });
  } catch {
    return null;
  }
  if (trimmed.includes('@')) return attempt('email') ?? attempt('login');
  const digitCount = trimmed.replace(/[^0-9]/g, '').length;
  if (PHONE_LIKE.test(trimmed) && (trimmed.startsWith('+') || digitCount >= 7)) {
    return attempt('phone') ?? attempt('login');
  }
  return attempt('login');
}
