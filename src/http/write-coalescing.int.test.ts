// Write coalescing (plugins/write-coalescer.ts) in the real server: a response is handed to its
// socket at the end of the event-loop turn, not inside the handler — and still every response
// arrives whole, with its headers, on real sockets, error responses included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, startTestDostup, type TestDostup, uniqueLogin } from '../../test/support/test-server.ts';

interface WhoamiOrError {
  user?: { login: string };
  error?: { code: string };
}

describe('write coalescing', () => {
  let t: TestDostup;
  const written: { now: boolean; endOfTurn?: boolean }[] = [];

  beforeAll(async () => {
    t = await startTestDostup({
      listen: true,
      routes: (app) => {
        app.get('/test/probe', (_req, reply) => {
          reply.send({ ok: true });
          const seen: { now: boolean; endOfTurn?: boolean } = { now: reply.raw.writableEnded };
          written.push(seen);
          setImmediate(() => {
            seen.endOfTurn = reply.raw.writableEnded;
          });
        });
      },
    });
  });
  afterAll(async () => t?.close());

  it('hands a response to the socket at the end of the turn, not inside the handler', async () => {
    const res = await fetch(`${t.baseUrl}/test/probe`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    // The hooks that ran before the write still did their work.
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(written).toHaveLength(1);
    expect(written[0]).toEqual({ now: false, endOfTurn: true });
  });

  it('answers every one of many concurrent requests on real sockets, successes and errors alike', async () => {
    const login = uniqueLogin('coalesce');
    await t.addUser({ login, password: GOOD_PASSWORD });
    const signIn = await fetch(`${t.baseUrl}/api/v1/realms/main/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: login, password: GOOD_PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const { session } = (await signIn.json()) as { session: { token: string } };
    const calls = Array.from({ length: 120 }, (_, i) =>
      fetch(`${t.baseUrl}/api/v1/whoami`, {
        headers: i % 3 === 2 ? {} : { authorization: `Bearer ${session.token}` },
      }).then(async (r) => ({ i, status: r.status, body: (await r.json()) as WhoamiOrError })),
    );
    const out = await Promise.all(calls);
    for (const r of out) {
      if (r.i % 3 === 2) {
        expect(r.status).toBe(401);
        expect(r.body.error?.code).toBe('UNAUTHENTICATED');
      } else {
        expect(r.status).toBe(200);
        expect(r.body.user?.login).toBe(login);
      }
    }
  });
});
