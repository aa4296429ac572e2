// Persisted flows: a flow that takes more than one request (recovery: identify → code sent →
// new password) lives in a `flows` row. The engine guarantees, for every flow kind:
//   - only moves in the kind's transitions table happen (see machine.ts);
//   - an expired flow is dead (judged by the database clock);
//   - a browser flow is bound to the CSRF secret of the browser that started it, so a flow id
//     leaked through a URL or a log can't be continued from another browser;
//   - two racing requests can't both advance the same flow (compare-and-swap on `version`).
import { createHash, timingSafeEqual } from 'node:crypto';
import { DostupError } from '../errors.ts';
import type { Clock, FlowRecord, FlowsRepo, Random } from '../ports.ts';
import { type FlowMachine, isTerminal, move, parseState } from './machine.ts';

export interface LoadedFlow<S extends string> {
  record: FlowRecord;
  state: S;
  data: Record<string, unknown>;
}

/** The binding stored for a browser's CSRF secret; null for API clients (no cookie). */
export function csrfBinding(secret: string | null | undefined): Buffer | null {
  return secret ? createHash('sha256').update(`dostup-flow:${secret}`).digest() : null;
}

export function createFlowEngine(deps: { flows: FlowsRepo; clock: Clock; random: Random }) {
  async function start<S extends string>(
    m: FlowMachine<S>,
    realm: string,
    data: Record<string, unknown>,
    binding: Buffer | null,
    state: S = m.initial,
  ): Promise<LoadedFlow<S>> {
    const record = await deps.flows.create({
      id: deps.random.uuid(),
      realm,
      kind: m.kind,
      state,
      data,
      csrfBinding: binding,
      expiresAt: new Date(deps.clock.now().getTime() + m.lifetimeSeconds * 1000),
    });
    return { record, state, data };
  }

  /** The live flow, or FLOW_NOT_FOUND / FLOW_EXPIRED. Unknown, foreign-realm and wrongly bound look alike. */
  async function load<S extends string>(
    m: FlowMachine<S>,
    realm: string,
    id: string,
    binding: Buffer | null,
  ): Promise<LoadedFlow<S>> {
    const rec = await deps.flows.get(id);
    if (!rec || rec.kind !== m.kind || rec.realm !== realm || !bindingMatches(rec.csrfBinding, binding)) {
      throw new DostupError('FLOW_NOT_FOUND');
    }
    if (rec.expired) throw new DostupError('FLOW_EXPIRED');
    return { record: rec, state: parseState(m, rec.state), data: rec.data };
  }

  /** Move to `to` with new data; FLOW_STATE_INVALID if not allowed or someone else moved first. */
  async function advance<S extends string>(
    m: FlowMachine<S>,
    flow: LoadedFlow<S>,
    to: S,
    data: Record<string, unknown>,
  ): Promise<LoadedFlow<S>> {
    if (isTerminal(m, flow.state)) throw new DostupError('FLOW_STATE_INVALID');
    const state = move(m, flow.state, to);
    const rec = await deps.flows.update(flow.record.id, flow.record.version, state, data);
    if (!rec) throw new DostupError('FLOW_STATE_INVALID', { message: 'flow changed concurrently' });
    return { record: rec, state, data };
  }

  return { start, load, advance };
}

function bindingMatches(stored: Buffer | null, given: Buffer | null): boolean {
  if (stored === null) return true; // API flow: the flow id itself is the capability
  if (given === null || given.length !== stored.length) return false;
  return timingSafeEqual(stored, given);
}

export type FlowEngine = ReturnType<typeof createFlowEngine>;
