// The housekeeping schedule, with a recording store and fake timers: what runs, in which order, and
// that a vacuum never overlaps a round (on the embedded database both would hold the one connection).
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { createHousekeeping } from './housekeeping.ts';
import type { Store } from './ports.ts';

let calls: string[];
let release: (() => void) | null;

/** Only what housekeeping touches. A round's first delete can be held open to test overlap. */
function recordingStore(opts: { holdRound?: boolean } = {}): Store {
  const step = (name: string) => async () => {
    calls.push(name);
    return 0;
  };
  return {
    sessions: {
      deleteExpired: async () => {
        calls.push('sessions');
        if (opts.holdRound) await new Promise<void>((r) => (release = r));
        return 0;
      },
    },
    flows: { deleteExpired: step('flows') },
    oneTimeSecrets: { deleteExpired: step('secrets') },
    outbox: { deleteFinished: step('outbox') },
    devMailbox: { deleteOlderThan: step('devMailbox') },
    vacuum: async () => {
      calls.push('vacuum');
    },
  } as unknown as Store;
}

/** Housekeeping over a recording store; rounds and vacuums off unless a test sets their intervals. */
const housekeeping = (over: Partial<Parameters<typeof createHousekeeping>[0]> & { holdRound?: boolean } = {}) => {
  const { holdRound, ...deps } = over;
  return createHousekeeping({
    store: recordingStore({ holdRound }),
    clock: { now: () => new Date() },
    outboxKeepDays: 7,
    intervalMs: 0,
    onError: () => {},
    ...deps,
  });
};

beforeEach(() => {
  calls = [];
  release = null;
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

it('a round deletes, then vacuums what the deletes left behind', async () => {
  const hk = housekeeping();
  await hk.runOnce();
  expect(calls).toEqual(['sessions', 'flows', 'secrets', 'outbox', 'devMailbox', 'vacuum']);
});

it('vacuums on its own timer between rounds; stop() ends both timers', async () => {
  const errors: unknown[] = [];
  const hk = housekeeping({ intervalMs: 60_000, vacuumIntervalMs: 10_000, onError: (e) => errors.push(e) });
  hk.start();
  await vi.advanceTimersByTimeAsync(30_000);
  expect(calls).toEqual(['vacuum', 'vacuum', 'vacuum']);
  await vi.advanceTimersByTimeAsync(30_000);
  // At 60 s both are due: the round (which ends with a vacuum) runs; the vacuum tick finds it busy.
  expect(calls.filter((c) => c === 'sessions')).toHaveLength(1);
  await hk.stop();
  const before = calls.length;
  await vi.advanceTimersByTimeAsync(120_000);
  expect(calls).toHaveLength(before);
  expect(errors).toEqual([]);
});

it('a vacuum tick during a round is skipped, not run alongside it', async () => {
  const hk = housekeeping({ holdRound: true, intervalMs: 10_000, vacuumIntervalMs: 1_000 });
  hk.start();
  await vi.advanceTimersByTimeAsync(10_000); // nine vacuums, then the round starts and is held
  expect(calls.at(-1)).toBe('sessions');
  const vacuumsBefore = calls.filter((c) => c === 'vacuum').length;
  await vi.advanceTimersByTimeAsync(5_000); // five ticks while the round holds the store
  expect(calls.filter((c) => c === 'vacuum').length).toBe(vacuumsBefore);
  release?.();
  await vi.advanceTimersByTimeAsync(0);
  expect(calls.slice(-6)).toEqual(['sessions', 'flows', 'secrets', 'outbox', 'devMailbox', 'vacuum']);
  await hk.stop();
});

it('no vacuum timer without an interval (PostgreSQL vacuums itself)', async () => {
  const hk = housekeeping();
  hk.start();
  await vi.advanceTimersByTimeAsync(600_000);
  expect(calls).toEqual([]);
  await hk.stop();
});
