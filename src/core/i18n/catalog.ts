// The message catalogue: `locales/<locale>/<namespace>.json`, flat objects, message id
// `<namespace>.<key>`. Read once at start-up (synchronously — nothing is served yet) and kept in the
// Catalog object that callers receive through their deps; there is no global catalogue.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCALES, type Locale } from '../model.ts';

/** A plain string, or plural forms chosen by `Intl.PluralRules(locale).select(params.count)`. */
export type Message = string | (Partial<Record<Intl.LDMLPluralRule, string>> & { other: string });
export type MessageParams = Record<string, string | number>;

export interface Catalog {
  readonly locales: readonly Locale[];
  /**
   * The text for `id` in `locale`, falling back to the other locale, then to the id itself (a missing
   * text must never break a page). Params are inserted as plain text: escaping for HTML is the
   * renderer's job, and mail/SMS bodies are not HTML at all.
   */
  t(locale: Locale, id: string, params?: MessageParams): string;
  has(locale: Locale, id: string): boolean;
  /** Ids some other locale has and `locale` lacks, sorted. Empty in a healthy catalogue. */
  missing(locale: Locale): string[];
  /** Plural messages of `locale` lacking a form its plural rules can select (e.g. "few" in Russian). */
  missingPluralForms(locale: Locale): string[];
}

export const DEFAULT_LOCALES_DIR = fileURLToPath(new URL('../../../locales/', import.meta.url));

const PLURAL_FORMS: ReadonlySet<string> = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);
const NAMESPACE = /^[a-z][a-z0-9_-]*$/;

function parseMessage(file: string, key: string, value: unknown): Message {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    const ok = entries.every(([form, text]) => PLURAL_FORMS.has(form) && typeof text === 'string');
    if (ok && typeof (value as Record<string, unknown>).other === 'string') return value as Message;
  }
  // Fail at start-up, naming the file, rather than print "[object Object]" to a user later.
  throw new Error(`${file}: "${key}" must be a string or plural forms {one, few, many, other} with "other"`);
}

function readLocale(dir: string, locale: Locale): Map<string, Message> {
  const messages = new Map<string, Message>();
  let files: string[];
  try {
    files = readdirSync(join(dir, locale)).filter((f) => f.endsWith('.json'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return messages;
    throw e;
  }
  for (const f of files.sort()) {
    const namespace = f.slice(0, -'.json'.length);
    const file = join(dir, locale, f);
    if (!NAMESPACE.test(namespace)) throw new Error(`${file}: namespace must match ${NAMESPACE}`);
    const doc: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: must be a JSON object`);
    for (const [key, value] of Object.entries(doc)) {
      messages.set(`${namespace}.${key}`, parseMessage(file, key, value));
    }
  }
  return messages;
}

/** `{name}` placeholders. One pass, so a value that itself contains "{x}" is never expanded again. */
function interpolate(text: string, params: MessageParams | undefined): string {
  if (!params) return text;
  return text.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

export function loadCatalog(dir: string = DEFAULT_LOCALES_DIR, locales: readonly Locale[] = LOCALES): Catalog {
  const byLocale = new Map<Locale, Map<string, Message>>(locales.map((l) => [l, readLocale(dir, l)]));
  const pluralRules = new Map<Locale, Intl.PluralRules>(locales.map((l) => [l, new Intl.PluralRules(l)]));

  const render = (locale: Locale, message: Message, params: MessageParams | undefined): string => {
    if (typeof message === 'string') return interpolate(message, params);
    const count = Number(params?.count);
    const rules = pluralRules.get(locale) ?? new Intl.PluralRules(locale);
    const form = Number.isFinite(count) ? rules.select(count) : 'other';
    return interpolate(message[form] ?? message.other, params);
  };

  return {
    locales,
    t(locale, id, params) {
      const order = [locale, ...locales.filter((l) => l !== locale)];
      for (const l of order) {
        const message = byLocale.get(l)?.get(id);
        // Plural forms are chosen by the rules of the locale the text is written in.
        if (message !== undefined) return render(l, message, params);
      }
      return id;
    },
    has(locale, id) {
      return byLocale.get(locale)?.has(id) ?? false;
    },
    missing(locale) {
      const own = byLocale.get(locale) ?? new Map<string, Message>();
      const out = new Set<string>();
      for (const [l, messages] of byLocale) {
        if (l === locale) continue;
        for (const id of messages.keys()) if (!own.has(id)) out.add(id);
      }
      return [...out].sort();
    },
    missingPluralForms(locale) {
      const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
      const out: string[] = [];
      for (const [id, message] of byLocale.get(locale) ?? []) {
        if (typeof message !== 'string' && categories.some((c) => message[c] === undefined)) out.push(id);
      }
      return out.sort();
    },
  };
}
