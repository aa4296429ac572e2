// PGlite with prepared statements, for drizzle. PGlite's own query() sends every statement as six
// separate calls into the WebAssembly backend (Parse, Describe, Bind, Describe, Execute, Sync) and
// parses and plans it again each time; all of that runs on the event loop, which on the embedded
// default is the one thread every request shares. Here a statement is parsed once under a name (what
// a PostgreSQL driver does with a named prepared statement) and each run is one call: Bind + Execute
// + Sync. Measured on this box: 0.10 ms of CPU for an indexed lookup instead of 0.30.
//
// Same locks as PGlite's query(): the transaction lock (so a statement never lands inside another
// caller's open transaction) and the query lock. Values are serialized and rows parsed by PGlite's
// own serializers and parsers, so results are the same as through query(). Anything unusual (other
// statement kinds, query options drizzle does not use, a full statement cache) takes PGlite's path.
import { randomBytes } from 'node:crypto';
import { type PGlite, parse, protocol, type Results, type Transaction } from '@electric-sql/pglite';

type QueryOptions = Parameters<PGlite['query']>[2];
type BackendMessage = Awaited<ReturnType<PGlite['execProtocol']>>['messages'][number];

interface Prepared {
  name: string;
  paramTypes: number[];
  /** The statement's RowDescription, or null when it returns no rows. */
  rowDescription: BackendMessage | null;
}

/**
 * Statements a server runs are a fixed set, but batch inserts vary with the batch size: the least
 * recently used statement is closed (its plan freed in the database) to make room for a new one.
 */
const MAX_STATEMENTS = 256;
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;

/** drizzle's pglite driver only uses these (rowMode and parsers); anything else goes to PGlite. */
const plainOptions = (o: QueryOptions) =>
  !o || (o.blob === undefined && o.serializers === undefined && o.paramTypes === undefined && !o.onNotice);

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface PreparedPglite {
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
  exec: PGlite['exec'];
  transaction<T>(fn: (tx: PreparedTransaction) => Promise<T>): Promise<T>;
  /** Statements prepared now (tests). */
  readonly prepared: number;
}

export type PreparedTransaction = Transaction & Pick<PreparedPglite, 'query'>;

export function withPreparedStatements(pg: PGlite, opts: { maxStatements?: number } = {}): PreparedPglite {
  const max = opts.maxStatements ?? MAX_STATEMENTS;
  // A Map iterates in insertion order: re-inserting on each use keeps the least recently used first.
  const cache = new Map<string, Prepared>();
  let counter = 0;
  // Names live in the database session: two wrappers over one PGlite must not collide.
  const prefix = `dostup_${randomBytes(4).toString('hex')}_`;

  async function prepare(text: string): Promise<Prepared | null> {
    const hit = cache.get(text);
    if (hit) {
      cache.delete(text);
      cache.set(text, hit);
      return hit;
    }
    if (!PREPARABLE.test(text)) return null;
    const evict: Uint8Array[] = [];
    if (cache.size >= max) {
      const [oldText, old] = cache.entries().next().value as [string, Prepared];
      cache.delete(oldText);
      evict.push(protocol.serialize.close({ type: 'S', name: old.name }));
    }
    const name = `${prefix}${++counter}`;
    const { messages } = await pg.execProtocol(
      concat([
        ...evict,
        protocol.serialize.parse({ name, text }),
        protocol.serialize.describe({ type: 'S', name }),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const prepared: Prepared = {
      name,
      paramTypes: parse.parseDescribeStatementResults(messages),
      rowDescription: messages.find((m) => m.name === 'rowDescription') ?? null,
    };
    cache.set(text, prepared);
    return prepared;
  }

  function serialize(p: Prepared, params: unknown[]): (string | null)[] {
    return params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const s = pg.serializers[p.paramTypes[i] ?? 0];
      return s ? s(v) : String(v);
    });
  }

  /** Runs under the query lock; `inTransaction` skips the file-system sync PGlite does after each autocommit. */
  async function run<T>(text: string, params: unknown[], options: QueryOptions, inTransaction: boolean) {
    const p = await prepare(text);
    if (!p) return null;
    let messages: BackendMessage[];
    try {
      ({ messages } = await pg.execProtocol(
        concat([
          protocol.serialize.bind({ statement: p.name, values: serialize(p, params) }),
          protocol.serialize.execute({}),
          protocol.serialize.sync(),
        ]),
        { syncToFs: !inTransaction },
      ));
    } catch (e) {
      // "cached plan must not change result type": a migration changed a table under a statement
      // prepared before it. Forget the statement; the next run prepares it afresh.
      if ((e as { code?: unknown }).code === '0A000') cache.delete(text);
      throw e;
    }
    // Execute answers with data rows only: the row description was learnt when preparing.
    const all = p.rowDescription ? [p.rowDescription, ...messages] : messages;
    // PGlite merges per-query parsers into its own by copying every type's parser on each call (an
    // object spread over a few hundred numeric keys: ~5 % of a recovery request's CPU). drizzle passes
    // nine overrides with every query; a child object that falls back to PGlite's table gives the
    // same lookups without the copy.
    const parsers = options?.parsers ? Object.assign(Object.create(pg.parsers), options.parsers) : pg.parsers;
    const rowMode = options?.rowMode ? { rowMode: options.rowMode } : undefined;
    return parse.parseResults(all, parsers, rowMode)[0] as Results<T>;
  }

  async function query<T>(
    inTx: Transaction | null,
    text: string,
    params: unknown[] = [],
    options?: QueryOptions,
  ): Promise<Results<T>> {
    if (plainOptions(options)) {
      const runLocked = () => pg._runExclusiveQuery(() => run<T>(text, params, options, inTx !== null));
      const res = await (inTx ? runLocked() : pg._runExclusiveTransaction(runLocked));
      if (res) return res;
    }
    return inTx ? inTx.query<T>(text, params, options) : pg.query<T>(text, params, options);
  }

  return {
    query: (text, params, options) => query(null, text, params, options),
    exec: (text, options) => pg.exec(text, options),
    transaction: (fn) =>
      pg.transaction((tx) => {
        const fast: PreparedPglite['query'] = (text, params, options) => query(tx, text, params, options);
        return fn(Object.assign(Object.create(tx), { query: fast }) as PreparedTransaction);
      }),
    get prepared() {
      return cache.size;
    },
  };
}
