// Group commit: calls made together are written together. On PGlite every statement runs on the
// one event-loop thread and most of its cost is per statement, not per row: sixteen one-row INSERTs
// cost about sixteen times one sixteen-row INSERT. A batch starts after the current turn of the
// event loop (setImmediate), so every request whose data arrived in that turn joins it, or after
// `waitMs` for work that may wait (a background job). Callers who arrive while a batch is being
// written go into the next one. A lone caller waits for nothing more than that turn.

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
  opts: { max?: number; waitMs?: number } = {},
): Batcher<I, O> {
  const max = opts.max ?? 100;
  const start = (fn: () => void) => (opts.waitMs ? setTimeout(fn, opts.waitMs) : setImmediate(fn));
  let waiting: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  let running: Promise<void> | null = null;

  async function drain(): Promise<void> {
    while (waiting.length > 0) {
      const batch = waiting.slice(0, max);
      waiting = waiting.slice(batch.length);
      try {
        const out = await write(batch.map((w) => w.item));
        if (out.length !== batch.length) throw new Error(`batch write returned ${out.length} of ${batch.length}`);
        batch.forEach((w, i) => {
          w.resolve(out[i] as O);
        });
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
  }

  function kick(): void {
    if (running) return;
    running = new Promise<void>((r) => start(r)).then(drain).finally(() => {
      running = null;
      // Someone may have arrived between the end of drain() and now.
      if (waiting.length > 0) kick();
    });
  }

  const call = ((item: I) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      kick();
    })) as Batcher<I, O>;
  call.idle = async () => {
    while (running) await running;
  };
  return call;
}
