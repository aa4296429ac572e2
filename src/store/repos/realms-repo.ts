// Realm policies as applied by `dostup realm apply`. The policy is stored whole (jsonb) and already
// validated with every default filled in, so a reader never has to re-apply defaults.
import { asc, eq, sql } from 'drizzle-orm';
import type { RealmRecord, RealmsRepo } from '../../core/ports.ts';
import type { RealmPolicy } from '../../core/realm/policy-schema.ts';
import type { Db } from '../db.ts';
import { realms } from '../schema.ts';

type RealmRow = typeof realms.$inferSelect;

const toRecord = (r: RealmRow): RealmRecord => ({
  name: r.name,
  policy: r.policy,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export function createRealmsRepo(db: Db): RealmsRepo {
  return {
    async upsert(policy: RealmPolicy): Promise<RealmRecord> {
      const [row] = await db
        .insert(realms)
        .values({ name: policy.name, policy })
        .onConflictDoUpdate({ target: realms.name, set: { policy, updatedAt: sql`now()` } })
        .returning();
      if (!row) throw new Error('realm upsert returned no row');
      return toRecord(row);
    },

    async get(name: string): Promise<RealmRecord | null> {
      const [row] = await db.select().from(realms).where(eq(realms.name, name)).limit(1);
      return row ? toRecord(row) : null;
    },

    async list(): Promise<RealmRecord[]> {
      const rows = await db.select().from(realms).orderBy(asc(realms.name));
      return rows.map(toRecord);
    },
  };
}
