import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadCatalog } from '../core/i18n/catalog.ts';
import type { QueuedMail, Store } from '../core/ports.ts';
import { createKeyRing } from '../core/secrets/key-ring.ts';
import { describeEachDriver } from '../store/testing/each-driver.ts';
import { testPolicy } from '../store/testing/fixtures.ts';
import { devMailboxTransport, openDevMail } from './dev-mailbox.ts';
import { enqueueLeasedMails, enqueueMail } from './enqueue.ts';
import { createOutboxWorker, type OutboxWorker, type OutboxWorkerDeps } from './outbox-worker.ts';
import { freePort, type SmtpSink, startSmtpSink, waitFor } from './testing/smtp-sink.ts';
import { type DeliveryLog, type MailTransport, smtpTransport } from './transports.ts';

const catalog = loadCatalog();
const ring = createKeyRing(['outbox-worker-test-secret-0123456789abcdef']);
const policy = testPolicy('main', { branding: { primaryColor: '#0a7f3f' } });
const realms = { get: async (name: string) => (name === 'main' ? policy : null) };

const params = (code: string) => ({
  realmName: 'Портал',
  code,
  link: `https://portal.example.test/r/main/recovery/${code}`,
  linkLifetimeMinutes: 30,
  codeLifetimeMinutes: 21,
});

