// A hash made with other parameters is upgraded at sign-in — without touching the history, and
// never over a password that changed meanwhile.
import { Algorithm, hash } from '@node-rs/argon2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GOOD_PASSWORD, startTestDostup, type TestDostup } from '../../../../test/support/test-server.ts';

let t: TestDostup;
beforeAll(async () => {
  t = await startTestDostup();
  // A realm that keeps a password history: a re-hash must not spend one of its places.
  const res = await t.inject({
    method: 'PUT',
    url: '/api/v1/admin/realms/main',
    headers: t.adminHeaders({ 'content-type': 'application/json' }),
    payload: { ...t.realm, password: { ...t.realm.password, historySize: 3 } },
  });
  expect(res.statusCode).toBe(200);
});
afterAll(async () => t?.close());

const signIn = (identifier: string, password: string) =>
  t.inject({
    method: 'POST',
    url: '/api/v1/realms/main/login',
    headers: { 'content-type': 'application/json' },
    payload: { identifier, password },
  });

it('re-hashes an outdated hash with the current parameters and keeps the history as it was', async () => {
  const user = await t.addUser({ login: 'rehash-me', password: GOOD_PASSWORD });
  const old = await hash(GOOD_PASSWORD, {
    algorithm: Algorithm.Argon2id,
    memoryCost: 8192,
    timeCost: 3,
    parallelism: 1,
  });
  await t.raw('update users set password_hash = $1 where id = $2', [old, user.id]);
  expect((await signIn('rehash-me', GOOD_PASSWORD)).statusCode).toBe(200);
  let current = old;
  for (let i = 0; i < 50 && current === old; i++) {
    await new Promise((r) => setTimeout(r, 20));
    current = (await t.raw('select password_hash from users where id = $1', [user.id]))[0]?.password_hash as string;
  }
  expect(current).not.toBe(old);
  expect(current).toContain('t=1'); // the test server's ARGON2_ITERATIONS
  expect(await t.d.store.users.passwordHistory(user.id, 10)).toEqual([]);
  expect((await signIn('rehash-me', GOOD_PASSWORD)).statusCode).toBe(200);
});

it('a sign-in writes its success event together with the session it issued', async () => {
  const user = await t.addUser({ login: 'event-me', password: GOOD_PASSWORD });
  const res = await t.inject({
    method: 'POST',
    url: '/api/v1/realms/main/login',
    headers: { 'content-type': 'application/json', 'user-agent': 'event-test-agent' },
    payload: { identifier: 'event-me', password: GOOD_PASSWORD, remember: true },
  });
  expect(res.statusCode).toBe(200);
  const session = (res.json() as { session: { id: string; remember: boolean } }).session;
  const events = await t.d.store.events.list({ userId: user.id, kind: 'signin.succeeded', limit: 10 });
  expect(events).toHaveLength(1);
  expect(events[0]).toMatchObject({ realm: 'main', userId: user.id, userAgent: 'event-test-agent' });
  expect(events[0]?.data).toEqual({ method: 'password', remember: session.remember, session: session.id });
  const rows = await t.raw('select user_id, user_agent from sessions where id = $1', [session.id]);
  expect(rows).toEqual([{ user_id: user.id, user_agent: 'event-test-agent' }]);
});
