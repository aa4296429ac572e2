// Group commit: calls made together are written together. On PGlite every statement runs on the
// one event-loop thread and most of its cost is per statement, not per row: sixteen one-row INSERTs
// cost about sixteen times one sixteen-row INSERT. A batch starts after the current turn of the
// event loop (setImmediate), so every request whose data arrived in that turn joins it, or after
// `waitMs` for work that may wait (a background job). A lone caller waits for nothing more than that
// turn. Callers who arrive while a batch is being written go into the next one, which starts at
// once when `concurrency` (default 1) allows another batch in flight, else when one ends. One in
// flight suits PGlite (one connection: a second would only queue); on PostgreSQL more keep the
// database busy while the event loop prepares the next. `waitMs` may be a function, asked each time a
// batch is started, for callers who know when others are likely to follow (sign-ins under load).
// With `isolateFailures`, a failed batch of several is written again one item at a time, so one
// item the database refuses fails only its own caller, not the strangers it happened to share a
// statement with.

export interface Batcher<I, O> {
  /** Resolves with this item's result once its batch is written; rejects if the batch failed. */
  (item: I): Promise<O>;
  /** Resolves when nothing is waiting or being written (tests, shutdown). */
  idle(): Promise<void>;
}

/**
 * `write(items)` must return one result per item, in order. A failed batch fails each of its
 * callers (as their own one-row write would have); the next batch is tried afresh.
 */
export function createBatcher<I, O>(
  write: (items: I[]) => Promise<O[]>,
  opts: { max?: number; waitMs?: number | (() => number); concurrency?: number; isolateFailures?: boolean } = {},
): Batcher<I, O> {
  const max = opts.max ?? 100;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const waitMs = typeof opts.waitMs === 'function' ? opts.waitMs : () => (opts.waitMs as number | undefined) ?? 0;
  const start = (fn: () => void) => {
    const ms = waitMs();
    if (ms > 0) setTimeout(fn, ms);
    else setImmediate(fn);
  };
  let waiting: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  let active = 0;
  let scheduled = false;
  let idleWaiters: (() => void)[] = [];

  async function writeOne(): Promise<void> {
    const batch = waiting.slice(0, max);
    waiting = waiting.slice(batch.length);
    active++;
    try {
      await writeSettling(batch);
    } finally {
      active--;
      // Callers who arrived while this batch was written go next, at once: they have waited already.
      if (waiting.length > 0 && active < concurrency) void writeOne();
      else notifyIfIdle();
    }
  }

  async function writeSettling(batch: typeof waiting): Promise<void> {
    try {
      const out = await write(batch.map((w) => w.item));
      if (out.length !== batch.length) throw new Error(`batch write returned ${out.length} of ${batch.length}`);
      batch.forEach((w, i) => {
        w.resolve(out[i] as O);
      });
    } catch (e) {
      if (opts.isolateFailures && batch.length > 1) {
        // Alone, each item gets the answer its own one-row write would have had.
        await Promise.all(batch.map((w) => writeSettling([w])));
      } else {
        for (const w of batch) w.reject(e);
      }
    }
  }

  function notifyIfIdle(): void {
    if (active > 0 || scheduled || waiting.length > 0) return;
    const ws = idleWaiters;
    idleWaiters = [];
    for (const w of ws) w();
  }

  function kick(): void {
    if (scheduled || active >= concurrency) return;
    scheduled = true;
    start(() => {
      scheduled = false;
      if (waiting.length > 0 && active < concurrency) void writeOne();
      else notifyIfIdle();
    });
  }

  const call = ((item: I) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      kick();
    })) as Batcher<I, O>;
  call.idle = () =>
    active === 0 && !scheduled && waiting.length === 0
      ? Promise.resolve()
      : new Promise<void>((r) => idleWaiters.push(r));
  return call;
}
