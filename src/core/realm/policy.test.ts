import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DostupError } from '../errors.ts';
import {
  defaultRealmPolicy,
  insecureChoices,
  parseRealmPolicyText,
  realmPolicyJsonSchema,
  validateRealmPolicy,
} from './policy.ts';

const root = new URL('../../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DostupError);
    expect((e as DostupError).code).toBe('REALM_POLICY_INVALID');
    return (e as DostupError).issues.map((i) => i.path);
  }
  throw new Error('expected REALM_POLICY_INVALID');
}

describe('realm policy documents', () => {
  it('fills every default from a minimal document (NIST password defaults, generic errors, ru first)', () => {
    const p = validateRealmPolicy({ name: 'main', baseUrl: 'http://localhost:8080' });
    expect(p.password.minLength).toBe(12);
    expect(p.password.rejectCommon).toBe(true);
    expect(p.password.requireUpper).toBe(false);
    expect(p.signIn.errorMode).toBe('generic');
    expect(p.locales.default).toBe('ru');
    expect(p.sessions.rememberMeDays).toBeGreaterThan(0);
  });

  it.each(readdirSync(new URL('realms/presets/', root)).filter((f) => f.endsWith('.yaml')))(
    'preset %s is valid',
    (f) => {
      const p = parseRealmPolicyText(read(`realms/presets/${f}`), f);
      expect(p.name).toBe(f.replace(/\.yaml$/, ''));
    },
  );

  it('the example file is valid', () => {
    expect(parseRealmPolicyText(read('realms/example.yaml')).name).toBe('main');
  });

  it('S2.5 preset carries the manual rules', () => {
    const p = parseRealmPolicyText(read('realms/presets/s2-payments.yaml'));
    expect(p.password).toMatchObject({
      minLength: 8,
      maxLength: 20,
      allowedCharacters: 'latin-digits',
      requireLetter: true,
      requireDigit: true,
      historySize: 3,
    });
  });

  it('names the path of a wrong value', () => {
    expect(
      issuesOf(() => parseRealmPolicyText('name: main\nbaseUrl: http://x.test\npassword:\n  minLength: 2\n')),
    ).toContain('/password/minLength');
  });

  it('names the path of an unknown field', () => {
    expect(
      issuesOf(() => parseRealmPolicyText('name: main\nbaseUrl: http://x.test\nsessions:\n  idleMinute: 5\n')),
    ).toContain('/sessions/idleMinute');
  });

  it('names a wrong enum value', () => {
    expect(
      issuesOf(() => validateRealmPolicy({ name: 'main', baseUrl: 'http://x.test', signIn: { errorMode: 'loud' } })),
    ).toContain('/signIn/errorMode');
  });

  it('refuses minLength above maxLength, a default locale not offered, a bad colour and a bad base URL', () => {
    expect(
      issuesOf(() =>
        validateRealmPolicy({ name: 'm', baseUrl: 'http://x.test', password: { minLength: 30, maxLength: 20 } }),
      ),
    ).toEqual(['/password/minLength']);
    expect(
      issuesOf(() =>
        validateRealmPolicy({
          name: 'm',
          baseUrl: 'http://x.test',
          password: { requireSpecial: true, allowedCharacters: 'latin-digits' },
        }),
      ),
    ).toEqual(['/password/requireSpecial']);
    expect(
      issuesOf(() =>
        validateRealmPolicy({ name: 'm', baseUrl: 'http://x.test', locales: { default: 'en', available: ['ru'] } }),
      ),
    ).toEqual(['/locales/default']);
    expect(
      issuesOf(() => validateRealmPolicy({ name: 'm', baseUrl: 'http://x.test', branding: { primaryColor: 'red;}' } })),
    ).toContain('/branding/primaryColor');
    expect(issuesOf(() => validateRealmPolicy({ name: 'm', baseUrl: 'javascript:alert(1)' }))).toContain('/baseUrl');
  });

  it('refuses a typed code that would outlive the link, and an unknown time zone', () => {
    expect(
      issuesOf(() =>
        validateRealmPolicy({
          name: 'm',
          baseUrl: 'http://x.test',
          recovery: { code: { linkLifetimeMinutes: 10, codeLifetimeMinutes: 20 } },
        }),
      ),
    ).toEqual(['/recovery/code/codeLifetimeMinutes']);
    expect(
      issuesOf(() =>
        validateRealmPolicy({ name: 'm', baseUrl: 'http://x.test', locales: { timeZone: 'Mars/Olympus' } }),
      ),
    ).toEqual(['/locales/timeZone']);
  });

  it('refuses duplicate keys, which would silently override', () => {
    expect(issuesOf(() => parseRealmPolicyText('name: a\nname: b\nbaseUrl: http://x.test\n'))).toEqual(['']);
  });

  it('refuses documents that are not objects', () => {
    expect(issuesOf(() => parseRealmPolicyText('- 1\n- 2\n'))).toEqual(['']);
  });

  it('warns about revealing accounts and plain http outside localhost', () => {
    expect(insecureChoices(defaultRealmPolicy('main', 'http://localhost:8080'))).toEqual([]);
    const w = insecureChoices(
      validateRealmPolicy({ name: 'x', baseUrl: 'http://portal.example', signIn: { errorMode: 'reveal-unknown' } }),
    );
    expect(w.join('\n')).toMatch(/reveals whether an account exists/);
    expect(w.join('\n')).toMatch(/plain http/);
  });

  it('the published JSON Schema file is current', () => {
    expect(JSON.parse(read('schemas/realm-policy.schema.json'))).toEqual(realmPolicyJsonSchema());
  });
});
