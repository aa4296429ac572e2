// A deliberately tiny migration runner: plain SQL files in ./migrations, applied in file-name order,
// each in its own transaction, recorded in schema_migrations. Plain SQL (not generated at start-up)
// so an operator can read exactly what will run against their database before upgrading.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

export interface Migration {
  /** File name without `.sql`, e.g. `0001_init`; sorts in application order. */
  id: string;
  sql: string;
  /** SHA-256 of the file, to notice an already-applied file that was edited afterwards. */
  checksum: string;
}

/** One transaction of the raw driver: `exec` may hold several statements (a whole migration file). */
export interface MigrationTx {
  exec(sql: string): Promise<void>;
  rows<R>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** The little the runner needs of a database; open-store builds one for each driver. */
export interface MigrationConnection {
  readonly driver: 'pg' | 'pglite';
  transaction<T>(fn: (tx: MigrationTx) => Promise<T>): Promise<T>;
}

export interface MigrateOptions {
  log?: (msg: string) => void;
  /** Defaults to the files in ./migrations. */
  migrations?: Migration[];
}

const FILE_RE = /^(\d{4}_[a-z0-9_-]+)\.sql$/;

/**
 * Arbitrary but fixed key of the advisory lock. Two nodes starting together both run migrate();
 * the lock makes the second wait and then find everything applied, instead of both running
 * `create table` and one of them failing half-way.
 */
const LOCK_KEY = 1_685_025_652; // "dost"

export const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

export async function loadMigrations(dir: URL = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => FILE_RE.test(n)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(new URL(name, dir), 'utf8');
      return {
        id: name.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

async function lockAndEnsureTable(conn: MigrationConnection, tx: MigrationTx): Promise<void> {
  // PGlite is a single in-process connection: nobody to race with, and no need for the lock.
  if (conn.driver === 'pg') await tx.rows(`select pg_advisory_xact_lock(${LOCK_KEY})`);
  await tx.exec(`create table if not exists schema_migrations (
    id text primary key,
    applied_at timestamptz not null default now(),
    checksum text
  )`);
}

/** Apply every pending migration. Returns the ids applied now (empty when up to date). */
export async function migrate(conn: MigrationConnection, opts: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => {});
  const migrations = opts.migrations ?? (await loadMigrations());
  const known = await conn.transaction(async (tx) => {
    await lockAndEnsureTable(conn, tx);
    return tx.rows<{ id: string; checksum: string | null }>('select id, checksum from schema_migrations');
  });
  const done = new Map(known.map((r) => [r.id, r.checksum]));
  for (const m of migrations) {
    const sum = done.get(m.id);
    if (sum !== undefined && sum !== null && sum !== m.checksum) {
      log(`store: WARNING migration ${m.id} was edited after it was applied; it is not run again`);
    }
  }
  const unknown = [...done.keys()].filter((id) => !migrations.some((m) => m.id === id));
  if (unknown.length > 0) {
    log(
      `store: WARNING the database has migrations this version does not know (${unknown.join(', ')}): a newer version ran here`,
    );
  }

  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.id)) continue;
    const ran = await conn.transaction(async (tx) => {
      await lockAndEnsureTable(conn, tx);
      // Re-check under the lock: another node may have applied it since we looked.
      const again = await tx.rows<{ id: string }>('select id from schema_migrations where id = $1', [m.id]);
      if (again.length > 0) return false;
      await tx.exec(m.sql);
      await tx.rows('insert into schema_migrations (id, checksum) values ($1, $2)', [m.id, m.checksum]);
      return true;
    });
    if (ran) {
      applied.push(m.id);
      log(`store: applied migration ${m.id}`);
    }
  }
  return { applied };
}

export function pgMigrationConnection(pool: pg.Pool): MigrationConnection {
  return {
    driver: 'pg',
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const out = await fn({
          // No parameters → the simple query protocol, which accepts a whole file of statements.
          exec: async (sql) => {
            await client.query(sql);
          },
          rows: async (sql, params) => (await client.query(sql, params as unknown[] | undefined)).rows,
        });
        await client.query('commit');
        return out;
      } catch (e) {
        await client.query('rollback').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
  };
}

export function pgliteMigrationConnection(db: PGlite): MigrationConnection {
  return {
    driver: 'pglite',
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          exec: async (sql) => {
            await tx.exec(sql);
          },
          rows: async <R>(sql: string, params?: unknown[]) => (await tx.query<R>(sql, params)).rows,
        }),
      ),
  };
}
