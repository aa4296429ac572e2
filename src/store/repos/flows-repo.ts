// Multi-step flows (sign-in, recovery, …). Updates are compare-and-swap on `version`: two requests
// racing on one flow (a double submit, a replayed form) cannot both advance it — the loser gets null
// and must re-read. Expiry is computed by the database clock, never the app's.
import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import type { FlowRecord, FlowsRepo, NewFlow } from '../../core/ports.ts';
import { type Db, isUuid, queryRows } from '../db.ts';
import { flows } from '../schema.ts';

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

export function createFlowsRepo(db: Db): FlowsRepo {
  return {
    async create(f: NewFlow): Promise<FlowRecord> {
      const [row] = await db
        .insert(flows)
        .values({
          id: f.id,
          realm: f.realm,
          kind: f.kind,
          state: f.state,
          data: f.data,
          csrfBinding: f.csrfBinding,
          expiresAt: f.expiresAt,
        })
        .returning();
      if (!row) throw new Error('flow insert returned no row');
      return toFlow(row);
    },

    async get(id: string): Promise<(FlowRecord & { expired: boolean }) | null> {
      if (!isUuid(id)) return null;
      const [row] = await db
        .select({ ...getTableColumns(flows), expired: sql<boolean>`(${flows.expiresAt} <= now())` })
        .from(flows)
        .where(eq(flows.id, id))
        .limit(1);
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
      const [row] = await queryRows<{ n: number }>(
        db,
        sql`with gone as (delete from flows where expires_at < ${before.toISOString()}::timestamptz returning 1)
            select count(*)::int as n from gone`,
      );
      return Number(row?.n ?? 0);
    },
  };
}
