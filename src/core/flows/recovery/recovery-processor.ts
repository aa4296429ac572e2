// The recovery processor: takes `requested` flows, looks the account up, and — in ONE transaction —
// moves the flow to `code_sent`, issues the code and queues the mail (or pretends to, for an
// unknown or ineligible account). It runs after the HTTP response, so the response can't leak the
// lookup by content or by time. A compare-and-swap on the flow makes a flow processed once even
// when the in-process schedule and another node's sweep race for it.
import { randomInt } from 'node:crypto';
import { issueRecoveryMail } from '../../methods/email-code/recovery.ts';
import type { Clock, MailQueue, Random, RateLimiter, Store } from '../../ports.ts';
import { realmTitle } from '../../realm/policy.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';
import type { OneTimeSecrets } from '../../secrets/one-time-secrets.ts';
import { createFlowEngine } from '../engine.ts';
import { parseState } from '../machine.ts';
import { canSelfReset, findRecoveryUser } from './identify.ts';
import { RECOVERY_BUCKETS } from './recovery-service.ts';
import { type RecoveryData, recoveryData, recoveryMachine } from './state.ts';

export interface RecoveryProcessorDeps {
  store: Store;
  clock: Clock;
  random: Random;
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

export function createRecoveryProcessor(deps: RecoveryProcessorDeps) {
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | null = null;

  async function process(flowId: string): Promise<void> {
    const rec = await deps.store.flows.get(flowId);
    if (!rec || rec.kind !== recoveryMachine.kind || rec.expired || rec.state !== 'requested') return;
    const realm = await deps.realms.get(rec.realm);
    if (!realm) return;
    const data = recoveryData(rec.data);
    const found = await findRecoveryUser(deps.store.users, realm, data);
    const eligible = canSelfReset(found) ? found : null;
    // Mail flooding: one address gets a bounded number of recovery mails whoever asks.
    const destination =
      eligible?.email.toLowerCase() ??
      (realm.recovery.unknownAccounts === 'hide-and-notify' && !found ? data.emailKey : null);
    const throttled = destination
      ? (await deps.limiter.consume(RECOVERY_BUCKETS.perDestination, `${realm.name}:${destination}`)) > 0
      : false;

    const next: RecoveryData = {
      ...data,
      userId: eligible?.id ?? null,
      sentAt: deps.clock.now().toISOString(),
      sends: data.sends + 1,
    };
    const sent = await deps.store.transaction(async (tx) => {
      const engine = createFlowEngine({ flows: tx.flows, clock: deps.clock, random: deps.random });
      const flow = { record: rec, state: parseState(recoveryMachine, rec.state), data: rec.data };
      const moved = await engine.advance(recoveryMachine, flow, 'code_sent', { ...next }).catch(() => null);
      if (!moved) return false; // someone else processed it
      let kind: 'recovery.mailed' | 'recovery.throttled' | null = null;
      if (eligible && !throttled) {
        await issueRecoveryMail(tx, deps, realm, eligible, rec.id, data.requestLocale);
        kind = 'recovery.mailed';
      } else if (!found && !throttled && destination && data.emailTyped) {
        await deps.mail.enqueue(tx, {
          realm: realm.name,
          recipient: data.emailTyped,
          template: 'recovery-unknown-account',
          locale: data.requestLocale,
          params: { realmName: realmTitle(realm, data.requestLocale) },
        });
        kind = 'recovery.mailed';
      } else if (throttled) kind = 'recovery.throttled';
      if (kind) {
        await tx.events.append({
          realm: realm.name,
          kind,
          userId: eligible?.id ?? null,
          ip: null,
          userAgent: null,
          data: { flow: rec.id, ...(eligible ? {} : { account: found ? 'ineligible' : 'unknown' }) },
        });
      }
      return kind === 'recovery.mailed';
    });
    if (sent) deps.mail.kick();
  }

  function track(p: Promise<void>) {
    const t = p.catch((e) => deps.onError(e)).finally(() => inFlight.delete(t));
    inFlight.add(t);
  }

  async function sweep() {
    const stale = await deps.store.flows.listStale(recoveryMachine.kind, 'requested', 5, 50);
    for (const f of stale) await process(f.id);
  }

  return {
    /**
     * Process soon, off the request's path, after a random pause. The work differs for known and
     * unknown accounts (a code, a mail); done right away it would slow down whatever request comes
     * next, and someone timing a follow-up request could tell the two apart. Spread over
     * `jitterMs`, it lands on random later requests instead.
     */
    schedule(flowId: string) {
      const delay = deps.jitterMs === 0 ? 0 : randomInt(deps.jitterMs?.[0] ?? 20, deps.jitterMs?.[1] ?? 400);
      track(new Promise((r) => setTimeout(r, delay)).then(() => process(flowId)));
    },
    process,
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
