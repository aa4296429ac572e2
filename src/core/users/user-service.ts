// Creating and reading users (CLI `dostup user add`, admin API). Identifiers go through the one
// normalization module; passwords through the realm's policy engine before they are hashed.
import { DostupError, type FieldIssue } from '../errors.ts';
import { normalizeEmail, normalizeLogin, normalizePhone } from '../identifiers/normalize.ts';
import { LOCALES, type Locale, RIGHTS, USER_STATUSES, type User, type UserStatus } from '../model.ts';
import type { CommonPasswordList } from '../password/common-passwords.ts';
import { assertPasswordSize, checkPassword } from '../password/policy.ts';
import type { PasswordHasher, Store } from '../ports.ts';
import type { RealmPolicy } from '../realm/policy-schema.ts';

export interface NewUserInput {
  login?: string | null;
  email?: string | null;
  emailVerified?: boolean;
  phone?: string | null;
  phoneVerified?: boolean;
  birthDate?: string | null;
  locale?: Locale | null;
  status?: UserStatus;
  rights?: string[];
  password?: string | null;
}

export interface Actor {
  ip: string | null;
  userAgent: string | null;
  /** Who did it: `admin-api`, `cli`, … */
  via: string;
}

export interface UserServiceDeps {
  store: Store;
  hasher: PasswordHasher;
  common: CommonPasswordList;
}

/** Users may change their own password unless an administrator decides otherwise (S2.2). */
export const DEFAULT_RIGHTS = [RIGHTS.passwordChangeOwn];
const RIGHT_RE = /^[a-z][a-z0-9-]*(:[a-z0-9-]+)*$/;

export function createUserService(deps: UserServiceDeps) {
  async function create(realm: RealmPolicy, input: NewUserInput, actor: Actor): Promise<User> {
    const issues: FieldIssue[] = [];
    const attempt = <T>(path: string, fn: () => T): T | null => {
      try {
        return fn();
      } catch (e) {
        if (e instanceof DostupError) issues.push(...e.issues.map((i) => ({ ...i, path })));
        else throw e;
        return null;
      }
    };
    const login = input.login ? attempt('/login', () => normalizeLogin(input.login!)) : null;
    const email = input.email ? attempt('/email', () => normalizeEmail(input.email!)) : null;
    const phone = input.phone ? attempt('/phone', () => normalizePhone(input.phone!)) : null;
    if (!input.login && !input.email && !input.phone) {
      issues.push({ path: '/login', messageId: 'user.identifier_required' });
    }
    if (input.birthDate != null && !isIsoDate(input.birthDate)) {
      issues.push({ path: '/birthDate', messageId: 'user.birth_date_invalid' });
    }
    if (input.locale != null && !LOCALES.includes(input.locale))
      issues.push({ path: '/locale', messageId: 'user.locale_invalid' });
    if (input.status != null && !USER_STATUSES.includes(input.status))
      issues.push({ path: '/status', messageId: 'user.status_invalid' });
    const rights = input.rights ?? DEFAULT_RIGHTS;
    for (const r of rights)
      if (!RIGHT_RE.test(r) || r.length > 100)
        issues.push({ path: '/rights', messageId: 'user.right_invalid', params: { right: r.slice(0, 100) } });

    let passwordHash: string | null = null;
    if (input.password != null) {
      assertPasswordSize(input.password);
      const res = await checkPassword(realm.password, input.password, {
        login: login?.display ?? null,
        email: email?.display ?? null,
        common: deps.common,
      });
      if (!res.ok) {
        for (const f of res.failures)
          issues.push({ path: '/password', messageId: f.messageId, ...(f.params ? { params: f.params } : {}) });
      }
    }
    if (issues.length > 0) throw new DostupError('VALIDATION_FAILED', { issues });
    if (input.password != null) passwordHash = await deps.hasher.hash(input.password);

    return deps.store.transaction(async (tx) => {
      const user = await tx.users.create({
        realm: realm.name,
        login: login?.display ?? null,
        loginKey: login?.key ?? null,
        email: email?.display ?? null,
        emailKey: email?.key ?? null,
        emailVerified: input.emailVerified ?? false,
        phone: phone?.key ?? null,
        phoneVerified: input.phoneVerified ?? false,
        birthDate: input.birthDate ?? null,
        locale: input.locale ?? null,
        status: input.status ?? 'active',
        rights: [...new Set(rights)],
        passwordHash,
      });
      await tx.events.append({
        realm: realm.name,
        kind: 'user.created',
        userId: user.id,
        ip: actor.ip,
        userAgent: actor.userAgent,
        data: { via: actor.via, withPassword: passwordHash !== null },
      });
      return user;
    });
  }

  return {
    create,
    get: (realm: string, id: string) => deps.store.users.getById(realm, id),
    list: (realm: string, limit: number, offset: number) => deps.store.users.list(realm, { limit, offset }),
    count: (realm: string) => deps.store.users.count(realm),
  };
}

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s) && d.getTime() < Date.now();
}

export type UserService = ReturnType<typeof createUserService>;
