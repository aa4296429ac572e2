// The audit log: append and read, nothing else. The table refuses UPDATE, DELETE and TRUNCATE by
// trigger (migrations/0001_init.sql), so this repository could not rewrite history even by mistake.
import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { DostupError } from '../../core/errors.ts';
import type { AuditEvent, EventKind } from '../../core/model.ts';
import type { EventsRepo, NewEvent } from '../../core/ports.ts';
import { type Db, isUuid, plainInsert } from '../db.ts';
import { events } from '../schema.ts';

/** Upper bound on one page: a caller asking for "everything" must not pull the whole log into memory. */
export const MAX_EVENTS_PAGE = 1000;

const MAX_BIGINT = 9223372036854775807n;

type EventRow = typeof events.$inferSelect;

const toEvent = (r: EventRow): AuditEvent => ({
  id: r.id.toString(),
  at: r.at,
  realm: r.realm,
  kind: r.kind as EventKind,
  userId: r.userId,
  ip: r.ip,
  userAgent: r.userAgent,
  data: r.data,
});

// Every sign-in and recovery request appends events: built without drizzle's insert builder (db.ts).
// Also used by repositories that write a row and its event in one statement.
export const insertEvents = plainInsert(events, [
  events.realm,
  events.kind,
  events.userId,
  events.ip,
  events.userAgent,
  events.data,
]);
export const eventValues = (e: NewEvent) => [
  e.realm,
  e.kind,
  e.userId,
  e.ip,
  e.userAgent,
  JSON.stringify(e.data ?? {}),
];

export function createEventsRepo(db: Db): EventsRepo {
  return {
    async append(e: NewEvent): Promise<void> {
      await db.execute(insertEvents([eventValues(e)]));
    },

    async appendMany(es: NewEvent[]): Promise<void> {
      // One statement; the rows get their ids (the log's order) in the order given.
      if (es.length > 0) await db.execute(insertEvents(es.map(eventValues)));
    },

    async list(opts): Promise<AuditEvent[]> {
      const conds: SQL[] = [];
      if (opts.realm !== undefined) conds.push(eq(events.realm, opts.realm));
      if (opts.userId !== undefined) {
        if (!isUuid(opts.userId)) return [];
        conds.push(eq(events.userId, opts.userId));
      }
      if (opts.kind !== undefined) conds.push(eq(events.kind, opts.kind));
      if (opts.before !== undefined) {
        // Keyset pagination: `before` is the id of the last event of the previous page.
        if (!/^[1-9][0-9]{0,18}$/.test(opts.before) || BigInt(opts.before) > MAX_BIGINT) {
          throw new DostupError('VALIDATION_FAILED', {
            message: 'events: `before` must be an event id',
            issues: [{ path: '/before', messageId: 'error.validation_failed', detail: 'not an event id' }],
          });
        }
        conds.push(lt(events.id, BigInt(opts.before)));
      }
      const limit = Math.min(Math.max(Math.trunc(opts.limit), 1), MAX_EVENTS_PAGE);
      const rows = await db
        .select()
        .from(events)
        .where(conds.length > 0 ? and(...conds) : undefined)
        .orderBy(desc(events.id))
        .limit(limit);
      return rows.map(toEvent);
    },
  };
}
