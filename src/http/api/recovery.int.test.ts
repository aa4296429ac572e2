// Password recovery over the JSON API, end to end: a real server (createDostup + PGlite) with the
// recovery processor and the outbox worker running, mail read back from the dev mailbox (or a real
// SMTP server on loopback). Each test states one security property and fails if it breaks.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeFromMail,
  type DevMailJson,
  headerNames,
  latestMail,
  looksLikeLeak,
  mailsTo,
  newPassword,
  newUser,
  putRealm,
  type RecoveryTestDostup,
  settleFlow,
  sleep,
  startRecoveryTestDostup,
  uniqueRealm,
  withoutUuids,
} from '../../../test/support/recovery-helpers.ts';
import {
  errorCode,
  GOOD_PASSWORD,
  type InjectResponse,
  json,
  uniqueIp,
  uniqueLogin,
} from '../../../test/support/test-server.ts';
import type { Store } from '../../core/ports.ts';
import type { RealmPolicy } from '../../core/realm/policy-schema.ts';
import { freePort, type SmtpSink, startSmtpSink, waitFor } from '../../delivery/testing/smtp-sink.ts';

interface View {
  flowId: string;
  state: string;
  resendInSeconds: number;
}
interface ErrorJson {
  error: { code: string; message: string; issues?: { path: string; message: string }[] };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Every response of this file, checked at the end for 5xx and leaks. */
const seen: InjectResponse[] = [];
const track = (r: InjectResponse) => {
  seen.push(r);
  return r;
};

interface Opts {
  ip?: string;
  headers?: Record<string, string>;
}

const base = (realm: string) => `/api/v1/realms/${realm}/recovery`;

function ask(t: RecoveryTestDostup, realm: string, body: unknown, o: Opts = {}) {
  return t
    .inject({
      method: 'POST',
      url: base(realm),
      remoteAddress: o.ip ?? uniqueIp(),
      headers: { 'content-type': 'application/json', 'accept-language': 'en', ...o.headers },
      payload: JSON.stringify(body),
    })
    .then(track);
}

function complete(t: RecoveryTestDostup, realm: string, body: Record<string, unknown>, o: Opts = {}) {
  return t
    .inject({
      method: 'POST',
      url: `${base(realm)}/complete`,
      remoteAddress: o.ip ?? uniqueIp(),
      headers: { 'content-type': 'application/json', 'accept-language': 'en', ...o.headers },
      payload: JSON.stringify(body),
    })
    .then(track);
}

function flowState(t: RecoveryTestDostup, realm: string, flowId: string) {
  return t.inject({ method: 'GET', url: `${base(realm)}/${flowId}`, headers: { 'accept-language': 'en' } }).then(track);
}

async function signIn(t: RecoveryTestDostup, realm: string, identifier: string, password: string) {
  return t
    .inject({
      method: 'POST',
      url: `/api/v1/realms/${realm}/login`,
      remoteAddress: uniqueIp(),
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ identifier, password }),
    })
    .then(track);
}

/**
 * A recovery flow as a request leaves it (`requested`), to be written directly with flows.createMany:
 * then nothing else schedules it, and one processMany is one batch.
 */
function requestedFlow(realm: string, data: Record<string, unknown>) {
  return {
    id: randomUUID(),
    realm,
    kind: 'recovery',
    state: 'requested',
    data,
    csrfBinding: null,
    expiresAt: new Date(Date.now() + 30 * 60_000),
  };
}

/** A requested flow for an account typed by its login. */
const loginFlow = (realm: string, login: string) =>
  requestedFlow(realm, {
    loginKey: login.toLowerCase(),
    emailKey: null,
    emailTyped: null,
    requestLocale: 'ru',
    sends: 0,
  });

/**
 * Until the returned function is called, the store's transactions fail to write the flows `refuse`
 * picks (as a database error on their rows would).
 */
function refuseFlowUpdates(store: Store, refuse: (id: string) => boolean): () => void {
  const transaction = store.transaction;
  store.transaction = ((fn: Parameters<typeof transaction>[0]) =>
    transaction.call(store, (tx) =>
      fn({
        ...tx,
        flows: {
          ...tx.flows,
          updateMany: async (changes) => {
            if (changes.some((c) => refuse(c.id))) throw new Error('row refused');
            return tx.flows.updateMany(changes);
          },
        },
      }),
    )) as typeof transaction;
  return () => {
    store.transaction = transaction;
  };
}

/** The newest live secret id a flow issued (by raw SQL: the mail must carry this one). */
async function secretOfFlow(t: RecoveryTestDostup, flowId: string): Promise<string> {
  const rows = await t.raw(
    'select id::text as id from one_time_secrets where flow_id = $1 order by invalidated_at is null desc, created_at desc limit 1',
    [flowId],
  );
  const id = rows[0]?.id;
  if (typeof id !== 'string') throw new Error(`flow ${flowId} issued no secret`);
  return id;
}

interface Requested {
  flowId: string;
  mail: DevMailJson;
  link: string;
  secretId: string;
  code: string;
}

/** Request a reset, wait for the processor and the outbox, and read the code out of the mail. */
async function requestCode(
  t: RecoveryTestDostup,
  realm: string,
  body: unknown,
  to: string,
  o: Opts = {},
): Promise<Requested> {
  const res = await ask(t, realm, body, o);
  expect(res.statusCode, res.body).toBe(202);
  const { flowId } = json<View>(res);
  await settleFlow(t, flowId);
  const secretId = await secretOfFlow(t, flowId);
  const until = Date.now() + 10_000;
  for (;;) {
    const mail = await latestMail(t, to);
    if (mail?.links.some((l) => l.includes(`s=${secretId}`))) {
      const c = codeFromMail(mail);
      return { flowId, mail, ...c };
    }
    if (Date.now() > until) throw new Error(`the mail for flow ${flowId} never arrived at ${to}`);
    await t.d.outbox.runOnce();
    await sleep(20);
  }
}

/** A different well-formed code of the same shape (last symbol changed). */
function wrongCode(code: string): string {
  const last = code.at(-1)!;
  const swap: Record<string, string> = { '0': '1', a: 'b', A: 'B' };
  const repl = swap[last] ?? (/[0-9]/.test(last) ? '0' : /[a-f]/.test(last) ? 'a' : 'A');
  return code.slice(0, -1) + (repl === last ? '2' : repl);
}

async function events(t: RecoveryTestDostup, realm: string) {
  const res = await t.inject({
    method: 'GET',
    url: `/api/v1/admin/events?realm=${realm}&limit=500`,
    headers: t.adminHeaders(),
  });
  expect(res.statusCode).toBe(200);
  return json<{
    events: {
      kind: string;
      userId: string | null;
      ip: string | null;
      userAgent: string | null;
      data: Record<string, unknown>;
    }[];
  }>(res).events;
}

function expectError(res: InjectResponse, status: number, code: string) {
  expect(res.statusCode, res.body.slice(0, 400)).toBe(status);
  expect(errorCode(res)).toBe(code);
}

// =============================================================================================

