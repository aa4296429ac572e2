// Opens the store on PostgreSQL (a URL is given) or PGlite (embedded, a data directory or memory),
// applies pending migrations, and hands out repositories. Nothing here is a module singleton: every
// call returns its own store, so tests and several realms' processes never share hidden state.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PGlite as PGliteClient } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { Repos, Store } from '../core/ports.ts';
import { createRepos } from './create-repos.ts';
import { type Db, toStoreError, wrapRepo } from './db.ts';
import { type MigrationConnection, migrate, pgliteMigrationConnection, pgMigrationConnection } from './migrate.ts';
import { withPreparedStatements } from './pglite-statements.ts';

export interface OpenStoreOptions {
  /** postgres://… — PostgreSQL through a node-postgres pool. Without it, PGlite. */
  databaseUrl?: string;
  /** PGlite data directory; in memory when undefined (tests). Ignored with databaseUrl. */
  dataDir?: string;
  log?: (msg: string) => void;
  /** Pool size on PostgreSQL (default 10). */
  poolMax?: number;
  /**
   * PGlite's shared_buffers (PostgreSQL syntax, e.g. "16MB"). PGlite touches all of it at start, so
   * it is resident memory from the first second; the embedded default keeps it small (its tables
   * are small and the OS page cache still holds the data files). Ignored on PostgreSQL.
   */
  pgliteSharedBuffers?: string;
  /**
   * Refuse use of the store itself inside store.transaction() (default on). It needs an
   * AsyncLocalStorage, which on Node 20 switches promise hooks on for the whole process — a few
   * percent on the hottest paths — so a production server may leave it to the tests.
   */
  checkNestedUse?: boolean;
}

