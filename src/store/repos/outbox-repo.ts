// The outbox: mail and SMS queued in the transaction of the change that causes them, delivered by a
// worker on every node. Workers share rows safely because a claim is ONE statement that locks with
// FOR UPDATE SKIP LOCKED (two nodes never take the same row) and leases the row until `locked_until`
// (a node that dies mid-send does not strand it). Every later write is guarded by the attempt number
// of the claim, so a worker that lost its lease cannot overwrite the newer claim's outcome.
import { and, desc, eq, inArray, lte, or, sql } from 'drizzle-orm';
import type { Locale } from '../../core/model.ts';
import type {
  FinishedOutboxMessage,
  NewOutboxMessage,
  OutboxChannel,
  OutboxMessage,
  OutboxRepo,
  OutboxStatus,
} from '../../core/ports.ts';
import { asDate, countDeleted, type Db, isUuid, plainInsert, queryRows } from '../db.ts';
import { outbox } from '../schema-outbox.ts';

type OutboxRow = typeof outbox.$inferSelect;

/** last_error is for operators; an SMTP reply can be long, and the table should not grow with it. */
const MAX_ERROR_LENGTH = 1000;
const MAX_LIST = 1000;

const toMessage = (r: OutboxRow): OutboxMessage => ({
  id: r.id,
  realm: r.realm,
  channel: r.channel as OutboxChannel,
  recipient: r.recipient,
  template: r.template,
  locale: r.locale as Locale,
  payload: r.payload,
  status: r.status as OutboxStatus,
  attempts: r.attempts,
  nextAttemptAt: r.nextAttemptAt,
  lockedUntil: r.lockedUntil,
  lastError: r.lastError,
  createdAt: r.createdAt,
  sentAt: r.sentAt,
});

/** Still leased by the claim that saw `attempts`: a late or duplicate worker matches nothing. */
const stillClaimedBy = (id: string, attempts: number) =>
  and(eq(outbox.id, id), eq(outbox.attempts, attempts), eq(outbox.status, 'sending'));

const toRow = (m: NewOutboxMessage) => ({
  id: m.id,
  realm: m.realm,
  channel: m.channel,
  recipient: m.recipient,
  template: m.template,
  locale: m.locale,
  payload: m.payload,
});

// What every outbox row says about its mail, in this order (both inserts below start with it).
const MAIL_COLUMNS = [outbox.id, outbox.realm, outbox.channel, outbox.recipient, outbox.template, outbox.locale];
const mailValues = (m: Omit<NewOutboxMessage, 'payload'>) => [
  m.id,
  m.realm,
  m.channel,
  m.recipient,
  m.template,
  m.locale,
];

// Every mail the server queues: built without drizzle's insert builder (db.ts).
const insertLeased = plainInsert(outbox, [
  ...MAIL_COLUMNS,
  outbox.payload,
  outbox.status,
  outbox.attempts,
  outbox.lockedUntil,
]);

// Mail a transport in this database took in the caller's transaction (the dev mailbox): no payload.
const insertFinished = plainInsert(outbox, [
  ...MAIL_COLUMNS,
  outbox.status,
  outbox.attempts,
  outbox.sentAt,
  outbox.lastError,
]);

function assertLease(leaseSeconds: number): void {
  if (!Number.isFinite(leaseSeconds) || leaseSeconds <= 0) throw new RangeError(`outbox: bad lease ${leaseSeconds}`);
}