describe('password recovery over the JSON API', () => {
  let t: RecoveryTestDostup;
  let main: RealmPolicy;

  beforeAll(async () => {
    // Every limit high: this server tests everything but the limits (they have their own server).
    t = await startRecoveryTestDostup({
      env: {
        RATE_RECOVERY_PER_IP: '1000000',
        RATE_RECOVERY_PER_ACCOUNT: '1000000',
        RATE_RECOVERY_PER_DESTINATION: '1000000',
        RATE_RECOVERY_VERIFY_PER_IP: '1000000',
        RATE_SIGNIN_PER_ACCOUNT: '100000',
        RATE_SIGNIN_PER_IP: '1000000',
      },
    });
    main = await putRealm(t, uniqueRealm('api'));
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('the happy path', () => {
    it('request → mail → complete with secretId + code → 200; the new password signs in, the old one does not', async () => {
      const u = await newUser(t, main);
      const res = await ask(t, main.name, { identifier: u.login });
      expect(res.statusCode).toBe(202);
      const view = json<View>(res);
      expect(view.flowId).toMatch(UUID_RE);
      expect(view.state).toBe('requested');
      const r = await requestCodeFromFlow(view.flowId, u.email);
      expect(r.mail.to).toBe(u.email);
      expect(r.link.startsWith(`${main.baseUrl}/r/${main.name}/reset?`)).toBe(true);
      // The code is in the text too, not only in the link.
      expect(r.mail.text).toContain(r.code);
      expect(json<View>(await flowState(t, main.name, view.flowId)).state).toBe('code_sent');

      const pw = newPassword();
      const done = await complete(t, main.name, { secretId: r.secretId, code: r.code, password: pw });
      expect(done.statusCode, done.body).toBe(200);
      expect(json(done)).toEqual({ status: 'completed' });
      expect(json<View>(await flowState(t, main.name, view.flowId)).state).toBe('completed');
      expect((await signIn(t, main.name, u.login, pw)).statusCode).toBe(200);
      expect((await signIn(t, main.name, u.login, GOOD_PASSWORD)).statusCode).toBe(401);
    });

    async function requestCodeFromFlow(flowId: string, to: string) {
      await settleFlow(t, flowId);
      const secretId = await secretOfFlow(t, flowId);
      const mail = await latestMail(t, to);
      expect(mail?.links.some((l) => l.includes(`s=${secretId}`))).toBe(true);
      return { mail: mail!, ...codeFromMail(mail!) };
    }

    it('the code typed on the page that asked (flowId + code) works too', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.email }, u.email);
      const pw = newPassword();
      expect((await complete(t, main.name, { flowId: r.flowId, code: r.code, password: pw })).statusCode).toBe(200);
      expect((await signIn(t, main.name, u.login, pw)).statusCode).toBe(200);
    });
  });

  describe('the code', () => {
    it('an expired link (expires_at passed, by the database clock) is CODE_INVALID, typed or by link', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      await t.raw("update one_time_secrets set expires_at = now() - interval '1 second' where id = $1", [r.secretId]);
      expectError(
        await complete(t, main.name, { secretId: r.secretId, code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { flowId: r.flowId, code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { identifier: u.login, code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expect((await signIn(t, main.name, u.login, GOOD_PASSWORD)).statusCode).toBe(200);
    });

    it('a code older than codeLifetimeMinutes is refused when typed but accepted through the link', async () => {
      expect(main.recovery.code.codeLifetimeMinutes).toBe(10);
      expect(main.recovery.code.linkLifetimeMinutes).toBe(30);
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      await t.raw("update one_time_secrets set created_at = now() - interval '11 minutes' where id = $1", [r.secretId]);
      expectError(
        await complete(t, main.name, { flowId: r.flowId, code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { identifier: u.login, code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      const pw = newPassword();
      const viaLink = await complete(t, main.name, { secretId: r.secretId, code: r.code, password: pw });
      expect(viaLink.statusCode, viaLink.body).toBe(200);
      expect((await signIn(t, main.name, u.login, pw)).statusCode).toBe(200);
    });

    it('a typed code still inside codeLifetimeMinutes (9 of 10 minutes old) works (the boundary above is real)', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      await t.raw("update one_time_secrets set created_at = now() - interval '9 minutes' where id = $1", [r.secretId]);
      expect(
        (await complete(t, main.name, { identifier: u.login, code: r.code, password: newPassword() })).statusCode,
      ).toBe(200);
    });

    it('a used code: the second complete is CODE_INVALID (link and typed), and the first password stays', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const first = newPassword();
      expect((await complete(t, main.name, { secretId: r.secretId, code: r.code, password: first })).statusCode).toBe(
        200,
      );
      const second = newPassword();
      expectError(
        await complete(t, main.name, { secretId: r.secretId, code: r.code, password: second }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { identifier: u.login, code: r.code, password: second }),
        400,
        'CODE_INVALID',
      );
      const again = await complete(t, main.name, { flowId: r.flowId, code: r.code, password: second });
      expect(again.statusCode).toBeGreaterThanOrEqual(400);
      expect(again.statusCode).toBeLessThan(500);
      expect((await signIn(t, main.name, u.login, first)).statusCode).toBe(200);
      expect((await signIn(t, main.name, u.login, second)).statusCode).toBe(401);
    });

    it('maxAttempts wrong codes (flow path) → CODE_EXHAUSTED, then even the right code is refused and the flow is failed', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const max = main.recovery.code.maxAttempts;
      const bad = wrongCode(r.code);
      expect(bad).not.toBe(r.code);
      for (let i = 1; i < max; i++) {
        expectError(
          await complete(t, main.name, { flowId: r.flowId, code: bad, password: newPassword() }),
          400,
          'CODE_INVALID',
        );
      }
      expectError(
        await complete(t, main.name, { flowId: r.flowId, code: bad, password: newPassword() }),
        410,
        'CODE_EXHAUSTED',
      );
      const pw = newPassword();
      expect((await complete(t, main.name, { flowId: r.flowId, code: r.code, password: pw })).statusCode).toBe(410);
      expectError(
        await complete(t, main.name, { secretId: r.secretId, code: r.code, password: pw }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { identifier: u.login, code: r.code, password: pw }),
        400,
        'CODE_INVALID',
      );
      expect(json<View>(await flowState(t, main.name, r.flowId)).state).toBe('failed');
      expect((await signIn(t, main.name, u.login, pw)).statusCode).toBe(401);
      expect((await signIn(t, main.name, u.login, GOOD_PASSWORD)).statusCode).toBe(200);
    });

    it('maxAttempts wrong codes through the link also exhaust the code and fail the flow that issued it', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const max = main.recovery.code.maxAttempts;
      const bad = wrongCode(r.code);
      for (let i = 1; i < max; i++) {
        expectError(
          await complete(t, main.name, { secretId: r.secretId, code: bad, password: newPassword() }),
          400,
          'CODE_INVALID',
        );
      }
      expectError(
        await complete(t, main.name, { secretId: r.secretId, code: bad, password: newPassword() }),
        410,
        'CODE_EXHAUSTED',
      );
      expectError(
        await complete(t, main.name, { secretId: r.secretId, code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expect(json<View>(await flowState(t, main.name, r.flowId)).state).toBe('failed');
    });

    it('two concurrent completes with the same code: exactly one 200, and the password is the winner’s', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const pws = [newPassword(), newPassword()];
      const results = await Promise.all(
        pws.map((password) => complete(t, main.name, { secretId: r.secretId, code: r.code, password })),
      );
      const codes = results.map((x) => x.statusCode).sort();
      expect(codes).toEqual([200, 400]);
      const loser = results.find((x) => x.statusCode !== 200)!;
      expect(errorCode(loser)).toBe('CODE_INVALID');
      const winner = pws[results.findIndex((x) => x.statusCode === 200)]!;
      const other = pws.find((p) => p !== winner)!;
      expect((await signIn(t, main.name, u.login, winner)).statusCode).toBe(200);
      expect((await signIn(t, main.name, u.login, other)).statusCode).toBe(401);
    });

    it('two concurrent completes by flowId and by link with the same code: exactly one wins', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const results = await Promise.all([
        complete(t, main.name, { secretId: r.secretId, code: r.code, password: newPassword() }),
        complete(t, main.name, { flowId: r.flowId, code: r.code, password: newPassword() }),
        complete(t, main.name, { identifier: u.login, code: r.code, password: newPassword() }),
      ]);
      expect(results.filter((x) => x.statusCode === 200)).toHaveLength(1);
      for (const x of results) expect(x.statusCode).toBeLessThan(500);
    });

    it('an older code stops working once a newer one was issued; the newer one works', async () => {
      const u = await newUser(t, main);
      const older = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const newer = await requestCode(t, main.name, { identifier: u.login }, u.email);
      expect(newer.secretId).not.toBe(older.secretId);
      expect(newer.code).not.toBe(older.code);
      expectError(
        await complete(t, main.name, { secretId: older.secretId, code: older.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { identifier: u.login, code: older.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { flowId: older.flowId, code: older.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      const pw = newPassword();
      expect(
        (await complete(t, main.name, { secretId: newer.secretId, code: newer.code, password: pw })).statusCode,
      ).toBe(200);
      expect((await signIn(t, main.name, u.login, pw)).statusCode).toBe(200);
    });

    it('the newer code typed with the identifier works after an older request (only one live code)', async () => {
      const u = await newUser(t, main);
      await requestCode(t, main.name, { identifier: u.login }, u.email);
      const newer = await requestCode(t, main.name, { identifier: u.email }, u.email);
      const live = await t.raw(
        'select count(*)::int as n from one_time_secrets where user_id = $1 and used_at is null and invalidated_at is null',
        [u.user.id],
      );
      expect(Number(live[0]?.n)).toBe(1);
      expect(
        (await complete(t, main.name, { identifier: u.login, code: newer.code, password: newPassword() })).statusCode,
      ).toBe(200);
    });
  });

  describe('batched processing', () => {
    it('one batch with two users (one asked twice) and an unknown address: every flow ends as if processed alone', async () => {
      const a = await newUser(t, main);
      const b = await newUser(t, main);
      const flow = (email: string) =>
        requestedFlow(main.name, {
          userId: null,
          loginKey: null,
          emailKey: email.toLowerCase(),
          emailTyped: email,
          requestLocale: 'en',
          sentAt: null,
          wrongCodes: 0,
          sends: 0,
        });
      const nobody = `${uniqueLogin('nobody')}@mail.example.test`;
      const flows = [flow(a.email), flow(b.email), flow(a.email), flow(nobody)];
      // Written directly (not through the API) so nothing else schedules them: one processMany is one batch.
      await t.d.store.flows.createMany(flows);
      await t.d.processor.processMany(flows.map((f) => f.id));
      for (const f of flows) expect((await t.d.store.flows.get(f.id))?.state).toBe('code_sent');
      // a's second request replaced the first one's code, exactly as one after the other would have.
      const live = await t.raw(
        'select flow_id::text as flow from one_time_secrets where user_id = $1 and used_at is null and invalidated_at is null',
        [a.user.id],
      );
      expect(live.map((r) => r.flow)).toEqual([flows[2]!.id]);
      const liveSecret = await secretOfFlow(t, flows[2]!.id);
      await t.d.outbox.runOnce();
      expect(await mailsTo(t, nobody)).toHaveLength(0);
      // a got both mails (as one after the other would have); only the second flow's code works.
      const codesOf = async (to: string) =>
        (await mailsTo(t, to)).map((m) => codeFromMail({ links: m.textBody.match(/https?:\/\/\S+/g) ?? [] }));
      const forA = await codesOf(a.email);
      expect(forA.map((c) => c.secretId).sort()).toEqual(
        [await secretOfFlow(t, flows[0]!.id), await secretOfFlow(t, flows[2]!.id)].sort(),
      );
      const stale = forA.find((c) => c.secretId !== liveSecret)!;
      expectError(
        await complete(t, main.name, { secretId: stale.secretId, code: stale.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      const [forB] = await codesOf(b.email);
      for (const [u, c] of [
        [a, forA.find((x) => x.secretId === liveSecret)!],
        [b, forB!],
      ] as const) {
        const pw = newPassword();
        expect((await complete(t, main.name, { secretId: c.secretId, code: c.code, password: pw })).statusCode).toBe(
          200,
        );
        expect((await signIn(t, main.name, u.login, pw)).statusCode).toBe(200);
      }
    });
  });

  describe('a failing flow in a batch', () => {
    it('does not hold back the others: they are processed one by one, only the bad one stays requested', async () => {
      const users = [await newUser(t, main), await newUser(t, main), await newUser(t, main)];
      const flows = users.map((u) => loginFlow(main.name, u.login));
      await t.d.store.flows.createMany(flows);
      // The middle flow's write fails (as a database error on its row would), whatever batch it is in.
      const poison = flows[1]!.id;
      const store = t.d.store;
      const restore = refuseFlowUpdates(store, (id) => id === poison);
      try {
        await t.d.processor.processMany(flows.map((f) => f.id));
      } finally {
        restore();
      }
      const states = await Promise.all(flows.map(async (f) => (await store.flows.get(f.id))?.state));
      expect(states).toEqual(['code_sent', 'requested', 'code_sent']);
      await t.d.outbox.runOnce();
      for (const u of [users[0]!, users[2]!]) expect(await mailsTo(t, u.email)).toHaveLength(1);
      // Once the fault is gone, the next round (the sweep's) processes the one left behind.
      await t.d.processor.processMany([poison]);
      expect((await store.flows.get(poison))?.state).toBe('code_sent');
    });
  });

  describe('records handed over by the request', () => {
    it('a flow handed over with its record is processed without reading the flows table', async () => {
      const u = await newUser(t, main);
      const [rec] = await t.d.store.flows.createMany([loginFlow(main.name, u.login)]);
      const store = t.d.store;
      const getMany = store.flows.getMany;
      const asked: string[][] = [];
      store.flows.getMany = (ids) => {
        asked.push(ids);
        return getMany.call(store.flows, ids);
      };
      try {
        await t.d.processor.processMany([rec!.id], new Map([[rec!.id, rec!]]));
      } finally {
        store.flows.getMany = getMany;
      }
      expect(asked).toEqual([]);
      expect((await store.flows.get(rec!.id))?.state).toBe('code_sent');
      await t.d.outbox.runOnce();
      expect(await mailsTo(t, u.email)).toHaveLength(1);
    });

    it('a handed-over record that went stale (the flow changed since) is left alone, then read and processed', async () => {
      const u = await newUser(t, main);
      const [rec] = await t.d.store.flows.createMany([loginFlow(main.name, u.login)]);
      // Someone (another node) changed the flow after the record was taken: its version moved on.
      const moved = await t.d.store.flows.update(rec!.id, rec!.version, 'requested', { ...rec!.data });
      expect(moved?.version).toBe(rec!.version + 1);
      await t.d.processor.processMany([rec!.id], new Map([[rec!.id, rec!]]));
      expect((await t.d.store.flows.get(rec!.id))?.state).toBe('requested');
      await t.d.outbox.runOnce();
      expect(await mailsTo(t, u.email)).toHaveLength(0);
      // The sweep's way (no record handed over) reads the current version and processes it once.
      await t.d.processor.processMany([rec!.id]);
      expect((await t.d.store.flows.get(rec!.id))?.state).toBe('code_sent');
      await t.d.outbox.runOnce();
      expect(await mailsTo(t, u.email)).toHaveLength(1);
    });

    it('without SMTP the mail is in the dev mailbox as soon as the processing committed, its outbox row sent: no worker round', async () => {
      const u = await newUser(t, main);
      const [rec] = await t.d.store.flows.createMany([loginFlow(main.name, u.login)]);
      await t.d.processor.processMany([rec!.id], new Map([[rec!.id, rec!]]));
      expect(await mailsTo(t, u.email)).toHaveLength(1);
      const rows = await t.raw('select status, attempts, payload from outbox where recipient = $1', [u.email]);
      expect(rows).toEqual([{ status: 'sent', attempts: 1, payload: null }]);
      // The worker finds nothing left to send: the mail is there once.
      await t.d.outbox.runOnce();
      expect(await mailsTo(t, u.email)).toHaveLength(1);
    });

    it('a handed-over record already past its expiry is not processed', async () => {
      const u = await newUser(t, main);
      const [rec] = await t.d.store.flows.createMany([loginFlow(main.name, u.login)]);
      await t.d.processor.processMany(
        [rec!.id],
        new Map([[rec!.id, { ...rec!, expiresAt: new Date(Date.now() - 1000) }]]),
      );
      expect((await t.d.store.flows.get(rec!.id))?.state).toBe('requested');
      await t.d.outbox.runOnce();
      expect(await mailsTo(t, u.email)).toHaveLength(0);
    });
  });

  describe('the mail', () => {
    it('forged Host / X-Forwarded-Host / X-Forwarded-Proto never reach the mailed links: they start with the realm baseUrl', async () => {
      const portal = await putRealm(t, uniqueRealm('portal'), { baseUrl: 'https://portal.example.test' });
      const u = await newUser(t, portal);
      const forged = {
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'http',
        forwarded: 'host=evil.example;proto=http',
      };
      const r = await requestCode(t, portal.name, { identifier: u.login }, u.email, { headers: forged });
      expect(r.link.startsWith(`https://portal.example.test/r/${portal.name}/reset?`)).toBe(true);
      for (const l of r.mail.links) expect(l.startsWith('https://portal.example.test/')).toBe(true);
      expect(`${r.mail.text}${r.mail.html}`).not.toContain('evil.example');
      // The "password changed" mail's sign-in link too.
      const done = await complete(
        t,
        portal.name,
        { secretId: r.secretId, code: r.code, password: newPassword() },
        { headers: forged },
      );
      expect(done.statusCode).toBe(200);
      const changed = await waitForSubject(u.email, /Password changed/);
      expect(changed.links.length).toBeGreaterThan(0);
      for (const l of changed.links) expect(l.startsWith('https://portal.example.test/')).toBe(true);
      expect(`${changed.text}${changed.html}`).not.toContain('evil.example');
    });

    async function waitForSubject(to: string, re: RegExp): Promise<DevMailJson> {
      const until = Date.now() + 10_000;
      for (;;) {
        await t.d.outbox.runOnce();
        const m = await latestMail(t, to);
        if (m && re.test(m.subject)) return m;
        if (Date.now() > until) throw new Error(`no mail matching ${re} to ${to} (latest: ${m?.subject})`);
        await sleep(20);
      }
    }

    it('after the reset every session of the user is ended', async () => {
      const u = await newUser(t, main);
      const tokens: string[] = [];
      for (let i = 0; i < 2; i++) {
        const s = await signIn(t, main.name, u.login, GOOD_PASSWORD);
        expect(s.statusCode).toBe(200);
        tokens.push(json<{ session: { token: string } }>(s).session.token);
      }
      const whoami = (token: string) =>
        t.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: `Bearer ${token}` } }).then(track);
      for (const tok of tokens) expect((await whoami(tok)).statusCode).toBe(200);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      expect(
        (await complete(t, main.name, { secretId: r.secretId, code: r.code, password: newPassword() })).statusCode,
      ).toBe(200);
      for (const tok of tokens) {
        const res = await whoami(tok);
        expect(res.statusCode).toBe(401);
        expect(errorCode(res)).toBe('UNAUTHENTICATED');
      }
      const active = await t.raw('select count(*)::int as n from sessions where user_id = $1 and revoked_at is null', [
        u.user.id,
      ]);
      expect(Number(active[0]?.n)).toBe(0);
    });

    it('the "password changed" mail goes to the stored address (as stored, not as typed)', async () => {
      const login = uniqueLogin('cased');
      const stored = `Ivan.${login}@Mail.Example.Test`;
      const u = await newUser(t, main, { login, email: stored });
      const typed = stored.toLowerCase();
      const r = await requestCode(t, main.name, { identifier: typed }, stored);
      expect(r.mail.to).toBe(stored);
      expect(
        (await complete(t, main.name, { secretId: r.secretId, code: r.code, password: newPassword() })).statusCode,
      ).toBe(200);
      const m = await waitForSubject(stored, /Password changed/);
      expect(m.to).toBe(stored);
      expect(m.text).toContain(main.name);
      // No code or reset link in the notice.
      expect(m.text).not.toContain(r.code);
      expect(m.links.some((l) => l.includes('/reset'))).toBe(false);
      expect(u.user.email).toBe(stored);
    });

    it("is written in the USER's language (S2.4): a Russian user asking from an English browser gets Russian, with Russian lifetimes", async () => {
      const u = await newUser(t, main, { locale: 'ru' });
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email, {
        headers: { 'accept-language': 'en-US,en;q=0.9' },
      });
      expect(r.mail.subject).toMatch(/^Восстановление пароля/);
      expect(r.mail.text).toContain('Ссылка действует 30 минут.');
      expect(r.mail.text).toContain('Код действует 10 минут.');
      expect(r.mail.text).not.toMatch(/\bminutes?\b|\bvalid for\b/);
      // And the "password changed" notice too.
      expect(
        (
          await complete(
            t,
            main.name,
            { secretId: r.secretId, code: r.code, password: newPassword() },
            { headers: { 'accept-language': 'en' } },
          )
        ).statusCode,
      ).toBe(200);
      const m = await waitForSubject(u.email, /^Пароль изменён/);
      expect(m.text).toContain('изменён');
    });

    it('an English user asking from a Russian browser gets English', async () => {
      const u = await newUser(t, main, { locale: 'en' });
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email, {
        headers: { 'accept-language': 'ru-RU,ru;q=0.9' },
      });
      expect(r.mail.subject).toMatch(/^Password reset/);
      expect(r.mail.text).toContain('The link is valid for 30 minutes.');
      expect(r.mail.text).toContain('The code is valid for 10 minutes.');
      expect(r.mail.text).not.toMatch(/[а-яё]/i);
    });

    it('a user without a locale gets the language of the request', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email, {
        headers: { 'accept-language': 'en' },
      });
      expect(r.mail.subject).toMatch(/^Password reset/);
    });

    it('the lifetimes stated in the mail follow the realm (S2.3) with correct Russian plural forms', async () => {
      const realm = await putRealm(t, uniqueRealm('life'), {
        recovery: { code: { linkLifetimeMinutes: 21, codeLifetimeMinutes: 2 } },
      });
      const u = await newUser(t, realm, { locale: 'ru' });
      const r = await requestCode(t, realm.name, { identifier: u.login }, u.email);
      expect(r.mail.text).toContain('Ссылка действует 21 минуту.');
      expect(r.mail.text).toContain('Код действует 2 минуты.');
    });
  });

  describe('account enumeration', () => {
    it('known and unknown accounts get the same status, header names and body (except the flow id); no mail for the unknown', async () => {
      const u = await newUser(t, main);
      const ghost = `${uniqueLogin('ghost')}@mail.example.test`;
      const known = await ask(t, main.name, { identifier: u.email });
      const unknown = await ask(t, main.name, { identifier: ghost });
      expect(unknown.statusCode).toBe(known.statusCode);
      expect(known.statusCode).toBe(202);
      expect(headerNames(unknown)).toEqual(headerNames(known));
      expect(unknown.headers['content-type']).toBe(known.headers['content-type']);
      expect(withoutUuids(unknown.body)).toBe(withoutUuids(known.body));
      const kId = json<View>(known).flowId;
      const uId = json<View>(unknown).flowId;
      await settleFlow(t, kId);
      await settleFlow(t, uId);
      // After processing, the flows still look alike (both "code sent").
      const [ks, us] = [await flowState(t, main.name, kId), await flowState(t, main.name, uId)];
      expect(us.statusCode).toBe(ks.statusCode);
      expect(json<View>(ks).state).toBe('code_sent');
      expect(withoutUuids(us.body).replace(/"resendInSeconds":\d+/, '')).toBe(
        withoutUuids(ks.body).replace(/"resendInSeconds":\d+/, ''),
      );
      expect(await latestMail(t, u.email)).not.toBeNull();
      expect(await latestMail(t, ghost)).toBeNull();
      expect(await t.d.store.outbox.list({ limit: 10, recipient: ghost })).toHaveLength(0);
    });

    it('a wrong code on the pretend (unknown) flow behaves like a wrong code on a real one, and exhausts alike', async () => {
      const u = await newUser(t, main);
      const ghost = uniqueLogin('ghost');
      const kr = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const ur = await ask(t, main.name, { identifier: ghost });
      const uId = json<View>(ur).flowId;
      await settleFlow(t, uId);
      const bad = wrongCode(kr.code);
      const max = main.recovery.code.maxAttempts;
      for (let i = 1; i <= max; i++) {
        const k = await complete(t, main.name, { flowId: kr.flowId, code: bad, password: GOOD_PASSWORD + i });
        const x = await complete(t, main.name, { flowId: uId, code: bad, password: GOOD_PASSWORD + i });
        expect(x.statusCode, `attempt ${i}`).toBe(k.statusCode);
        expect(withoutUuids(x.body)).toBe(withoutUuids(k.body));
      }
      expect(json<View>(await flowState(t, main.name, uId)).state).toBe('failed');
    });

    it('with unknownAccounts: hide-and-notify the unknown address gets the "no account here" notice, without link or code', async () => {
      const realm = await putRealm(t, uniqueRealm('notify'), {
        recovery: { identifyBy: 'email', unknownAccounts: 'hide-and-notify' },
      });
      const u = await newUser(t, realm);
      const ghost = `${uniqueLogin('nobody')}@mail.example.test`;
      const known = await ask(t, realm.name, { identifier: u.email });
      const unknown = await ask(t, realm.name, { identifier: ghost });
      expect(unknown.statusCode).toBe(202);
      expect(headerNames(unknown)).toEqual(headerNames(known));
      expect(withoutUuids(unknown.body)).toBe(withoutUuids(known.body));
      await settleFlow(t, json<View>(known).flowId);
      await settleFlow(t, json<View>(unknown).flowId);
      const notice = await latestMail(t, ghost);
      expect(notice).not.toBeNull();
      expect(notice!.subject).toMatch(/Password reset request/);
      expect(notice!.text).toMatch(/There is no account with this address/);
      expect(notice!.links.filter((l) => l.includes('/reset'))).toEqual([]);
      expect(notice!.text).not.toMatch(/\bcode\b/i);
      expect(notice!.html).not.toMatch(/\/reset\?/);
      const real = await latestMail(t, u.email);
      expect(codeFromMail(real!).code.length).toBeGreaterThan(0);
    });

    it('timing: 60 interleaved requests for a known and an unknown account take the same time on average', async () => {
      const u = await newUser(t, main);
      // Warm-up (first requests compile schemas, warm caches).
      for (let i = 0; i < 6; i++) {
        const w = await ask(t, main.name, { identifier: i % 2 ? u.login : uniqueLogin('warm') });
        await settleFlow(t, json<View>(w).flowId);
      }
      const measure = async (identifier: string) => {
        const start = performance.now();
        const res = await ask(t, main.name, { identifier });
        const ms = performance.now() - start;
        expect(res.statusCode).toBe(202);
        // The work after the response (lookup, code, mail) must not land on the next measurement:
        // wait for it, let a round the worker was kicked into run, and deliver what is due.
        await settleFlow(t, json<View>(res).flowId);
        await sleep(2);
        await t.d.outbox.runOnce();
        return ms;
      };
      // 30 pairs, the order inside each pair drawn at random; compare pair by pair (drift cancels).
      const known: number[] = [];
      const unknown: number[] = [];
      const diffs: number[] = [];
      for (let i = 0; i < 30; i++) {
        const knownFirst = Math.random() < 0.5;
        const a = await measure(knownFirst ? u.login : uniqueLogin('ghost'));
        const b = await measure(knownFirst ? uniqueLogin('ghost') : u.login);
        const [k, x] = knownFirst ? [a, b] : [b, a];
        known.push(k);
        unknown.push(x);
        diffs.push(k - x);
      }
      // Means with the 10 % most extreme values on each side dropped (GC pauses, other processes).
      const trimmedMean = (xs: number[]) => {
        const s = [...xs].sort((p, q) => p - q);
        const cut = Math.floor(xs.length * 0.1);
        const kept = s.slice(cut, s.length - cut);
        return kept.reduce((p, q) => p + q, 0) / kept.length;
      };
      const diff = trimmedMean(diffs);
      const mean = (trimmedMean(known) + trimmedMean(unknown)) / 2;
      const allowed = Math.max(0.25 * mean, 3);
      expect(
        Math.abs(diff),
        `known ${trimmedMean(known).toFixed(2)} ms, unknown ${trimmedMean(unknown).toFixed(2)} ms, paired difference ${diff.toFixed(2)} ms`,
      ).toBeLessThan(allowed);
    });

    it('a user without password:change-own and a locked user get the neutral answer and NO mail', async () => {
      const noRight = await newUser(t, main, { rights: [] });
      const locked = await newUser(t, main, { status: 'locked' });
      const ghost = `${uniqueLogin('ghost')}@mail.example.test`;
      const answers = [
        await ask(t, main.name, { identifier: noRight.email }),
        await ask(t, main.name, { identifier: locked.email }),
        await ask(t, main.name, { identifier: ghost }),
      ];
      for (const a of answers) {
        expect(a.statusCode).toBe(202);
        expect(headerNames(a)).toEqual(headerNames(answers[2]!));
        expect(withoutUuids(a.body)).toBe(withoutUuids(answers[2]!.body));
      }
      for (const a of answers) await settleFlow(t, json<View>(a).flowId);
      await t.d.outbox.runOnce();
      expect(await latestMail(t, noRight.email)).toBeNull();
      expect(await latestMail(t, locked.email)).toBeNull();
      expect(await t.d.store.outbox.list({ limit: 10, recipient: noRight.email })).toHaveLength(0);
      expect(await t.d.store.outbox.list({ limit: 10, recipient: locked.email })).toHaveLength(0);
      // And no code exists that could be guessed.
      const secrets = await t.raw('select count(*)::int as n from one_time_secrets where user_id = any($1::uuid[])', [
        [noRight.user.id, locked.user.id],
      ]);
      expect(Number(secrets[0]?.n)).toBe(0);
    });

    it('with reveal + login-and-email (S2.2): no right, locked, and a wrong e-mail all get the same 404 RECOVERY_UNKNOWN_ACCOUNT', async () => {
      const realm = await putRealm(t, uniqueRealm('reveal'), {
        recovery: { identifyBy: 'login-and-email', unknownAccounts: 'reveal' },
      });
      const ok = await newUser(t, realm);
      const noRight = await newUser(t, realm, { rights: [] });
      const locked = await newUser(t, realm, { status: 'locked' });
      const answers = {
        noRight: await ask(t, realm.name, { login: noRight.login, email: noRight.email }),
        locked: await ask(t, realm.name, { login: locked.login, email: locked.email }),
        wrongEmail: await ask(t, realm.name, { login: ok.login, email: noRight.email }),
        unknownLogin: await ask(t, realm.name, { login: uniqueLogin('ghost'), email: ok.email }),
      };
      for (const [name, a] of Object.entries(answers)) {
        expect(a.statusCode, name).toBe(404);
        expect(errorCode(a), name).toBe('RECOVERY_UNKNOWN_ACCOUNT');
        expect(a.body, name).toBe(answers.wrongEmail.body);
        expect(headerNames(a)).toEqual(headerNames(answers.wrongEmail));
      }
      expect(json<ErrorJson>(answers.wrongEmail).error.issues?.[0]?.message).toMatch(
        /No such user, or the e-mail address is wrong/,
      );
      const good = await ask(t, realm.name, { login: ok.login, email: ok.email });
      expect(good.statusCode).toBe(202);
      await settleFlow(t, json<View>(good).flowId);
      expect(await latestMail(t, ok.email)).not.toBeNull();
      expect(await latestMail(t, noRight.email)).toBeNull();
      expect(await latestMail(t, locked.email)).toBeNull();
    });

    it('with reveal + login (S1.4) an unknown login is named as such', async () => {
      const realm = await putRealm(t, uniqueRealm('reveal1'), {
        recovery: { identifyBy: 'login', unknownAccounts: 'reveal' },
      });
      const res = await ask(t, realm.name, { identifier: uniqueLogin('ghost') });
      expectError(res, 404, 'RECOVERY_UNKNOWN_ACCOUNT');
      expect(json<ErrorJson>(res).error.issues?.[0]?.message).toMatch(/Account does not exist/);
    });
  });

  describe('identify modes and code formats', () => {
    it('identifyBy login with uuid codes (S1.2): the code is a 36-character UUID; typed upper-case it works', async () => {
      const realm = await putRealm(t, uniqueRealm('s1'), {
        recovery: { identifyBy: 'login', code: { format: 'uuid' } },
      });
      const u = await newUser(t, realm);
      const r = await requestCode(t, realm.name, { identifier: u.login }, u.email);
      expect(r.code).toHaveLength(36);
      expect(r.code).toMatch(UUID_RE);
      expect(r.mail.text).toContain(r.code);
      // The e-mail is not a login here: it starts nothing.
      const byEmail = await ask(t, realm.name, { identifier: u.email });
      expect(byEmail.statusCode).toBeLessThan(500);
      if (byEmail.statusCode === 202) {
        await settleFlow(t, json<View>(byEmail).flowId);
        expect(await secretOfFlow(t, json<View>(byEmail).flowId).catch(() => null)).toBeNull();
      }
      const pw = newPassword();
      expect(
        (await complete(t, realm.name, { flowId: r.flowId, code: ` ${r.code.toUpperCase()} `, password: pw }))
          .statusCode,
      ).toBe(200);
      expect((await signIn(t, realm.name, u.login, pw)).statusCode).toBe(200);
    });

    it('identifyBy email with a control string (S4.1): letters and digits of the given length; typed lower-case with spaces it works', async () => {
      const realm = await putRealm(t, uniqueRealm('s4'), {
        recovery: { identifyBy: 'email', code: { format: 'control-string', length: 10 } },
      });
      const u = await newUser(t, realm);
      const r = await requestCode(t, realm.name, { identifier: u.email }, u.email);
      expect(r.code).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/);
      const byLogin = await ask(t, realm.name, { identifier: u.login });
      expect(byLogin.statusCode).toBeLessThan(500);
      if (byLogin.statusCode === 202) {
        await settleFlow(t, json<View>(byLogin).flowId);
        expect(await secretOfFlow(t, json<View>(byLogin).flowId).catch(() => null)).toBeNull();
      }
      const typed = `${r.code.slice(0, 5).toLowerCase()} ${r.code.slice(5).toLowerCase()}`;
      const pw = newPassword();
      const res = await complete(t, realm.name, { flowId: r.flowId, code: typed, password: pw });
      expect(res.statusCode, res.body).toBe(200);
      expect((await signIn(t, realm.name, u.email, pw)).statusCode).toBe(200);
    });

    it('identifyBy login-and-email (S2.2): a right login with a wrong e-mail sends nothing; both right → mail with a digits code', async () => {
      const realm = await putRealm(t, uniqueRealm('s2'), {
        recovery: { identifyBy: 'login-and-email', code: { format: 'digits', length: 6 } },
      });
      const u = await newUser(t, realm);
      const other = await newUser(t, realm);
      const wrong = await ask(t, realm.name, { login: u.login, email: other.email });
      expect(wrong.statusCode).toBe(202);
      await settleFlow(t, json<View>(wrong).flowId);
      expect(await latestMail(t, u.email)).toBeNull();
      expect(await latestMail(t, other.email)).toBeNull();
      // The single-field shape is refused in this mode.
      expectError(await ask(t, realm.name, { identifier: u.login }), 400, 'VALIDATION_FAILED');
      const r = await requestCode(t, realm.name, { login: u.login, email: u.email }, u.email);
      expect(r.code).toMatch(/^\d{6}$/);
      const typed = `${r.code.slice(0, 3)} ${r.code.slice(3)}`;
      expect(
        (await complete(t, realm.name, { login: u.login, email: u.email, code: typed, password: newPassword() }))
          .statusCode,
      ).toBe(200);
    });

    it('identifyBy login-or-email: either identifier starts the same recovery', async () => {
      const realm = await putRealm(t, uniqueRealm('lor'), {
        recovery: { identifyBy: 'login-or-email', code: { format: 'digits', length: 8 } },
      });
      const u = await newUser(t, realm);
      const a = await requestCode(t, realm.name, { identifier: u.login.toUpperCase() }, u.email);
      expect(a.code).toMatch(/^\d{8}$/);
      const b = await requestCode(t, realm.name, { identifier: u.email.toUpperCase() }, u.email);
      expect(b.code).toMatch(/^\d{8}$/);
      expect(
        (await complete(t, realm.name, { secretId: b.secretId, code: b.code, password: newPassword() })).statusCode,
      ).toBe(200);
    });

    it('typed on another device: identifier + code (no flowId, no secretId) works; a wrong identifier is CODE_INVALID', async () => {
      const u = await newUser(t, main);
      const other = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      expectError(
        await complete(t, main.name, { identifier: other.login, code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { identifier: uniqueLogin('ghost'), code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      const pw = newPassword();
      expect((await complete(t, main.name, { identifier: u.email, code: r.code, password: pw })).statusCode).toBe(200);
      expect((await signIn(t, main.name, u.login, pw)).statusCode).toBe(200);
      expect((await signIn(t, main.name, other.login, GOOD_PASSWORD)).statusCode).toBe(200);
    });

    it("a secret id from another realm's link is a wrong code here", async () => {
      const other = await putRealm(t, uniqueRealm('other'));
      const u = await newUser(t, other);
      const r = await requestCode(t, other.name, { identifier: u.login }, u.email);
      expectError(
        await complete(t, main.name, { secretId: r.secretId, code: r.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expect(
        (await complete(t, other.name, { secretId: r.secretId, code: r.code, password: newPassword() })).statusCode,
      ).toBe(200);
    });
  });

  describe('the new password', () => {
    it('history (S2.5, historySize 3): the current password or one of the last two → 422 PASSWORD_REJECTED naming the rule', async () => {
      const realm = await putRealm(t, uniqueRealm('hist'), { password: { historySize: 3 } });
      const u = await newUser(t, realm);
      const p1 = newPassword();
      const first = await requestCode(t, realm.name, { identifier: u.login }, u.email);
      expect(
        (await complete(t, realm.name, { secretId: first.secretId, code: first.code, password: p1 })).statusCode,
      ).toBe(200);
      const p2 = newPassword();
      const second = await requestCode(t, realm.name, { identifier: u.login }, u.email);
      expect(
        (await complete(t, realm.name, { secretId: second.secretId, code: second.code, password: p2 })).statusCode,
      ).toBe(200);
      // Now: current p2, previous p1, before that GOOD_PASSWORD.
      const r = await requestCode(t, realm.name, { identifier: u.login }, u.email);
      for (const reused of [p2, p1, GOOD_PASSWORD]) {
        const res = await complete(t, realm.name, { secretId: r.secretId, code: r.code, password: reused });
        expectError(res, 422, 'PASSWORD_REJECTED');
        const issues = json<ErrorJson>(res).error.issues ?? [];
        expect(issues.map((i) => i.path)).toEqual(['/password']);
        expect(issues[0]!.message).toMatch(/used this password recently/);
      }
      expect(r.code).toBeTruthy();
      // The code was not used up: a fresh password still works with it (3 of 5 attempts spent).
      const p3 = newPassword();
      expect((await complete(t, realm.name, { secretId: r.secretId, code: r.code, password: p3 })).statusCode).toBe(
        200,
      );
      // GOOD_PASSWORD is now the 4th back: allowed again.
      const again = await requestCode(t, realm.name, { identifier: u.login }, u.email);
      expect(
        (await complete(t, realm.name, { secretId: again.secretId, code: again.code, password: GOOD_PASSWORD }))
          .statusCode,
      ).toBe(200);
    });

    it('a weak password (qwerty123) → 422 before any code attempt is spent (with maxAttempts 1 the code still works after)', async () => {
      const realm = await putRealm(t, uniqueRealm('weak'), { recovery: { code: { maxAttempts: 1 } } });
      const u = await newUser(t, realm);
      const r = await requestCode(t, realm.name, { identifier: u.login }, u.email);
      for (const body of [
        { secretId: r.secretId, code: r.code, password: 'qwerty123' },
        { flowId: r.flowId, code: r.code, password: 'qwerty123' },
        { identifier: u.login, code: r.code, password: 'qwerty123' },
      ]) {
        const res = await complete(t, realm.name, body);
        expectError(res, 422, 'PASSWORD_REJECTED');
        const messages = (json<ErrorJson>(res).error.issues ?? []).map((i) => i.message).join(' | ');
        expect(messages).toMatch(/Too short|too common/);
      }
      const attempts = await t.raw('select attempts from one_time_secrets where id = $1', [r.secretId]);
      expect(Number(attempts[0]?.attempts)).toBe(0);
      expect(
        (await complete(t, realm.name, { secretId: r.secretId, code: r.code, password: newPassword() })).statusCode,
      ).toBe(200);
    });

    it('the new password may not be the login or the e-mail (needs the account, checked after the code)', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const res = await complete(t, main.name, { secretId: r.secretId, code: r.code, password: u.email });
      expectError(res, 422, 'PASSWORD_REJECTED');
      expect(json<ErrorJson>(res).error.issues?.[0]?.message).toMatch(/same as your login or e-mail/);
    });
  });

  describe('resend', () => {
    it('resend right after the mail → 429 RESEND_TOO_SOON with Retry-After; the code stays valid', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const res = await t
        .inject({
          method: 'POST',
          url: `${base(main.name)}/${r.flowId}/resend`,
          headers: { 'content-type': 'application/json' },
          payload: '{}',
          remoteAddress: uniqueIp(),
        })
        .then(track);
      expectError(res, 429, 'RESEND_TOO_SOON');
      const retry = Number(res.headers['retry-after']);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(main.recovery.resendCooldownSeconds);
      expect(
        (await complete(t, main.name, { secretId: r.secretId, code: r.code, password: newPassword() })).statusCode,
      ).toBe(200);
    });

    it('resend after the cool-down sends a new code; the older code stops working, the new one works, and the cool-down starts again', async () => {
      const u = await newUser(t, main);
      const first = await requestCode(t, main.name, { identifier: u.login }, u.email);
      // The cool-down runs from the flow's sentAt: move it back instead of waiting a minute.
      const past = new Date(Date.now() - (main.recovery.resendCooldownSeconds + 5) * 1000).toISOString();
      await t.raw("update flows set data = jsonb_set(data, '{sentAt}', to_jsonb($2::text)) where id = $1", [
        first.flowId,
        past,
      ]);
      const resend = () =>
        t
          .inject({
            method: 'POST',
            url: `${base(main.name)}/${first.flowId}/resend`,
            headers: { 'content-type': 'application/json' },
            payload: '{}',
            remoteAddress: uniqueIp(),
          })
          .then(track);
      const res = await resend();
      expect(res.statusCode, res.body).toBe(202);
      expect(json<View>(res).state).toBe('requested');
      await settleFlow(t, first.flowId);
      const newSecret = await secretOfFlow(t, first.flowId);
      expect(newSecret).not.toBe(first.secretId);
      const mail = await latestMail(t, u.email);
      expect(mail?.links.some((l) => l.includes(`s=${newSecret}`))).toBe(true);
      const second = codeFromMail(mail!);
      expectError(
        await complete(t, main.name, { secretId: first.secretId, code: first.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expectError(
        await complete(t, main.name, { flowId: first.flowId, code: first.code, password: newPassword() }),
        400,
        'CODE_INVALID',
      );
      expectError(await resend(), 429, 'RESEND_TOO_SOON');
      const pw = newPassword();
      expect((await complete(t, main.name, { flowId: first.flowId, code: second.code, password: pw })).statusCode).toBe(
        200,
      );
      expect((await signIn(t, main.name, u.login, pw)).statusCode).toBe(200);
      // A finished flow cannot be sent again.
      expect((await resend()).statusCode).toBe(409);
    });

    it('resend needs no body: a bodiless POST reaches the flow (404 for an unknown one, not 415)', async () => {
      const res = await t
        .inject({
          method: 'POST',
          url: `${base(main.name)}/6f1c3f0e-8d2a-4b5c-9e7f-0a1b2c3d4e5f/resend`,
          remoteAddress: uniqueIp(),
        })
        .then(track);
      expectError(res, 404, 'FLOW_NOT_FOUND');
    });

    it('the view tells how long until "send again" is allowed', async () => {
      const u = await newUser(t, main);
      const r = await requestCode(t, main.name, { identifier: u.login }, u.email);
      const v = json<View>(await flowState(t, main.name, r.flowId));
      expect(v.resendInSeconds).toBeGreaterThan(main.recovery.resendCooldownSeconds - 10);
      expect(v.resendInSeconds).toBeLessThanOrEqual(main.recovery.resendCooldownSeconds);
    });
  });

  describe('events', () => {
    it('requested, mailed, code_failed (wrong or used code), completed, password.changed, failed and expired (only an expired link) are recorded, with ip and user agent', async () => {
      const realm = await putRealm(t, uniqueRealm('events'), { recovery: { code: { maxAttempts: 2 } } });
      const ua = 'RecoveryEventsTest/1.0';
      const ip = uniqueIp();
      const o = { ip, headers: { 'user-agent': ua } };

      const a = await newUser(t, realm);
      const ra = await requestCode(t, realm.name, { identifier: a.login }, a.email, o);
      expectError(
        await complete(t, realm.name, { secretId: ra.secretId, code: wrongCode(ra.code), password: newPassword() }, o),
        400,
        'CODE_INVALID',
      );
      expect(
        (await complete(t, realm.name, { secretId: ra.secretId, code: ra.code, password: newPassword() }, o))
          .statusCode,
      ).toBe(200);
      // The used link replayed: the same refusal, logged as a used code, not as an expired one.
      expectError(
        await complete(t, realm.name, { secretId: ra.secretId, code: ra.code, password: newPassword() }, o),
        400,
        'CODE_INVALID',
      );

      const b = await newUser(t, realm);
      const rb = await requestCode(t, realm.name, { identifier: b.login }, b.email, o);
      for (let i = 0; i < 2; i++)
        await complete(t, realm.name, { flowId: rb.flowId, code: wrongCode(rb.code), password: newPassword() }, o);

      const c = await newUser(t, realm);
      const rc = await requestCode(t, realm.name, { identifier: c.login }, c.email, o);
      await t.raw("update one_time_secrets set expires_at = now() - interval '1 second' where id = $1", [rc.secretId]);
      expectError(
        await complete(t, realm.name, { secretId: rc.secretId, code: rc.code, password: newPassword() }, o),
        400,
        'CODE_INVALID',
      );

      const ev = await events(t, realm.name);
      const of = (kind: string, userId?: string) =>
        ev.filter((e) => e.kind === kind && (userId === undefined || e.userId === userId));
      const withCtx = (kind: string, userId?: string) => {
        const list = of(kind, userId);
        expect(list.length, `${kind} events`).toBeGreaterThan(0);
        for (const e of list) {
          expect(e.ip, kind).toBe(ip);
          expect(e.userAgent, kind).toBe(ua);
        }
        return list;
      };
      expect(withCtx('recovery.requested')).toHaveLength(3);
      expect(
        of('recovery.mailed')
          .map((e) => e.userId)
          .sort(),
      ).toEqual([a.user.id, b.user.id, c.user.id].sort());
      expect(withCtx('recovery.code_failed', a.user.id).map((e) => e.data.reason)).toEqual(
        expect.arrayContaining(['mismatch', 'used']),
      );
      withCtx('recovery.completed', a.user.id);
      withCtx('password.changed', a.user.id);
      withCtx('recovery.failed', b.user.id);
      expect(withCtx('recovery.expired').map((e) => [e.userId, e.data.reason, e.data.secret])).toEqual([
        [c.user.id, 'expired', rc.secretId],
      ]);
      expect(of('recovery.completed', b.user.id)).toHaveLength(0);
      // Events never carry the code.
      expect(JSON.stringify(ev)).not.toContain(ra.code);
    });
  });

  describe('bad input', () => {
    let disabled: string;
    let realm: string;
    const huge = 'x'.repeat(70 * 1024);
    const tooLongPassword = 'я'.repeat(5000); // 10 000 UTF-8 bytes, under the schema's 8192 characters
    const someUuid = '6f1c3f0e-8d2a-4b5c-9e7f-0a1b2c3d4e5f';

    beforeAll(async () => {
      disabled = (await putRealm(t, uniqueRealm('off'), { recovery: { enabled: false } })).name;
      realm = main.name;
    });

    interface Case {
      name: string;
      method: 'GET' | 'POST';
      url: () => string;
      body?: string;
      headers?: Record<string, string>;
      status: number;
      code: string;
      path?: string;
    }
    const J = (v: unknown) => JSON.stringify(v);
    const cases: Case[] = [
      // POST /recovery
      {
        name: 'request: identifier is a number',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: 5 }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: identifier is an object',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: { $ne: '' } }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: identifier is an array',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: ['a'] }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: identifier is null',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: null }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: unknown field',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: 'abc', admin: true }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/admin',
      },
      {
        name: 'request: missing identifier',
        method: 'POST',
        url: () => base(realm),
        body: J({}),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: blank identifier',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: '   ' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: identifier with NUL',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: 'ivan\u0000' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: identifier with CR/LF',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: 'a@b.ru\r\nBcc: x@y.ru' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: identifier with bidi control',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: 'ivan\u202Epetrov' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: identifier over 320 chars',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: `${'a'.repeat(400)}@x.ru` }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'request: body over 64 KiB',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: huge }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'request: body is an array',
        method: 'POST',
        url: () => base(realm),
        body: '[]',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'request: body is null',
        method: 'POST',
        url: () => base(realm),
        body: 'null',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'request: invalid JSON',
        method: 'POST',
        url: () => base(realm),
        body: '{"identifier":',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'request: prototype pollution',
        method: 'POST',
        url: () => base(realm),
        body: '{"identifier":"abc","__proto__":{"x":1}}',
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'request: form content type',
        method: 'POST',
        url: () => base(realm),
        body: 'identifier=abc',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'request: text/plain content type',
        method: 'POST',
        url: () => base(realm),
        body: J({ identifier: 'abc' }),
        headers: { 'content-type': 'text/plain' },
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'resend: form content type',
        method: 'POST',
        url: () => `${base(realm)}/${someUuid}/resend`,
        body: 'a=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'complete: form content type',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: `secretId=${someUuid}&code=1&password=x`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'request: unknown realm',
        method: 'POST',
        url: () => base('nosuchrealm'),
        body: J({ identifier: 'abc' }),
        status: 404,
        code: 'REALM_NOT_FOUND',
      },
      {
        name: 'request: malformed realm',
        method: 'POST',
        url: () => base('Bad_Realm!'),
        body: J({ identifier: 'abc' }),
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'request: recovery disabled',
        method: 'POST',
        url: () => base(disabled),
        body: J({ identifier: 'abc' }),
        status: 404,
        code: 'RECOVERY_DISABLED',
      },
      {
        name: 'request: login-and-email fields in a single-field realm are ignored → identifier required',
        method: 'POST',
        url: () => base(realm),
        body: J({ login: 'abc', email: 'a@b.ru' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      // GET /recovery/:flowId
      {
        name: 'state: malformed flow id',
        method: 'GET',
        url: () => `${base(realm)}/123`,
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/flowId',
      },
      {
        name: 'state: SQL in the flow id',
        method: 'GET',
        url: () => `${base(realm)}/${encodeURIComponent("1' or '1'='1")}`,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'state: unknown flow id',
        method: 'GET',
        url: () => `${base(realm)}/${someUuid}`,
        status: 404,
        code: 'FLOW_NOT_FOUND',
      },
      {
        name: 'state: unknown realm',
        method: 'GET',
        url: () => `${base('nosuchrealm')}/${someUuid}`,
        status: 404,
        code: 'REALM_NOT_FOUND',
      },
      {
        name: 'state: recovery disabled',
        method: 'GET',
        url: () => `${base(disabled)}/${someUuid}`,
        status: 404,
        code: 'RECOVERY_DISABLED',
      },
      // POST /recovery/:flowId/resend
      {
        name: 'resend: malformed flow id',
        method: 'POST',
        url: () => `${base(realm)}/not-a-uuid/resend`,
        body: '{}',
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/flowId',
      },
      {
        name: 'resend: unknown flow',
        method: 'POST',
        url: () => `${base(realm)}/${someUuid}/resend`,
        body: '{}',
        status: 404,
        code: 'FLOW_NOT_FOUND',
      },
      {
        name: 'resend: unknown field',
        method: 'POST',
        url: () => `${base(realm)}/${someUuid}/resend`,
        body: J({ to: 'x@y.ru' }),
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        name: 'resend: body over 64 KiB',
        method: 'POST',
        url: () => `${base(realm)}/${someUuid}/resend`,
        body: J({ x: huge }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'resend: recovery disabled',
        method: 'POST',
        url: () => `${base(disabled)}/${someUuid}/resend`,
        body: '{}',
        status: 404,
        code: 'RECOVERY_DISABLED',
      },
      // POST /recovery/complete
      {
        name: 'complete: password over 4 KiB of UTF-8',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '12345678', password: tooLongPassword }),
        status: 400,
        code: 'PASSWORD_TOO_LONG',
      },
      {
        name: 'complete: password over 8192 characters',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '12345678', password: 'p'.repeat(9000) }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/password',
      },
      {
        name: 'complete: body over 64 KiB',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '1', password: huge }),
        status: 413,
        code: 'BODY_TOO_LARGE',
      },
      {
        name: 'complete: code is a number',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: 12345678, password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/code',
      },
      {
        name: 'complete: code missing',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/code',
      },
      {
        name: 'complete: code empty',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/code',
      },
      {
        name: 'complete: code over 100 chars',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '1'.repeat(101), password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/code',
      },
      {
        name: 'complete: password missing',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '12345678' }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/password',
      },
      {
        name: 'complete: password is an object',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '12345678', password: { a: 1 } }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/password',
      },
      {
        name: 'complete: malformed secretId',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: 'abc', code: '12345678', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/secretId',
      },
      {
        name: 'complete: malformed flowId',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ flowId: '../../etc', code: '12345678', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/flowId',
      },
      {
        name: 'complete: unknown field',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '1', password: GOOD_PASSWORD, userId: someUuid }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/userId',
      },
      {
        name: 'complete: confirm is not a JSON field',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '1', password: GOOD_PASSWORD, confirm: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/confirm',
      },
      {
        name: 'complete: unknown secretId',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '12345678', password: GOOD_PASSWORD }),
        status: 400,
        code: 'CODE_INVALID',
      },
      {
        name: 'complete: unknown flowId',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ flowId: someUuid, code: '12345678', password: GOOD_PASSWORD }),
        status: 404,
        code: 'FLOW_NOT_FOUND',
      },
      {
        name: 'complete: control characters in the code',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '\u0000\u0001\u001b[2J', password: GOOD_PASSWORD }),
        status: 400,
        code: 'CODE_INVALID',
      },
      {
        name: 'complete: control characters in the password',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '12345678', password: `${GOOD_PASSWORD}\u0000\u0007` }),
        status: 422,
        code: 'PASSWORD_REJECTED',
      },
      {
        name: 'complete: no way to find the code (no id, no identifier)',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ code: '12345678', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'complete: identifier with control characters',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ identifier: 'ivan\u0000', code: '12345678', password: GOOD_PASSWORD }),
        status: 400,
        code: 'VALIDATION_FAILED',
        path: '/identifier',
      },
      {
        name: 'complete: no content type',
        method: 'POST',
        url: () => `${base(realm)}/complete`,
        body: J({ secretId: someUuid, code: '1', password: GOOD_PASSWORD }),
        headers: { 'content-type': '' },
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        name: 'complete: unknown realm',
        method: 'POST',
        url: () => `${base('nosuchrealm')}/complete`,
        body: J({ secretId: someUuid, code: '1', password: GOOD_PASSWORD }),
        status: 404,
        code: 'REALM_NOT_FOUND',
      },
      {
        name: 'complete: recovery disabled',
        method: 'POST',
        url: () => `${base(disabled)}/complete`,
        body: J({ secretId: someUuid, code: '1', password: GOOD_PASSWORD }),
        status: 404,
        code: 'RECOVERY_DISABLED',
      },
      {
        name: 'complete: GET is not a route',
        method: 'GET',
        url: () => `${base(realm)}/complete`,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
    ];

    it.each(cases)('$name → $status $code', async (c) => {
      const headers: Record<string, string> = {
        'accept-language': 'en',
        ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...c.headers,
      };
      if (headers['content-type'] === '') delete headers['content-type'];
      const res = await t
        .inject({
          method: c.method,
          url: c.url(),
          headers,
          remoteAddress: uniqueIp(),
          ...(c.body !== undefined ? { body: c.body } : {}),
        })
        .then(track);
      expect(res.statusCode, res.body.slice(0, 300)).toBe(c.status);
      const body = json<ErrorJson>(res);
      expect(body.error.code).toBe(c.code);
      expect(body.error.message.length).toBeGreaterThan(0);
      if (c.path) expect(body.error.issues?.map((i) => i.path)).toContain(c.path);
      expect(looksLikeLeak(res.body)).toBe(false);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it('a bad-input request starts no flow and sends no mail', async () => {
      const before = await t.raw("select count(*)::int as n from flows where kind = 'recovery'");
      await ask(t, main.name, { identifier: 'ivan\u0000' });
      await ask(t, main.name, { identifier: 5 });
      const after = await t.raw("select count(*)::int as n from flows where kind = 'recovery'");
      expect(Number(after[0]?.n)).toBe(Number(before[0]?.n));
    });
  });

  it('no response in this file was a 5xx or carried a stack trace', () => {
    expect(seen.length).toBeGreaterThan(50);
    for (const r of seen) {
      expect(r.statusCode, r.body.slice(0, 200)).toBeLessThan(500);
      expect(looksLikeLeak(r.body), r.body.slice(0, 200)).toBe(false);
    }
  });
});

