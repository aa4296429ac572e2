// The recovery processor: takes `requested` flows, looks the account up, and — in ONE transaction —
// moves the flow to `code_sent`, issues the code and queues the mail (or pretends to, for an
// unknown or ineligible account). It runs after the HTTP response, so the response can't leak the
// lookup by content or by time. A compare-and-swap on the flow makes a flow processed once even
// when the in-process schedule and another node's sweep race for it. Flows are processed in
// batches (whatever became due while the last batch ran): on the embedded database the cost is per
// statement, so a batch of N costs little more than one flow.
import { randomInt } from 'node:crypto';
import { createBatcher } from '../../batching.ts';
import { issueRecoveryMails } from '../../methods/email-code/recovery.ts';
import type { UserWithSecret } from '../../model.ts';
import type { Clock, FlowRecord, MailQueue, RateLimiter, Store } from '../../ports.ts';
import { realmTitle } from '../../realm/policy.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';
import type { OneTimeSecrets } from '../../secrets/one-time-secrets.ts';
import { move } from '../machine.ts';
import { canSelfReset, findRecoveryUsers } from './identify.ts';
import { RECOVERY_BUCKETS } from './recovery-service.ts';
import { type RecoveryData, recoveryData, recoveryMachine } from './state.ts';

export interface RecoveryProcessorDeps {
  store: Store;
  clock: Clock;
  limiter: RateLimiter;
  secrets: OneTimeSecrets;
  mail: MailQueue;
  realms: { get(name: string): Promise<RealmPolicy | null> };
  onError: (e: unknown) => void;
  /** How often the sweep looks for flows a crashed node left in `requested` (ms). */
  sweepMs?: number;
  /** Random pause before processing a new request, [min, max) ms (default [20, 400)); 0 = none. */
  jitterMs?: [number, number] | 0;
}

const BATCH_WAIT_MS = 25;

/** What the processor decided for one flow, before its transaction. */
interface Plan {
  rec: FlowRecord;
  data: RecoveryData;
  found: UserWithSecret | null;
  eligible: (UserWithSecret & { email: string }) | null;
  destination: string | null;
  throttled: boolean;
}

