import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadMigrations,
  type Migration,
  type MigrationConnection,
  migrate,
  pgliteMigrationConnection,
  pgMigrationConnection,
} from './migrate.ts';
import { migrateDatabase, openStore, openStoreWithRaw } from './open-store.ts';
import { createFreshPgDatabase, type FreshDatabase, pgTestUrl } from './testing/each-driver.ts';
import { rejectionOf, testPolicy, uniqueName } from './testing/fixtures.ts';

const collect = () => {
  const lines: string[] = [];
  return { lines, log: (m: string) => lines.push(m) };
};
const appliedIn = (lines: string[]) => lines.filter((l) => l.includes('applied migration'));
/** Every migration file, in order: the runner must apply all of them, each once. */
const allIds = async () => (await loadMigrations()).map((m) => m.id);
const appliedLines = async () => (await allIds()).map((id) => `store: applied migration ${id}`);

/** Runner behaviour that does not depend on the driver, on an already migrated connection. */
function runnerTests(getConn: () => MigrationConnection, tableExists: (name: string) => Promise<boolean>) {
  it('a failing migration is rolled back whole and not recorded; later runs retry it', async () => {
    const real = await loadMigrations();
    const bad: Migration = { id: '9000_fail', sql: 'create table t_fail (x int); select 1/0;', checksum: 'x' };
    await expect(migrate(getConn(), { migrations: [...real, bad] })).rejects.toThrow(/division by zero/);
    expect(await tableExists('t_fail')).toBe(false);
    const good: Migration = { id: '9000_fail', sql: 'create table t_fixed (x int);', checksum: 'y' };
    expect((await migrate(getConn(), { migrations: [...real, good] })).applied).toEqual(['9000_fail']);
    expect(await tableExists('t_fixed')).toBe(true);
  });

  it('warns about an applied file that was edited, and about migrations from a newer version', async () => {
    const [init] = await loadMigrations();
    const edited = { ...(init as Migration), checksum: 'edited' };
    const { lines, log } = collect();
    expect((await migrate(getConn(), { migrations: [edited], log })).applied).toEqual([]);
    expect(lines.some((l) => /0001_init was edited/.test(l))).toBe(true);
    expect(lines.some((l) => /does not know \(.*9000_fail\)/.test(l))).toBe(true);
  });
}

describe('migrations [pglite]', () => {
  let dir = '';
  let client: PGlite | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dostup-store-'));
  });
  afterAll(async () => {
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('apply on first open, persist in the data directory, and apply nothing on the next open', async () => {
    const first = collect();
    const { store, raw } = await openStoreWithRaw({ dataDir: dir, log: first.log });
    expect(appliedIn(first.lines)).toEqual(await appliedLines());
    expect(await allIds()).toContain('0001_init');
    const name = uniqueName();
    await store.realms.upsert(testPolicy(name));
    expect(await raw('select id from schema_migrations order by id')).toEqual((await allIds()).map((id) => ({ id })));
    await store.close();
    await store.close(); // idempotent
    await expect(store.ping()).rejects.toThrow();

    // Reopen on the raw client: the runner must find everything applied, and the data survived.
    client = await PGlite.create(dir);
    expect((await migrate(pgliteMigrationConnection(client))).applied).toEqual([]);
    expect((await client.query('select name from realms where name = $1', [name])).rows).toEqual([{ name }]);
  });

  runnerTests(
    () => pgliteMigrationConnection(client as PGlite),
    async (t) => ((await client?.query('select to_regclass($1) as t', [t]))?.rows[0] as { t: unknown })?.t !== null,
  );
});

const pgUrl = pgTestUrl();
(pgUrl ? describe : describe.skip)('migrations [pg]', () => {
  let fresh: FreshDatabase | undefined;
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    fresh = await createFreshPgDatabase(pgUrl as string);
  });
  afterAll(async () => {
    await pool?.end();
    await fresh?.drop();
  });

  it('nodes starting together apply each migration exactly once (advisory lock)', async () => {
    const url = fresh?.url as string;
    const logs = [collect(), collect(), collect()];
    const stores = await Promise.all(logs.map((l) => openStore({ databaseUrl: url, log: l.log, poolMax: 2 })));
    expect(logs.flatMap((l) => appliedIn(l.lines)).sort()).toEqual((await appliedLines()).sort());
    await Promise.all(stores.map((s) => s.close()));
    expect((await migrateDatabase({ databaseUrl: url })).applied).toEqual([]);
    pool = new pg.Pool({ connectionString: url, max: 2 });
    const { rows } = await pool.query('select id from schema_migrations order by id');
    expect(rows).toEqual((await allIds()).map((id) => ({ id })));
  });

  it('a store cannot open on an unreachable server and says so without the password', async () => {
    const err = await rejectionOf(openStore({ databaseUrl: 'postgres://dostup:s3cret@127.0.0.1:1/none' }));
    expect(String((err as Error).message)).not.toContain('s3cret');
  });

  runnerTests(
    () => pgMigrationConnection(pool as pg.Pool),
    async (t) => (await (pool as pg.Pool).query('select to_regclass($1) as t', [t])).rows[0]?.t !== null,
  );
});
