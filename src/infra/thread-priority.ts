// The event loop first, password hashing second. argon2 runs on the libuv thread pool, one hash per
// core at a time, so under a burst of sign-ins every core is busy hashing — and the event-loop
// thread, which answers every other request (a portal's whoami calls), has to queue for a core
// behind them. On Linux a thread's nice value is its own: lowering the priority of every thread but
// the event loop's lets the scheduler give the loop a core when it needs one, while the hashes still
// use every cycle it leaves. Throughput is the same; the loop's latency under load is not.
import { randomFill } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lower every thread of this process except the event loop's by `nice` steps (each step is ~1.25×
 * less CPU share under contention). Returns how many
 * threads were changed (0 where threads can't be listed, e.g. not Linux). Call once at start, after
 * the thread pool exists (libuv starts all its threads on first use; this makes sure of it).
 */
export async function deprioritizeHelperThreads(nice: number): Promise<number> {
  await new Promise<void>((resolve) => randomFill(Buffer.alloc(1), () => resolve()));
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    return 0;
  }
  const base = getPriority(0);
  let changed = 0;
  for (const tid of tids) {
    if (tid === process.pid) continue; // the event loop's thread id is the process id
    try {
      // Raising the nice value needs no privilege; a thread that ended meanwhile is simply skipped.
      setPriority(tid, Math.min(19, base + nice));
      changed++;
    } catch {}
  }
  return changed;
}
