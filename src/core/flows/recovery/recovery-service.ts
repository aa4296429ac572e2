// "Forgot password?" — the request side: identify, rate-limit, write the flow, answer. The answer
// is the same for every account (unless the realm opted in to reveal, S1.4/S2.2): the lookup, the
// code and the mail happen in the processor after the response.

import { createBatcher } from '../../batching.ts';
import { DostupError } from '../../errors.ts';
import type { RequestContext } from '../../model.ts';
import type { Clock, FlowRecord, NewEvent, NewFlow, Random, RateLimiter, Store } from '../../ports.ts';
import type { RealmPolicy } from '../../realm/policy-schema.ts';
import { createFlowEngine, type LoadedFlow } from '../engine.ts';
import { canSelfReset, findRecoveryUser, identify, type RecoveryInput } from './identify.ts';
import { type RecoveryData, type RecoveryState, recoveryData, recoveryMachine } from './state.ts';

export const RECOVERY_BUCKETS = {
  perIp: 'recovery-ip',
  perAccount: 'recovery-account',
  /** Mail flooding: how many recovery mails one address may receive. Applied by the processor. */
  perDestination: 'recovery-destination',
  /** Code submissions per IP, on top of each code's own attempt counter. */
  verifyPerIp: 'recovery-verify-ip',
} as const;

export interface RecoveryServiceDeps {
  store: Store;
  clock: Clock;
  random: Random;
  limiter: RateLimiter;
  /**
   * Process this flow soon (after the response); a periodic sweep catches what a crash left. `rec` is
   * the record just written: it saves the processor a read.
   */
  schedule: (flowId: string, rec?: FlowRecord) => void;
}

/** What the "mail sent" page may show: nothing that depends on whether the account exists. */
export interface RecoveryView {
  flowId: string;
  state: RecoveryState;
  /** Seconds until "send again" is allowed (0 = now). */
  resendInSeconds: number;
}

