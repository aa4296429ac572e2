// Step e: how long a revoked session keeps working. The stated bound (src/core/sessions/
// session-service.ts): a revocation on the same node is immediate (the cache entry is dropped);
// one made elsewhere (another node, an operator in SQL) is seen within SESSION_CACHE_MS, because a
// node trusts its cached lookup that long. We measure both by polling whoami every POLL_MS.
import { jsonRequest, r2, sleep } from './util.mjs';

const POLL_MS = 50;

/** Poll whoami until 401; ms from `t0` (the moment the revocation was committed) to the first 401. */
async function pollUntilRefused(srv, cookie, t0, maxMs) {
  let polls = 0;
  while (performance.now() - t0 < maxMs) {
    const r = await jsonRequest(srv.base, 'GET', '/api/v1/whoami', { headers: { cookie } });
    polls++;
    if (r.status === 401) return { ms: r2(performance.now() - t0), polls };
    if (r.status !== 200) throw new Error(`whoami during revocation poll: ${r.status} ${r.text.slice(0, 200)}`);
    await sleep(POLL_MS);
  }
  return { ms: null, polls, stillValidAfterMs: maxMs };
}

async function cached(srv, cookie) {
  const r = await jsonRequest(srv.base, 'GET', '/api/v1/whoami', { headers: { cookie } });
  if (r.status !== 200) throw new Error(`whoami before revoke: ${r.status}`);
}

/**
 * @param sessions fresh sessions ({cookie, sessionId}) not used by the load phases
 * @param revokeInDb optional async (sessionId) => void revoking behind the server's back (another node)
 */
export async function measureRevocation(srv, { sessions, cacheMs, revokeInDb }) {
  const maxMs = cacheMs + 5000;
  const out = { sessionCacheMs: cacheMs, pollMs: POLL_MS, boundMs: cacheMs + POLL_MS, logout: [], otherNode: [] };
  const half = Math.floor(sessions.length / 2);

  // Same node: POST /api/v1/logout drops the cache entry, so the next whoami must already fail.
  for (const s of sessions.slice(0, half)) {
    await cached(srv, s.cookie);
    const r = await jsonRequest(srv.base, 'POST', '/api/v1/logout', {
      headers: { cookie: s.cookie },
      body: {},
    });
    if (r.status !== 204) throw new Error(`logout: ${r.status} ${r.text.slice(0, 200)}`);
    out.logout.push(await pollUntilRefused(srv, s.cookie, performance.now(), maxMs));
  }

  if (!revokeInDb) {
    out.otherNode = null;
    out.otherNodeNote =
      'not measured: embedded PGlite lives inside the server process, so nothing else can revoke behind its back';
  } else {
    // Another node: revoke in the database directly. The first whoami caches the session for
    // cacheMs; revoking after a delay d should be seen after about cacheMs - d. d = 0 is the worst case.
    const rest = sessions.slice(half);
    for (const [k, s] of rest.entries()) {
      const delay = Math.round((k / rest.length) * cacheMs * 0.9);
      await cached(srv, s.cookie);
      await sleep(delay);
      await revokeInDb(s.sessionId);
      const t = await pollUntilRefused(srv, s.cookie, performance.now(), maxMs);
      out.otherNode.push({ cachedForMsBeforeRevoke: delay, ...t });
    }
  }
  const worst = (list) => (list?.length ? Math.max(...list.map((x) => x.ms ?? Number.POSITIVE_INFINITY)) : null);
  out.logoutWorstMs = worst(out.logout);
  out.otherNodeWorstMs = worst(out.otherNode);
  out.withinBound =
    (out.logoutWorstMs ?? 0) <= POLL_MS * 2 &&
    (out.otherNodeWorstMs == null || out.otherNodeWorstMs <= out.boundMs + 100);
  return out;
}
