// bin/dostup.js sizes libuv's thread pool (where password hashes run) to the cores before anything
// starts the pool: one thread per core, each with its next hash queued (src/infra/thread-pool.ts).
// libuv reads UV_THREADPOOL_SIZE only once, so setting it too late would silently leave 4 threads.
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from './support/server.ts';

const threads = (pid: number) => readdirSync(`/proc/${pid}/task`).length;

describe.skipIf(process.platform !== 'linux')('thread pool of a started server', () => {
  const servers: RunningServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('has one pool thread per core (at least 2) unless UV_THREADPOOL_SIZE says otherwise', async () => {
    const expected = Math.max(2, availableParallelism());
    // The same server with the size given explicitly, three threads more than the default should
    // be: if the entry point's default took effect, exactly three more threads. (Comparing two
    // servers cancels out V8's and Node's own threads, whose number depends on the machine.)
    const [byDefault, explicit] = await Promise.all([
      startServer(),
      startServer({ UV_THREADPOOL_SIZE: String(expected + 3) }),
    ]);
    servers.push(byDefault, explicit);
    // The pool starts at start-up (the helper threads are re-niced then), so both counts are final.
    expect(threads(explicit.pid) - threads(byDefault.pid)).toBe(3);
  });
});
