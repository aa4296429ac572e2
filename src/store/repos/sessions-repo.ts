// Sessions. Every "is it still valid" decision compares against now() in SQL — the DATABASE clock —
// so a node with a skewed clock can neither resurrect an expired session nor end a live one early,
// and all nodes agree on the answer.
import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt, gte, isNull, ne, type SQL, sql } from 'drizzle-orm';
import type { Session } from '../../core/model.ts';
import type { NewEvent, NewSession, SessionsRepo, SessionWithUser } from '../../core/ports.ts';
import { asDate, countDeleted, type Db, isUuid, plainInsert, queryRows } from '../db.ts';
import { sessions, users } from '../schema.ts';
import { eventValues, insertEvents } from './events-repo.ts';
import { publicUserColumns, toUser } from './users-repo.ts';

const sessionColumns = {
  id: sessions.id,
  realm: sessions.realm,
  userId: sessions.userId,
  remember: sessions.remember,
  createdAt: sessions.createdAt,
  lastSeenAt: sessions.lastSeenAt,
  idleExpiresAt: sessions.idleExpiresAt,
  expiresAt: sessions.expiresAt,
  revokedAt: sessions.revokedAt,
  ip: sessions.ip,
  userAgent: sessions.userAgent,
};

type SessionRow = { [K in keyof typeof sessionColumns]: (typeof sessions.$inferSelect)[K] };

const toSession = (r: SessionRow): Session => ({ ...r });

// Every sign-in writes a session: built without drizzle's insert builder (db.ts).
const insertSessions = plainInsert(sessions, [
  sessions.id,
  sessions.realm,
  sessions.userId,
  sessions.tokenHash,
  sessions.remember,
  sessions.idleExpiresAt,
  sessions.expiresAt,
  sessions.ip,
  sessions.userAgent,
]);

/** Not revoked and neither expiry passed, by the database clock. */
const isLive = (): SQL =>
  and(isNull(sessions.revokedAt), gt(sessions.expiresAt, sql`now()`), gt(sessions.idleExpiresAt, sql`now()`)) as SQL;

