import { describe, expect, it } from 'vitest';
import type { UserWithSecret } from '../../model.ts';
import { testUser } from '../../testing/users.ts';
import { groupedSignInLookup } from './grouped-lookup.ts';

function fakeUsers(known: Record<string, UserWithSecret>) {
  const calls: { realm: string; by: string; keys: string[] }[] = [];
  let failOn: string | undefined;
  return {
    calls,
    failOn: (k: string) => {
      failOn = k;
    },
    users: {
      async findManyForSignIn(realm: string, by: 'login' | 'email' | 'phone', keys: string[]) {
        calls.push({ realm, by, keys });
        if (failOn && keys.includes(failOn)) throw new Error('database gone');
        return new Map(keys.flatMap((k) => (known[`${realm}/${by}/${k}`] ? [[k, known[`${realm}/${by}/${k}`]!]] : [])));
      },
    },
  };
}

const ann = { ...testUser(), passwordHash: 'h-ann' };
const bob = { ...testUser(), passwordHash: 'h-bob' };

describe('grouped sign-in lookup', () => {
  it('lookups of one turn share one statement per realm and kind; each gets its own answer', async () => {
    const f = fakeUsers({ 'main/login/ann': ann, 'main/email/bob@x.test': bob });
    const find = groupedSignInLookup(f.users, { waitMs: 0, moreComing: () => false });
    const out = await Promise.all([
      find('main', 'login', 'ann'),
      find('main', 'login', 'nobody'),
      find('main', 'email', 'bob@x.test'),
      find('other', 'login', 'ann'),
    ]);
    expect(out.map((u) => u?.passwordHash ?? null)).toEqual(['h-ann', null, 'h-bob', null]);
    expect(f.calls).toEqual([
      { realm: 'main', by: 'login', keys: ['ann', 'nobody'] },
      { realm: 'main', by: 'email', keys: ['bob@x.test'] },
      { realm: 'other', by: 'login', keys: ['ann'] },
    ]);
  });

  it('waits waitMs for company only while more are coming', async () => {
    const f = fakeUsers({ 'main/login/ann': ann });
    let coming = false;
    const find = groupedSignInLookup(f.users, { waitMs: 40, moreComing: () => coming });
    let t = performance.now();
    expect((await find('main', 'login', 'ann'))?.id).toBe(ann.id);
    expect(performance.now() - t).toBeLessThan(30);
    await new Promise((r) => setTimeout(r, 5)); // the first batch's bookkeeping done
    coming = true;
    t = performance.now();
    const first = find('main', 'login', 'ann');
    await new Promise((r) => setTimeout(r, 10));
    await Promise.all([first, find('main', 'login', 'late')]);
    expect(performance.now() - t).toBeGreaterThanOrEqual(35);
    expect(f.calls.map((c) => c.keys)).toEqual([['ann'], ['ann', 'late']]);
  });

  it('a lookup that fails fails only its own sign-in', async () => {
    const f = fakeUsers({ 'main/login/ann': ann });
    f.failOn('bad');
    const find = groupedSignInLookup(f.users, { waitMs: 0, moreComing: () => false });
    const out = await Promise.allSettled([find('main', 'login', 'ann'), find('main', 'login', 'bad')]);
    expect(out.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
  });
});
