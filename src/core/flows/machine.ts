// The generic flow machinery. Every flow kind (login, recovery, …) is a small state machine: a
// `State` union, a transitions table the compiler checks for completeness, and a `.mermaid` drawing
// beside it. A transition not in the table is refused, so a request can never skip a step
// (e.g. jump from "code sent" to "set new password" without "code verified").
import { DostupError } from '../errors.ts';

export interface FlowMachine<S extends string> {
  kind: string;
  initial: S;
  /** For each state, the states it may move to. Terminal states map to []. */
  transitions: { readonly [K in S]: readonly S[] };
  /** How long a flow of this kind lives before it is `expired`. */
  lifetimeSeconds: number;
}

export function isTerminal<S extends string>(m: FlowMachine<S>, state: S): boolean {
  return m.transitions[state].length === 0;
}

export function canMove<S extends string>(m: FlowMachine<S>, from: S, to: S): boolean {
  return m.transitions[from].includes(to);
}

/** Returns `to` when the move is allowed; otherwise FLOW_STATE_INVALID. */
export function move<S extends string>(m: FlowMachine<S>, from: S, to: S): S {
  if (!canMove(m, from, to)) {
    throw new DostupError('FLOW_STATE_INVALID', { message: `${m.kind}: ${from} -> ${to} is not a transition` });
  }
  return to;
}

/** Narrow an untrusted string (from the database) to a state of this machine. */
export function parseState<S extends string>(m: FlowMachine<S>, raw: string): S {
  if (!Object.hasOwn(m.transitions, raw)) {
    throw new DostupError('FLOW_STATE_INVALID', { message: `${m.kind}: unknown state ${raw}` });
  }
  return raw as S;
}

/** Every edge of the machine, for drawing and for the test that keeps the .mermaid file honest. */
export function edges<S extends string>(m: FlowMachine<S>): [S, S][] {
  const out: [S, S][] = [];
  for (const from of Object.keys(m.transitions) as S[]) for (const to of m.transitions[from]) out.push([from, to]);
  return out;
}
