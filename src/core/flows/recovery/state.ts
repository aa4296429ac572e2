// The `recovery` flow: a forgotten password (S1.2–S1.4, S2.2–S2.5, S3.4, S4.1–S4.4, S5.4).
//
// identify (the form, not stored) → requested → code_sent → completed
//
// `requested` is written by the request itself, identically for known and unknown accounts; the
// account lookup, the code and the mail happen after the response (see recovery-processor.ts), so
// neither the answer nor its timing tells whether the account exists. An unknown account's flow goes
// to `code_sent` too — the "pretend we sent a code" path — and no code can ever complete it.
import type { FlowMachine } from '../machine.ts';

export type RecoveryState =
  /** Identified; waiting for the processor to look the account up and queue the mail. */
  | 'requested'
  /** The mail (link + code) is queued — or, for an unknown/ineligible account, pretended to be. */
  | 'code_sent'
  /** The code was verified and the new password set, in one transaction. */
  | 'completed'
  /** Too many wrong codes: the flow is dead; the person starts again. */
  | 'failed';

export const recoveryMachine: FlowMachine<RecoveryState> = {
  kind: 'recovery',
  initial: 'requested',
  transitions: {
    requested: ['code_sent'],
    // "Send again" goes back to `requested`; a wrong code stays; the right one completes.
    code_sent: ['requested', 'code_sent', 'completed', 'failed'],
    completed: [],
    failed: [],
  },
  // The flow outlives the longest link so a late click still finds it; the code has its own expiry.
  lifetimeSeconds: 24 * 3600,
};

/** What a recovery flow row carries. Never a secret: the code exists only in the mail and as an HMAC. */
export interface RecoveryData {
  /** The account, once the processor found an eligible one; null for the pretend path. */
  userId: string | null;
  /** Normalized identifiers as typed (for the processor's lookup). */
  loginKey: string | null;
  emailKey: string | null;
  /** The e-mail as typed, only for the optional "no account here" notice (there is no stored address). */
  emailTyped: string | null;
  /** The locale of the person asking (mail uses the user's own locale when set, S2.4). */
  requestLocale: 'ru' | 'en';
  /** When the last mail was queued (ISO), for the resend cool-down. */
  sentAt: string | null;
  /** Wrong codes typed against this flow (the pretend path counts here; real codes count on the secret). */
  wrongCodes: number;
  /** How many mails this flow has asked for. */
  sends: number;
}

export function recoveryData(raw: Record<string, unknown>): RecoveryData {
  return {
    userId: typeof raw.userId === 'string' ? raw.userId : null,
    loginKey: typeof raw.loginKey === 'string' ? raw.loginKey : null,
    emailKey: typeof raw.emailKey === 'string' ? raw.emailKey : null,
    emailTyped: typeof raw.emailTyped === 'string' ? raw.emailTyped : null,
    requestLocale: raw.requestLocale === 'en' ? 'en' : 'ru',
    sentAt: typeof raw.sentAt === 'string' ? raw.sentAt : null,
    wrongCodes: typeof raw.wrongCodes === 'number' ? raw.wrongCodes : 0,
    sends: typeof raw.sends === 'number' ? raw.sends : 0,
  };
}
