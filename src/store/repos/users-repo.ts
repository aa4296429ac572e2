// Accounts. The password hash is selected only by findForSignIn: every other read uses
// `publicColumns`, so a hash cannot reach a page or an API answer by a careless spread.
import { and, asc, count, desc, eq, sql } from 'drizzle-orm';
import { DostupError } from '../../core/errors.ts';
import type { Locale, User, UserStatus, UserWithSecret } from '../../core/model.ts';
import type { NewUser, UsersRepo } from '../../core/ports.ts';
import { type Db, isUuid, pgErrorOf, queryRows } from '../db.ts';
import { passwordHistory, users } from '../schema.ts';

export const publicUserColumns = {
  id: users.id,
  realm: users.realm,
  login: users.login,
  email: users.email,
  emailVerified: users.emailVerified,
  phone: users.phone,
  phoneVerified: users.phoneVerified,
  birthDate: users.birthDate,
  locale: users.locale,
  status: users.status,
  rights: users.rights,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};

type PublicRow = { [K in keyof typeof publicUserColumns]: (typeof users.$inferSelect)[K] };

/** Row → model. The CHECK constraints guarantee `status` and `locale` hold known values. */
export const toUser = (r: PublicRow): User => ({
  id: r.id,
  realm: r.realm,
  login: r.login,
  email: r.email,
  emailVerified: r.emailVerified,
  phone: r.phone,
  phoneVerified: r.phoneVerified,
  birthDate: r.birthDate,
  locale: r.locale as Locale | null,
  status: r.status as UserStatus,
  rights: r.rights,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

/** Unique index → the identifier a person should change. Names come from migrations/0001_init.sql. */
const TAKEN_BY_INDEX: Record<string, '/login' | '/email' | '/phone'> = {
  users_realm_login_key_uq: '/login',
  users_realm_email_key_uq: '/email',
  users_realm_phone_uq: '/phone',
};

const LOOKUP = { login: users.loginKey, email: users.emailKey, phone: users.phone } as const;

export function createUsersRepo(db: Db): UsersRepo {
  // The sign-in lookup runs on every sign-in: built once per lookup kind (not per call), and prepared
  // by name so PostgreSQL parses and plans it once per connection. Lazily: repositories bound to a
  // transaction are created per transaction and most never sign anyone in.
  const forSignIn: Partial<Record<keyof typeof LOOKUP, ReturnType<typeof prepareForSignIn>>> = {};
  function prepareForSignIn(by: keyof typeof LOOKUP) {
    return db
      .select({ ...publicUserColumns, passwordHash: users.passwordHash })
      .from(users)
      .where(and(eq(users.realm, sql.placeholder('realm')), eq(LOOKUP[by], sql.placeholder('key'))))
      .limit(1)
      .prepare(`dostup_user_for_signin_${by}`);
  }

  // The same for several keys at once (sign-ins and recovery requests arriving together share it):
  // `= any($keys)` keeps one statement text for any number of keys, so it too is prepared once.
  const manyForSignIn: Partial<Record<keyof typeof LOOKUP, ReturnType<typeof prepareManyForSignIn>>> = {};
  function prepareManyForSignIn(by: keyof typeof LOOKUP) {
    return db
      .select({ ...publicUserColumns, passwordHash: users.passwordHash, key: LOOKUP[by] })
      .from(users)
      .where(
        and(eq(users.realm, sql.placeholder('realm')), sql`${LOOKUP[by]} = any(${sql.placeholder('keys')}::text[])`),
      )
      .prepare(`dostup_users_for_signin_many_${by}`);
  }

  return {
    async create(u: NewUser): Promise<User> {
      try {
        // In its own savepoint: a unique violation aborts the enclosing transaction on PostgreSQL, and
        // a caller that catches IDENTIFIER_TAKEN (to record an event, to try another login) must be
        // able to keep using it.
        const [row] = await db.transaction((tx) =>
          tx
            .insert(users)
            .values({
              realm: u.realm,
              login: u.login,
              loginKey: u.loginKey,
              email: u.email,
              emailKey: u.emailKey,
              emailVerified: u.emailVerified,
              phone: u.phone,
              phoneVerified: u.phoneVerified,
              birthDate: u.birthDate,
              locale: u.locale,
              status: u.status,
              rights: u.rights,
              passwordHash: u.passwordHash,
            })
            .returning(publicUserColumns),
        );
        if (!row) throw new Error('user insert returned no row');
        return toUser(row);
      } catch (e) {
        throw mapCreateError(e);
      }
    },

    async getById(realm: string, id: string): Promise<User | null> {
      if (!isUuid(id)) return null;
      const [row] = await db
        .select(publicUserColumns)
        .from(users)
        .where(and(eq(users.realm, realm), eq(users.id, id)))
        .limit(1);
      return row ? toUser(row) : null;
    },

    async findForSignIn(realm, by, key): Promise<UserWithSecret | null> {
      forSignIn[by] ??= prepareForSignIn(by);
      const [row] = await forSignIn[by].execute({ realm, key });
      return row ? { ...toUser(row), passwordHash: row.passwordHash } : null;
    },

    async findManyForSignIn(realm, by, keys): Promise<Map<string, UserWithSecret>> {
      const wanted = [...new Set(keys)];
      if (wanted.length === 0) return new Map();
      manyForSignIn[by] ??= prepareManyForSignIn(by);
      const rows = await manyForSignIn[by].execute({ realm, keys: wanted });
      return new Map(
        rows.flatMap(({ key, ...row }) =>
          key === null ? [] : [[key, { ...toUser(row), passwordHash: row.passwordHash }]],
        ),
      );
    },

    async getWithSecret(realm: string, id: string): Promise<UserWithSecret | null> {
      if (!isUuid(id)) return null;
      const [row] = await db
        .select({ ...publicUserColumns, passwordHash: users.passwordHash })
        .from(users)
        .where(and(eq(users.realm, realm), eq(users.id, id)))
        .limit(1);
      return row ? { ...toUser(row), passwordHash: row.passwordHash } : null;
    },

    async list(realm, opts): Promise<User[]> {
      const rows = await db
        .select(publicUserColumns)
        .from(users)
        .where(eq(users.realm, realm))
        .orderBy(asc(users.createdAt), asc(users.id))
        .limit(Math.max(0, Math.trunc(opts.limit)))
        .offset(Math.max(0, Math.trunc(opts.offset)));
      return rows.map(toUser);
    },

    async count(realm: string): Promise<number> {
      const [row] = await db.select({ n: count() }).from(users).where(eq(users.realm, realm));
      return row?.n ?? 0;
    },

    async setPasswordHash(userId: string, hash: string, keepHistory: number): Promise<void> {
      if (!isUuid(userId)) throw new DostupError('USER_NOT_FOUND');
      const keep = Math.max(0, Math.trunc(keepHistory));
      // One transaction (a savepoint inside the caller's): the history must never lose the old hash
      // while the new one is already set, or "not one of your last N passwords" could be bypassed.
      await db.transaction(async (tx) => {
        // FOR UPDATE: two concurrent changes must each push the hash the other one replaced.
        const [cur] = await tx
          .select({ hash: users.passwordHash })
          .from(users)
          .where(eq(users.id, userId))
          .for('update');
        if (!cur) throw new DostupError('USER_NOT_FOUND');
        if (cur.hash !== null && keep > 0) {
          await tx.insert(passwordHistory).values({ userId, hash: cur.hash });
        }
        await tx.update(users).set({ passwordHash: hash, updatedAt: sql`now()` }).where(eq(users.id, userId));
        await queryRows(
          tx,
          sql`delete from password_history where user_id = ${userId} and id not in (
                select id from password_history where user_id = ${userId}
                order by created_at desc, id desc limit ${keep})`,
        );
      });
    },

    async rehash(userId: string, oldHash: string, newHash: string): Promise<boolean> {
      if (!isUuid(userId)) return false;
      // Compare-and-swap on the old hash: a password changed in the meantime (a reset finishing while
      // this sign-in's re-hash ran) must win; and the history is left alone (same password).
      const rows = await db
        .update(users)
        .set({ passwordHash: newHash, updatedAt: sql`now()` })
        .where(and(eq(users.id, userId), eq(users.passwordHash, oldHash)))
        .returning({ id: users.id });
      return rows.length > 0;
    },

    async passwordHistory(userId: string, limit: number): Promise<string[]> {
      if (!isUuid(userId) || limit <= 0) return [];
      const rows = await db
        .select({ hash: passwordHistory.hash })
        .from(passwordHistory)
        .where(eq(passwordHistory.userId, userId))
        .orderBy(desc(passwordHistory.createdAt), desc(passwordHistory.id))
        .limit(Math.trunc(limit));
      return rows.map((r) => r.hash);
    },

    async setStatus(userId: string, status: UserStatus): Promise<void> {
      if (!isUuid(userId)) throw new DostupError('USER_NOT_FOUND');
      const rows = await db
        .update(users)
        .set({ status, updatedAt: sql`now()` })
        .where(eq(users.id, userId))
        .returning({ id: users.id });
      if (rows.length === 0) throw new DostupError('USER_NOT_FOUND');
    },
  };
}

function mapCreateError(e: unknown): unknown {
  const pg = pgErrorOf(e);
  if (pg?.code === '23505') {
    const path = pg.constraint ? TAKEN_BY_INDEX[pg.constraint] : undefined;
    if (path) {
      return new DostupError('IDENTIFIER_TAKEN', {
        message: `identifier taken: ${path.slice(1)}`,
        issues: [{ path, messageId: 'error.identifier_taken' }],
      });
    }
  }
  // The only foreign key of users is its realm.
  if (pg?.code === '23503') return new DostupError('REALM_NOT_FOUND');
  return e;
}
