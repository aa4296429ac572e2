// The outbox worker: runs on every node and delivers queued mail. A round claims a few due rows
// (FOR UPDATE SKIP LOCKED — nodes never take the same row), decrypts their parameters, renders the
// mail in the user's locale, hands it to the transport and marks the row sent. A failure is retried
// with exponential back-off and jitter (so a recovering mail server is not hit by every node at
// once), and abandoned after `maxAttempts`. Failures that retrying cannot fix (an unknown template, a
// payload that does not decrypt, an undeliverable address) are abandoned at once.
//
// DUPLICATES — the bound. A row is handed to the transport once per claim, and a claim is exclusive
// while its lease (`leaseSeconds`) lasts. The one way a mail goes out twice: the SMTP server accepted
// it, but the row was not marked sent — the node died, lost the database, or the attempt ran past its
// lease (each send is aborted shortly BEFORE the lease ends to keep this window small). The row is
// then claimed again once the lease has run out and sent once more. So: at least once, and more than
// once only after such a crash, at most one extra copy per crash. Every copy carries the same
// Message-ID (<outbox-id@dostup>), so the receiving side can tell them apart from new mail. A late
// worker can never overwrite a newer claim's outcome: markSent/markFailed quote the claim's attempt
// number.
//
// LEASED AT BIRTH. Mail the server queues is written already claimed by its own node (status sending,
// attempt 1, leased: `enqueueLeased`) and handed here after its transaction commits (`deliverLeased`),
// so a mail costs no claim statement and goes out without waiting for a poll. Such a row is a claim
// like any other: the bound above holds, and if this node dies before sending it, the lease runs out
// and any worker claims it (attempt 2). Rounds take these first; the database is still asked for due
// rows (retries, other nodes' leftovers) whenever there are none, and at least every `pollMs`.
import type { Catalog } from '../core/i18n/catalog.ts';
import type { Clock, OutboxMessage, QueuedMail, Store } from '../core/ports.ts';
import type { RealmPolicy } from '../core/realm/policy-schema.ts';
import type { KeyRing } from '../core/secrets/key-ring.ts';
import { payloadContext } from './enqueue.ts';
import { renderSource, TemplateError } from './mail-templates.ts';
import { openPayload, PayloadError } from './payload-crypto.ts';
import {
  assertHeaderSafe,
  type DeliveryLog,
  type MailTransport,
  messageIdFor,
  PermanentDeliveryError,
} from './transports.ts';

export interface OutboxWorkerDeps {
  store: Store;
  transport: MailTransport;
  ring: KeyRing;
  catalog: Catalog;
  realms: { get(name: string): Promise<RealmPolicy | null> };
  /** MAIL_FROM. */
  from: string;
  log: DeliveryLog;
  clock?: Clock;
  /** Tries before a message is abandoned (default 8). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt, with jitter, capped at maxDelayMs (default 5 s, 1 h). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long a claim is exclusive (default 60 s). Must exceed one send attempt (≤ ~40 s over SMTP). */
  leaseSeconds?: number;
  /** Pause between rounds when there was nothing to do (default 1 s). */
  pollMs?: number;
  /** Messages claimed per round, sent concurrently (default 10). */
  batchSize?: number;
  /**
   * Handed-over mail kept in memory at most (default 1000). Past it (mail queued faster than it can
   * be sent) a row is left in the database, where its lease runs out and a claim takes it: the
   * backlog of an overloaded node lives in the table, not in its memory.
   */
  maxHandedOver?: number;
  /**
   * How long stop() may spend sending what was handed over but not sent yet (default 5000 ms). A send
   * still running then is aborted and its row goes back to the queue (another node, or this one after
   * its restart, sends it).
   */
  stopGraceMs?: number;
  /** [0, 1) for the jitter; Math.random by default. */
  random?: () => number;
}

export interface OutboxWorker {
  /** Poll in the background until stop(). */
  start(): void;
  /** Stop polling and wait for the round in flight. */
  stop(): Promise<void>;
  /** Run a round now (e.g. right after an enqueue committed) instead of at the next poll. No-op when stopped. */
  kick(): void;
  /**
   * Mail whose rows were written leased to this node (`enqueueLeased`, with `leaseSeconds`), after
   * their transaction committed: sent in the next rounds (handed over before start(): once started;
   * stop() sends what is still waiting, within `stopGraceMs`). Ignored after stop() (the leases run
   * out and the rows are claimed as usual).
   */
  deliverLeased(queued: QueuedMail[]): void;
  /** The lease a claim takes, in seconds; `enqueueLeased` must use the same. */
  readonly leaseSeconds: number;
  /** One round; resolves with how many messages it took (sent, retried or abandoned). */
  runOnce(): Promise<number>;
}

