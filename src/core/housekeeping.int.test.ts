// Housekeeping on a real store: what has been over for more than the grace period goes, what is live
// or recent stays, and the event log is never touched.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GOOD_PASSWORD, startTestDostup, type TestDostup, uniqueLogin } from '../../test/support/test-server.ts';

let t: TestDostup;
beforeAll(async () => {
  t = await startTestDostup();
});
afterAll(async () => {
  await t?.close();
});

const count = async (table: string) => Number((await t.raw(`select count(*)::int as n from ${table}`))[0]?.n);

async function signIn(login: string) {
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/realms/main/login',
    headers: { 'content-type': 'application/json' },
    payload: { identifier: login, password: GOOD_PASSWORD },
  });
  expect(res.statusCode, res.body).toBe(200);
  return (JSON.parse(res.body) as { session: { id: string } }).session.id;
}

it('deletes sessions, flows and codes over for a day, finished mail after OUTBOX_KEEP_DAYS; keeps the rest and the log', async () => {
  const login = uniqueLogin('hk');
  await t.addUser({ login, email: `${login}@example.test`, password: GOOD_PASSWORD });
  const [oldSession, liveSession] = [await signIn(login), await signIn(login)];
  const ask = await t.inject({
    method: 'POST',
    url: '/api/v1/realms/main/recovery',
    headers: { 'content-type': 'application/json' },
    payload: { identifier: `${login}@example.test` },
  });
  expect(ask.statusCode, ask.body).toBe(202);
  const flowId = (JSON.parse(ask.body) as { flowId: string }).flowId;
  await t.d.processor.idle();
  await t.d.outbox.runOnce();
  expect(await count('dev_mailbox')).toBeGreaterThan(0);

  // Everything of this user's but `liveSession` ended two days (mail: eight days) ago.
  await t.raw(`update sessions set expires_at = now() - interval '2 days' where id = $1`, [oldSession]);
  await t.raw(`update flows set expires_at = now() - interval '2 days' where id = $1`, [flowId]);
  await t.raw(`update one_time_secrets set expires_at = now() - interval '2 days' where flow_id = $1`, [flowId]);
  await t.raw(`update outbox set sent_at = now() - interval '8 days' where status = 'sent'`);
  await t.raw(`update dev_mailbox set created_at = now() - interval '2 days'`);
  const events = await count('events');

  const deleted = await t.d.housekeeping.runOnce();
  expect(deleted.sessions).toBeGreaterThanOrEqual(1);
  expect(deleted.flows).toBeGreaterThanOrEqual(1);
  expect(deleted.secrets).toBeGreaterThanOrEqual(1);
  expect(deleted.outbox).toBeGreaterThanOrEqual(1);
  expect(deleted.devMailbox).toBeGreaterThanOrEqual(1);
  expect(await t.raw('select 1 from sessions where id = $1', [oldSession])).toHaveLength(0);
  expect(await t.raw('select 1 from sessions where id = $1', [liveSession])).toHaveLength(1);
  expect(await t.d.store.flows.get(flowId)).toBeNull();
  expect(await count('dev_mailbox')).toBe(0);
  expect(await count('events')).toBe(events);
  // Nothing left to do: a second round deletes nothing.
  expect(Object.values(await t.d.housekeeping.runOnce()).every((n) => n === 0)).toBe(true);
});