export function createRecoveryProcessor(deps: RecoveryProcessorDeps) {
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;
  // Flows whose pause ends within BATCH_WAIT_MS of each other are processed together (the pause is
  // random anyway; this adds at most that much to it).
  const batched = createBatcher(
    async (items: { id: string; rec: FlowRecord | undefined }[]) => {
      const known = new Map(items.flatMap((i) => (i.rec ? [[i.id, i.rec] as const] : [])));
      await processMany(
        items.map((i) => i.id),
        known,
      );
      return items.map(() => undefined);
    },
    { waitMs: BATCH_WAIT_MS },
  );

  /**
   * Process `requested` flows: one read of the flows, one lookup per identifier kind and realm, and
   * per realm ONE transaction that moves every flow (each under its own compare-and-swap), issues
   * the codes and queues the mails. Each flow ends exactly as if processed alone.
   *
   * `known`: records this node has just written (the request that created the flow hands it over),
   * which need no read. A record that is stale by then (another node's sweep, a housekeeping
   * delete) fails the compare-and-swap below and is left alone — as a read that went stale would be.
   */
  async function processMany(flowIds: string[], known: ReadonlyMap<string, FlowRecord> = new Map()): Promise<void> {
    const ids = [...new Set(flowIds)];
    const unknown = ids.filter((id) => !known.has(id));
    const read = unknown.length > 0 ? await deps.store.flows.getMany(unknown) : [];
    const now = deps.clock.now().getTime();
    const recs = [...ids.flatMap((id) => known.get(id) ?? []), ...read].filter(
      (r) =>
        r.kind === recoveryMachine.kind &&
        r.state === 'requested' &&
        // getMany judges expiry by the database's clock; a record handed over, by ours.
        ('expired' in r ? !r.expired : r.expiresAt.getTime() > now),
    );
    // Oldest first: the order the requests came in (a later code replaces an earlier one).
    // Flows written by one statement share its time: then the order they were asked for decides.
    const asked = new Map(flowIds.map((id, i) => [id, i]));
    recs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || asked.get(a.id)! - asked.get(b.id)!);
    const byRealm = new Map<string, FlowRecord[]>();
    for (const r of recs) {
      const flows = byRealm.get(r.realm);
      if (flows) flows.push(r);
      else byRealm.set(r.realm, [r]);
    }
    for (const [name, flows] of byRealm) {
      const realm = await deps.realms.get(name);
      if (realm) await processRealm(realm, flows);
    }
  }

  async function processRealm(realm: RealmPolicy, flows: FlowRecord[]): Promise<void> {
    try {
      await processBatch(realm, flows);
    } catch (e) {
      if (flows.length === 1) throw e;
      // The whole batch rolled back. One bad flow must not hold back everyone batched with it (and
      // again at every sweep): each on its own, so only the bad one fails.
      for (const f of flows) await processBatch(realm, [f]).catch(deps.onError);
    }
  }

  async function processBatch(realm: RealmPolicy, flows: FlowRecord[]): Promise<void> {
    const datas = flows.map((r) => recoveryData(r.data));
    const users = await findRecoveryUsers(deps.store.users, realm, datas);
    const plans: Plan[] = [];
    // In request order: two requests for one user in one batch end as they would one after the
    // other — both mailed, the later code replacing the earlier one (issueMany keeps that order).
    for (const [i, rec] of flows.entries()) {
      const data = datas[i]!;
      const found = users[i] ?? null;
      const eligible = canSelfReset(found) ? found : null;
      // Mail flooding: one address gets a bounded number of recovery mails whoever asks.
      const destination =
        eligible?.email.toLowerCase() ??
        (realm.recovery.unknownAccounts === 'hide-and-notify' && !found ? data.emailKey : null);
      const throttled = destination
        ? (await deps.limiter.consume(RECOVERY_BUCKETS.perDestination, `${realm.name}:${destination}`)) > 0
        : false;
      plans.push({ rec, data, found, eligible, destination, throttled });
    }
    const state = move(recoveryMachine, 'requested', 'code_sent');
    const sentAt = deps.clock.now().toISOString();
    // A mail the address was allowed here but that this node then does not send (the flow was
    // another node's, or the transaction failed and will be retried) gives its point back: else a
    // flow processed twice would count twice against the address's allowance.
    const refund = (ps: Plan[]) =>
      Promise.all(
        ps
          .filter((p) => p.destination && !p.throttled)
          .map((p) => deps.limiter.refund(RECOVERY_BUCKETS.perDestination, `${realm.name}:${p.destination}`)),
      );
    let moved: Set<string> = new Set();
    const queued = await deps.store
      .transaction(async (tx) => {
        moved = await tx.flows.updateMany(
          plans.map(({ rec, data, eligible }) => ({
            id: rec.id,
            expectedVersion: rec.version,
            state,
            data: { ...data, userId: eligible?.id ?? null, sentAt, sends: data.sends + 1 },
          })),
        );
        // Flows someone else processed first (another node's sweep) are theirs: nothing more here.
        const mine = plans.filter((p) => moved.has(p.rec.id));
        const codes = mine.filter((p) => p.eligible && !p.throttled);
        const coded = await issueRecoveryMails(
          tx,
          deps,
          realm,
          codes.map((p) => ({ user: p.eligible!, flowId: p.rec.id, requestLocale: p.data.requestLocale })),
        );
        const notices = mine.filter((p) => !p.found && !p.throttled && p.destination && p.data.emailTyped);
        const noticed = await deps.mail.enqueueMany(
          tx,
          notices.map((p) => ({
            realm: realm.name,
            recipient: p.data.emailTyped!,
            template: 'recovery-unknown-account',
            locale: p.data.requestLocale,
            params: { realmName: realmTitle(realm, p.data.requestLocale) },
          })),
        );
        await tx.events.appendMany(
          mine.flatMap((p) => {
            const kind = p.throttled
              ? 'recovery.throttled'
              : p.eligible || notices.includes(p)
                ? 'recovery.mailed'
                : null;
            if (!kind) return [];
            const account = p.eligible ? {} : { account: p.found ? 'ineligible' : 'unknown' };
            return [
              {
                realm: realm.name,
                kind,
                userId: p.eligible?.id ?? null,
                ip: null,
                userAgent: null,
                data: { flow: p.rec.id, ...account },
              } as const,
            ];
          }),
        );
        return [...coded, ...noticed];
      })
      .catch(async (e: unknown) => {
        await refund(plans);
        throw e;
      });
    await refund(plans.filter((p) => !moved.has(p.rec.id)));
    // Only now that the transaction committed: a mail about a rolled-back change must not go out.
    deps.mail.deliver(queued);
  }

  function track(p: Promise<void>) {
    const t = p.catch((e) => deps.onError(e)).finally(() => inFlight.delete(t));
    inFlight.add(t);
  }

  async function sweep() {
    const stale = await deps.store.flows.listStale(recoveryMachine.kind, 'requested', 5, 50);
    if (stale.length > 0) await processMany(stale.map((f) => f.id));
  }

  return {
    /**
     * Process soon, off the request's path, after a random pause. The work differs for known and
     * unknown accounts (a code, a mail); done right away it would slow down whatever request comes
     * next, and someone timing a follow-up request could tell the two apart. Spread over
     * `jitterMs`, it lands on random later requests instead.
     */
    schedule(flowId: string, rec?: FlowRecord) {
      const delay = deps.jitterMs === 0 ? 0 : randomInt(deps.jitterMs?.[0] ?? 20, deps.jitterMs?.[1] ?? 400);
      track(new Promise((r) => setTimeout(r, delay)).then(() => batched({ id: flowId, rec })));
    },
    /** Process these flows now, as one batch (the sweep's way; tests). */
    processMany,
    start() {
      timer ??= setInterval(() => track(sweep()), deps.sweepMs ?? 5000);
      timer.unref();
    },
    /** Stop the sweep and wait for work in progress. */
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await Promise.all([...inFlight]);
    },
    /** Resolves when nothing is in progress (tests, graceful shutdown). */
    idle: () => Promise.all([...inFlight]).then(() => undefined),
  };
}

export type RecoveryProcessor = ReturnType<typeof createRecoveryProcessor>;
