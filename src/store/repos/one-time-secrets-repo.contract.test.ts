import { randomBytes, randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { NewOneTimeSecret, Random, Store } from '../../core/ports.ts';
import { createKeyRing } from '../../core/secrets/key-ring.ts';
import { createOneTimeSecrets, type IssueSecretInput } from '../../core/secrets/one-time-secrets.ts';
import type { StoreQueryError } from '../db.ts';
import { describeEachDriver } from '../testing/each-driver.ts';
import { makeRealm, newUser, rejectionOf, sleep, uuid } from '../testing/fixtures.ts';

const random: Random = { bytes: (n) => randomBytes(n), uuid: () => randomUUID() };
const secrets = createOneTimeSecrets({ ring: createKeyRing(['k'.repeat(40)]), random });

/** A realm with one user, and issue input for that user. */
async function setup(s: Store, overrides: Partial<IssueSecretInput> = {}) {
  const realm = await makeRealm(s);
  const user = await s.users.create(newUser(realm));
  const input: IssueSecretInput = {
    realm,
    userId: user.id,
    purpose: 'recovery',
    flowId: uuid(),
    format: 'digits',
    length: 8,
    ttlSeconds: 600,
    maxAttempts: 5,
    ...overrides,
  };
  return { realm, userId: user.id, input };
}

/** A code of the same shape that is certainly not `secret`. */
const wrongFor = (secret: string) => (secret === '00000000' ? '11111111' : '00000000');

describeEachDriver('one-time secrets repository', (getStore, { raw }) => {
  const attemptsOf = async (id: string) =>
    (await raw('select attempts from one_time_secrets where id = $1', [id]))[0]?.attempts;

  it('issue, verify by id and by user, consume: the happy path, with only an HMAC stored', async () => {
    const s = getStore();
    const { realm, userId, input } = await setup(s);
    const issued = await secrets.issue(s.oneTimeSecrets, input);
    expect(issued.expiresAt.getTime() - Date.now()).toBeGreaterThan(590_000);
    const [row] = await raw('select * from one_time_secrets where id = $1', [issued.id]);
    expect(row).toMatchObject({
      realm,
      user_id: userId,
      purpose: 'recovery',
      flow_id: input.flowId,
      attempts: 0,
      max_attempts: 5,
    });
    expect(JSON.stringify(row)).not.toContain(issued.secret);

    const byUser = await secrets.verify(s.oneTimeSecrets, {
      by: { realm, userId, purpose: 'recovery' },
      purpose: 'recovery',
      secret: issued.secret,
    });
    expect(byUser).toMatchObject({ ok: true, record: { id: issued.id, userId, flowId: input.flowId, attempts: 1 } });
    const byId = await secrets.verify(s.oneTimeSecrets, {
      by: { id: issued.id },
      purpose: 'recovery',
      secret: issued.secret,
    });
    expect(byId.ok).toBe(true);
    // Consumed inside the transaction that acts on it, as the recovery service will do.
    expect(await s.transaction((tx) => secrets.consume(tx.oneTimeSecrets, issued.id))).toBe(true);
    expect(
      await secrets.verify(s.oneTimeSecrets, { by: { id: issued.id }, purpose: 'recovery', secret: issued.secret }),
    ).toEqual({
      ok: false,
      reason: 'not_found',
    });
  });

  it('maxAttempts wrong codes exhaust the secret: then even the right code is refused', async () => {
    const s = getStore();
    const { input } = await setup(s, { maxAttempts: 3 });
    const issued = await secrets.issue(s.oneTimeSecrets, input);
    const guess = (secret: string) =>
      secrets.verify(s.oneTimeSecrets, { by: { id: issued.id }, purpose: 'recovery', secret });
    expect(await guess(wrongFor(issued.secret))).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(await guess(wrongFor(issued.secret))).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(await guess(wrongFor(issued.secret))).toMatchObject({ ok: false, reason: 'exhausted' });
    expect(await guess(issued.secret)).toEqual({ ok: false, reason: 'not_found' });
    expect(await s.oneTimeSecrets.beginAttempt({ id: issued.id })).toBeNull();
    expect(await attemptsOf(issued.id)).toBe(3); // refused attempts past the limit are not counted
  });

  it('the attempt is counted before the comparison: wrong and right guesses alike', async () => {
    const s = getStore();
    const { input } = await setup(s);
    const issued = await secrets.issue(s.oneTimeSecrets, input);
    await secrets.verify(s.oneTimeSecrets, {
      by: { id: issued.id },
      purpose: 'recovery',
      secret: wrongFor(issued.secret),
    });
    expect(await attemptsOf(issued.id)).toBe(1);
    await secrets.verify(s.oneTimeSecrets, { by: { id: issued.id }, purpose: 'recovery', secret: issued.secret });
    expect(await attemptsOf(issued.id)).toBe(2);
    const raised = await s.oneTimeSecrets.beginAttempt({ id: issued.id });
    expect(raised?.attempts).toBe(3); // the row as it is AFTER the raise
  });

  it('10 parallel wrong guesses cost min(10, maxAttempts) attempts, never more', async () => {
    const s = getStore();
    for (const maxAttempts of [5, 20]) {
      const { input } = await setup(s, { maxAttempts });
      const issued = await secrets.issue(s.oneTimeSecrets, input);
      const wrong = wrongFor(issued.secret);
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          secrets.verify(s.oneTimeSecrets, { by: { id: issued.id }, purpose: 'recovery', secret: wrong }),
        ),
      );
      expect(await attemptsOf(issued.id)).toBe(Math.min(10, maxAttempts));
      const reasons = results.map((r) => (r.ok ? 'ok' : r.reason));
      if (maxAttempts === 5) {
        expect(reasons.filter((r) => r === 'exhausted')).toHaveLength(1);
        expect(reasons.filter((r) => r === 'mismatch')).toHaveLength(4);
        expect(reasons.filter((r) => r === 'not_found')).toHaveLength(5);
      } else {
        expect(reasons).toEqual(Array(10).fill('mismatch'));
      }
    }
  });

  it('isUsable reads liveness without counting an attempt: live → used / other realm / purpose / exhausted → false', async () => {
    const s = getStore();
    const { realm, input } = await setup(s, { maxAttempts: 2 });
    const a = await secrets.issue(s.oneTimeSecrets, input);
    expect(await s.oneTimeSecrets.isUsable(a.id, realm, 'recovery')).toBe(true);
    expect(await attemptsOf(a.id)).toBe(0);
    expect(await s.oneTimeSecrets.isUsable(a.id, 'other-realm', 'recovery')).toBe(false);
    expect(await s.oneTimeSecrets.isUsable(a.id, realm, 'sms')).toBe(false);
    expect(await s.oneTimeSecrets.isUsable('not-a-uuid', realm, 'recovery')).toBe(false);
    for (let i = 0; i < 2; i++)
      await secrets.verify(s.oneTimeSecrets, { by: { id: a.id }, purpose: 'recovery', secret: wrongFor(a.secret) });
    expect(await s.oneTimeSecrets.isUsable(a.id, realm, 'recovery')).toBe(false);
    const b = await secrets.issue(s.oneTimeSecrets, input);
    expect(await secrets.consume(s.oneTimeSecrets, b.id)).toBe(true);
    expect(await s.oneTimeSecrets.isUsable(b.id, realm, 'recovery')).toBe(false);
  });

  it('consume twice → exactly one true; two concurrent consumes → exactly one true', async () => {
    const s = getStore();
    const { input } = await setup(s);
    const first = await secrets.issue(s.oneTimeSecrets, input);
    expect(await secrets.consume(s.oneTimeSecrets, first.id)).toBe(true);
    expect(await secrets.consume(s.oneTimeSecrets, first.id)).toBe(false);

    const second = await secrets.issue(s.oneTimeSecrets, input);
    const results = await Promise.all([
      secrets.consume(s.oneTimeSecrets, second.id),
      s.transaction((tx) => secrets.consume(tx.oneTimeSecrets, second.id)),
      secrets.consume(s.oneTimeSecrets, second.id),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await s.oneTimeSecrets.consume(uuid())).toBe(false);
    expect(await s.oneTimeSecrets.consume('not-a-uuid')).toBe(false);
  });

  it('expires by the database clock', async () => {
    const s = getStore();
    const { input } = await setup(s, { ttlSeconds: 1 });
    const issued = await secrets.issue(s.oneTimeSecrets, input);
    await sleep(1_200);
    expect(
      await secrets.verify(s.oneTimeSecrets, { by: { id: issued.id }, purpose: 'recovery', secret: issued.secret }),
    ).toEqual({
      ok: false,
      reason: 'not_found',
    });
    expect(await secrets.consume(s.oneTimeSecrets, issued.id)).toBe(false);
    expect(await attemptsOf(issued.id)).toBe(0);
  });

  it('whyUnusable tells live, used, replaced, expired (database clock) and exhausted apart, with the owner', async () => {
    const s = getStore();
    const { realm, userId, input } = await setup(s, { maxAttempts: 1 });
    const why = (id: string, inRealm = realm) => s.oneTimeSecrets.whyUnusable(id, inRealm);
    const exhausted = await secrets.issue(s.oneTimeSecrets, input);
    await secrets.verify(s.oneTimeSecrets, {
      by: { id: exhausted.id },
      purpose: 'recovery',
      secret: wrongFor(exhausted.secret),
    });
    expect(await why(exhausted.id)).toEqual({ reason: 'exhausted', userId });
    const replaced = exhausted; // the next issue replaces it: replaced outranks exhausted
    const used = await secrets.issue(s.oneTimeSecrets, { ...input, maxAttempts: 5 });
    expect(await why(replaced.id)).toEqual({ reason: 'replaced', userId });
    expect(await why(used.id)).toEqual({ reason: 'live', userId });
    expect(await secrets.consume(s.oneTimeSecrets, used.id)).toBe(true);
    expect(await why(used.id)).toEqual({ reason: 'used', userId });

    const other = await setup(s);
    const expired = await secrets.issue(s.oneTimeSecrets, other.input);
    expect(await why(expired.id, other.realm)).toEqual({ reason: 'live', userId: other.userId });
    expect(await why(expired.id)).toBeNull(); // another realm's secret says nothing here
    // Expiry is the database's judgement: moved into the past there, not on this machine's clock.
    await raw("update one_time_secrets set expires_at = now() - interval '1 second' where id = $1", [expired.id]);
    expect(await why(expired.id, other.realm)).toEqual({ reason: 'expired', userId: other.userId });

    expect(await why(uuid())).toBeNull();
    expect(await why('not-a-uuid')).toBeNull();
  });

  it('a newer secret for the same user + purpose invalidates the older one', async () => {
    const s = getStore();
    const { realm, userId, input } = await setup(s);
    const older = await secrets.issue(s.oneTimeSecrets, input);
    const newer = await secrets.issue(s.oneTimeSecrets, input);
    const verify = (by: { id: string } | { realm: string; userId: string; purpose: string }, secret: string) =>
      secrets.verify(s.oneTimeSecrets, { by, purpose: 'recovery', secret });
    expect(await verify({ id: older.id }, older.secret)).toEqual({ ok: false, reason: 'not_found' });
    expect(await verify({ realm, userId, purpose: 'recovery' }, older.secret)).toMatchObject({ ok: false });
    expect(await verify({ id: newer.id }, newer.secret)).toMatchObject({ ok: true, record: { id: newer.id } });
    expect(await verify({ realm, userId, purpose: 'recovery' }, newer.secret)).toMatchObject({
      ok: true,
      record: { id: newer.id },
    });
  });

  it('concurrent issues leave exactly one live secret for the user + purpose', async () => {
    const s = getStore();
    const { userId, input } = await setup(s);
    const issued = await Promise.all([
      secrets.issue(s.oneTimeSecrets, input),
      secrets.issue(s.oneTimeSecrets, input),
      s.transaction((tx) => secrets.issue(tx.oneTimeSecrets, input)),
      secrets.issue(s.oneTimeSecrets, input),
    ]);
    const live = await raw(
      'select id from one_time_secrets where user_id = $1 and used_at is null and invalidated_at is null',
      [userId],
    );
    expect(live).toHaveLength(1);
    expect(issued.map((i) => i.id)).toContain(live[0]?.id);
  });

  it('issueMany issues several at once as if one after the other: each newer code invalidates the older ones', async () => {
    const s = getStore();
    const a = await setup(s);
    const b = await setup(s, {});
    const olderA = await secrets.issue(s.oneTimeSecrets, a.input);
    const issued = await s.transaction((tx) => secrets.issueMany(tx.oneTimeSecrets, [a.input, b.input]));
    expect(issued).toHaveLength(2);
    const verify = (id: string, secret: string) =>
      secrets.verify(s.oneTimeSecrets, { by: { id }, purpose: 'recovery', secret });
    expect(await verify(olderA.id, olderA.secret)).toEqual({ ok: false, reason: 'not_found' });
    expect(await verify(issued[0]!.id, issued[0]!.secret)).toMatchObject({ ok: true, record: { userId: a.userId } });
    expect(await verify(issued[1]!.id, issued[1]!.secret)).toMatchObject({ ok: true, record: { userId: b.userId } });
    // Two codes for one user in one batch: as one after the other — only the later one is live.
    const [first, second] = await secrets.issueMany(s.oneTimeSecrets, [a.input, a.input]);
    expect(await verify(first!.id, first!.secret)).toEqual({ ok: false, reason: 'not_found' });
    expect(await verify(issued[0]!.id, issued[0]!.secret)).toEqual({ ok: false, reason: 'not_found' });
    expect(await verify(second!.id, second!.secret)).toMatchObject({ ok: true, record: { userId: a.userId } });
    expect(await secrets.issueMany(s.oneTimeSecrets, [])).toEqual([]);
  });

  it('what issueMany answers is what a read of the rows gives, in a transaction and on its own', async () => {
    const s = getStore();
    const a = await setup(s);
    const b = await setup(s);
    const row = (u: { realm: string; userId: string }, over: Partial<NewOneTimeSecret> = {}): NewOneTimeSecret => ({
      id: uuid(),
      realm: u.realm,
      userId: u.userId,
      purpose: 'recovery',
      flowId: uuid(),
      hmac: randomBytes(32),
      keyId: 'k1',
      maxAttempts: 5,
      ttlSeconds: 600,
      ...over,
    });
    const inTx = await s.transaction((tx) =>
      tx.oneTimeSecrets.issueMany([row(a), row(b, { ttlSeconds: 1800, maxAttempts: 3, flowId: null }), row(a)]),
    );
    const alone = await s.oneTimeSecrets.issueMany([row(b, { purpose: 'verify-email' })]);
    const time = (v: unknown) => (v == null ? null : new Date(v as string).getTime());
    for (const issued of [...inTx, ...alone]) {
      const [stored] = await raw('select * from one_time_secrets where id = $1', [issued.id]);
      expect({
        ...issued,
        hmac: issued.hmac.toString('hex'),
        createdAt: time(issued.createdAt),
        expiresAt: time(issued.expiresAt),
        invalidatedAt: time(issued.invalidatedAt),
      }).toEqual({
        id: stored?.id,
        realm: stored?.realm,
        userId: stored?.user_id,
        purpose: stored?.purpose,
        flowId: stored?.flow_id,
        hmac: Buffer.from(stored?.hmac as Uint8Array).toString('hex'),
        keyId: stored?.key_id,
        attempts: 0,
        maxAttempts: stored?.max_attempts,
        createdAt: time(stored?.created_at),
        expiresAt: time(stored?.expires_at),
        usedAt: null,
        invalidatedAt: time(stored?.invalidated_at),
        ageSeconds: 0,
      });
    }
    // The first of a's two codes in one batch is born replaced; the lifetime is the one asked for.
    expect(inTx[0]!.invalidatedAt).not.toBeNull();
    expect(inTx[2]!.invalidatedAt).toBeNull();
    expect(inTx[1]!.expiresAt.getTime() - inTx[1]!.createdAt.getTime()).toBe(1_800_000);
    expect(inTx[1]!.maxAttempts).toBe(3);
  });

  it('concurrent issueMany batches sharing users neither deadlock nor leave two live codes', async () => {
    const s = getStore();
    const users = await Promise.all([setup(s), setup(s), setup(s)]);
    const inputs = users.map((u) => u.input);
    await Promise.all([
      s.transaction((tx) => secrets.issueMany(tx.oneTimeSecrets, inputs)),
      s.transaction((tx) => secrets.issueMany(tx.oneTimeSecrets, [...inputs].reverse())),
      secrets.issueMany(s.oneTimeSecrets, [inputs[1]!, inputs[0]!]),
    ]);
    for (const u of users) {
      const live = await raw(
        'select id from one_time_secrets where user_id = $1 and used_at is null and invalidated_at is null',
        [u.userId],
      );
      expect(live).toHaveLength(1);
    }
  });

  it("another purpose's secret never verifies for this purpose, nor another user's", async () => {
    const s = getStore();
    const { realm, userId, input } = await setup(s);
    const forEmail = await secrets.issue(s.oneTimeSecrets, { ...input, purpose: 'verify-email' });
    expect(
      await secrets.verify(s.oneTimeSecrets, { by: { id: forEmail.id }, purpose: 'recovery', secret: forEmail.secret }),
    ).toMatchObject({ ok: false });
    expect(
      await secrets.verify(s.oneTimeSecrets, {
        by: { realm, userId, purpose: 'recovery' },
        purpose: 'recovery',
        secret: forEmail.secret,
      }),
    ).toEqual({ ok: false, reason: 'not_found' });
    // Issuing for one purpose leaves the other purpose's secret alone.
    await secrets.issue(s.oneTimeSecrets, input);
    expect(
      (
        await secrets.verify(s.oneTimeSecrets, {
          by: { id: forEmail.id },
          purpose: 'verify-email',
          secret: forEmail.secret,
        })
      ).ok,
    ).toBe(true);
    const other = await s.users.create(newUser(realm));
    expect(
      await secrets.verify(s.oneTimeSecrets, {
        by: { realm, userId: other.id, purpose: 'verify-email' },
        purpose: 'verify-email',
        secret: forEmail.secret,
      }),
    ).toEqual({ ok: false, reason: 'not_found' });
  });

  it('maxAgeSeconds shorter than the age (database clock) → too_old; the link path still works', async () => {
    const s = getStore();
    const { input } = await setup(s);
    const issued = await secrets.issue(s.oneTimeSecrets, input);
    await sleep(1_100);
    const verify = (maxAgeSeconds?: number) =>
      secrets.verify(s.oneTimeSecrets, {
        by: { id: issued.id },
        purpose: 'recovery',
        secret: issued.secret,
        ...(maxAgeSeconds ? { maxAgeSeconds } : {}),
      });
    expect(await verify(1)).toMatchObject({ ok: false, reason: 'too_old' });
    const ok = await verify(60);
    expect(ok.ok).toBe(true);
    expect(ok.ok && ok.record.ageSeconds).toBeGreaterThanOrEqual(1);
    expect((await verify()).ok).toBe(true);
  });

  it('invalidateAll ends every live secret of the user for the purpose, and only those', async () => {
    const s = getStore();
    const { input } = await setup(s);
    const recovery = await secrets.issue(s.oneTimeSecrets, input);
    const email = await secrets.issue(s.oneTimeSecrets, { ...input, purpose: 'verify-email' });
    expect(await s.oneTimeSecrets.invalidateAll(input.userId, 'recovery')).toBe(1);
    expect(await s.oneTimeSecrets.invalidateAll(input.userId, 'recovery')).toBe(0);
    expect(await s.oneTimeSecrets.invalidateAll('nope', 'recovery')).toBe(0);
    expect(
      await secrets.verify(s.oneTimeSecrets, { by: { id: recovery.id }, purpose: 'recovery', secret: recovery.secret }),
    ).toEqual({
      ok: false,
      reason: 'not_found',
    });
    expect(await secrets.consume(s.oneTimeSecrets, recovery.id)).toBe(false);
    expect(
      (await secrets.verify(s.oneTimeSecrets, { by: { id: email.id }, purpose: 'verify-email', secret: email.secret }))
        .ok,
    ).toBe(true);
  });

  it('deleteExpired removes rows expired before the cut-off; deleting the user removes the rest', async () => {
    const s = getStore();
    const { userId, input } = await setup(s);
    const old = await secrets.issue(s.oneTimeSecrets, input);
    await raw(`update one_time_secrets set expires_at = now() - interval '2 hours' where id = $1`, [old.id]);
    const live = await secrets.issue(s.oneTimeSecrets, input);
    expect(await s.oneTimeSecrets.deleteExpired(new Date(Date.now() - 3_600_000))).toBeGreaterThanOrEqual(1);
    expect(await raw('select id from one_time_secrets where user_id = $1', [userId])).toEqual([{ id: live.id }]);
    await raw('delete from users where id = $1', [userId]);
    expect(await raw('select id from one_time_secrets where user_id = $1', [userId])).toEqual([]);
  });

  it('malformed ids are "no usable row", and a secret needs a real user in its realm', async () => {
    const s = getStore();
    const { input } = await setup(s);
    expect(await s.oneTimeSecrets.beginAttempt({ id: '../etc' })).toBeNull();
    expect(await s.oneTimeSecrets.beginAttempt({ realm: input.realm, userId: 'x', purpose: 'recovery' })).toBeNull();
    const otherRealm = await makeRealm(s);
    const err = await rejectionOf(secrets.issue(s.oneTimeSecrets, { ...input, realm: otherRealm }));
    expect((err as StoreQueryError).code).toBe('23503');
  });
});
