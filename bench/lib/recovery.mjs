// Recovery request benchmark: the load of "Forgot password?" for existing and for unknown accounts,
// and a sequential timing probe. The probe sends interleaved pairs (existing, unknown — in random
// order inside each pair), one request in flight, and reports the mean difference and the AUC:
// the probability that a random existing-account request is slower than a random unknown one.
// 0.5 means indistinguishable by time; Dostup answers before it looks the account up, so it should be.
import http from 'node:http';
import { loadPhase } from './phases.mjs';
import { assertLoopback, r2, r4 } from './util.mjs';

export const unknownEmail = (i) => `nobody-${String(i).padStart(4, '0')}@example.test`;

const recoveryReq = (email) => ({
  method: 'POST',
  path: '/api/v1/realms/main/recovery',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ identifier: email }),
});

export async function recoveryLoad({ base, pid, users, userEmail, cfg }) {
  const ids = Array.from({ length: users }, (_, i) => i);
  const existing = await loadPhase('recovery (existing)', {
    base,
    pid,
    requests: ids.map((i) => recoveryReq(userEmail(i))),
    cfg,
  });
  const unknown = await loadPhase('recovery (unknown)', {
    base,
    pid,
    requests: ids.map((i) => recoveryReq(unknownEmail(i))),
    cfg,
  });
  return { existing, unknown };
}

/** One request on a keep-alive agent; milliseconds from write to the end of the body. */
function timed(agent, base, email) {
  const url = new URL('/api/v1/realms/main/recovery', base);
  assertLoopback(url.toString());
  const body = JSON.stringify({ identifier: email });
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** P(a random x from `a` > a random y from `b`), ties counting half (Mann-Whitney). */
export function auc(a, b) {
  const all = [...a.map((v) => [v, 0]), ...b.map((v) => [v, 1])].sort((x, y) => x[0] - y[0]);
  let rankSumA = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k][1] === 0) rankSumA += rank;
    i = j;
  }
  return (rankSumA - (a.length * (a.length + 1)) / 2) / (a.length * b.length);
}

export async function timingProbe({ base, pairs, users, userEmail }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const known = [];
  const unknown = [];
  const statuses = new Set();
  try {
    for (let k = 0; k < 20; k++) await timed(agent, base, unknownEmail(5000 + k)); // warm up
    for (let k = 0; k < pairs; k++) {
      const order = Math.random() < 0.5 ? ['E', 'U'] : ['U', 'E'];
      for (const which of order) {
        const email = which === 'E' ? userEmail(k % users) : unknownEmail(6000 + k);
        const r = await timed(agent, base, email);
        statuses.add(r.status);
        (which === 'E' ? known : unknown).push(r.ms);
      }
    }
  } finally {
    agent.destroy();
  }
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return {
    pairs,
    statuses: [...statuses],
    existingMeanMs: r4(mean(known)),
    unknownMeanMs: r4(mean(unknown)),
    meanDiffMs: r4(mean(known) - mean(unknown)),
    medianDiffMs: r4(median(known) - median(unknown)),
    auc: r4(auc(known, unknown)),
    goal: '0.45 ≤ AUC ≤ 0.55',
    met: auc(known, unknown) >= 0.45 && auc(known, unknown) <= 0.55,
    p99ExistingMs: r2([...known].sort((x, y) => x - y)[Math.floor(known.length * 0.99)]),
  };
}
