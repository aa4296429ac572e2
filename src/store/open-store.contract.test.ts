import { expect, it } from 'vitest';
import { DostupError } from '../core/errors.ts';
import { describeEachDriver } from './testing/each-driver.ts';
import { makeRealm, newUser, rejectionOf, sleep, testPolicy, uniqueName } from './testing/fixtures.ts';

/** A promise plus its resolver, to hold a transaction open while the test acts outside it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { wait, open };
}

describeEachDriver('store', (getStore, { driver, raw }) => {
  it('reports its driver and answers ping', async () => {
    expect(getStore().driver).toBe(driver);
    await getStore().ping();
  });

  it('bytea goes in and comes back byte for byte, as a Buffer, on both drivers', async () => {
    // Every byte value, and the empty value: PGlite's bytea codec is replaced by Node's (open-store.ts).
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const value of [all, Buffer.alloc(0), new Uint8Array([0, 0x5c, 0x78, 0xff])]) {
      const [row] = await raw('select $1::bytea as b, octet_length($1::bytea) as n, encode($1::bytea, $2) as hex', [
        value,
        'hex',
      ]);
      expect(Buffer.isBuffer(row?.b)).toBe(true);
      expect(Buffer.compare(row?.b as Buffer, Buffer.from(value))).toBe(0);
      expect(Number(row?.n)).toBe(value.length);
      expect(row?.hex).toBe(Buffer.from(value).toString('hex'));
    }
  });

  it('transaction commits: every repository it hands out shares the transaction', async () => {
    const s = getStore();
    const name = uniqueName();
    const user = await s.transaction(async (tx) => {
      await tx.realms.upsert(testPolicy(name));
      const u = await tx.users.create(newUser(name));
      await tx.events.append({ realm: name, kind: 'user.created', userId: u.id, ip: null, userAgent: null });
      return u;
    });
    expect(await s.users.getById(name, user.id)).toEqual(user);
    expect(await s.events.list({ realm: name, limit: 5 })).toHaveLength(1);
  });

  it('transaction rolls back when the callback throws, and rethrows the same error', async () => {
    const s = getStore();
    const name = uniqueName();
    const boom = new DostupError('FLOW_STATE_INVALID');
    const err = await rejectionOf(
      s.transaction(async (tx) => {
        await tx.realms.upsert(testPolicy(name));
        await tx.events.append({ realm: name, kind: 'realm.applied', userId: null, ip: null, userAgent: null });
        throw boom;
      }),
    );
    expect(err).toBe(boom);
    expect(await s.realms.get(name)).toBeNull();
    expect(await s.events.list({ realm: name, limit: 5 })).toEqual([]);
  });

  it('a query outside an open transaction never sees its uncommitted writes', async () => {
    const s = getStore();
    const name = uniqueName();
    const entered = gate();
    const release = gate();
    const tx = s.transaction(async (t) => {
      await t.realms.upsert(testPolicy(name));
      entered.open();
      await release.wait;
      throw new Error('roll back');
    });
    await entered.wait;
    const outside = s.realms.get(name); // PGlite: queued until the transaction ends
    await sleep(30);
    release.open();
    await expect(tx).rejects.toThrow('roll back');
    expect(await outside).toBeNull();
  });

  it.runIf(driver === 'pglite')('concurrent transactions on PGlite run one after the other', async () => {
    const s = getStore();
    const realm = await makeRealm(s);
    const log: string[] = [];
    const work = (tag: string) =>
      s.transaction(async (tx) => {
        log.push(`${tag}:begin`);
        const n = await tx.users.count(realm);
        await sleep(20); // yield to the event loop: the other transaction must still wait
        await tx.users.create(newUser(realm));
        log.push(`${tag}:end`);
        return n;
      });
    const plain = (async () => {
      await sleep(5);
      const n = await s.users.count(realm);
      log.push(`plain:${n}`);
    })();
    const counts = await Promise.all([work('a'), work('b'), plain]);
    expect(log.slice(0, 2)).toEqual(['a:begin', 'a:end']);
    expect(log.indexOf('b:end')).toBe(log.indexOf('b:begin') + 1);
    // Each transaction saw the other's insert or none of it — no lost update, no half state.
    expect([counts[0], counts[1]].sort()).toEqual([0, 1]);
    expect(log.some((l) => l === 'plain:1' || l === 'plain:2')).toBe(true);
    expect(await s.users.count(realm)).toBe(2);
  });

  it('using the store itself inside its transaction fails fast instead of deadlocking', async () => {
    const s = getStore();
    const name = uniqueName();
    const err = await rejectionOf(
      s.transaction(async (tx) => {
        await tx.realms.upsert(testPolicy(name));
        await s.realms.get(name); // wrong handle: must be tx.realms
      }),
    );
    expect(String((err as Error).message)).toMatch(/inside store\.transaction/);
    const nested = await rejectionOf(s.transaction(async () => s.transaction(async () => 1)));
    expect(String((nested as Error).message)).toMatch(/inside store\.transaction/);
    // Once the transaction is over, the store works again.
    expect(await s.realms.get(name)).toBeNull();
    await s.ping();
  });
});
