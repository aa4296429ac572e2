// `node bench/ab.mjs ROOT_A ROOT_B [ROUNDS 4] [SECONDS 8] [SCENARIO recovery-existing]`: A/B of two
// builds of Dostup on this box. This box's speed drifts by tens of percent within minutes, so two
// runs of `npm run bench` one after the other cannot tell a 10 % change from the drift; here both
// servers are up at once (each on its own fresh data directory, seeded alike) and their phases
// alternate A B, B A, A B, … so the drift falls on both. Judge by the server's CPU per request (from
// /proc: what the change is about) more than by req/s (which the load generator shares the 2 cores for).
// A ROOT is a checkout with node_modules; its bench/lib/dostup.mjs builds its dist/ before starting
// it (a checkout from before 12-04 late night does not: run `node scripts/build.mjs` in it first, or
// bin/dostup.js runs its sources through tsx), e.g. from this checkout:
//   git worktree add /tmp/ab-base HEAD~1 && ln -s "$PWD/node_modules" /tmp/ab-base/
// SCENARIO: recovery-existing | recovery-unknown | signin | whoami. PGlite, or PostgreSQL with DATABASE_URL
// (both servers then share that database: seeding answers 409 for the second, which is fine).
// For signin, the yardstick of `npm run bench` too: raw argon2 verify (2 in flight, 3 s, in this process
// with both servers idle) before the first phase and after each, every phase judged against the mean of
// the two around it — so also usable with A = B, to read one build's sign-in ratio with the drift spread out.
// For whoami, likewise with the bench's floor (a bare fastify route answering A's whoami body, its own
// process) measured before the first phase and after each, with 50 sessions signed in on each side.
import path from 'node:path';

const [A, B] = [process.argv[2], process.argv[3]].map((p) => path.resolve(p ?? '.'));
const rounds = Number(process.argv[4] ?? 4);
const seconds = Number(process.argv[5] ?? 8);
const scenario = process.argv[6] ?? 'recovery-existing';
const users = 200;
const cfg = { connections: 16, warmup: 1, duration: seconds, quietMaxCores: 2, quietWaitS: 0 };
const json = (method, p, body) => ({
  method,
  path: p,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

// Each side's own benchmark library, so each starts its own bin/dostup.js.
const libs = new Map();
for (const r of new Set([A, B])) {
  libs.set(r, {
    d: await import(path.join(r, 'bench/lib/dostup.mjs')),
    p: await import(path.join(r, 'bench/lib/phases.mjs')),
    u: await import(path.join(r, 'bench/lib/util.mjs')),
    rec: await import(path.join(r, 'bench/lib/recovery.mjs')),
  });
}
function requests(lib, side) {
  const { d, rec } = lib;
  if (scenario === 'whoami') return side.cookies.map(floorLib.whoamiReq);
  if (scenario === 'signin')
    return Array.from({ length: users }, (_, i) =>
      json('POST', '/api/v1/realms/main/login', { identifier: d.userEmail(i), password: d.userPassword(i) }),
    );
  const email = scenario === 'recovery-existing' ? d.userEmail : rec.unknownEmail;
  return Array.from({ length: users }, (_, i) =>
    json('POST', '/api/v1/realms/main/recovery', { identifier: email(i) }),
  );
}

// The sign-in yardstick and the whoami one (null for the other scenarios).
const argon2 = scenario === 'signin' ? await import(path.join(A, 'bench/lib/argon2-rate.mjs')) : null;
const floorLib = scenario === 'whoami' ? await import(path.join(A, 'bench/lib/floor.mjs')) : null;
let floor = null; // started with the first side's whoami body, below
const yardstick = argon2 ? 'raw argon2' : 'the floor';
// Whoami's floor is measured with side A's cookies (B's sessions are its own; the floor ignores them).
const measureYardstick = argon2
  ? async () => (await argon2.argon2Verify({ params: argon2.argon2ParamsFromEnv(process.env), seconds: 3 })).perSec
  : floorLib
    ? async () => (await floor.measure('floor', sides[0].cookies)).rps
    : null;
const sides = [
  { name: 'A', root: A, out: [] },
  { name: 'B', root: B, out: [] },
];
try {
  for (const s of sides) {
    const { d, u } = libs.get(s.root);
    s.srv = await d.startDostup({
      port: await u.freePort(),
      databaseUrl: process.env.DATABASE_URL,
      label: `ab-${s.name}`,
    });
    await d.seedUsers(s.srv, users);
    if (scenario === 'whoami') {
      s.cookies = (await d.signInMany(s.srv, 50)).map((x) => x.cookie);
      if (!floor) {
        const who = await libs.get(s.root).u.jsonRequest(s.srv.base, 'GET', '/api/v1/whoami', {
          headers: { cookie: s.cookies[0] },
        });
        floor = await floorLib.startFloor(who.text, { cfg });
      }
    }
    // Sign-in's code paths reach V8's optimizing tier only after seconds of load (bench/run.mjs,
    // SIGNIN_WARMUP): warm both before the first measured phase.
    if (scenario === 'signin')
      await libs.get(s.root).p.loadPhase('warm-up', {
        base: s.srv.base,
        pid: s.srv.pid,
        requests: requests(libs.get(s.root), s),
        cfg: { ...cfg, duration: 10 },
      });
  }
  let before = measureYardstick ? await measureYardstick() : null;
  for (let i = 0; i < rounds; i++) {
    for (const s of i % 2 ? [sides[1], sides[0]] : sides) {
      const lib = libs.get(s.root);
      const o = await lib.p.loadPhase(scenario, { base: s.srv.base, pid: s.srv.pid, requests: requests(lib, s), cfg });
      if (measureYardstick) {
        const after = await measureYardstick();
        o.ratio = o.rps / ((before + after) / 2);
        before = after;
      }
      s.out.push(o);
      console.log(
        `${s.name} ${o.rps} req/s, server CPU ${o.serverCpuMsPerReq} ms/req (event loop ${o.serverMainThreadCpuMsPerReq}), other CPU ${o.otherCpuS} s${o.ratio ? `, ${(100 * o.ratio).toFixed(1)} % of ${yardstick}` : ''}`,
      );
    }
  }
} finally {
  floor?.stop();
  for (const s of sides) if (s.srv) await libs.get(s.root).d.stopDostup(s.srv);
}
const mean = (xs) => xs.reduce((a, x) => a + x, 0) / xs.length;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const s of sides) {
  console.log(
    `${s.name} (${s.root}): ${mean(s.out.map((o) => o.rps)).toFixed(0)} req/s mean; server CPU ${median(s.out.map((o) => o.serverCpuMsPerReq)).toFixed(3)} ms/req median, event loop ${median(s.out.map((o) => o.serverMainThreadCpuMsPerReq)).toFixed(3)}${measureYardstick ? `; of ${yardstick} ${median(s.out.map((o) => o.ratio * 100)).toFixed(1)} % median (${s.out.map((o) => (o.ratio * 100).toFixed(0)).join(', ')})` : ''}`,
  );
}
