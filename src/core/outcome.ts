// What a core service returns. The web adapter renders or redirects, the JSON adapter serializes —
// the core never sees a request or a reply.
import type { DostupError } from './errors.ts';

export type Outcome<Done, Next = never> =
  | { kind: 'completed'; value: Done }
  | { kind: 'continue'; next: Next }
  | { kind: 'rejected'; error: DostupError };

export const completed = <D>(value: D): Outcome<D, never> => ({ kind: 'completed', value });
export const rejected = (error: DostupError): Outcome<never, never> => ({ kind: 'rejected', error });
export const proceed = <N>(next: N): Outcome<never, N> => ({ kind: 'continue', next });
