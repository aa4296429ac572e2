// `node bench/profile.mjs SCENARIO`: where one scenario's server time goes. Starts Dostup (PGlite,
// or PostgreSQL with DATABASE_URL) under `--cpu-prof`, seeds users, runs SCENARIO flat out for
// DURATION seconds, stops the server (which writes the profile) and prints the functions with the
// most self time, the same grouped by package/source folder, and charged to the project's nearest
// function on the stack. Not a benchmark: the profiler itself slows the server; read the shares,
// not the rates. On a busy 2-core box a sample lands on whatever the event loop was doing when the
// kernel took the core away (often `writev`, which wakes the peer): compare with the thread's CPU
// time from /proc (bench/README) before believing a syscall costs that much.
// SCENARIO: signin | whoami | recovery-existing | recovery-unknown. Knobs: USERS 200, DURATION 8,
// CONNECTIONS 16, TOP 25, CALLERS (function names, comma-separated: print the stacks that call them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seedUsers, signInMany, startDostup, stopDostup, userEmail, userPassword } from './lib/dostup.mjs';
import { loadPhase } from './lib/phases.mjs';
import { unknownEmail } from './lib/recovery.mjs';
import { freePort, log } from './lib/util.mjs';

const scenario = process.argv[2] ?? 'whoami';
const num = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
const users = num('USERS', 200);
const cfg = {
  connections: num('CONNECTIONS', 16),
  warmup: 1,
  duration: num('DURATION', 8),
  quietMaxCores: 2,
  quietWaitS: 0,
};
const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dostup-prof-'));
const json = (method, p, body, headers = {}) => ({
  method,
  path: p,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

const loadWindow = { from: 0, to: Number.POSITIVE_INFINITY };
const srv = await startDostup({
  port: await freePort(),
  databaseUrl: process.env.DATABASE_URL,
  label: 'profile',
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
});
try {
  await seedUsers(srv, users);
  let requests;
  if (scenario === 'signin') {
    requests = Array.from({ length: users }, (_, i) =>
      json('POST', '/api/v1/realms/main/login', { identifier: userEmail(i), password: userPassword(i) }),
    );
  } else if (scenario === 'whoami') {
    const sessions = await signInMany(srv, Math.min(50, users));
    requests = sessions.map((s) => ({ method: 'GET', path: '/api/v1/whoami', headers: { cookie: s.cookie } }));
  } else if (scenario.startsWith('recovery-')) {
    const email = scenario === 'recovery-existing' ? userEmail : unknownEmail;
    requests = Array.from({ length: users }, (_, i) =>
      json('POST', '/api/v1/realms/main/recovery', { identifier: email(i) }),
    );
  } else throw new Error(`unknown scenario ${scenario}`);
  // V8 stamps samples on the monotonic clock (µs), the same clock as process.hrtime: remember the
  // load window so start-up and seeding (hundreds of argon2 hashes) don't count.
  loadWindow.from = Number(process.hrtime.bigint() / 1000n);
  const out = await loadPhase(scenario, { base: srv.base, pid: srv.pid, requests, cfg });
  loadWindow.to = Number(process.hrtime.bigint() / 1000n);
  log(
    `${scenario}: ${out.rps} req/s, ${out.serverCpuMsPerReq} server CPU ms/req (${out.serverMainThreadCpuMsPerReq} on the event loop)`,
  );
} finally {
  await stopDostup(srv, { keepDataDir: true });
  // The server log has whatever the server printed on its way out (e.g. debugging statistics).
  if (process.env.SHOW_LOG) console.log(fs.readFileSync(srv.logFile, 'utf8').split('\n').slice(-60).join('\n'));
  fs.rmSync(srv.dataDir, { recursive: true, force: true });
}

const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written in ${profDir}`);
const prof = JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8'));
const self = new Map();
const dt = new Map();
let at = prof.startTime;
for (const [i, id] of prof.samples.entries()) {
  at += prof.timeDeltas[i] ?? 0;
  if (at >= loadWindow.from && at <= loadWindow.to) dt.set(id, (dt.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}
let total = 0;
const byPlace = new Map();
for (const n of prof.nodes) {
  const us = dt.get(n.id) ?? 0;
  total += us;
  const { functionName, url, lineNumber } = n.callFrame;
  const key = `${functionName || '(anonymous)'} ${url.replace(/^file:\/\//, '').replace(process.cwd(), '.')}:${lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + us);
  const place = url.includes('node_modules/')
    ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
    : url.includes('/src/')
      ? url.replace(/.*\/src\/([^/]+(\/[^/]+)?).*/, 'src/$1')
      : url.startsWith('node:')
        ? 'node:'
        : functionName.startsWith('(')
          ? functionName
          : url || '(native)';
  byPlace.set(place, (byPlace.get(place) ?? 0) + us);
}
const top = (m, n) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`)
    .join('\n');
console.log(
  `\nself time, ${(total / 1e6).toFixed(1)} s of event-loop samples in the load window (warm-up included)\n${top(self, num('TOP', 25))}`,
);
console.log(`\nby place\n${top(byPlace, 15)}`);
// CALLERS=name[,name…]: who calls the functions of those names (their stacks, 8 frames up, by self time).
for (const callee of process.env.CALLERS?.split(',') ?? []) {
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const stacks = new Map();
  for (const n of prof.nodes) {
    if (n.callFrame.functionName !== callee) continue;
    const names = [];
    for (let p = parent.get(n.id), k = 0; p && k < 8; p = parent.get(p.id), k++) {
      names.push(
        p.callFrame.functionName || `(anonymous ${p.callFrame.url.split('/').pop()}:${p.callFrame.lineNumber + 1})`,
      );
    }
    const key = names.join(' < ');
    stacks.set(key, (stacks.get(key) ?? 0) + (dt.get(n.id) ?? 0));
  }
  console.log(`\ncallers of ${callee}\n${top(stacks, 6)}`);
}
// Library time charged to the project's function nearest on the stack: which of our own calls
// (a repository method, a renderer) the time in drizzle, pg or PGlite was spent for.
{
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const ours = (n) => /\/(dist|src)\//.test(n.callFrame.url) && !n.callFrame.url.includes('node_modules');
  const charged = new Map();
  for (const n of prof.nodes) {
    if (!dt.get(n.id) || ['(idle)', '(garbage collector)', '(program)'].includes(n.callFrame.functionName)) continue;
    let p = n;
    while (p && !ours(p)) p = parent.get(p.id);
    const key = p
      ? `${p.callFrame.functionName || '(anonymous)'} ${p.callFrame.url.split('/').slice(-2).join('/')}:${p.callFrame.lineNumber + 1}`
      : '(no project frame)';
    charged.set(key, (charged.get(key) ?? 0) + dt.get(n.id));
  }
  console.log(`
by the project's nearest function (own time + the libraries it called)\n${top(charged, num('TOP', 25))}`);
}
fs.rmSync(profDir, { recursive: true, force: true });
