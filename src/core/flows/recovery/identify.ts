// What the person typed on "Forgot password?", per the realm's `recovery.identifyBy`:
// login (S1.2, S5.4), e-mail (S4.1), login AND e-mail that must both match (S2.2), or either.
import { DostupError, type FieldIssue } from '../../errors.ts';
import { classifyIdentifier, normalizeEmail, normalizeLogin } from '../../identifiers/normalize.ts';
import type { UserWithSecret } from '../../model.ts';
import type { UsersRepo } from '../../ports.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';

export interface RecoveryInput {
  /** The single field of `login`, `email` and `login-or-email` modes. */
  identifier?: string | undefined;
  /** The two fields of `login-and-email` mode. */
  login?: string | undefined;
  email?: string | undefined;
}

export interface Identified {
  loginKey: string | null;
  emailKey: string | null;
  /** The e-mail as typed (for the optional "no account here" notice, which has no stored address). */
  emailTyped: string | null;
  /** The rate-limit key for "this account", known or not. */
  accountKey: string;
}

/** The form fields a realm's identify step shows, in order. */
export function identifyFields(realm: RealmPolicy): ('identifier' | 'login' | 'email')[] {
  return realm.recovery.identifyBy === 'login-and-email' ? ['login', 'email'] : ['identifier'];
}

/** Normalize the typed values; a malformed value is a plain validation error (it reveals nothing). */
export function identify(realm: RealmPolicy, input: RecoveryInput): Identified {
  const mode = realm.recovery.identifyBy;
  const issues: FieldIssue[] = [];
  const need = (v: string | undefined, path: string) => {
    if (!v || v.trim() === '') issues.push({ path, messageId: 'recovery.field_required' });
    return v?.trim() ? v : null;
  };
  const tryNorm = <T>(path: string, fn: () => T): T | null => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof DostupError)) throw e;
      issues.push(...e.issues.map((i) => ({ ...i, path })));
      return null;
    }
  };
  let loginKey: string | null = null;
  let email: { display: string; key: string } | null = null;
  if (mode === 'login-and-email') {
    const l = need(input.login, '/login');
    const m = need(input.email, '/email');
    if (l) loginKey = tryNorm('/login', () => normalizeLogin(l))?.key ?? null;
    if (m) email = tryNorm('/email', () => normalizeEmail(m));
  } else {
    const raw = need(input.identifier, '/identifier');
    if (raw && mode === 'login') loginKey = tryNorm('/identifier', () => normalizeLogin(raw))?.key ?? null;
    if (raw && mode === 'email') email = tryNorm('/identifier', () => normalizeEmail(raw));
    if (raw && mode === 'login-or-email') {
      const c = tryNorm('/identifier', () => classifyIdentifier(raw, ['login', 'email']));
      if (c?.kind === 'email') email = tryNorm('/identifier', () => normalizeEmail(raw));
      else if (c) loginKey = c.key;
      else issues.push({ path: '/identifier', messageId: 'identifier.invalid' });
    }
  }
  if (issues.length > 0) throw new DostupError('VALIDATION_FAILED', { issues });
  return {
    loginKey,
    emailKey: email?.key ?? null,
    emailTyped: email?.display ?? null,
    accountKey: `${realm.name}:${loginKey ?? ''}:${email?.key ?? ''}`,
  };
}

/** The one user the typed values point at, or null (login-and-email: both must match one user). */
export async function findRecoveryUser(
  users: UsersRepo,
  realm: RealmPolicy,
  id: Pick<Identified, 'loginKey' | 'emailKey'>,
): Promise<UserWithSecret | null> {
  if (id.loginKey && id.emailKey) {
    const u = await users.findForSignIn(realm.name, 'login', id.loginKey);
    const byMail = await users.findForSignIn(realm.name, 'email', id.emailKey);
    return u && byMail && u.id === byMail.id ? u : null;
  }
  if (id.loginKey) return users.findForSignIn(realm.name, 'login', id.loginKey);
  if (id.emailKey) return users.findForSignIn(realm.name, 'email', id.emailKey);
  return null;
}

/** findRecoveryUser for a batch: one lookup per identifier kind, the same matching rules; aligned with `ids`. */
export async function findRecoveryUsers(
  users: UsersRepo,
  realm: RealmPolicy,
  ids: Pick<Identified, 'loginKey' | 'emailKey'>[],
): Promise<(UserWithSecret | null)[]> {
  const keys = (k: 'loginKey' | 'emailKey') => ids.flatMap((id) => (id[k] ? [id[k]] : []));
  const none = new Map<string, UserWithSecret>();
  const loginKeys = keys('loginKey');
  const emailKeys = keys('emailKey');
  const byLogin = loginKeys.length > 0 ? await users.findManyForSignIn(realm.name, 'login', loginKeys) : none;
  const byEmail = emailKeys.length > 0 ? await users.findManyForSignIn(realm.name, 'email', emailKeys) : none;
  return ids.map((id) => {
    const u = id.loginKey ? (byLogin.get(id.loginKey) ?? null) : null;
    const m = id.emailKey ? (byEmail.get(id.emailKey) ?? null) : null;
    if (id.loginKey && id.emailKey) return u && m && u.id === m.id ? u : null;
    return u ?? m;
  });
}

/** Who may reset their own password: active, with the right (S2.2), and a mailbox to send to. */
export function canSelfReset(u: UserWithSecret | null): u is UserWithSecret & { email: string } {
  return !!u && u.status === 'active' && u.rights.includes('password:change-own') && !!u.email;
}
