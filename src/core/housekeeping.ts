// Housekeeping: rows that can never matter again are deleted, so the tables stay the size of the
// live data. Without it every sign-in's session, every "Forgot password?" flow and code, and every
// mail sent would stay forever — and an anonymous request form is a way to make a table grow.
// What goes, and when (a grace period after the end, so an operator looking into a fresh incident
// still finds the rows): ended sessions, expired flows and one-time secrets a day after they ended;
// sent or abandoned mail after OUTBOX_KEEP_DAYS; dev-mailbox mail after a day. The event log is never
// touched: it is the audit trail (and the database refuses to delete from it anyway).
// Every node runs it; the deletes are idempotent, so nodes running it together only repeat work.
// It also asks the store to reclaim dead row versions (store.vacuum: the embedded database has no
// autovacuum), after each round and more often on a timer of its own, since the outbox and the
// flows churn far faster than rows become old enough to delete.
import type { Clock, Store } from './ports.ts';

export interface HousekeepingDeps {
  store: Store;
  clock: Clock;
  /** How long sent and abandoned mail is kept (days). */
  outboxKeepDays: number;
  /** Between rounds (ms); the first round runs one interval after start(). */
  intervalMs: number;
  /** Between store.vacuum() calls (ms); 0 = only after a round. */
  vacuumIntervalMs?: number;
  onError: (e: unknown) => void;
  /** Told what a round deleted, when it deleted anything. */
  onRound?: (deleted: HousekeepingCounts) => void;
  /** Told how long each store.vacuum() took (ms): on the embedded database nothing else runs meanwhile. */
  onVacuum?: (ms: number) => void;
}

export interface HousekeepingCounts {
  sessions: number;
  flows: number;
  secrets: number;
  outbox: number;
  devMailbox: number;
}

const DAY_MS = 24 * 3600 * 1000;

export function createHousekeeping(deps: HousekeepingDeps) {
  let timer: NodeJS.Timeout | null = null;
  let vacuumTimer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  const vacuum = async () => {
    const t0 = performance.now();
    await deps.store.vacuum();
    deps.onVacuum?.(performance.now() - t0);
  };
  // One thing at a time on the store: a vacuum due during a round waits for the next tick.
  const exclusive = (fn: () => Promise<unknown>) => {
    running ??= fn()
      .catch(deps.onError)
      .finally(() => {
        running = null;
      });
  };

  async function runOnce(): Promise<HousekeepingCounts> {
    const now = deps.clock.now().getTime();
    const dayAgo = new Date(now - DAY_MS);
    // One statement each, one after the other: a round never holds the embedded database for long.
    const counts: HousekeepingCounts = {
      sessions: await deps.store.sessions.deleteExpired(dayAgo),
      flows: await deps.store.flows.deleteExpired(dayAgo),
      secrets: await deps.store.oneTimeSecrets.deleteExpired(dayAgo),
      outbox: await deps.store.outbox.deleteFinished(new Date(now - deps.outboxKeepDays * DAY_MS)),
      devMailbox: await deps.store.devMailbox.deleteOlderThan(dayAgo),
    };
    if (Object.values(counts).some((n) => n > 0)) deps.onRound?.(counts);
    await vacuum();
    return counts;
  }

  return {
    runOnce,
    start() {
      if (!timer && deps.intervalMs > 0) {
        timer = setInterval(() => exclusive(runOnce), deps.intervalMs);
        timer.unref();
      }
      const every = deps.vacuumIntervalMs ?? 0;
      if (!vacuumTimer && every > 0) {
        vacuumTimer = setInterval(() => exclusive(vacuum), every);
        vacuumTimer.unref();
      }
    },
    /** Stop and wait for a round (or vacuum) in progress. */
    async stop() {
      if (timer) clearInterval(timer);
      if (vacuumTimer) clearInterval(vacuumTimer);
      timer = vacuumTimer = null;
      await running;
    },
  };
}

export type Housekeeping = ReturnType<typeof createHousekeeping>;