export function createRecoveryService(deps: RecoveryServiceDeps) {
  const engine = (store = deps.store) =>
    createFlowEngine({ flows: store.flows, clock: deps.clock, random: deps.random });
  // "Forgot password?" is the one request anybody can send for any account, so it has to be cheap:
  // requests arriving together write their flows and their `recovery.requested` events in ONE
  // statement (group commit, see batching.ts). Each still answers only once its own row is committed.
  // On PostgreSQL three such statements may be in flight (a pool of connections; A/B on this box,
  // alternated pairs: two vs one 1 712 / 1 799 vs 1 498 / 1 624 req/s over 3 + 5 pairs, three vs two
  // 1 627 vs 1 528 over 8 pairs, ahead in 7); PGlite has one connection, a second would only queue.
  const createFlows = createBatcher(
    (items: { flow: NewFlow; event: NewEvent }[]) =>
      deps.store.flows.createManyWithEvents(
        items.map((i) => i.flow),
        items.map((i) => i.event),
      ),
    { concurrency: deps.store.driver === 'pg' ? 3 : 1 },
  );
  /** The flow engine for one request: its flow is written together with the request's event. */
  const requestEngine = (realm: RealmPolicy, ctx: RequestContext) =>
    createFlowEngine({
      flows: {
        ...deps.store.flows,
        create: (flow: NewFlow) =>
          createFlows({
            flow,
            event: {
              realm: realm.name,
              kind: 'recovery.requested',
              userId: null,
              ip: ctx.ip,
              userAgent: ctx.userAgent,
              data: { flow: flow.id },
            },
          }),
      },
      clock: deps.clock,
      random: deps.random,
    });

  const enabled = (realm: RealmPolicy) => {
    if (!realm.recovery.enabled) throw new DostupError('RECOVERY_DISABLED');
  };

  const limit = async (bucket: string, key: string) => {
    const wait = await deps.limiter.consume(bucket, key);
    if (wait > 0) throw new DostupError('RATE_LIMITED', { retryAfter: wait });
  };

  /** Start a recovery. `binding` ties the flow to the browser (null for the JSON API). */
  async function request(
    realm: RealmPolicy,
    input: RecoveryInput,
    ctx: RequestContext,
    binding: Buffer | null,
  ): Promise<RecoveryView> {
    enabled(realm);
    const id = identify(realm, input);
    // Limits are keyed by what was typed, so a 429 says nothing about the account either.
    await limit(RECOVERY_BUCKETS.perIp, `${realm.name}:${ctx.ip ?? 'unknown'}`);
    await limit(RECOVERY_BUCKETS.perAccount, id.accountKey);
    if (realm.recovery.unknownAccounts === 'reveal') {
      // Opt-in weaker behaviour of S1.4 / S2.2: answer now. The realm accepted the enumeration risk.
      const user = await findRecoveryUser(deps.store.users, realm, id);
      if (!canSelfReset(user)) {
        const messageId =
          realm.recovery.identifyBy === 'login-and-email'
            ? 'recovery.no_user_or_wrong_email'
            : 'recovery.account_not_found';
        throw new DostupError('RECOVERY_UNKNOWN_ACCOUNT', { issues: [{ path: '/identifier', messageId }] });
      }
    }
    const data: RecoveryData = {
      userId: null,
      loginKey: id.loginKey,
      emailKey: id.emailKey,
      emailTyped: id.emailTyped,
      requestLocale: ctx.locale,
      sentAt: null,
      wrongCodes: 0,
      sends: 0,
    };
    const flow = await requestEngine(realm, ctx).start(recoveryMachine, realm.name, { ...data }, binding);
    deps.schedule(flow.record.id, flow.record);
    return view(realm, flow);
  }

  function view(realm: RealmPolicy, flow: LoadedFlow<RecoveryState>): RecoveryView {
    const d = recoveryData(flow.data);
    const sentAt = d.sentAt ? Date.parse(d.sentAt) : flow.record.createdAt.getTime();
    const wait = Math.ceil((sentAt + realm.recovery.resendCooldownSeconds * 1000 - deps.clock.now().getTime()) / 1000);
    return { flowId: flow.record.id, state: flow.state, resendInSeconds: Math.max(0, wait) };
  }

  async function load(realm: RealmPolicy, flowId: string, binding: Buffer | null) {
    enabled(realm);
    return engine().load(recoveryMachine, realm.name, flowId, binding);
  }

  /** "Send again": after the cool-down, back to `requested`; the processor issues a new code (older ones die). */
  async function resend(
    realm: RealmPolicy,
    flowId: string,
    ctx: RequestContext,
    binding: Buffer | null,
  ): Promise<RecoveryView> {
    const flow = await load(realm, flowId, binding);
    const v = view(realm, flow);
    if (flow.state !== 'code_sent') {
      if (flow.state === 'requested') return v; // still being processed: nothing to do
      throw new DostupError('FLOW_STATE_INVALID');
    }
    if (v.resendInSeconds > 0) throw new DostupError('RESEND_TOO_SOON', { retryAfter: v.resendInSeconds });
    await limit(RECOVERY_BUCKETS.perIp, `${realm.name}:${ctx.ip ?? 'unknown'}`);
    const next = await engine().advance(recoveryMachine, flow, 'requested', flow.data);
    deps.schedule(flowId, next.record);
    return view(realm, next);
  }

  return {
    request,
    resend,
    /** Read-only: may the mailed link still work? (The page then shows "expired" before any typing.) */
    linkUsable: (realm: RealmPolicy, secretId: string) =>
      deps.store.oneTimeSecrets.isUsable(secretId, realm.name, 'recovery'),
    /** The page's view of a flow (bound to the browser that started it). */
    async show(realm: RealmPolicy, flowId: string, binding: Buffer | null) {
      return view(realm, await load(realm, flowId, binding));
    },
  };
}

export type RecoveryService = ReturnType<typeof createRecoveryService>;
