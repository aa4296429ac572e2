// Realms: apply a validated policy, read it (cached per node for `cacheMs`, so every request does not
// read the policy from the database), and create the default realm on first start.
import { DostupError } from '../errors.ts';
import type { RealmRecord, Store } from '../ports.ts';
import type { Actor } from '../users/user-service.ts';
import { defaultRealmPolicy, validateRealmPolicy } from './policy.ts';
import type { RealmPolicy } from './policy-schema.ts';

export interface RealmServiceDeps {
  store: Store;
  /** How long another node's policy change may take to be seen here (ms). */
  cacheMs: number;
}

export function createRealmService(deps: RealmServiceDeps) {
  const cache = new Map<string, { policy: RealmPolicy | null; until: number }>();

  async function get(name: string): Promise<RealmPolicy | null> {
    const hit = cache.get(name);
    if (hit && hit.until > Date.now()) return hit.policy;
    const rec = await deps.store.realms.get(name);
    // Stored policies are re-validated on read: defaults added by a newer version fill in here.
    const policy = rec ? validateRealmPolicy(rec.policy, `realm ${name}`) : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(name, { policy, until: Date.now() + deps.cacheMs });
    return policy;
  }

  async function require(name: string): Promise<RealmPolicy> {
    const p = await get(name);
    if (!p) throw new DostupError('REALM_NOT_FOUND', { params: { realm: name.slice(0, 64) } });
    return p;
  }

  async function apply(policy: RealmPolicy, actor: Actor): Promise<RealmRecord> {
    const rec = await deps.store.transaction(async (tx) => {
      const saved = await tx.realms.upsert(policy);
      await tx.events.append({
        realm: policy.name,
        kind: 'realm.applied',
        userId: null,
        ip: actor.ip,
        userAgent: actor.userAgent,
        data: { via: actor.via },
      });
      return saved;
    });
    cache.delete(policy.name);
    return rec;
  }

  /** On first start (no realm at all) create `name` with every default and `baseUrl`. */
  async function ensureDefault(name: string, baseUrl: string): Promise<RealmPolicy | null> {
    const all = await deps.store.realms.list();
    if (all.length > 0) return null;
    const policy = defaultRealmPolicy(name, baseUrl);
    await apply(policy, { ip: null, userAgent: null, via: 'first-start' });
    return policy;
  }

  return { get, require, apply, ensureDefault, list: () => deps.store.realms.list() };
}

export type RealmService = ReturnType<typeof createRealmService>;