/** Plain SQL on the driver's own client, bypassing the repositories. */
export type RawSql = (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

interface Driver {
  kind: 'pg' | 'pglite';
  db: Db;
  migration: MigrationConnection;
  raw: RawSql;
  /** See Store.vacuum. */
  vacuum(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The tables whose rows are updated or deleted all the time (a mail goes queued → sending → sent, a
 * flow moves through its states, codes are used, sessions slide and end, housekeeping deletes).
 */
const CHURNING_TABLES = ['outbox', 'flows', 'one_time_secrets', 'sessions', 'dev_mailbox', 'users'];

/** Where we are connecting, for the log — without the password a URL may carry. */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * bytea in and out as hex text, by Node's native codec. PGlite's own converts byte by byte in
 * JavaScript (16 µs to write a 300-byte sealed outbox payload, 19 µs to read one back, against ~1 µs
 * here) on the event loop every request shares. Same text format, so the database sees the same
 * values; rows come back as Buffers, as from node-postgres.
 */
const BYTEA = 17;
const byteaCodec = {
  serializers: {
    [BYTEA]: (v: unknown): string => {
      if (!(v instanceof Uint8Array)) throw new TypeError('bytea parameter must be a Uint8Array');
      return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
    },
  },
  parsers: { [BYTEA]: (text: string): Buffer => Buffer.from(text.slice(2), 'hex') },
};

async function openDriver(opts: OpenStoreOptions, log: (msg: string) => void): Promise<Driver> {
  // Each driver is imported only when chosen: the other one's modules would be resident memory for nothing.
  if (opts.databaseUrl) {
    const { default: pg } = await import('pg');
    const { drizzle: drizzlePg } = await import('drizzle-orm/node-postgres');
    const pool = new pg.Pool({
      connectionString: opts.databaseUrl,
      max: opts.poolMax ?? 10,
      application_name: 'dostup',
    });
    // An idle client losing its connection emits 'error' on the pool; unhandled, it kills the process.
    pool.on('error', (e) => log(`store: idle PostgreSQL connection failed: ${e.message}`));
    log(`store: PostgreSQL at ${describeUrl(opts.databaseUrl)}`);
    return {
      kind: 'pg',
      db: drizzlePg({ client: pool }),
      migration: pgMigrationConnection(pool),
      raw: async (text, params) => (await pool.query(text, params)).rows,
      // PostgreSQL's autovacuum does this, tuned by the operator.
      vacuum: async () => {},
      close: () => pool.end(),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const client = await PGlite.create(opts.dataDir ?? 'memory://', {
    postgresqlconf: [`shared_buffers=${opts.pgliteSharedBuffers ?? '8MB'}`],
    ...byteaCodec,
  });
  log(`store: PGlite ${opts.dataDir ? `in ${opts.dataDir}` : 'in memory'}`);
  return {
    kind: 'pglite',
    // Queries through named prepared statements, one call into the database each (see the module).
    db: drizzlePglite({ client: withPreparedStatements(client) as unknown as PGliteClient }),
    migration: pgliteMigrationConnection(client),
    raw: async (text, params) => (await client.query<Record<string, unknown>>(text, params)).rows,
    // PGlite is PostgreSQL's single-user backend: no autovacuum. Without this, every row version a
    // status change leaves behind stays in the indexes for good, and a query over them (the outbox's
    // "what is due?") visits every mail ever sent — ~10 ms per poll after a few thousand mails.
    // Plain VACUUM (not FULL: no table rewrite, no exclusive lock) on the tables that churn.
    vacuum: async () => {
      await client.exec(`vacuum ${CHURNING_TABLES.join(', ')}`);
    },
    close: () => client.close(),
  };
}

export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  return (await openStoreWithRaw(opts)).store;
}

/**
 * The store plus raw SQL on the same database — for contract tests (which must prove, e.g., that the
 * database itself refuses to rewrite events) and operator diagnostics. Services get `openStore`.
 */
export async function openStoreWithRaw(opts: OpenStoreOptions = {}): Promise<{ store: Store; raw: RawSql }> {
  const log = opts.log ?? (() => {});
  const driver = await openDriver(opts, log);
  try {
    await migrate(driver.migration, { log });
  } catch (e) {
    await driver.close().catch(() => {});
    throw toStoreError(e);
  }
  return { store: buildStore(driver, opts.checkNestedUse ?? true), raw: driver.raw };
}

/** For `dostup migrate`: apply pending migrations and close. Returns the ids applied. */
export async function migrateDatabase(opts: OpenStoreOptions = {}): Promise<{ applied: string[] }> {
  const log = opts.log ?? (() => {});
  const driver = await openDriver({ ...opts, poolMax: 1 }, log);
  try {
    return await migrate(driver.migration, { log });
  } catch (e) {
    throw toStoreError(e);
  } finally {
    await driver.close();
  }
}

const NESTED_USE =
  'store: the store itself was used inside store.transaction(); use the repositories passed to the callback ' +
  '(on PGlite this would wait for the transaction forever, on PostgreSQL it would escape the transaction)';

function buildStore(driver: Driver, checkNestedUse: boolean): Store {
  // Marks code running inside one of THIS store's transactions. PGlite is one connection: a query
  // on the root store from inside a transaction waits for that transaction to end — a deadlock.
  // Refusing it loudly on both drivers keeps code tested on PGlite correct on PostgreSQL.
  const inTx = checkNestedUse ? new AsyncLocalStorage<{ open: boolean }>() : null;
  const guard = () => {
    if (inTx?.getStore()?.open) throw new Error(NESTED_USE);
  };
  const noGuard = () => {};
  // Every repository, whatever its kind, gets the same guard and error hygiene.
  const wrapAll = (repos: Repos, g: () => void): Repos =>
    Object.fromEntries(
      Object.entries(repos).map(([name, repo]) => [name, wrapRepo(repo as object, g)]),
    ) as unknown as Repos;
  const root = wrapAll(createRepos(driver.db), guard);
  let closing: Promise<void> | undefined;

  return {
    ...root,
    driver: driver.kind,

    async transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
      guard();
      try {
        // drizzle's PGlite transaction holds PGlite's transaction mutex until COMMIT/ROLLBACK, and
        // every query outside it queues on the same mutex: transactions and plain queries never
        // interleave on the single connection.
        return await driver.db.transaction(async (tx) => {
          const marker = { open: true };
          try {
            const repos = wrapAll(createRepos(tx, { inTransaction: true }), noGuard);
            return await (inTx ? inTx.run(marker, () => fn(repos)) : fn(repos));
          } finally {
            // Work the callback left running after it returned is no longer "inside".
            marker.open = false;
          }
        });
      } catch (e) {
        throw toStoreError(e);
      }
    },

    async ping(): Promise<void> {
      guard();
      try {
        await driver.db.execute(sql`select 1`);
      } catch (e) {
        throw toStoreError(e);
      }
    },

    async vacuum(): Promise<void> {
      guard();
      try {
        await driver.vacuum();
      } catch (e) {
        throw toStoreError(e);
      }
    },

    close(): Promise<void> {
      closing ??= driver.close();
      return closing;
    },
  };
}
