// One-time secrets, stored only as HMACs (core/secrets/one-time-secrets.ts makes and checks them).
// Every decision that matters is a single conditional UPDATE judged by the DATABASE clock and row
// locks, never a read followed by a write: an attempt is counted in the same statement that checks
// the limit, and a secret is used up by `… WHERE used_at IS NULL`, so racing requests — parallel
// guesses, a double-submitted reset — cannot get more than the rules allow.
import { and, eq, getTableColumns, gt, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { NewOneTimeSecret, OneTimeSecretRecord, OneTimeSecretsRepo, UnusableReason } from '../../core/ports.ts';
import { asDate, countDeleted, type Db, isUuid, plainInsert, queryRows } from '../db.ts';
import { oneTimeSecrets as t } from '../schema-secrets.ts';

/**
 * Namespace of the advisory lock taken while issuing (the two-int form, whose key space is separate
 * from the migration runner's single bigint key). The second int is a hash of user + purpose.
 */
const ISSUE_LOCK_SPACE = 1_685_025_663;

const recordColumns = {
  ...getTableColumns(t),
  // Age by the database clock: a typed code may live shorter than the link carrying it, and the
  // app server's clock must not be able to stretch that.
  ageSeconds: sql<number>`extract(epoch from now() - ${t.createdAt})::float8`.mapWith(Number),
};

/** Not used, not replaced by a newer one (expiry and attempts are checked where they matter). */
const isLive = (): SQL => and(isNull(t.usedAt), isNull(t.invalidatedAt)) as SQL;

/** Live, not expired by the database clock. */
const isUsable = (): SQL => and(isLive(), gt(t.expiresAt, sql`now()`)) as SQL;

// Every recovery request for an existing account issues one: built without drizzle's insert
// builder (db.ts). The columns the database decides come back; the caller has the rest.
const insertSecrets = plainInsert(t, [
  t.id,
  t.realm,
  t.userId,
  t.purpose,
  t.flowId,
  t.hmac,
  t.keyId,
  t.maxAttempts,
  t.expiresAt,
  t.invalidatedAt,
]);
const ISSUED =
  'returning id, attempts, created_at, expires_at, invalidated_at, ' +
  'extract(epoch from now() - created_at)::float8 as age_seconds';
interface IssuedRow {
  id: string;
  attempts: number;
  created_at: unknown;
  expires_at: unknown;
  invalidated_at: unknown;
  age_seconds: number | string;
}

/**
 * `inTransaction`: the handle is already a transaction (store.transaction hands the repositories
 * one). Issuing then runs in it directly: its advisory locks last until the caller commits either
 * way, and a failure fails the caller's transaction — a savepoint would only add two round trips.
 */
export function createOneTimeSecretsRepo(db: Db, opts: { inTransaction?: boolean } = {}): OneTimeSecretsRepo {
  async function issueMany(ss: NewOneTimeSecret[]): Promise<OneTimeSecretRecord[]> {
    if (ss.length === 0) return [];
    const keyOf = (s: NewOneTimeSecret) => `${s.userId}:${s.purpose}`;
    const keys = [...new Set(ss.map(keyOf))].sort();
    // Several for one user + purpose in a batch: the last one is the newest, the earlier ones are
    // born replaced — exactly what issuing them one after the other would leave behind.
    const newest = new Map(ss.map((s, i) => [keyOf(s), i]));
    if (!ss.every((s) => isUuid(s.userId))) throw new Error('one-time secrets: user id is not a uuid');
    const issue = async (tx: Db): Promise<OneTimeSecretRecord[]> => {
      // Serialize issuing per user + purpose. Without it two concurrent requests ("send the code"
      // clicked twice) would each invalidate only what they could see and both insert: two live
      // codes, twice the guesses. With it, the second waits, then (READ COMMITTED: a fresh snapshot
      // per statement) sees and invalidates the first one's code. The unique index
      // one_time_secrets_live_uq backs this up. Held until the caller's transaction ends. Taken in
      // sorted order, so two batches sharing users wait for each other instead of deadlocking.
      const lockKeys = sql.join(
        keys.map((k) => sql`(${k}::text)`),
        sql`, `,
      );
      await tx.execute(
        sql`select count(pg_advisory_xact_lock(${ISSUE_LOCK_SPACE}::int, hashtext(k)))
            from (select k from (values ${lockKeys}) as v(k) order by k) as ordered`,
      );
      const owners = sql.join(
        [...new Map(ss.map((s) => [keyOf(s), s])).values()].map((s) => sql`(${s.userId}::uuid, ${s.purpose}::text)`),
        sql`, `,
      );
      await tx
        .update(t)
        .set({ invalidatedAt: sql`now()` })
        .where(and(sql`(${t.userId}, ${t.purpose}) in (${owners})`, isLive()));
      const rows = await queryRows<IssuedRow>(
        tx,
        insertSecrets(
          ss.map((s, i) => [
            s.id,
            s.realm,
            s.userId,
            s.purpose,
            s.flowId ?? null,
            s.hmac,
            s.keyId,
            s.maxAttempts,
            sql`now() + make_interval(secs => ${s.ttlSeconds}::int)`,
            newest.get(keyOf(s)) === i ? null : sql`now()`,
          ]),
          ISSUED,
        ),
      );
      // RETURNING order is not promised: answer in the order asked.
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ss.map((s) => {
        const row = byId.get(s.id);
        if (!row) throw new Error('one-time secret insert returned no row');
        return {
          id: s.id,
          realm: s.realm,
          userId: s.userId,
          purpose: s.purpose,
          flowId: s.flowId ?? null,
          hmac: s.hmac,
          keyId: s.keyId,
          attempts: Number(row.attempts),
          maxAttempts: s.maxAttempts,
          createdAt: asDate(row.created_at),
          expiresAt: asDate(row.expires_at),
          usedAt: null,
          invalidatedAt: row.invalidated_at == null ? null : asDate(row.invalidated_at),
          ageSeconds: Number(row.age_seconds),
        };
      });
    };
    // Outside a transaction: one of its own, so the locks, the invalidation and the insert are one unit.
    return opts.inTransaction ? issue(db) : db.transaction(issue);
  }

  return {
    issueMany,

    async beginAttempt(by): Promise<OneTimeSecretRecord | null> {
      let target: SQL;
      if ('id' in by) {
        if (!isUuid(by.id)) return null;
        target = sql`${by.id}::uuid`;
      } else {
        if (!isUuid(by.userId)) return null;
        // The user's newest live secret. Issuing invalidates older ones, so there is at most one;
        // the order only makes the choice explicit.
        target = sql`(select s.id from one_time_secrets s
          where s.realm = ${by.realm} and s.user_id = ${by.userId}::uuid and s.purpose = ${by.purpose}
            and s.used_at is null and s.invalidated_at is null
          order by s.created_at desc, s.id desc limit 1)`;
      }
      // Count first, compare later: the caller compares the HMAC only on the row this returns, so
      // every guess has been paid for before anything about it is known. The row lock taken by the
      // UPDATE makes parallel guesses queue, and each re-checks `attempts < max_attempts` on the
      // row as the previous one left it — N parallel guesses cost N attempts and never exceed the limit.
      const [row] = await db
        .update(t)
        .set({ attempts: sql`${t.attempts} + 1` })
        .where(and(sql`${t.id} = ${target}`, isUsable(), lt(t.attempts, t.maxAttempts)))
        .returning(recordColumns);
      return row ?? null;
    },

    async isUsable(id: string, realm: string, purpose: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      const rows = await db
        .select({ id: t.id })
        .from(t)
        .where(
          and(
            eq(t.id, id),
            eq(t.realm, realm),
            eq(t.purpose, purpose),
            isUsable(),
            sql`${t.attempts} < ${t.maxAttempts}`,
          ),
        )
        .limit(1);
      return rows.length > 0;
    },

    async whyUnusable(id: string, realm: string) {
      if (!isUuid(id)) return null;
      // Judged by the database clock, like every other decision about a secret.
      const [row] = await db
        .select({
          userId: t.userId,
          reason: sql<UnusableReason>`case
            when ${t.usedAt} is not null then 'used'
            when ${t.invalidatedAt} is not null then 'replaced'
            when ${t.expiresAt} <= now() then 'expired'
            when ${t.attempts} >= ${t.maxAttempts} then 'exhausted'
            else 'live' end`,
        })
        .from(t)
        .where(and(eq(t.id, id), eq(t.realm, realm)));
      return row ?? null;
    },

    async consume(id: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      // Compare-and-swap on used_at: of two concurrent consumers exactly one gets the row back.
      const rows = await db
        .update(t)
        .set({ usedAt: sql`now()` })
        .where(and(eq(t.id, id), isUsable()))
        .returning({ id: t.id });
      return rows.length > 0;
    },

    async invalidateAll(userId: string, purpose: string): Promise<number> {
      if (!isUuid(userId)) return 0;
      const rows = await db
        .update(t)
        .set({ invalidatedAt: sql`now()` })
        .where(and(eq(t.userId, userId), eq(t.purpose, purpose), isLive()))
        .returning({ id: t.id });
      return rows.length;
    },

    async deleteExpired(before: Date): Promise<number> {
      // Used and invalidated rows go too once past their expiry: every row has one, so nothing
      // lingers, and a used row is kept until then as the record of the code's use.
      return countDeleted(
        db,
        sql`delete from one_time_secrets where expires_at < ${before.toISOString()}::timestamptz`,
      );
    },
  };
}
