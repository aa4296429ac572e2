// Multi-step flows (sign-in, recovery, …). Updates are compare-and-swap on `version`: two requests
// racing on one flow (a double submit, a replayed form) cannot both advance it — the loser gets null
// and must re-read. Expiry is computed by the database clock, never the app's.
import { and, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { FlowRecord, FlowsRepo, NewEvent, NewFlow } from '../../core/ports.ts';
import { asDate, countDeleted, type Db, isUuid, plainInsert, queryRows } from '../db.ts';
import { flows } from '../schema.ts';
import { eventValues, insertEvents } from './events-repo.ts';

type FlowRow = typeof flows.$inferSelect;

const toFlow = (r: FlowRow): FlowRecord => ({
  id: r.id,
  realm: r.realm,
  kind: r.kind,
  state: r.state,
  data: r.data,
  csrfBinding: r.csrfBinding,
  version: r.version,
  expiresAt: r.expiresAt,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

// Every recovery request writes a flow: built without drizzle's insert builder (db.ts).
const insertFlows = plainInsert(flows, [
  flows.id,
  flows.realm,
  flows.kind,
  flows.state,
  flows.data,
  flows.csrfBinding,
  flows.expiresAt,
]);

const withExpired = { ...getTableColumns(flows), expired: sql<boolean>`(${flows.expiresAt} <= now())` };

export function createFlowsRepo(db: Db): FlowsRepo {
  async function createMany(fs: NewFlow[], es: NewEvent[] = []): Promise<FlowRecord[]> {
    if (fs.length === 0) return [];
    const json = fs.map((f) => JSON.stringify(f.data));
    // Only what the database decides comes back; the rest is the caller's already.
    const inserted = insertFlows(
      fs.map((f, i) => [f.id, f.realm, f.kind, f.state, json[i], f.csrfBinding, f.expiresAt]),
      'returning id, version, created_at, updated_at',
    );
    // With events: one statement writes both (a CTE), so they commit together in one round trip.
    const statement =
      es.length === 0
        ? inserted
        : sql`with f as (${inserted}), e as (${insertEvents(es.map(eventValues))}) select * from f`;
    const rows = await queryRows<{ id: string; version: number; created_at: unknown; updated_at: unknown }>(
      db,
      statement,
    );
    // RETURNING order is not promised: answer in the order asked.
    const byId = new Map(rows.map((r) => [r.id, r]));
    return fs.map((f, i) => {
      const row = byId.get(f.id);
      if (!row) throw new Error('flow insert returned no row');
      return {
        id: f.id,
        realm: f.realm,
        kind: f.kind,
        state: f.state,
        // As stored: what JSON keeps of it (no undefined fields, dates as strings), not the caller's object.
        data: JSON.parse(json[i]!) as Record<string, unknown>,
        csrfBinding: f.csrfBinding,
        version: Number(row.version),
        expiresAt: f.expiresAt,
        createdAt: asDate(row.created_at),
        updatedAt: asDate(row.updated_at),
      };
    });
  }

  return {
    async create(f: NewFlow): Promise<FlowRecord> {
      const [flow] = await createMany([f]);
      if (!flow) throw new Error('flow insert returned no row');
      return flow;
    },

    createMany: (fs) => createMany(fs),
    createManyWithEvents: createMany,

    async getMany(ids: string[]): Promise<(FlowRecord & { expired: boolean })[]> {
      const valid = ids.filter(isUuid);
      if (valid.length === 0) return [];
      const rows = await db.select(withExpired).from(flows).where(inArray(flows.id, valid));
      return rows.map((row) => ({ ...toFlow(row), expired: row.expired === true }));
    },

    async updateMany(changes): Promise<Set<string>> {
      const valid = changes.filter((c) => isUuid(c.id) && Number.isInteger(c.expectedVersion));
      if (valid.length === 0) return new Set();
      // Each row moves only from the version its caller read: the same compare-and-swap as update().
      const values = sql.join(
        valid.map(
          (c) => sql`(${c.id}::uuid, ${c.expectedVersion}::int, ${c.state}::text, ${JSON.stringify(c.data)}::jsonb)`,
        ),
        sql`, `,
      );
      const rows = await queryRows<{ id: string }>(
        db,
        sql`update flows f set state = v.state, data = v.data, version = f.version + 1, updated_at = now()
            from (values ${values}) as v(id, version, state, data)
            where f.id = v.id and f.version = v.version
            returning f.id`,
      );
      return new Set(rows.map((r) => r.id));
    },

    async get(id: string): Promise<(FlowRecord & { expired: boolean }) | null> {
      if (!isUuid(id)) return null;
      const [row] = await db.select(withExpired).from(flows).where(eq(flows.id, id)).limit(1);
      return row ? { ...toFlow(row), expired: row.expired === true } : null;
    },

    async update(id, expectedVersion, state, data): Promise<FlowRecord | null> {
      if (!isUuid(id)) return null;
      const [row] = await db
        .update(flows)
        .set({ state, data, version: sql`${flows.version} + 1`, updatedAt: sql`now()` })
        .where(and(eq(flows.id, id), eq(flows.version, expectedVersion)))
        .returning();
      return row ? toFlow(row) : null;
    },

    async listStale(kind, state, olderThanSeconds, limit): Promise<FlowRecord[]> {
      const rows = await db
        .select()
        .from(flows)
        .where(
          and(
            eq(flows.kind, kind),
            eq(flows.state, state),
            sql`${flows.updatedAt} <= now() - make_interval(secs => ${olderThanSeconds})`,
            sql`${flows.expiresAt} > now()`,
          ),
        )
        .orderBy(flows.updatedAt)
        .limit(limit);
      return rows.map(toFlow);
    },

    async deleteExpired(before: Date): Promise<number> {
      return countDeleted(db, sql`delete from flows where expires_at < ${before.toISOString()}::timestamptz`);
    },
  };
}
