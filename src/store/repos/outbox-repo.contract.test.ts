import { randomBytes } from 'node:crypto';
import { beforeEach, expect, it } from 'vitest';
import type { NewOutboxMessage, OutboxMessage } from '../../core/ports.ts';
import type { StoreQueryError } from '../db.ts';
import { describeEachDriver } from '../testing/each-driver.ts';
import { minutesFromNow, rejectionOf, sleep, uuid } from '../testing/fixtures.ts';

const message = (overrides: Partial<NewOutboxMessage> = {}): NewOutboxMessage => ({
  id: uuid(),
  realm: 'main',
  channel: 'email',
  recipient: `user-${randomBytes(3).toString('hex')}@example.test`,
  template: 'recovery-code',
  locale: 'ru',
  payload: randomBytes(48),
  ...overrides,
});

const ids = (ms: OutboxMessage[]) => ms.map((m) => m.id).sort();

describeEachDriver('outbox repository', (getStore, { driver, raw }) => {
  // claim() takes whatever is due in the whole table, so every test starts from an empty outbox.
  beforeEach(async () => {
    await raw('delete from outbox');
  });

  it('enqueue and get round-trip every field; a new message is queued and due now', async () => {
    const s = getStore();
    const m = message({ realm: null, locale: 'en' });
    await s.outbox.enqueue(m);
    const got = await s.outbox.get(m.id);
    expect(got).toMatchObject({
      id: m.id,
      realm: null,
      channel: 'email',
      recipient: m.recipient,
      template: 'recovery-code',
      locale: 'en',
      status: 'queued',
      attempts: 0,
      lockedUntil: null,
      lastError: null,
      sentAt: null,
    });
    expect(got?.payload?.equals(m.payload)).toBe(true);
    expect(got?.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await s.outbox.get(uuid())).toBeNull();
    expect(await s.outbox.get('not-a-uuid')).toBeNull();
  });

  it('a duplicate id is refused, and so are unknown channels', async () => {
    const s = getStore();
    const m = message();
    await s.outbox.enqueue(m);
    expect(((await rejectionOf(s.outbox.enqueue(m))) as StoreQueryError).code).toBe('23505');
    const bad = message({ channel: 'pigeon' as 'email' });
    expect(((await rejectionOf(s.outbox.enqueue(bad))) as StoreQueryError).code).toBe('23514');
  });

  it('claim leases due messages: sending, attempts + 1, locked_until in the future; then nothing is due', async () => {
    const s = getStore();
    const a = message();
    const b = message();
    await s.outbox.enqueue(a);
    await s.outbox.enqueue(b);
    const claimed = await s.outbox.claim(10, 60);
    expect(ids(claimed)).toEqual([a.id, b.id].sort());
    for (const c of claimed) {
      expect(c.status).toBe('sending');
      expect(c.attempts).toBe(1);
      expect(c.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 50_000);
      expect(c.payload).not.toBeNull();
    }
    expect(await s.outbox.claim(10, 60)).toEqual([]);
  });

  it('claim honours the limit, oldest due first', async () => {
    const s = getStore();
    const ms = [message(), message(), message()];
    for (const m of ms) await s.outbox.enqueue(m);
    const first = await s.outbox.claim(2, 60);
    expect(first).toHaveLength(2);
    const second = await s.outbox.claim(2, 60);
    expect(second).toHaveLength(1);
    expect(ids([...first, ...second])).toEqual(ids(ms as OutboxMessage[]));
    await expect(s.outbox.claim(0, 60)).rejects.toThrow(RangeError);
  });

  it('markSentMany marks a claim sent and wipes the payload', async () => {
    const s = getStore();
    const m = message();
    await s.outbox.enqueue(m);
    const [c] = await s.outbox.claim(1, 60);
    await s.outbox.markSentMany([{ id: m.id, attempts: c!.attempts }]);
    const got = await s.outbox.get(m.id);
    expect(got).toMatchObject({ status: 'sent', payload: null, lockedUntil: null, attempts: 1 });
    expect(got?.sentAt).toBeInstanceOf(Date);
    expect(await s.outbox.claim(10, 60)).toEqual([]);
  });

  it('deleteFinished removes sent and abandoned rows finished before the cut-off, never work still to do', async () => {
    const s = getStore();
    const [sent, abandoned, queued, sending, fresh] = [message(), message(), message(), message(), message()];
    for (const m of [sent, abandoned, queued, sending, fresh]) await s.outbox.enqueue(m);
    const claimed = await s.outbox.claim(5, 60);
    const attemptsOf = (id: string) => claimed.find((c) => c.id === id)!.attempts;
    await s.outbox.markSentMany([sent, fresh].map((m) => ({ id: m.id, attempts: attemptsOf(m.id) })));
    await s.outbox.markFailed(abandoned.id, attemptsOf(abandoned.id), 'x', null);
    await s.outbox.markFailed(queued.id, attemptsOf(queued.id), 'x', minutesFromNow(-60 * 24 * 10));
    // Age every row but `fresh` by ten days, as if they had finished back then.
    await raw(
      `update outbox set sent_at = sent_at - interval '10 days', next_attempt_at = next_attempt_at - interval '10 days',
              locked_until = now() - interval '10 days' where id <> $1`,
      [fresh.id],
    );
    expect(await s.outbox.deleteFinished(minutesFromNow(-60 * 24 * 7))).toBe(2);
    expect(await s.outbox.get(sent.id)).toBeNull();
    expect(await s.outbox.get(abandoned.id)).toBeNull();
    for (const m of [queued, sending, fresh]) expect(await s.outbox.get(m.id)).not.toBeNull();
  });

  it('markSentMany marks a round sent in one statement, each row only under its own claim', async () => {
    const s = getStore();
    const [a, b, c] = [message(), message(), message()];
    for (const m of [a, b, c]) await s.outbox.enqueue(m);
    const claimed = await s.outbox.claim(3, 60);
    const attempts = new Map(claimed.map((m) => [m.id, m.attempts]));
    // c is quoted with a stale attempt number (a late worker): it must stay as the live claim left it.
    await s.outbox.markSentMany([
      { id: a.id, attempts: attempts.get(a.id)! },
      { id: b.id, attempts: attempts.get(b.id)! },
      { id: c.id, attempts: attempts.get(c.id)! - 1 },
      { id: 'not-a-uuid', attempts: 1 },
    ]);
    for (const m of [a, b]) expect(await s.outbox.get(m.id)).toMatchObject({ status: 'sent', payload: null });
    expect(await s.outbox.get(c.id)).toMatchObject({ status: 'sending' });
    expect((await s.outbox.get(c.id))?.payload).not.toBeNull();
    await s.outbox.markSentMany([]);
  });

  it('markFailed with a retry time re-queues (payload kept), due again only at that time', async () => {
    const s = getStore();
    const m = message();
    await s.outbox.enqueue(m);
    await s.outbox.claim(1, 60);
    await s.outbox.markFailed(m.id, 1, 'connect ECONNREFUSED', minutesFromNow(10));
    const got = await s.outbox.get(m.id);
    expect(got).toMatchObject({ status: 'queued', attempts: 1, lockedUntil: null, lastError: 'connect ECONNREFUSED' });
    expect(got?.payload?.equals(m.payload)).toBe(true);
    expect(got?.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(await s.outbox.claim(10, 60)).toEqual([]);

    // A retry time in the past: due at once, and the attempt counter goes on.
    const other = message();
    await s.outbox.enqueue(other);
    await s.outbox.claim(1, 60);
    await s.outbox.markFailed(other.id, 1, 'x', minutesFromNow(-1));
    const [again] = await s.outbox.claim(10, 60);
    expect(again).toMatchObject({ id: other.id, attempts: 2, status: 'sending' });
  });

  it('markFailed without a retry time abandons and wipes the payload; long errors are cut', async () => {
    const s = getStore();
    const m = message();
    await s.outbox.enqueue(m);
    await s.outbox.claim(1, 60);
    await s.outbox.markFailed(m.id, 1, `550 ${'x'.repeat(5000)}`, null);
    const got = await s.outbox.get(m.id);
    expect(got).toMatchObject({ status: 'abandoned', payload: null, lockedUntil: null });
    expect(got?.lastError?.length).toBe(1000);
    expect(await s.outbox.claim(10, 60)).toEqual([]);
  });

  it('enqueueLeased writes rows already claimed (sending, attempt 1, leased), in the order given', async () => {
    const s = getStore();
    const ms = [message(), message({ realm: null, locale: 'en' }), message()];
    const before = Date.now();
    const got = await s.outbox.enqueueLeased(ms, 60);
    expect(got.map((m) => m.id)).toEqual(ms.map((m) => m.id));
    for (const [i, m] of got.entries()) {
      expect(m).toMatchObject({ status: 'sending', attempts: 1, recipient: ms[i]!.recipient, realm: ms[i]!.realm });
      expect(m.payload?.equals(ms[i]!.payload)).toBe(true);
      // Leased for about the 60 s asked (the database clock; a few seconds either way).
      expect(m.lockedUntil!.getTime()).toBeGreaterThan(before + 55_000);
      expect(m.lockedUntil!.getTime()).toBeLessThan(Date.now() + 65_000);
    }
    // What it answers is what a read answers, field for field.
    for (const m of got) expect(await s.outbox.get(m.id)).toEqual(m);
    // Nobody else can claim them while the lease lives; the claim they were born with can finish them.
    expect(await s.outbox.claim(10, 60)).toEqual([]);
    await s.outbox.markSentMany([{ id: ms[0]!.id, attempts: 1 }]);
    expect(await s.outbox.get(ms[0]!.id)).toMatchObject({ status: 'sent', payload: null });
    expect(await s.outbox.enqueueLeased([], 60)).toEqual([]);
    await expect(s.outbox.enqueueLeased([message()], 0)).rejects.toThrow(RangeError);
  });

  it('recordFinished writes rows already finished at attempt 1 without a payload: sent (with its time) or abandoned (with the reason, cut); never claimable', async () => {
    const s = getStore();
    const { payload: _sent, ...sent } = message();
    const { payload: _abandoned, ...abandoned } = message({ realm: null, locale: 'en' });
    const before = Date.now();
    await s.outbox.recordFinished([
      { ...sent, status: 'sent', lastError: null },
      { ...abandoned, status: 'abandoned', lastError: `TemplateError: ${'x'.repeat(5000)}` },
    ]);
    const gotSent = await s.outbox.get(sent.id);
    expect(gotSent).toMatchObject({
      ...sent,
      status: 'sent',
      attempts: 1,
      payload: null,
      lastError: null,
      lockedUntil: null,
    });
    // Sent by the database clock, now (a few seconds either way).
    expect(gotSent!.sentAt!.getTime()).toBeGreaterThan(before - 5000);
    expect(gotSent!.sentAt!.getTime()).toBeLessThan(Date.now() + 5000);
    const gotAbandoned = await s.outbox.get(abandoned.id);
    expect(gotAbandoned).toMatchObject({ ...abandoned, status: 'abandoned', attempts: 1, payload: null, sentAt: null });
    expect(gotAbandoned!.lastError).toMatch(/^TemplateError: x+$/);
    expect(gotAbandoned!.lastError!.length).toBe(1000);
    // Finished work: nothing to claim, and a worker that somehow held a claim cannot touch them.
    expect(await s.outbox.claim(10, 60)).toEqual([]);
    await s.outbox.markSentMany([{ id: abandoned.id, attempts: 1 }]);
    expect((await s.outbox.get(abandoned.id))?.status).toBe('abandoned');
    // An id already taken is refused like any duplicate; an empty list writes nothing.
    const dup = await rejectionOf(s.outbox.recordFinished([{ ...sent, status: 'sent', lastError: null }]));
    expect((dup as StoreQueryError).code).toBe('23505');
    await s.outbox.recordFinished([]);
    expect((await raw('select count(*)::int as n from outbox'))[0]?.n).toBe(2);
  });

  it('a leased row nobody sent is claimed once its lease runs out (attempt 2); the first claim is then stale', async () => {
    const s = getStore();
    const m = message();
    await s.outbox.enqueueLeased([m], 0.2);
    expect(await s.outbox.claim(1, 60)).toEqual([]);
    await sleep(400);
    const [taken] = await s.outbox.claim(1, 60);
    expect(taken).toMatchObject({ id: m.id, attempts: 2, status: 'sending' });
    await s.outbox.markSentMany([{ id: m.id, attempts: 1 }]); // the node that queued it, waking up late
    expect(await s.outbox.get(m.id)).toMatchObject({ status: 'sending', attempts: 2 });
  });

  it('the lease of a leased row starts at the INSERT, not when its transaction began', async () => {
    const s = getStore();
    const m = message();
    // A transaction that began 1.5 s before the INSERT: leased for 1 s from now(), the row would be
    // due (claimable by another node) the moment the transaction commits.
    await s.transaction(async (tx) => {
      await tx.outbox.get(m.id); // the transaction has begun
      await sleep(1500);
      await tx.outbox.enqueueLeased([m], 1);
    });
    expect(await s.outbox.claim(1, 60)).toEqual([]);
  });

  it('a lease that ran out makes a sending message due again; the old claim can no longer finish it', async () => {
    const s = getStore();
    const m = message();
    await s.outbox.enqueue(m);
    const [first] = await s.outbox.claim(1, 0.2);
    expect(first?.attempts).toBe(1);
    expect(await s.outbox.claim(1, 60)).toEqual([]); // lease still live
    await sleep(400);
    const [second] = await s.outbox.claim(1, 60);
    expect(second).toMatchObject({ id: m.id, attempts: 2, status: 'sending' });

    // The first worker wakes up late: neither its "sent" nor its "failed" may touch the new claim.
    await s.outbox.markSentMany([{ id: m.id, attempts: 1 }]);
    await s.outbox.markFailed(m.id, 1, 'late', null);
    expect(await s.outbox.get(m.id)).toMatchObject({ status: 'sending', attempts: 2, lastError: null });
    expect((await s.outbox.get(m.id))?.payload).not.toBeNull();

    await s.outbox.markSentMany([{ id: m.id, attempts: 2 }]);
    expect(await s.outbox.get(m.id)).toMatchObject({ status: 'sent', payload: null });
    // Once sent, nothing rewinds it.
    await s.outbox.markFailed(m.id, 2, 'late', minutesFromNow(1));
    expect((await s.outbox.get(m.id))?.status).toBe('sent');
  });

  it('concurrent claims never hand out the same message twice', async () => {
    const s = getStore();
    const ms = Array.from({ length: 40 }, () => message());
    for (const m of ms) await s.outbox.enqueue(m);
    const rounds = await Promise.all(Array.from({ length: 6 }, () => s.outbox.claim(5, 60)));
    const rest = await Promise.all(Array.from({ length: 6 }, () => s.outbox.claim(5, 60)));
    const all = [...rounds, ...rest].flat();
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    expect(ids(all)).toEqual(ids(ms as OutboxMessage[]));
    expect(all.every((c) => c.attempts === 1)).toBe(true);
  });

  it.skipIf(driver !== 'pg')('a row locked by another transaction is skipped, not waited for', async () => {
    const s = getStore();
    const a = message();
    const b = message();
    await s.outbox.enqueue(a);
    await s.outbox.enqueue(b);
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let heldId!: (id: string) => void;
    const held = new Promise<string>((r) => {
      heldId = r;
    });
    const tx = s.transaction(async (t) => {
      const [mine] = await t.outbox.claim(1, 60);
      heldId(mine!.id);
      await released; // keep the row locked (uncommitted) while the other worker claims
    });
    const lockedId = await held;
    const started = Date.now();
    const other = await s.outbox.claim(10, 60);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ids(other)).toEqual([lockedId === a.id ? b.id : a.id]);
    release();
    await tx;
    expect((await s.outbox.get(lockedId))?.status).toBe('sending');
  });

  it('the database refuses to keep a payload on a sent or abandoned row', async () => {
    const s = getStore();
    const m = message();
    await s.outbox.enqueue(m);
    const e = await rejectionOf(raw(`update outbox set status = 'sent' where id = $1`, [m.id]));
    expect(String((e as Error).message)).toMatch(/outbox_payload_wiped/);
  });

  it('list filters by status and recipient, newest first', async () => {
    const s = getStore();
    const to = 'list@example.test';
    const a = message({ recipient: to });
    const b = message({ recipient: to });
    const c = message();
    // One transaction: all three share now(), so only the insertion order can tell them apart.
    await s.transaction(async (tx) => {
      for (const m of [a, b, c]) await tx.outbox.enqueue(m);
    });
    expect((await s.outbox.list({ limit: 10, recipient: to })).map((m) => m.id)).toEqual([b.id, a.id]);
    await s.outbox.claim(10, 60);
    await s.outbox.markSentMany([{ id: a.id, attempts: 1 }]);
    expect((await s.outbox.list({ limit: 10, status: 'sent' })).map((m) => m.id)).toEqual([a.id]);
    expect(await s.outbox.list({ limit: 10, status: 'queued' })).toEqual([]);
    expect(await s.outbox.list({ limit: 2 })).toHaveLength(2);
  });

  it('store.vacuum: on PGlite the index entries left by the old row versions of sent mail are gone; PostgreSQL leaves it to autovacuum', async () => {
    const s = getStore();
    const n = 40;
    for (let i = 0; i < n; i++) await s.outbox.enqueue(message());
    const claimed = await s.outbox.claim(n, 30);
    await s.outbox.markSentMany(claimed.map((c) => ({ id: c.id, attempts: c.attempts })));
    expect(await s.outbox.list({ limit: n + 1, status: 'sent' })).toHaveLength(n);
    // What "what is due?" pays for: the index entries it reads for status = 'queued' (a bitmap scan
    // reads them all and, unlike a plain index scan, never marks the dead ones).
    const onlyBitmapScans = ['enable_seqscan', 'enable_indexscan', 'enable_indexonlyscan'];
    const queuedIndexEntries = async () => {
      if (driver !== 'pglite') return null; // a pool: these settings would land on any connection
      for (const k of onlyBitmapScans) await raw(`set ${k} = off`);
      try {
        const [row] = await raw(`explain (analyze, format json) select id from outbox where status = 'queued'`);
        type Node = { 'Node Type': string; 'Actual Rows': number; Plans?: Node[] };
        const sum = (p: Node): number =>
          (p['Node Type'] === 'Bitmap Index Scan' ? p['Actual Rows'] : 0) +
          (p.Plans ?? []).reduce((a, c) => a + sum(c), 0);
        return sum((row!['QUERY PLAN'] as { Plan: Node }[])[0]!.Plan);
      } finally {
        for (const k of onlyBitmapScans) await raw(`reset ${k}`);
      }
    };
    const before = await queuedIndexEntries();
    await s.vacuum();
    const after = await queuedIndexEntries();
    if (driver === 'pglite') {
      expect(before).toBeGreaterThanOrEqual(n); // every mail's "queued" version, dead but still indexed
      expect(after).toBe(0);
    }
    // The mail itself is untouched.
    expect(await s.outbox.list({ limit: n + 1, status: 'sent' })).toHaveLength(n);
  });
});
