import { expect, it } from 'vitest';
import type { RealmPolicy } from '../../core/realm/policy-schema.ts';
import { StoreQueryError } from '../db.ts';
import { describeEachDriver } from '../testing/each-driver.ts';
import { rejectionOf, sleep, testPolicy, uniqueName } from '../testing/fixtures.ts';

describeEachDriver('realms repository', (getStore) => {
  it('upsert creates a realm and get returns the policy unchanged', async () => {
    const name = uniqueName();
    const policy = testPolicy(name, { password: { minLength: 8, historySize: 3 } });
    const created = await getStore().realms.upsert(policy);
    expect(created.name).toBe(name);
    expect(created.policy).toEqual(policy);
    expect(created.createdAt).toBeInstanceOf(Date);
    const got = await getStore().realms.get(name);
    expect(got).toEqual(created);
  });

  it('upsert of an existing realm replaces the policy and keeps createdAt', async () => {
    const name = uniqueName();
    const first = await getStore().realms.upsert(testPolicy(name));
    await sleep(5);
    const second = await getStore().realms.upsert(testPolicy(name, { password: { minLength: 20 } }));
    expect(second.policy.password.minLength).toBe(20);
    expect(second.createdAt.getTime()).toBe(first.createdAt.getTime());
    expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
    expect((await getStore().realms.get(name))?.policy.password.minLength).toBe(20);
  });

  it('get of an unknown realm is null', async () => {
    expect(await getStore().realms.get(uniqueName())).toBeNull();
  });

  it('list returns every realm ordered by name', async () => {
    const a = `a${uniqueName()}`;
    const b = `b${uniqueName()}`;
    await getStore().realms.upsert(testPolicy(b));
    await getStore().realms.upsert(testPolicy(a));
    const names = (await getStore().realms.list()).map((r) => r.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain(a);
    expect(names).toContain(b);
  });

  it('the database refuses a realm name that could not appear in a URL', async () => {
    const bad = { ...testPolicy(uniqueName()), name: 'Bad Name/..' } as RealmPolicy;
    const err = await rejectionOf(getStore().realms.upsert(bad));
    expect(err).toBeInstanceOf(StoreQueryError);
    expect((err as StoreQueryError).code).toBe('23514');
    expect((err as StoreQueryError).constraint).toBe('realms_name_format');
  });
});
