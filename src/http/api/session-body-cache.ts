// A response body serialized once per cached session lookup, instead of on every request (`whoami`
// is the portal hot path; building and serializing its object was a fifth of its CPU).
//
// Why keying on the object is exact: the session service returns the SAME SessionWithUser object for
// as long as its cache entry lives (at most SESSION_CACHE_MS), and a new object after every database
// lookup — so after expiry of the entry, a revocation, sign-out or forgetUser (rights or status
// changed). A body remembered for the old object can never be served for the new one, and a revoked
// session never gets this far: authenticate() returns null first. The WeakMap lets the body go
// with the object, so this holds no memory of its own.
//
// Only what never changes during the entry's life may be in the body: the idle slide rewrites
// `session.lastSeenAt` and `session.idleExpiresAt` of the cached object in place, so those two must
// stay out of any body cached here.
import type { SessionWithUser } from '../../core/ports.ts';

export interface SessionBodyCache {
  /** The body for `found`: `render()` the first time this object is seen, the same string after. */
  get(found: SessionWithUser, render: () => string): string;
}

export function createSessionBodyCache(): SessionBodyCache {
  const bodies = new WeakMap<SessionWithUser, string>();
  return {
    get(found, render) {
      let body = bodies.get(found);
      if (body === undefined) {
        body = render();
        bodies.set(found, body);
      }
      return body;
    },
  };
}
