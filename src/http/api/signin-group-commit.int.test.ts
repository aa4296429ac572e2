// Group commit of sign-ins through the real server: sessions whose passwords finish hashing
// together share one INSERT (sessions + events), while a lone sign-in is written at once. The wait
// is set far above a hash's time here so that neither property depends on the box's speed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GOOD_PASSWORD,
  json,
  startTestDostup,
  type TestDostup,
  uniqueLogin,
} from '../../../test/support/test-server.ts';

const WAIT_MS = 1000; // the most the configuration allows

describe('sign-in group commit', () => {
  let t: TestDostup;

  beforeAll(async () => {
    t = await startTestDostup({ env: { SIGNIN_GROUP_COMMIT_MS: String(WAIT_MS) } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const signIn = (identifier: string) =>
    t.inject({
      method: 'POST',
      url: '/api/v1/realms/main/login',
      payload: { identifier, password: GOOD_PASSWORD },
    });

  it('a lone sign-in does not wait for company', async () => {
    const login = uniqueLogin('lone');
    await t.addUser({ login, password: GOOD_PASSWORD });
    const started = performance.now();
    const res = await signIn(login);
    expect(res.statusCode, res.body).toBe(200);
    expect(performance.now() - started).toBeLessThan(WAIT_MS - 500);
  });

  it('sign-ins hashed together share one statement; each gets its own live session and event', async () => {
    const logins = Array.from({ length: 8 }, () => uniqueLogin('group'));
    const users = await Promise.all(logins.map((login) => t.addUser({ login, password: GOOD_PASSWORD })));
    const answers = await Promise.all(logins.map(signIn));
    for (const a of answers) expect(a.statusCode, a.body).toBe(200);
    const sessions = answers.map((a) => json<{ session: { id: string; token: string } }>(a).session);
    expect(new Set(sessions.map((s) => s.token)).size).toBe(8);
    // One statement, one transaction: its rows share now(). Eight hashes on the pool's threads finish
    // well within the wait, so at most two statements (the first may be written before the last
    // hash was handed to the pool).
    const ids = sessions.map((s) => s.id);
    const stamps = await t.raw('select count(distinct created_at)::int as n from sessions where id = any($1::uuid[])', [
      ids,
    ]);
    expect(Number(stamps[0]?.n)).toBeLessThanOrEqual(2);
    // Every token works, as its own user.
    for (const [i, s] of sessions.entries()) {
      const who = await t.inject({
        method: 'GET',
        url: '/api/v1/whoami',
        headers: { authorization: `Bearer ${s.token}` },
      });
      expect(who.statusCode).toBe(200);
      expect(json<{ user: { id: string } }>(who).user.id).toBe(users[i]?.id);
    }
    // Each success event names its own user's session.
    const events = await t.raw(
      `select user_id, data->>'session' as session from events
        where kind = 'signin.succeeded' and data->>'session' = any($1::text[])`,
      [ids],
    );
    expect(events.map((e) => `${e.user_id}/${e.session}`).sort()).toEqual(
      users.map((u, i) => `${u.id}/${ids[i]}`).sort(),
    );
  });
});
