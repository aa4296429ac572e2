// libuv's thread pool, where password hashes run. Its size is fixed when the pool starts (libuv reads
// UV_THREADPOOL_SIZE then; bin/dostup.js sets it to the number of cores when unset), so the server
// can only read what it got.
import { availableParallelism } from 'node:os';

/** The pool's size as libuv computes it from `env` (atoi; unset 4, 0 or not a number 1, capped at 1024). */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  if (env.UV_THREADPOOL_SIZE === undefined) return 4;
  const n = Number.parseInt(env.UV_THREADPOOL_SIZE, 10) || 0;
  // libuv keeps the count unsigned: a negative value wraps round to the cap.
  return n === 0 ? 1 : n < 0 || n > 1024 ? 1024 : n;
}

/**
 * Hashes let onto the pool at once: two per thread, one running and the next queued behind it, so a
 * thread that finishes starts the next hash itself instead of idling until the event loop has handled
 * the result (on a busy 2-core box that wait left ~10 % of the CPU idle under a burst of sign-ins).
 * Counted on the threads that have a core of their own: a pool larger than the cores (libuv's default
 * 4 when started other than by bin/dostup.js) would otherwise run twice its size in memory-hard hashes
 * side by side. More would only queue in libuv, ahead of its other users (DNS lookups), who under a
 * burst already wait up to about two hash times; the rest wait in the hasher's gate.
 */
export const hashesInFlight = (env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): number =>
  2 * Math.min(threadPoolSize(env), Math.max(1, cores));