// =============================================================================================

describe('password recovery rate limits (JSON API)', () => {
  let t: RecoveryTestDostup;
  let realm: RealmPolicy;
  const PER_IP = 4;
  const PER_ACCOUNT = 3;
  const PER_DESTINATION = 2;
  const VERIFY_PER_IP = 5;

  beforeAll(async () => {
    t = await startRecoveryTestDostup({
      env: {
        RATE_RECOVERY_PER_IP: String(PER_IP),
        RATE_RECOVERY_PER_ACCOUNT: String(PER_ACCOUNT),
        RATE_RECOVERY_PER_DESTINATION: String(PER_DESTINATION),
        RATE_RECOVERY_VERIFY_PER_IP: String(VERIFY_PER_IP),
      },
    });
    realm = await putRealm(t, uniqueRealm('limits'));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('per IP: the request after the limit is 429 with Retry-After, the same for a known and an unknown account', async () => {
    const u = await newUser(t, realm);
    const limited: InjectResponse[] = [];
    for (const target of [u.login, uniqueLogin('ghost')]) {
      const ip = uniqueIp();
      for (let i = 0; i < PER_IP; i++)
        expect((await ask(t, realm.name, { identifier: uniqueLogin('filler') }, { ip })).statusCode).toBe(202);
      limited.push(await ask(t, realm.name, { identifier: target }, { ip }));
    }
    for (const r of limited) {
      expectError(r, 429, 'RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(headerNames(limited[1]!)).toEqual(headerNames(limited[0]!));
    expect(limited[1]!.body).toBe(limited[0]!.body);
    // Another address is unaffected.
    expect((await ask(t, realm.name, { identifier: u.login })).statusCode).toBe(202);
  });

  it('per account: the request after the limit is 429 with Retry-After from any address, the same for a known and an unknown account', async () => {
    const u = await newUser(t, realm);
    const limited: InjectResponse[] = [];
    for (const target of [u.login, uniqueLogin('ghost')]) {
      for (let i = 0; i < PER_ACCOUNT; i++)
        expect((await ask(t, realm.name, { identifier: target })).statusCode).toBe(202);
      // Case and spaces do not make another account.
      limited.push(await ask(t, realm.name, { identifier: `  ${target.toUpperCase()} ` }));
    }
    for (const r of limited) {
      expectError(r, 429, 'RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(headerNames(limited[1]!)).toEqual(headerNames(limited[0]!));
    expect(limited[1]!.body).toBe(limited[0]!.body);
  });

  it('per destination: more requests than the limit for one address are answered alike, but no more mails are sent', async () => {
    const u = await newUser(t, realm);
    // Different typed identifiers (login / e-mail) and addresses: neither the per-IP nor the per-account limit applies.
    const asks = [{ identifier: u.login }, { identifier: u.email }, { identifier: u.login }, { identifier: u.email }];
    const answers: InjectResponse[] = [];
    for (const body of asks) {
      const res = await ask(t, realm.name, body);
      answers.push(res);
      expect(res.statusCode).toBe(202);
      await settleFlow(t, json<View>(res).flowId);
    }
    for (const a of answers) {
      expect(withoutUuids(a.body)).toBe(withoutUuids(answers[0]!.body));
      expect(headerNames(a)).toEqual(headerNames(answers[0]!));
    }
    await t.d.outbox.runOnce();
    const mails = await mailsTo(t, u.email);
    expect(mails).toHaveLength(PER_DESTINATION);
    const ev = await t.inject({
      method: 'GET',
      url: `/api/v1/admin/events?realm=${realm.name}&kind=recovery.throttled`,
      headers: t.adminHeaders(),
    });
    expect(json<{ events: { userId: string | null }[] }>(ev).events.filter((e) => e.userId === u.user.id)).toHaveLength(
      asks.length - PER_DESTINATION,
    );
  });

  it('per destination: a flow two nodes process at once counts once against the address', async () => {
    const u = await newUser(t, realm);
    const raced = loginFlow(realm.name, u.login);
    await t.d.store.flows.createMany([raced]);
    // Both read the flow as requested; one compare-and-swap wins, the other sends nothing.
    await Promise.all([t.d.processor.processMany([raced.id]), t.d.processor.processMany([raced.id])]);
    await t.d.outbox.runOnce();
    expect(await mailsTo(t, u.email)).toHaveLength(1);
    // So the address still has the rest of its allowance (PER_DESTINATION = 2): the next request is mailed.
    const res = await ask(t, realm.name, { identifier: u.login });
    await settleFlow(t, json<View>(res).flowId);
    await t.d.outbox.runOnce();
    expect(await mailsTo(t, u.email)).toHaveLength(PER_DESTINATION);
  });

  it('per destination: a processing that rolled back gives its point back', async () => {
    const u = await newUser(t, realm);
    const flow = loginFlow(realm.name, u.login);
    await t.d.store.flows.createMany([flow]);
    const restore = refuseFlowUpdates(t.d.store, () => true);
    try {
      await expect(t.d.processor.processMany([flow.id])).rejects.toThrow('row refused');
    } finally {
      restore();
    }
    // The retry (the sweep's) mails it, and the address still has its second mail (PER_DESTINATION = 2).
    await t.d.processor.processMany([flow.id]);
    const res = await ask(t, realm.name, { identifier: u.login });
    await settleFlow(t, json<View>(res).flowId);
    await t.d.outbox.runOnce();
    expect(await mailsTo(t, u.email)).toHaveLength(PER_DESTINATION);
  });

  it('code submissions per IP: past the limit even the right code is 429 with Retry-After; another address still works', async () => {
    const u = await newUser(t, realm);
    const r = await requestCode(t, realm.name, { identifier: u.login }, u.email);
    const ip = uniqueIp();
    for (let i = 0; i < VERIFY_PER_IP; i++) {
      expectError(
        await complete(t, realm.name, { secretId: uniqueUuid(i), code: '12345678', password: newPassword() }, { ip }),
        400,
        'CODE_INVALID',
      );
    }
    const limited = await complete(
      t,
      realm.name,
      { secretId: r.secretId, code: r.code, password: newPassword() },
      { ip },
    );
    expectError(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(
      (await complete(t, realm.name, { secretId: r.secretId, code: r.code, password: newPassword() })).statusCode,
    ).toBe(200);
  });
});

const uniqueUuid = (i: number) => `6f1c3f0e-8d2a-4b5c-9e7f-${String(i).padStart(12, '0')}`;

// =============================================================================================

describe('password recovery mail through a real SMTP server that is down at first', () => {
  let t: RecoveryTestDostup;
  let port: number;
  let sink: SmtpSink | undefined;

  beforeAll(async () => {
    port = await freePort();
    t = await startRecoveryTestDostup({
      env: {
        SMTP_URL: `smtp://127.0.0.1:${port}`,
        MAIL_FROM: 'Dostup <no-reply@dostup.example.test>',
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
  });

  it('SMTP down while the reset is requested, then up → the mail arrives exactly once and its code works', {
    timeout: 60_000,
  }, async () => {
    const realm = t.realm;
    const u = await newUser(t, realm);
    const res = await ask(t, realm.name, { identifier: u.login });
    expect(res.statusCode).toBe(202);
    const { flowId } = json<View>(res);
    await settleFlow(t, flowId); // the processor queued it; the first delivery attempt ran and failed
    const queued = await t.d.store.outbox.list({ limit: 10, recipient: u.email });
    expect(queued).toHaveLength(1);
    expect(queued[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(queued[0]!.status).not.toBe('sent');
    // No dev mailbox with SMTP configured.
    expect((await t.inject({ method: 'GET', url: `/dev/mailbox/latest.json?to=${u.email}` })).statusCode).toBe(404);

    await sleep(500);
    sink = await startSmtpSink({ port });
    // The worker backs off 5 s (with jitter) after the first failure, 10 s after the second.
    await waitFor('the reset mail', () => sink!.received.length >= 1, 40_000);
    // A few more seconds: no duplicate.
    await sleep(3000);
    await t.d.outbox.runOnce();
    const forUser = sink.received.filter((m) =>
      (Array.isArray(m.to) ? m.to : [m.to]).some((a) => a?.text.includes(u.email)),
    );
    expect(forUser).toHaveLength(1);
    const mail = forUser[0]!;
    expect(mail.subject).toMatch(/Восстановление пароля|Password reset/);
    expect(mail.messageId).toBe(`<${queued[0]!.id}@dostup>`);
    const text = mail.text ?? '';
    const link = (text.match(/https?:\/\/[^\s<>"']+/g) ?? []).find((l) => l.includes('/reset?'));
    expect(link).toBeDefined();
    const url = new URL(link!);
    const code = url.searchParams.get('code')!;
    expect(text).toContain(code);
    expect(sink.received.filter((m) => (m.text ?? '').includes(code))).toHaveLength(1);
    expect((await t.d.store.outbox.list({ limit: 10, recipient: u.email }))[0]!.status).toBe('sent');

    const pw = newPassword();
    const done = await complete(t, realm.name, { secretId: url.searchParams.get('s')!, code, password: pw });
    expect(done.statusCode, done.body).toBe(200);
    expect((await signIn(t, realm.name, u.login, pw)).statusCode).toBe(200);
  });
});
