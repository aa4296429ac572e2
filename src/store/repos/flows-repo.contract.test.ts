import { expect, it } from 'vitest';
import type { NewFlow } from '../../core/ports.ts';
import type { StoreQueryError } from '../db.ts';
import { describeEachDriver } from '../testing/each-driver.ts';
import { makeRealm, minutesFromNow, rejectionOf, sleep, tokenHash, uniqueName, uuid } from '../testing/fixtures.ts';

const newFlow = (realm: string, overrides: Partial<NewFlow> = {}): NewFlow => ({
  id: uuid(),
  realm,
  kind: 'login',
  state: 'identify',
  data: { method: 'password', attempts: 0, nested: { list: [1, 'два'] } },
  csrfBinding: tokenHash(),
  expiresAt: minutesFromNow(15),
  ...overrides,
});

describeEachDriver('flows repository', (getStore) => {
  it('create and get round-trip every field; a fresh flow is not expired', async () => {
    const s = getStore();
    const input = newFlow(await makeRealm(s));
    const created = await s.flows.create(input);
    expect(created).toMatchObject({ id: input.id, realm: input.realm, kind: 'login', state: 'identify', version: 1 });
    expect(created.data).toEqual(input.data);
    expect(created.csrfBinding?.equals(input.csrfBinding as Buffer)).toBe(true);
    expect(created.expiresAt.getTime()).toBe(input.expiresAt.getTime());
    const got = await s.flows.get(input.id);
    expect(got).toEqual({ ...created, expired: false });
  });

  it('createMany and getMany: several flows in one statement each, in the order given', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const inputs = [
      newFlow(realm),
      newFlow(realm, { csrfBinding: null, state: 'other', data: { n: 'один', gone: undefined, list: [1, null] } }),
      newFlow(realm),
    ];
    const created = await s.flows.createMany(inputs);
    // What createMany answers is what a read answers: the stored record, field for field.
    const read = await s.flows.getMany(inputs.map((f) => f.id));
    for (const c of created) expect(read.find((r) => r.id === c.id)).toEqual({ ...c, expired: false });
    expect(created[1]!.data).toEqual({ n: 'один', list: [1, null] });
    expect(created.map((f) => [f.id, f.state, f.version])).toEqual(inputs.map((f) => [f.id, f.state, 1]));
    const expired = newFlow(realm, { expiresAt: minutesFromNow(-1) });
    await s.flows.create(expired);
    const got = await s.flows.getMany([inputs[2]!.id, uuid(), 'junk', expired.id, inputs[0]!.id]);
    const byId = new Map(got.map((f) => [f.id, f]));
    expect(got).toHaveLength(3);
    expect(byId.get(inputs[0]!.id)).toEqual({ ...created[0], expired: false });
    expect(byId.get(expired.id)?.expired).toBe(true);
    expect(await s.flows.createMany([])).toEqual([]);
    expect(await s.flows.getMany(['junk'])).toEqual([]);
  });

  it('createManyWithEvents writes the flows and their events in one statement: both or neither', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const inputs = [newFlow(realm), newFlow(realm)];
    const event = (flow: string) =>
      ({
        realm,
        kind: 'recovery.requested',
        userId: null,
        ip: '203.0.113.7',
        userAgent: 'ua',
        data: { flow },
      }) as const;
    const created = await s.flows.createManyWithEvents(
      inputs,
      inputs.map((f) => event(f.id)),
    );
    expect(created.map((f) => f.id)).toEqual(inputs.map((f) => f.id));
    const read = await s.flows.getMany(inputs.map((f) => f.id));
    for (const c of created) expect(read.find((r) => r.id === c.id)).toEqual({ ...c, expired: false });
    const logged = await s.events.list({ realm, kind: 'recovery.requested', limit: 10 });
    expect(logged.map((e) => e.data.flow).sort()).toEqual(inputs.map((f) => f.id).sort());
    expect(logged[0]).toMatchObject({ ip: '203.0.113.7', userAgent: 'ua', userId: null });

    // A flow that cannot be written (its id is taken) takes its batch's events down with it.
    const fresh = newFlow(realm);
    const failed = await rejectionOf(
      s.flows.createManyWithEvents([fresh, { ...inputs[0]! }], [event(fresh.id), event(inputs[0]!.id)]),
    );
    expect((failed as StoreQueryError).code).toBe('23505');
    expect(await s.flows.get(fresh.id)).toBeNull();
    expect(await s.events.list({ realm, kind: 'recovery.requested', limit: 10 })).toHaveLength(2);
  });

  it('updateMany moves each flow only from the version its caller read', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const [a, b] = await s.flows.createMany([newFlow(realm), newFlow(realm)]);
    // Someone else moves b first: b's change, quoting version 1, must not apply.
    await s.flows.update(b!.id, 1, 'taken', { by: 'other' });
    const moved = await s.flows.updateMany([
      { id: a!.id, expectedVersion: 1, state: 'code_sent', data: { n: 'один', list: [1] } },
      { id: b!.id, expectedVersion: 1, state: 'code_sent', data: { n: 2 } },
      { id: 'junk', expectedVersion: 1, state: 'x', data: {} },
    ]);
    expect([...moved]).toEqual([a!.id]);
    expect(await s.flows.get(a!.id)).toMatchObject({ state: 'code_sent', version: 2, data: { n: 'один', list: [1] } });
    expect(await s.flows.get(b!.id)).toMatchObject({ state: 'taken', version: 2, data: { by: 'other' } });
    expect(await s.flows.updateMany([])).toEqual(new Set());
  });

  it('an API flow has no CSRF binding', async () => {
    const s = getStore();
    const input = newFlow(await makeRealm(s), { csrfBinding: null });
    await s.flows.create(input);
    expect((await s.flows.get(input.id))?.csrfBinding).toBeNull();
  });

  it('get reports expiry computed by the database and null for unknown or malformed ids', async () => {
    const s = getStore();
    const input = newFlow(await makeRealm(s), { expiresAt: minutesFromNow(-1) });
    await s.flows.create(input);
    expect((await s.flows.get(input.id))?.expired).toBe(true);
    expect(await s.flows.get(uuid())).toBeNull();
    expect(await s.flows.get('../etc/passwd')).toBeNull();
  });

  it('update is compare-and-swap on version', async () => {
    const s = getStore();
    const input = newFlow(await makeRealm(s));
    const created = await s.flows.create(input);
    await sleep(5);
    const next = await s.flows.update(input.id, 1, 'password', { method: 'password', attempts: 1 });
    expect(next).toMatchObject({ state: 'password', version: 2, data: { method: 'password', attempts: 1 } });
    expect(next?.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
    expect(next?.createdAt.getTime()).toBe(created.createdAt.getTime());
    expect(await s.flows.update(input.id, 1, 'done', {})).toBeNull(); // stale version
    expect((await s.flows.get(input.id))?.state).toBe('password');
    expect(await s.flows.update(uuid(), 1, 'x', {})).toBeNull();
    expect(await s.flows.update('bad', 1, 'x', {})).toBeNull();
  });

  it('two concurrent updates with the same version: exactly one wins', async () => {
    const s = getStore();
    const input = newFlow(await makeRealm(s));
    await s.flows.create(input);
    const results = await Promise.all([
      s.flows.update(input.id, 1, 'a', { by: 'a' }),
      s.flows.update(input.id, 1, 'b', { by: 'b' }),
      s.transaction((tx) => tx.flows.update(input.id, 1, 'c', { by: 'c' })),
    ]);
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    const after = await s.flows.get(input.id);
    expect(after?.version).toBe(2);
    expect(after?.state).toBe(winners[0]?.state);
  });

  it('listStale finds live flows of a kind left in a state, oldest first, and nothing newer or expired', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const kind = uniqueName('k');
    const a = await s.flows.create(newFlow(realm, { kind, state: 'requested' }));
    await sleep(30);
    const b = await s.flows.create(newFlow(realm, { kind, state: 'requested' }));
    await s.flows.create(newFlow(realm, { kind, state: 'code_sent' }));
    await s.flows.create(newFlow(realm, { kind, state: 'requested', expiresAt: new Date(Date.now() - 1000) }));
    await sleep(1100);
    const stale = await s.flows.listStale(kind, 'requested', 1, 10);
    expect(stale.map((f) => f.id)).toEqual([a.id, b.id]);
    expect(await s.flows.listStale(kind, 'requested', 60, 10)).toEqual([]);
    expect(await s.flows.listStale(kind, 'requested', 1, 1)).toHaveLength(1);
  });

  it('deleteExpired removes flows expired before the cut-off only', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const old = newFlow(realm, { expiresAt: minutesFromNow(-120) });
    const recent = newFlow(realm, { expiresAt: minutesFromNow(-1) });
    const live = newFlow(realm);
    for (const f of [old, recent, live]) await s.flows.create(f);
    expect(await s.flows.deleteExpired(minutesFromNow(-60))).toBeGreaterThanOrEqual(1);
    expect(await s.flows.get(old.id)).toBeNull();
    expect(await s.flows.get(recent.id)).not.toBeNull();
    expect(await s.flows.get(live.id)).not.toBeNull();
  });

  it('a flow needs an existing realm and a unique id', async () => {
    const s = getStore();
    const unknownRealm = await rejectionOf(s.flows.create(newFlow(uniqueName())));
    expect((unknownRealm as StoreQueryError).code).toBe('23503');
    const input = newFlow(await makeRealm(s));
    await s.flows.create(input);
    expect(((await rejectionOf(s.flows.create(input))) as StoreQueryError).code).toBe('23505');
  });
});