describeEachDriver('outbox worker with a real SMTP server', (getStore, { raw }) => {
  let sinks: SmtpSink[] = [];
  let workers: OutboxWorker[] = [];
  let logged: { level: string; msg: string; fields: object }[] = [];
  const log: DeliveryLog = {
    info: (fields, msg) => logged.push({ level: 'info', msg, fields }),
    warn: (fields, msg) => logged.push({ level: 'warn', msg, fields }),
    error: (fields, msg) => logged.push({ level: 'error', msg, fields }),
  };

  const sink = async (opts: Parameters<typeof startSmtpSink>[0] = {}) => {
    const s = await startSmtpSink(opts);
    sinks.push(s);
    return s;
  };
  const worker = (transport: MailTransport, overrides: Partial<OutboxWorkerDeps> = {}) => {
    const w = createOutboxWorker({
      store: getStore(),
      transport,
      ring,
      catalog,
      realms,
      from: 'Dostup <no-reply@dostup.example>',
      log,
      baseDelayMs: 400,
      maxDelayMs: 2000,
      pollMs: 20,
      ...overrides,
    });
    workers.push(w);
    return w;
  };
  const enqueue = async (store: Store, recipient: string, code = '493817') => {
    const id = randomUUID();
    await store.transaction((tx) =>
      enqueueMail(tx, ring, {
        id,
        realm: 'main',
        recipient,
        template: 'recovery-code',
        locale: 'ru',
        params: params(code),
      }),
    );
    return id;
  };

  /** As the server queues mail: leased to the queuing node at birth, handed over after the commit. */
  const enqueueLeased = (store: Store, recipient: string, leaseSeconds: number): Promise<QueuedMail[]> =>
    store.transaction((tx) =>
      enqueueLeasedMails(
        tx,
        ring,
        [
          {
            id: randomUUID(),
            realm: 'main',
            recipient,
            template: 'recovery-code',
            locale: 'ru',
            params: params('318274'),
          },
        ],
        leaseSeconds,
      ),
    );
  /** The store, with every id a claim returns recorded. */
  const claimsSeen = (store: Store) => {
    const seen: string[] = [];
    const counting = {
      ...store,
      outbox: {
        ...store.outbox,
        claim: async (limit: number, lease: number) => {
          const rows = await store.outbox.claim(limit, lease);
          seen.push(...rows.map((r) => r.id));
          return rows;
        },
      },
    };
    return { store: counting, seen };
  };

  beforeEach(async () => {
    await raw('delete from outbox');
    logged = [];
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(sinks.map((s) => s.close()));
    workers = [];
    sinks = [];
  });

  it('delivers a queued mail once: subject, text, HTML, recipient and a stable Message-ID', async () => {
    const store = getStore();
    const smtp = await sink();
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`));
    const id = await enqueue(store, 'ivan@example.test');
    expect(await w.runOnce()).toBe(1);
    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!;
    expect(mail.subject).toBe('Восстановление пароля — Портал');
    expect(mail.messageId).toBe(`<${id}@dostup>`);
    expect(mail.from?.value[0]).toMatchObject({ name: 'Dostup', address: 'no-reply@dostup.example' });
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value.map((a) => a.address) : []).toEqual([
      'ivan@example.test',
    ]);
    expect(mail.text).toContain('Код действует 21 минуту.');
    expect(mail.text).toContain('https://portal.example.test/r/main/recovery/493817');
    expect(mail.html).toContain('href="https://portal.example.test/r/main/recovery/493817"');
    expect(mail.html).toContain('#0a7f3f');
    expect(await store.outbox.get(id)).toMatchObject({ status: 'sent', attempts: 1, payload: null });
    expect(await w.runOnce()).toBe(0);
    expect(smtp.received).toHaveLength(1);
  });

  it('SMTP down: retries with back-off; SMTP up: the mail arrives exactly once', async () => {
    const store = getStore();
    const port = await freePort();
    const w = worker(smtpTransport(`smtp://127.0.0.1:${port}`));
    const id = await enqueue(store, 'down@example.test');
    expect(await w.runOnce()).toBe(1);
    const failed = await store.outbox.get(id);
    expect(failed).toMatchObject({ status: 'queued', attempts: 1, payload: expect.any(Buffer) });
    expect(failed?.lastError).toMatch(/ECONNREFUSED/);
    expect(failed!.nextAttemptAt.getTime()).toBeGreaterThan(Date.now() + 50); // ≥ 200 ms of back-off
    expect(await w.runOnce()).toBe(0); // not due yet
    expect(logged.some((l) => l.level === 'warn' && l.msg.includes('will retry'))).toBe(true);

    // Let the background loop hit the dead server once more, then bring the server up.
    w.start();
    await waitFor('a second failed attempt', async () => {
      const row = await store.outbox.get(id);
      return row?.status === 'queued' && row.attempts >= 2;
    });
    const smtp = await sink({ port });
    await waitFor('the mail', () => smtp.received.length > 0);
    await waitFor('sent status', async () => (await store.outbox.get(id))?.status === 'sent');
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]?.messageId).toBe(`<${id}@dostup>`);
    expect((await store.outbox.get(id))?.attempts).toBeGreaterThanOrEqual(3);
  });

  it('a server answering 5xx to every try: abandoned after maxAttempts, payload wiped', async () => {
    const store = getStore();
    const smtp = await sink({ rejectWith: 550 });
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), {
      maxAttempts: 3,
      baseDelayMs: 20,
      maxDelayMs: 50,
    });
    const id = await enqueue(store, 'rejected@example.test');
    w.start();
    await waitFor('abandonment', async () => (await store.outbox.get(id))?.status === 'abandoned');
    const row = await store.outbox.get(id);
    expect(row).toMatchObject({ attempts: 3, payload: null });
    expect(row?.lastError).toMatch(/550/);
    expect(smtp.attempts).toBe(3);
    expect(smtp.received).toHaveLength(0);
    expect(logged.filter((l) => l.msg === 'outbox: message abandoned')).toHaveLength(1);
    // The log names the row, never the address.
    expect(JSON.stringify(logged)).not.toContain('rejected@example.test');
  });

  it('two workers on one store deliver every message exactly once', async () => {
    const store = getStore();
    const smtp = await sink();
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(await enqueue(store, `many-${i}@example.test`, String(100000 + i)));
    const a = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { batchSize: 3 });
    const b = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { batchSize: 3 });
    a.start();
    b.start();
    await waitFor('all mail', () => smtp.received.length >= ids.length);
    await new Promise((r) => setTimeout(r, 300));
    const got = smtp.received.map((m) => m.messageId);
    expect(got).toHaveLength(ids.length);
    expect(new Set(got)).toEqual(new Set(ids.map((id) => `<${id}@dostup>`)));
    expect((await store.outbox.list({ limit: 100, status: 'sent' })).length).toBe(ids.length);
  });

  it('a node dying between "accepted" and "marked sent" causes one more copy after the lease, same Message-ID', async () => {
    const store = getStore();
    const smtp = await sink();
    // The first node loses its database right after the SMTP server took the mail.
    const dying = {
      ...store,
      outbox: { ...store.outbox, markSentMany: () => Promise.reject(new Error('connection lost')) },
    };
    const first = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { store: dying, leaseSeconds: 1 });
    const id = await enqueue(store, 'dup@example.test');
    expect(await first.runOnce()).toBe(1);
    expect(smtp.received).toHaveLength(1);
    expect((await store.outbox.get(id))?.status).toBe('sending');

    const second = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { leaseSeconds: 1 });
    expect(await second.runOnce()).toBe(0); // lease still held by the "dead" node
    await new Promise((r) => setTimeout(r, 1200));
    expect(await second.runOnce()).toBe(1);
    expect(smtp.received.map((m) => m.messageId)).toEqual([`<${id}@dostup>`, `<${id}@dostup>`]);
    expect(await store.outbox.get(id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await second.runOnce()).toBe(0);
  });

  it('a row whose lease keeps running out is abandoned past maxAttempts, not sent again', async () => {
    const store = getStore();
    const smtp = await sink();
    const dying = {
      ...store,
      outbox: { ...store.outbox, markSentMany: () => Promise.reject(new Error('connection lost')) },
    };
    const first = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), {
      store: dying,
      leaseSeconds: 0.3,
      maxAttempts: 1,
    });
    const id = await enqueue(store, 'crashy@example.test');
    expect(await first.runOnce()).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    const second = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { maxAttempts: 1 });
    expect(await second.runOnce()).toBe(1);
    expect(await store.outbox.get(id)).toMatchObject({ status: 'abandoned', attempts: 2, payload: null });
    expect(smtp.received).toHaveLength(1);
  });

  it('a payload pointed at another address does not open: abandoned at once, nothing sent', async () => {
    const store = getStore();
    const smtp = await sink();
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`));
    const id = await enqueue(store, 'victim@example.test');
    await raw(`update outbox set recipient = 'attacker@example.test' where id = $1`, [id]);
    expect(await w.runOnce()).toBe(1);
    expect(await store.outbox.get(id)).toMatchObject({ status: 'abandoned', attempts: 1, payload: null });
    expect((await store.outbox.get(id))?.lastError).toMatch(/PayloadError/);
    expect(smtp.attempts).toBe(0);
  });

  it('stop() waits for the round in flight', async () => {
    const store = getStore();
    let started = false;
    const slow: MailTransport = {
      send: async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 300));
      },
    };
    const w = worker(slow);
    const id = await enqueue(store, 'slow@example.test');
    w.start();
    await waitFor('the send to start', () => started);
    await w.stop();
    expect((await store.outbox.get(id))?.status).toBe('sent');
  });

  it('kick() runs a round at once instead of waiting for the next poll', async () => {
    const store = getStore();
    const smtp = await sink();
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { pollMs: 60_000 });
    w.start();
    await new Promise((r) => setTimeout(r, 100)); // the first round found nothing; next poll in a minute
    await enqueue(store, 'kick@example.test');
    w.kick();
    await waitFor('the kicked mail', () => smtp.received.length === 1, 3000);
  });

  it('the dev mailbox transport stores the mail where /dev/mailbox reads it', async () => {
    const store = getStore();
    const w = worker(devMailboxTransport(store.devMailbox, log, { baseUrl: 'http://localhost:8080' }));
    const id = await enqueue(store, 'Dev.User@example.test', '777777');
    expect(await w.runOnce()).toBe(1);
    const row = await store.devMailbox.latestFor('dev.user@example.test');
    expect(row).toMatchObject({ outboxId: id, realm: 'main', recipient: 'Dev.User@example.test' });
    expect(row?.subject).toBe('Восстановление пароля — Портал');
    // Stored as its source (the outbox row's payload is erased once sent; this copy is the dev mailbox's).
    expect(row).toMatchObject({ textBody: null, htmlBody: null, source: { template: 'recovery-code', locale: 'ru' } });
    const mail = row && openDevMail(catalog, row);
    expect(mail?.textBody).toContain('777777');
    expect(mail?.htmlBody).toContain('777777');
    expect((await store.outbox.get(id))?.status).toBe('sent');
    const summary = logged.find((l) => l.msg === 'dev mailbox: mail stored');
    expect(summary?.fields).toMatchObject({ links: ['https://portal.example.test/r/main/recovery/777777'] });
  });

  it('mail leased at birth and handed over is sent once and marked sent, without being claimed', async () => {
    const store = getStore();
    const smtp = await sink();
    const { store: counting, seen } = claimsSeen(store);
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { store: counting, pollMs: 60_000 });
    w.start();
    const queued = await enqueueLeased(store, 'leased@example.test', 60);
    const id = queued[0]!.message.id;
    w.deliverLeased(queued);
    await waitFor('the handed-over mail', async () => (await store.outbox.get(id))?.status === 'sent', 5000);
    expect(smtp.received.map((m) => m.messageId)).toEqual([`<${id}@dostup>`]);
    expect(await store.outbox.get(id)).toMatchObject({ attempts: 1, payload: null });
    expect(seen).not.toContain(id);
  });

  it('leased mail never handed over (its node died after the commit) is sent by a worker once the lease runs out', async () => {
    const store = getStore();
    const smtp = await sink();
    const queued = await enqueueLeased(store, 'orphan@example.test', 0.5);
    const id = queued[0]!.message.id;
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`));
    expect(await w.runOnce()).toBe(0); // leased to the dead node
    await new Promise((r) => setTimeout(r, 700));
    expect(await w.runOnce()).toBe(1);
    expect(smtp.received.map((m) => m.messageId)).toEqual([`<${id}@dostup>`]);
    expect(await store.outbox.get(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('handed-over mail whose lease is nearly over is left to the next claim, not sent from memory', async () => {
    const store = getStore();
    const smtp = await sink();
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { leaseSeconds: 60 });
    w.start();
    const [q] = await enqueueLeased(store, 'late@example.test', 60);
    // The node was swamped: 48 of its 60 seconds are gone by the time the worker could send it, and
    // a send must end 10 s before the lease does — 2 s would be enough for this sink, but too close.
    w.deliverLeased([{ ...q!, leasedAt: Date.now() - 48_000 }]);
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.attempts).toBe(0);
    expect(await store.outbox.get(q!.message.id)).toMatchObject({ status: 'sending', attempts: 1 });
  });

  it('past maxHandedOver, handed-over mail is left in the table for its lease to run out, not kept in memory', async () => {
    const store = getStore();
    let release: () => void = () => {};
    const sent: string[] = [];
    const held: MailTransport = {
      send: async (m) => {
        sent.push(m.id);
        await new Promise<void>((r) => {
          release = r;
        });
      },
    };
    const w = worker(held, { maxHandedOver: 1, pollMs: 60_000 });
    w.start();
    await new Promise((r) => setTimeout(r, 50)); // the first (empty) poll is done
    const [first] = await enqueueLeased(store, 'first@example.test', 60);
    w.deliverLeased([first!]);
    await waitFor('the first send to start', () => sent.length === 1);
    // While that send hangs, two more are handed over: room for one.
    const [second] = await enqueueLeased(store, 'second@example.test', 60);
    const [third] = await enqueueLeased(store, 'third@example.test', 60);
    w.deliverLeased([second!, third!]);
    release();
    await waitFor('the second send', () => sent.length === 2);
    release();
    await waitFor(
      'the second marked sent',
      async () => (await store.outbox.get(second!.message.id))?.status === 'sent',
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(sent).toEqual([first!.message.id, second!.message.id]);
    expect(await store.outbox.get(third!.message.id)).toMatchObject({ status: 'sending', attempts: 1 });
    expect(logged.some((l) => l.msg.includes('waits for its lease'))).toBe(true);
  });

  it('mail handed over before start() goes out once the worker starts', async () => {
    const store = getStore();
    const smtp = await sink();
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { pollMs: 60_000 });
    const queued = await enqueueLeased(store, 'early@example.test', 60);
    w.deliverLeased(queued);
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.attempts).toBe(0);
    w.start();
    await waitFor('the early mail', async () => (await store.outbox.get(queued[0]!.message.id))?.status === 'sent');
    expect(smtp.received).toHaveLength(1);
  });

  it('stop() sends what was handed over and not sent yet; after stop() the lease decides', async () => {
    const store = getStore();
    const smtp = await sink();
    const w = worker(smtpTransport(`smtp://127.0.0.1:${smtp.port}`), { pollMs: 60_000 });
    w.start();
    await new Promise((r) => setTimeout(r, 50)); // the first (empty) poll is done
    const queued = [
      ...(await enqueueLeased(store, 'one@example.test', 60)),
      ...(await enqueueLeased(store, 'two@example.test', 60)),
    ];
    w.deliverLeased(queued); // its round would start on the next tick: stop() comes first
    await w.stop();
    for (const q of queued) expect(await store.outbox.get(q.message.id)).toMatchObject({ status: 'sent' });
    expect(smtp.received).toHaveLength(2);

    const late = await enqueueLeased(store, 'late@example.test', 60);
    w.deliverLeased(late);
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.received).toHaveLength(2);
    expect(await store.outbox.get(late[0]!.message.id)).toMatchObject({ status: 'sending', attempts: 1 });
  });

  it('stop() gives up on a hanging send after stopGraceMs: the mail goes back to the queue', async () => {
    const store = getStore();
    const hanging: MailTransport = {
      send: (_m, opts) =>
        new Promise((_resolve, reject) => {
          opts?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    };
    const w = worker(hanging, { pollMs: 60_000, stopGraceMs: 300 });
    const queued = await enqueueLeased(store, 'hang@example.test', 60);
    w.deliverLeased(queued); // not started: it waits for stop()
    const t0 = Date.now();
    await w.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    const row = await store.outbox.get(queued[0]!.message.id);
    expect(row).toMatchObject({ status: 'queued', attempts: 1 });
    expect(row?.lastError).toMatch(/aborted/);
  });
});
