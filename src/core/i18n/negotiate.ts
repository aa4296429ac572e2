// Which language to answer in. Order: the user's own setting, then the locale cookie (a choice made
// on this device), then the browser's Accept-Language, then the realm default. Every input here comes
// from the client, so parsing is bounded and never throws: a junk header just means "no preference".
import { LOCALES, type Locale } from '../model.ts';

export interface NegotiateLocaleInput {
  userLocale?: string | null | undefined;
  cookie?: string | null | undefined;
  acceptLanguage?: string | readonly string[] | null | undefined;
  realmDefault?: string | null | undefined;
  /** The realm's locales; defaults to all the product has. */
  available?: readonly Locale[];
}

// RFC 9110 §12.5.4 allows anything, but real headers are short; parsing more is only work for an attacker.
const MAX_HEADER_LENGTH = 1024;
const MAX_RANGES = 32;
const LANGUAGE_RANGE = /^(?:\*|[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*)$/;
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

/** "ru", "RU", "ru-RU", "ru_RU" → "ru" when it is available; anything else → null. */
export function matchLocale(tag: unknown, available: readonly Locale[] = LOCALES): Locale | null {
  if (typeof tag !== 'string' || tag.length > 35) return null;
  const t = tag.trim();
  if (!LANGUAGE_RANGE.test(t) || t === '*') return null;
  const primary = t.split(/[-_]/)[0]!.toLowerCase();
  return available.find((l) => l === primary) ?? null;
}

/** Language ranges by preference: q-values sorted high to low, ties in header order, q=0 dropped. */
export function parseAcceptLanguage(header: string | readonly string[] | null | undefined): string[] {
  if (header == null) return [];
  const text = (typeof header === 'string' ? header : header.join(',')).slice(0, MAX_HEADER_LENGTH);
  const ranges: { tag: string; q: number; i: number }[] = [];
  for (const [i, part] of text.split(',').slice(0, MAX_RANGES).entries()) {
    const [rawTag = '', ...params] = part.split(';');
    const tag = rawTag.trim();
    if (!LANGUAGE_RANGE.test(tag)) continue;
    let q = 1;
    let valid = true;
    for (const p of params) {
      const [name = '', value = ''] = p.split('=').map((s) => s.trim());
      if (name.toLowerCase() !== 'q') continue;
      if (!QVALUE.test(value)) valid = false;
      else q = Number(value);
    }
    // A malformed q drops only that range: better to ignore it than to guess the user's weight.
    if (valid && q > 0) ranges.push({ tag, q, i });
  }
  return ranges.sort((a, b) => b.q - a.q || a.i - b.i).map((r) => r.tag);
}

export function negotiateLocale(input: NegotiateLocaleInput): Locale {
  const available = input.available && input.available.length > 0 ? input.available : LOCALES;
  const fromUser = matchLocale(input.userLocale, available);
  if (fromUser) return fromUser;
  const fromCookie = matchLocale(input.cookie, available);
  if (fromCookie) return fromCookie;
  for (const tag of parseAcceptLanguage(input.acceptLanguage)) {
    const l = matchLocale(tag, available); // "*" never matches: it states no language
    if (l) return l;
  }
  return matchLocale(input.realmDefault, available) ?? available[0]!;
}
