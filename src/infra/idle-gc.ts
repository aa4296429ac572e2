// Give memory back when a burst of requests is over. V8 collects its old generation when allocation
// pushes it to, not when the server falls quiet: after a load peak the heap keeps the garbage that
// peak made (on the embedded default ~100 MB of it after a minute of recovery requests), and its
// own memory reducer waits for a quiet moment that a server polling its outbox rarely gives it.
// So: once the requests stop, one collection (exposeFullCollection below; src/server.ts adds
// malloc_trim) — tens of milliseconds, a few hundred at most, that nobody waits for, since nobody is
// asking anything. While requests keep coming, nothing happens.
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * V8's `gc()`, without starting node with --expose-gc: the flag, set now, exposes it to contexts
 * created from now on. null if this V8 refuses.
 */
export function exposeGc(): ((options?: object) => void) | null {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : null');
  return typeof gc === 'function' ? (gc as (options?: object) => void) : null;
}

/**
 * The idle collection: everything V8 can give back, now. null if this V8 refuses.
 *
 * - Two full collections: V8 picks which pages to compact from what the previous collection found
 *   alive, so the first frees the burst's garbage and only the second moves the survivors together
 *   and empties pages (measured on Node 20: old space 54 → 46 MB after a sign-in and whoami burst).
 * - Then the "last resort" collection (what V8 runs before it gives up on an allocation): it also
 *   releases the pages V8 keeps pooled for reuse. Node 24's V8 pools every emptied page, so after
 *   plain collections its RSS stays at the burst's size until its memory reducer runs some 10 s later
 *   (measured: 222 → 219 MB with two plain ones, → 62 with this; the server at idle 227 → 185 MiB).
 *   On Node 20 the options are not understood and the call is a light collection (0.6 ms where the
 *   two full ones took 198): harmless after them, no substitute for them (alone it left 169 MB of 221
 *   in the same test), hence the order. On Node 24 it costs about as much as the two full ones
 *   (190 ms for an 87 MB live heap; the server's is ~30 MB) — at idle, when nobody waits.
 */
export function exposeFullCollection(): (() => void) | null {
  const gc = exposeGc();
  if (!gc) return null;
  return () => {
    gc();
    gc();
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  };
}

export interface IdleCollector {
  /** Called on every request: one assignment, no timer work. */
  activity(): void;
  start(): void;
  stop(): void;
}

/**
 * Checks every `idleMs`: a period with requests marks the heap dirty; the first period without any
 * after that collects once. So a collection runs between `idleMs` and `2 × idleMs` after the last
 * request, once per quiet spell.
 */
export function createIdleCollector(opts: { idleMs: number; collect: () => void }): IdleCollector {
  let active = false;
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    if (active) {
      active = false;
      dirty = true;
    } else if (dirty) {
      dirty = false;
      opts.collect();
    }
  };
  return {
    activity() {
      active = true;
    },
    start() {
      if (timer || opts.idleMs <= 0) return;
      timer = setInterval(tick, opts.idleMs);
      // Never the reason the process stays alive.
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
