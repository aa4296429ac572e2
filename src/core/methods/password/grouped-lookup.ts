// Sign-ins arriving together look their accounts up in one statement. Under a burst of sign-ins every
// request spends a statement on its lookup before it queues for a hash — on PGlite run on the event
// loop beside the hashing, on PostgreSQL a round trip and a backend's CPU on the same cores — and
// most of a statement's cost is per statement, not per key. While hashes are in flight the lookup
// waits `waitMs` for others (the hash it goes on to queue for takes longer); otherwise the callers of
// one turn of the event loop share a statement and a lone sign-in waits for nothing.
//
// Timing: a known and an unknown account ride in the same statement and get their answer at the
// same moment, so grouping tells an observer nothing about which exists.
import { createBatcher } from '../../batching.ts';
import type { UserWithSecret } from '../../model.ts';
import type { UsersRepo } from '../../ports.ts';

type By = 'login' | 'email' | 'phone';
interface Lookup {
  realm: string;
  by: By;
  key: string;
}

export function groupedSignInLookup(
  users: Pick<UsersRepo, 'findManyForSignIn'>,
  opts: { waitMs: number; moreComing: () => boolean },
): (realm: string, by: By, key: string) => Promise<UserWithSecret | null> {
  const lookup = createBatcher(
    async (items: Lookup[]) => {
      // One statement per realm and identifier kind in the batch (almost always one).
      const groups = new Map<string, { realm: string; by: By; keys: string[] }>();
      for (const { realm, by, key } of items) {
        const g = groups.get(`${by}\u0000${realm}`) ?? { realm, by, keys: [] };
        g.keys.push(key);
        groups.set(`${by}\u0000${realm}`, g);
      }
      const found = new Map<string, Map<string, UserWithSecret>>();
      await Promise.all(
        [...groups].map(async ([k, g]) => found.set(k, await users.findManyForSignIn(g.realm, g.by, g.keys))),
      );
      return items.map(({ realm, by, key }) => found.get(`${by}\u0000${realm}`)?.get(key) ?? null);
    },
    // A failed statement (the database briefly gone) fails each sign-in as its own lookup would have.
    { isolateFailures: true, waitMs: () => (opts.waitMs > 0 && opts.moreComing() ? opts.waitMs : 0) },
  );
  return (realm, by, key) => lookup({ realm, by, key });
}
