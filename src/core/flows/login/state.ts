// The `login` flow: one attempt of a person to sign in. Today the only step is the password method;
// consent (S3.2), a second factor (S3.3) and signature sign-in (S3.1) arrive as new states and
// method folders, not as rewrites. See login.mermaid.
import type { FlowMachine } from '../machine.ts';

export type LoginState =
  /** Waiting for an identifier and a proof (password). A failed attempt stays here. */
  | 'awaiting_credentials'
  /** A session was issued; the flow is over. */
  | 'completed';

export const loginMachine: FlowMachine<LoginState> = {
  kind: 'login',
  initial: 'awaiting_credentials',
  transitions: {
    awaiting_credentials: ['awaiting_credentials', 'completed'],
    completed: [],
  },
  lifetimeSeconds: 30 * 60,
};