export function createOutboxRepo(db: Db): OutboxRepo {
  return {
    async enqueue(m: NewOutboxMessage): Promise<void> {
      await db.insert(outbox).values(toRow(m));
    },

    async enqueueLeased(ms: NewOutboxMessage[], leaseSeconds: number): Promise<OutboxMessage[]> {
      assertLease(leaseSeconds);
      if (ms.length === 0) return [];
      // The row is born in the state a claim would leave it in (sending, attempt 1, leased): what a
      // claim statement would cost — a second row version, its index entries, the locking read —
      // is saved on every mail, and the rest of the outbox's rules hold unchanged.
      // clock_timestamp(), not now(): now() is when the transaction began, which may be well before
      // this INSERT, and the lease must not start earlier than the caller thinks it did.
      const lockedUntil = sql`clock_timestamp() + make_interval(secs => ${leaseSeconds}::double precision)`;
      const rows = await queryRows<{
        id: string;
        locked_until: unknown;
        next_attempt_at: unknown;
        created_at: unknown;
      }>(
        db,
        insertLeased(
          ms.map((m) => [...mailValues(m), m.payload, 'sending', 1, lockedUntil]),
          'returning id, locked_until, next_attempt_at, created_at',
        ),
      );
      // RETURNING order is not promised: back in the caller's order. Only what the database decided
      // comes back; the rest is the caller's already.
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ms.map((m) => {
        const r = byId.get(m.id);
        if (!r) throw new Error('outbox insert returned no row');
        return {
          ...m,
          status: 'sending' as const,
          attempts: 1,
          nextAttemptAt: asDate(r.next_attempt_at),
          lockedUntil: asDate(r.locked_until),
          lastError: null,
          createdAt: asDate(r.created_at),
          sentAt: null,
        };
      });
    },

    async recordFinished(ms: FinishedOutboxMessage[]): Promise<void> {
      if (ms.length === 0) return;
      await queryRows(
        db,
        insertFinished(
          ms.map((m) => [
            ...mailValues(m),
            m.status,
            1,
            m.status === 'sent' ? sql`clock_timestamp()` : null,
            m.lastError === null ? null : m.lastError.slice(0, MAX_ERROR_LENGTH),
          ]),
        ),
      );
    },

    async claim(limit: number, leaseSeconds: number): Promise<OutboxMessage[]> {
      if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`outbox claim: bad limit ${limit}`);
      assertLease(leaseSeconds);
      // Due = queued and its time has come, or `sending` with a lease that ran out (its worker died).
      // The inner SELECT locks what it picks and skips rows another worker is claiming right now;
      // a row another worker claimed and committed since our snapshot is re-checked by PostgreSQL
      // against this WHERE (it is `sending` with a live lease then) and dropped. All in one
      // statement: nothing can happen between "picked" and "leased".
      const due = db
        .select({ id: outbox.id })
        .from(outbox)
        .where(
          or(
            and(eq(outbox.status, 'queued'), lte(outbox.nextAttemptAt, sql`now()`)),
            and(eq(outbox.status, 'sending'), sql`${outbox.lockedUntil} < now()`),
          ),
        )
        .orderBy(outbox.nextAttemptAt)
        .limit(limit)
        .for('update', { skipLocked: true });
      const rows = await db
        .update(outbox)
        .set({
          status: 'sending',
          attempts: sql`${outbox.attempts} + 1`,
          lockedUntil: sql`now() + make_interval(secs => ${leaseSeconds}::double precision)`,
        })
        .where(inArray(outbox.id, due))
        .returning();
      return rows.map(toMessage).sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime());
    },

    async deleteFinished(before: Date): Promise<number> {
      // Queued and sending rows are work still to do: only finished ones go, by when they finished.
      return countDeleted(
        db,
        sql`delete from outbox
              where (status = 'sent' and sent_at < ${before.toISOString()}::timestamptz)
                 or (status = 'abandoned' and next_attempt_at < ${before.toISOString()}::timestamptz)`,
      );
    },

    async markSentMany(claims: { id: string; attempts: number }[]): Promise<void> {
      const valid = claims.filter((c) => isUuid(c.id) && Number.isInteger(c.attempts));
      if (valid.length === 0) return;
      // One statement for a whole round; each row still only if its own claim holds it. The payload
      // may hold a one-time code: once delivered it has no reason to exist.
      const pairs = sql.join(
        valid.map((c) => sql`(${c.id}::uuid, ${c.attempts}::int)`),
        sql`, `,
      );
      await db
        .update(outbox)
        .set({ status: 'sent', sentAt: sql`now()`, payload: null, lockedUntil: null, lastError: null })
        .where(and(eq(outbox.status, 'sending'), sql`(${outbox.id}, ${outbox.attempts}) in (${pairs})`));
    },

    async markFailed(id: string, attempts: number, error: string, retryAt: Date | null): Promise<void> {
      if (!isUuid(id)) return;
      const lastError = error.slice(0, MAX_ERROR_LENGTH);
      if (retryAt === null) {
        await db
          .update(outbox)
          .set({ status: 'abandoned', payload: null, lockedUntil: null, lastError })
          .where(stillClaimedBy(id, attempts));
        return;
      }
      await db
        .update(outbox)
        .set({ status: 'queued', nextAttemptAt: retryAt, lockedUntil: null, lastError })
        .where(stillClaimedBy(id, attempts));
    },

    async get(id: string): Promise<OutboxMessage | null> {
      if (!isUuid(id)) return null;
      const [row] = await db.select().from(outbox).where(eq(outbox.id, id)).limit(1);
      return row ? toMessage(row) : null;
    },

    async list(opts): Promise<OutboxMessage[]> {
      const conditions = [
        opts.status ? eq(outbox.status, opts.status) : undefined,
        opts.recipient !== undefined ? eq(outbox.recipient, opts.recipient) : undefined,
      ].filter((c) => c !== undefined);
      const rows = await db
        .select()
        .from(outbox)
        .where(conditions.length > 0 ? and(...conditions) : undefined)
        .orderBy(desc(outbox.seq))
        .limit(Math.max(1, Math.min(MAX_LIST, Math.floor(opts.limit))));
      return rows.map(toMessage);
    },
  };
}