export function createSessionsRepo(db: Db): SessionsRepo {
  // The whoami hot path: one indexed round trip (token_hash is unique), prepared once per repository
  // so PostgreSQL parses and plans it once per connection. Built lazily: repositories bound to a
  // transaction are created per transaction and most never look a session up.
  let liveByHash: ReturnType<typeof prepareLiveByHash> | undefined;
  function prepareLiveByHash() {
    return db
      .select({ session: sessionColumns, user: publicUserColumns })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, sql.placeholder('tokenHash')), isLive(), eq(users.status, 'active')))
      .limit(1)
      .prepare('dostup_session_live_by_hash');
  }

  // Sign-in writes its session and its audit event in ONE statement (data-modifying CTEs): one round
  // trip and one commit instead of two — on PGlite every statement runs on the event loop, beside the
  // argon2 work — and no issued session can miss its event. Several sign-ins finishing together share
  // that statement (group commit, session-service.ts): most of its cost is per statement, not per row.
  // The ids are made here, not by the database's default, so each event can name its session in the
  // same statement.
  async function createManyWithEvents(items: readonly { session: NewSession; event: NewEvent }[]): Promise<Session[]> {
    if (items.length === 0) return [];
    const ids = items.map(() => randomUUID());
    const inserted = insertSessions(
      items.map(({ session: s }, i) => [
        ids[i],
        s.realm,
        s.userId,
        s.tokenHash,
        s.remember,
        s.idleExpiresAt,
        s.expiresAt,
        s.ip,
        s.userAgent,
      ]),
      'returning id, created_at, last_seen_at',
    );
    const logged = insertEvents(
      items.map(({ event: e }, i) => eventValues({ ...e, data: { ...e.data, session: ids[i] } })),
    );
    const rows = await queryRows<{ id: string; created_at: unknown; last_seen_at: unknown }>(
      db,
      sql`with s as (${inserted}), e as (${logged}) select * from s`,
    );
    // RETURNING order is not promised: answer in the order asked. Only what the database decided is
    // read back; the rest is what we sent.
    const byId = new Map(rows.map((r) => [r.id, r]));
    return items.map(({ session: s }, i) => {
      const row = byId.get(ids[i]!);
      if (!row) throw new Error('session insert returned no row');
      return {
        id: ids[i]!,
        realm: s.realm,
        userId: s.userId,
        remember: s.remember,
        createdAt: asDate(row.created_at),
        lastSeenAt: asDate(row.last_seen_at),
        idleExpiresAt: s.idleExpiresAt,
        expiresAt: s.expiresAt,
        revokedAt: null,
        ip: s.ip,
        userAgent: s.userAgent,
      };
    });
  }

  return {
    async create(s: NewSession): Promise<Session> {
      const [row] = await db
        .insert(sessions)
        .values({
          realm: s.realm,
          userId: s.userId,
          tokenHash: s.tokenHash,
          remember: s.remember,
          idleExpiresAt: s.idleExpiresAt,
          expiresAt: s.expiresAt,
          ip: s.ip,
          userAgent: s.userAgent,
        })
        .returning(sessionColumns);
      if (!row) throw new Error('session insert returned no row');
      return toSession(row);
    },

    createManyWithEvents,

    async findLiveByTokenHash(tokenHash: Buffer): Promise<SessionWithUser | null> {
      liveByHash ??= prepareLiveByHash();
      const [row] = await liveByHash.execute({ tokenHash });
      return row ? { session: toSession(row.session), user: toUser(row.user) } : null;
    },

    async touch(sessionId: string, lastSeenAt: Date, idleExpiresAt: Date): Promise<void> {
      if (!isUuid(sessionId)) return;
      // greatest(): two nodes touching the same session may write out of order; the later
      // activity must win, never be rolled back by a stale write. A revoked session stays ended.
      await db
        .update(sessions)
        .set({
          lastSeenAt: sql`greatest(${sessions.lastSeenAt}, ${lastSeenAt.toISOString()}::timestamptz)`,
          idleExpiresAt: sql`greatest(${sessions.idleExpiresAt}, ${idleExpiresAt.toISOString()}::timestamptz)`,
        })
        .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
    },

    async listLiveForUser(userId: string): Promise<Session[]> {
      if (!isUuid(userId)) return [];
      const rows = await db
        .select(sessionColumns)
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isLive()))
        .orderBy(desc(sessions.lastSeenAt), desc(sessions.id));
      return rows.map(toSession);
    },

    async revoke(userId: string, sessionId: string): Promise<boolean> {
      if (!isUuid(userId) || !isUuid(sessionId)) return false;
      // user_id in the WHERE: a person can only end their own sessions, whatever id they send.
      const rows = await db
        .update(sessions)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isLive()))
        .returning({ id: sessions.id });
      return rows.length > 0;
    },

    async revokeByTokenHash(tokenHash: Buffer): Promise<Session | null> {
      const [row] = await db
        .update(sessions)
        .set({ revokedAt: sql`now()` })
        .where(and(eq(sessions.tokenHash, tokenHash), isNull(sessions.revokedAt)))
        .returning(sessionColumns);
      return row ? toSession(row) : null;
    },

    async revokeAllForUser(userId: string, exceptId?: string): Promise<number> {
      if (!isUuid(userId)) return 0;
      const conds = [eq(sessions.userId, userId), isLive()];
      if (exceptId !== undefined && isUuid(exceptId)) conds.push(ne(sessions.id, exceptId));
      // A user has a handful of sessions: returning their ids is cheaper than a second statement.
      const ended = await db
        .update(sessions)
        .set({ revokedAt: sql`now()` })
        .where(and(...conds))
        .returning({ id: sessions.id });
      return ended.length;
    },

    async revokedSince(since: Date): Promise<{ id: string; tokenHash: Buffer; revokedAt: Date }[]> {
      // >= rather than >: pollers pass the time of their last poll, and a duplicate is harmless
      // where a miss would leave a revoked session cached as valid.
      const rows = await db
        .select({ id: sessions.id, tokenHash: sessions.tokenHash, revokedAt: sessions.revokedAt })
        .from(sessions)
        .where(gte(sessions.revokedAt, since))
        .orderBy(sessions.revokedAt);
      return rows.map((r) => ({ id: r.id, tokenHash: r.tokenHash, revokedAt: r.revokedAt as Date }));
    },

    async deleteExpired(before: Date): Promise<number> {
      const b = before.toISOString();
      return countDeleted(
        db,
        sql`delete from sessions
              where expires_at < ${b}::timestamptz or idle_expires_at < ${b}::timestamptz
                 or revoked_at < ${b}::timestamptz`,
      );
    },
  };
}
