// Give memory back when a burst of requests is over. V8 collects its old generation when allocation
// pushes it to, not when the server falls quiet: after a load peak the heap keeps the garbage that
// peak made (on the embedded default ~100 MB of it after a minute of recovery requests), and its
// own memory reducer waits for a quiet moment that a server polling its outbox rarely gives it.
// So: once the requests stop, one collection (src/server.ts makes it two full ones, then
// malloc_trim) — a few tens of milliseconds that nobody waits for, since nobody is asking anything.
// While requests keep coming, nothing happens.
import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * V8's `gc()`, without starting node with --expose-gc: the flag, set now, exposes it to contexts
 * created from now on. null if this V8 refuses.
 */
export function exposeGc(): (() => void) | null {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : null');
  return typeof gc === 'function' ? (gc as () => void) : null;
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
