// Parsing and validating realm policy documents. Errors name the bad field by its JSON pointer
// (`/password/minLength`) so a person fixing a YAML file knows exactly where to look.
import { Compile } from 'typebox/compile';
import Value from 'typebox/value';
import { parse as parseYaml } from 'yaml';
import { DostupError, type FieldIssue } from '../errors.ts';
import { type RealmPolicy, RealmPolicySchema } from './policy-schema.ts';

const checker = Compile(RealmPolicySchema);

/** The JSON Schema that realm files are validated against (published for editors and CI). */
export function realmPolicyJsonSchema(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(RealmPolicySchema)) as Record<string, unknown>;
}

/** Parse YAML or JSON text into a validated policy with every default filled in. */
export function parseRealmPolicyText(text: string, source = 'realm file'): RealmPolicy {
  let doc: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both. `uniqueKeys` refuses a key given twice,
    // which would otherwise silently override the first value.
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 50 });
  } catch (e) {
    throw new DostupError('REALM_POLICY_INVALID', {
      message: `${source}: not valid YAML/JSON: ${(e as Error).message}`,
      issues: [{ path: '', messageId: 'realm.not_yaml', detail: (e as Error).message }],
    });
  }
  return validateRealmPolicy(doc, source);
}

/** Validate an already-parsed document. */
export function validateRealmPolicy(doc: unknown, source = 'realm policy'): RealmPolicy {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new DostupError('REALM_POLICY_INVALID', {
      message: `${source}: the document must be an object`,
      issues: [{ path: '', messageId: 'realm.not_object' }],
    });
  }
  const withDefaults = Value.Default(RealmPolicySchema, structuredClone(doc));
  const issues: FieldIssue[] = [];
  if (!checker.Check(withDefaults)) {
    for (const e of checker.Errors(withDefaults)) {
      // anyOf produces one error per alternative plus a summary; keep the summary only.
      if (e.keyword === 'const' && e.schemaPath.includes('/anyOf/')) continue;
      if (e.keyword === 'boolean') continue;
      const path =
        e.keyword === 'additionalProperties' ? `${e.instancePath}/${additionalName(e.params)}` : e.instancePath;
      issues.push({ path: path || '/', messageId: 'realm.invalid_field', detail: e.message });
    }
  }
  const p = withDefaults as RealmPolicy;
  if (issues.length === 0 && p.password.minLength > p.password.maxLength) {
    issues.push({ path: '/password/minLength', messageId: 'realm.invalid_field', detail: 'must be <= maxLength' });
  }
  if (issues.length === 0 && p.password.requireSpecial && p.password.allowedCharacters === 'latin-digits') {
    // No password could satisfy both: refuse the policy rather than lock every user out.
    issues.push({
      path: '/password/requireSpecial',
      messageId: 'realm.invalid_field',
      detail: 'impossible with allowedCharacters latin-digits',
    });
  }
  if (issues.length === 0 && !p.locales.available.includes(p.locales.default)) {
    issues.push({ path: '/locales/default', messageId: 'realm.invalid_field', detail: 'must be one of available' });
  }
  if (issues.length === 0 && p.recovery.code.codeLifetimeMinutes > p.recovery.code.linkLifetimeMinutes) {
    // The mail carries one code for both ways in; typing it by hand is the guessable way, so it may
    // not outlive the link.
    issues.push({
      path: '/recovery/code/codeLifetimeMinutes',
      messageId: 'realm.invalid_field',
      detail: 'must be <= linkLifetimeMinutes',
    });
  }
  if (issues.length === 0 && !isTimeZone(p.locales.timeZone)) {
    issues.push({ path: '/locales/timeZone', messageId: 'realm.invalid_field', detail: 'not a known IANA time zone' });
  }
  if (issues.length > 0) {
    const summary = issues.map((i) => `${i.path}: ${i.detail}`).join('; ');
    throw new DostupError('REALM_POLICY_INVALID', { message: `${source}: ${summary}`, issues });
  }
  return p;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function additionalName(params: unknown): string {
  const extra = (params as { additionalProperties?: unknown }).additionalProperties;
  return Array.isArray(extra) ? extra.join(',') : '';
}

/** Security-relevant choices a realm made that an operator should be told about at start-up. */
export function insecureChoices(p: RealmPolicy): string[] {
  const warnings: string[] = [];
  if (p.signIn.errorMode === 'reveal-unknown') {
    warnings.push(`realm "${p.name}": sign-in reveals whether an account exists (signIn.errorMode=reveal-unknown)`);
  }
  const url = new URL(p.baseUrl);
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !local) {
    warnings.push(`realm "${p.name}": baseUrl ${p.baseUrl} is plain http outside localhost; cookies cannot be Secure`);
  }
  if (p.recovery.enabled && p.recovery.unknownAccounts === 'reveal') {
    warnings.push(
      `realm "${p.name}": password recovery reveals whether an account exists (recovery.unknownAccounts=reveal)`,
    );
  }
  if (!p.password.rejectCommon)
    warnings.push(`realm "${p.name}": common passwords are allowed (password.rejectCommon=false)`);
  if (p.password.minLength < 8)
    warnings.push(`realm "${p.name}": password.minLength ${p.password.minLength} is below 8`);
  return warnings;
}

/** The portal's name as people see it (pages and mail alike): branding name, display name, else "Dostup". */
export function realmTitle(p: RealmPolicy, locale: 'ru' | 'en'): string {
  return p.branding.name?.[locale] ?? p.displayName?.[locale] ?? p.branding.name?.ru ?? p.displayName?.ru ?? 'Dostup';
}

/** A policy with every default, for the realm created on first start. */
export function defaultRealmPolicy(name: string, baseUrl: string): RealmPolicy {
  return validateRealmPolicy({ name, baseUrl }, 'default realm');
}
