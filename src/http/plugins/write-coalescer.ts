// Write coalescing: a response finished during one turn of the event loop is written to its socket
// at the end of that turn, together with the others finished in it, not the moment it is ready.
//
// Why: on a busy server most of what a cheap request costs is not our code but the kernel's write
// that hands the response over — and that write also wakes the client's process when it sleeps (on
// a virtual machine an inter-processor interrupt, dearer than all of `whoami`'s own work). Written
// one by one, between requests, nearly every write wakes a client that went back to sleep; written
// back to back, the first one wakes it and the rest find it awake. Its next requests then come as a
// batch, read in one turn, answered in one batch again. Measured on `whoami` (bench/ab.mjs, A/B on
// loopback, 2 cores): server CPU a request −33 %, req/s +40 % (README, "Benchmark").
// The price: a response waits for the rest of its turn — the other requests read in the same turn;
// nothing waits for a timer, so an idle server answers as soon as before.
// (uWebSockets and other fast servers cork their sockets per loop iteration for the same reason.)

export interface WriteCoalescer {
  /** Run `write` at the end of this event-loop turn, after every earlier deferred write. */
  defer(write: () => void): void;
}

export function createWriteCoalescer(onError: (e: unknown) => void): WriteCoalescer {
  let queue: (() => void)[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    for (const write of batch) {
      // One failing write must not strand the others: their clients would wait for ever.
      try {
        write();
      } catch (e) {
        onError(e);
      }
    }
  };
  return {
    defer(write) {
      // setImmediate runs after the poll phase, i.e. after every socket that was readable in this turn
      // has been read and its request handled as far as it can go without waiting.
      if (queue.push(write) === 1) setImmediate(flush);
    },
  };
}