const PERMANENT = [PermanentDeliveryError, PayloadError, TemplateError];

/** What goes into last_error and the log: the error's kind, message and SMTP code — never params. */
function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e).slice(0, 500);
  const code = (e as { responseCode?: unknown; code?: unknown }).responseCode ?? (e as { code?: unknown }).code;
  return `${e.name}${code !== undefined ? ` ${String(code)}` : ''}: ${e.message}`.slice(0, 500);
}

export function createOutboxWorker(deps: OutboxWorkerDeps): OutboxWorker {
  const { store, transport, ring, catalog, realms, from, log } = deps;
  const clock = deps.clock ?? { now: () => new Date() };
  const maxAttempts = deps.maxAttempts ?? 8;
  const baseDelayMs = deps.baseDelayMs ?? 5000;
  const maxDelayMs = deps.maxDelayMs ?? 60 * 60 * 1000;
  const leaseSeconds = deps.leaseSeconds ?? 60;
  const pollMs = deps.pollMs ?? 1000;
  const batchSize = deps.batchSize ?? 10;
  const random = deps.random ?? Math.random;
  const maxHandedOver = deps.maxHandedOver ?? 1000;
  const stopGraceMs = deps.stopGraceMs ?? 5000;
  /** Set by stop(): no send may run past it. */
  let stopDeadline = Number.POSITIVE_INFINITY;
  let stopped = false;
  assertHeaderSafe('MAIL_FROM', from);
  // Abort a send this long before its lease ends, so it cannot still be running when another node
  // takes the row over.
  const leaseMarginMs = Math.min(10_000, (leaseSeconds * 1000) / 4);

  /** base·2^(n−1), "equal jitter" (half fixed, half random), capped. */
  const backoffMs = (attempts: number): number => {
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempts - 1));
    return Math.min(maxDelayMs, Math.round(exp / 2 + random() * (exp / 2)));
  };

  async function fail(m: OutboxMessage, e: unknown): Promise<void> {
    const error = describe(e);
    const permanent = PERMANENT.some((k) => e instanceof k);
    const abandon = permanent || m.attempts >= maxAttempts;
    const retryAt = abandon ? null : new Date(clock.now().getTime() + backoffMs(m.attempts));
    await store.outbox.markFailed(m.id, m.attempts, error, retryAt);
    // The recipient is personal data: the id is enough to find the row.
    const fields = { id: m.id, realm: m.realm, template: m.template, attempts: m.attempts, error };
    if (abandon) log.error({ ...fields, permanent }, 'outbox: message abandoned');
    else log.warn({ ...fields, retryAt: retryAt?.toISOString() }, 'outbox: delivery failed, will retry');
  }

  /** True when the transport accepted it; a failure is recorded here. */
  async function deliver(m: OutboxMessage, abortAt: number): Promise<boolean> {
    try {
      // Past the limit already: a row whose lease keeps running out (its send crashes the node?)
      // must not loop forever.
      if (m.attempts > maxAttempts) throw new PermanentDeliveryError(`gave up after ${m.attempts - 1} attempts`);
      if (m.channel !== 'email') throw new PermanentDeliveryError(`no transport for channel ${m.channel}`);
      if (!m.payload) throw new PermanentDeliveryError('payload missing');
      const params = openPayload(ring, m.payload, payloadContext(m));
      const policy = m.realm ? await realms.get(m.realm) : null;
      const source = { template: m.template, locale: m.locale, params, branding: policy?.branding ?? null };
      const mail = renderSource(catalog, source);
      const signal = AbortSignal.timeout(Math.max(1, Math.min(abortAt, stopDeadline) - Date.now()));
      await transport.send(
        { id: m.id, realm: m.realm, from, to: m.recipient, messageId: messageIdFor(m.id), ...mail, source },
        { signal },
      );
      return true;
    } catch (e) {
      await fail(m, e);
      return false;
    }
  }

  // Leased at birth and handed over, not sent yet; oldest first.
  let leased: { message: OutboxMessage; abortAt: number }[] = [];
  let lastClaimAt = 0;
  /** A send needs at least this much of its lease left, or it is left to whoever claims it next. */
  const minSendMs = Math.min(5000, leaseMarginMs);

  function takeLeased(n: number): { message: OutboxMessage; abortAt: number }[] {
    const now = Date.now();
    // A row whose lease is nearly over (the node was swamped) is not sent from here: once the
    // lease has run out, a claim takes it — sending it now could overlap with that claim's send.
    leased = leased.filter((l) => l.abortAt - now >= minSendMs);
    return leased.splice(0, n);
  }

  async function doRound(): Promise<number> {
    const mine = takeLeased(batchSize);
    let claimed: { message: OutboxMessage; abortAt: number }[] = [];
    // The claim statement is what leasing at birth saves: while handed-over mail keeps coming, the
    // database is asked only once per poll interval.
    // Stopping: only what was handed over is sent; due rows in the table are for the nodes that stay.
    if (!stopped && (mine.length === 0 || Date.now() - lastClaimAt >= pollMs)) {
      lastClaimAt = Date.now();
      const abortAt = lastClaimAt + leaseSeconds * 1000 - leaseMarginMs;
      try {
        const rows = await store.outbox.claim(Math.max(1, batchSize - mine.length), leaseSeconds);
        claimed = rows.map((message) => ({ message, abortAt }));
      } catch (e) {
        // The database is away: what was handed over waits for the next round (or its lease).
        leased.unshift(...mine);
        throw e;
      }
    }
    const batch = [...mine, ...claimed];
    const sent = await Promise.all(
      batch.map(({ message: m, abortAt }) =>
        deliver(m, abortAt).catch((e: unknown) => {
          log.error({ id: m.id, error: describe(e) }, 'outbox: could not record the outcome');
          return false;
        }),
      ),
    );
    // One write marks the whole round sent. If it fails (the database just went away) the rows stay
    // `sending` and are sent again after their lease — the duplicate the header comment describes
    // (still at most one extra copy of each per crash; every send of a round ends before its lease).
    const done = batch.filter((_, i) => sent[i]).map(({ message: m }) => ({ id: m.id, attempts: m.attempts }));
    await store.outbox
      .markSentMany(done)
      .catch((e: unknown) =>
        log.error({ ids: done.map((d) => d.id), error: describe(e) }, 'outbox: could not record the outcome'),
      );
    return batch.length;
  }

  // Rounds of one worker never overlap: runOnce() during a background round waits for it first.
  let current: Promise<number> | undefined;
  function round(): Promise<number> {
    const run = (current ?? Promise.resolve(0)).catch(() => 0).then(doRound);
    current = run;
    const clear = () => {
      if (current === run) current = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let wanted = false;
  let lastError = { text: '', at: 0 };

  function kick(): void {
    if (!running) return;
    if (ticking) wanted = true;
    else schedule(0);
  }

  function schedule(ms: number): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, ms);
  }

  function tick(): void {
    timer = undefined;
    if (!running) return;
    if (ticking) {
      wanted = true;
      return;
    }
    ticking = (async () => {
      let n = 0;
      let failed = false;
      try {
        n = await round();
      } catch (e) {
        failed = true;
        // The database is down, typically: say so once a minute, not once a poll.
        const text = describe(e);
        if (text !== lastError.text || Date.now() - lastError.at > 60_000) {
          log.error({ error: text }, 'outbox: round failed');
          lastError = { text, at: Date.now() };
        }
      }
      ticking = undefined;
      if (!running) return;
      // A full batch, or handed-over mail still waiting, means more to do: go on at once (but after a
      // failed round, only at the next poll: the database is likely away).
      const again = !failed && (wanted || n >= batchSize || leased.length > 0);
      wanted = false;
      schedule(again ? 0 : pollMs);
    })();
  }

  return {
    start() {
      if (running) return;
      running = true;
      stopped = false;
      stopDeadline = Number.POSITIVE_INFINITY;
      schedule(0);
    },
    async stop() {
      running = false;
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await ticking;
      await current?.catch(() => 0);
      // Mail handed over and not sent yet: send it now, within the grace period, rather than leave it
      // to wait out its lease.
      stopDeadline = Date.now() + stopGraceMs;
      while (leased.length > 0 && Date.now() < stopDeadline) {
        if ((await round().catch(() => 0)) === 0) break;
      }
    },
    kick,
    deliverLeased(queued) {
      // Before start() it waits in memory and goes out once the worker runs; after stop() the lease
      // decides who sends it.
      if (stopped || queued.length === 0) return;
      for (const q of queued) {
        if (leased.length >= maxHandedOver) {
          log.warn({ id: q.message.id }, 'outbox: too much mail waiting in memory; this one waits for its lease');
          continue;
        }
        leased.push({ message: q.message, abortAt: q.leasedAt + leaseSeconds * 1000 - leaseMarginMs });
      }
      kick();
    },
    leaseSeconds,
    runOnce: round,
  };
}
