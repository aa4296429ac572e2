// Goals and the printed table. Goals are reported as met / not met: this is a measurement to read,
// never a test that fails the run (a noisy box must not turn CI red, and a miss is information).
import { r2, r4 } from './util.mjs';

export const GOALS = {
  whoamiVsFloor: 0.7,
  whoamiP99Ms: 5,
  signinVsArgon2: 0.9,
  whoamiUnderLoadP99Ms: 20,
  idleRssMB: 200,
};

const mb = (mib) => (mib == null ? null : r2(mib * 1.048576)); // MiB (what /proc says /1024) -> MB

const mean = (a, b) => r2((a + b) / 2);
const mean4 = (a, b) => r4((a + b) / 2);

/** The yardsticks a scenario is judged by: the mean of the measurements right before and right after its phase (run.mjs). */
export function yardsticksOf(s) {
  const [vb, va, fb, fa] = [
    s.yardsticks.argon2.before,
    s.yardsticks.argon2.after,
    s.yardsticks.floor.before,
    s.yardsticks.floor.after,
  ];
  const verify = mean(vb.perSec, va.perSec);
  const floorRps = mean(fb.rps, fa.rps);
  return {
    verify: {
      perSec: verify,
      cpuMsPerOp: mean4(vb.cpuMsPerOp, va.cpuMsPerOp),
      text: `${verify}/s (before ${vb.perSec}, after ${va.perSec})`,
    },
    floor: {
      rps: floorRps,
      cpuMsPerReq: mean4(fb.serverCpuMsPerReq, fa.serverCpuMsPerReq),
      text: `${floorRps} req/s (before ${fb.rps}, after ${fa.rps})`,
    },
  };
}

/** whoami against the floor with the same write coalescing (run.mjs): what is left is Dostup's own work. */
function likeForLike(s) {
  const c = s.yardsticks.coalescedFloor;
  if (!c) return '';
  return `; like for like, ${r2((s.whoami.rps / c.rps) * 100)}% of the floor with the same write coalescing (${c.rps} req/s, ${c.serverCpuMsPerReq} CPU ms per request)`;
}

export function evaluateGoals(s) {
  const g = [];
  const add = (goal, measured, met, cpuView = '') =>
    g.push({ goal, measured, met: met ? 'met' : 'not met', 'CPU-cost view (robust to a busy box)': cpuView });
  const { verify, floor } = yardsticksOf(s);
  const wf = s.whoami.rps / floor.rps;
  const wCpu = floor.cpuMsPerReq / s.whoami.serverCpuMsPerReq;
  add(
    `whoami >= ${GOALS.whoamiVsFloor * 100}% of floor and p99 < ${GOALS.whoamiP99Ms} ms`,
    `${r2(wf * 100)}% of ${floor.text}, p99 ${s.whoami.p99} ms`,
    wf >= GOALS.whoamiVsFloor && s.whoami.p99 < GOALS.whoamiP99Ms,
    `floor ${floor.cpuMsPerReq} / whoami ${s.whoami.serverCpuMsPerReq} CPU ms per request = ${r2(wCpu * 100)}% ` +
      `(${wCpu >= GOALS.whoamiVsFloor ? 'met' : 'not met'})${likeForLike(s)}`,
  );
  const sa = s.signin.rps / verify.perSec;
  const sCpu = verify.cpuMsPerOp / s.signin.serverCpuMsPerReq;
  add(
    `sign-in >= ${GOALS.signinVsArgon2 * 100}% of raw argon2 verify rate (2 in flight)`,
    `${r2(sa * 100)}% of ${verify.text}`,
    sa >= GOALS.signinVsArgon2,
    `argon2 verify ${verify.cpuMsPerOp} / sign-in ${r2(s.signin.serverCpuMsPerReq)} CPU ms = ${r2(sCpu * 100)}% ` +
      `(${sCpu >= GOALS.signinVsArgon2 ? 'met' : 'not met'})`,
  );
  add(
    `whoami p99 < ${GOALS.whoamiUnderLoadP99Ms} ms under sign-in saturation`,
    `p99 ${s.whoamiUnderSignin.p99} ms (exact ${s.whoamiUnderSignin.exactMs.p99})`,
    s.whoamiUnderSignin.p99 < GOALS.whoamiUnderLoadP99Ms,
  );
  add(
    `idle RSS < ${GOALS.idleRssMB} MB`,
    `${mb(s.memory.idle.rssMiB)} MB (peak ${mb(s.memory.idle.hwmMiB)} MB)`,
    mb(s.memory.idle.rssMiB) < GOALS.idleRssMB,
  );
  return g;
}

function table(rows, cols) {
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (vals) => `| ${vals.map((v, i) => String(v ?? '').padEnd(w[i])).join(' | ')} |`;
  return [
    line(cols),
    `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`,
    ...rows.map((r) => line(cols.map((c) => r[c]))),
  ].join('\n');
}

export function printReport(result) {
  const out = [];
  const a = result.argon2;
  out.push(
    `\nRaw argon2id (m=${a.params.memoryKiB} KiB, t=${a.params.iterations}, p=${a.params.parallelism}; threadpool ${a.threadpool}; ${result.machine.cpus} cores)`,
  );
  out.push(
    table(
      a.hash.map((h, i) => ({
        'in flight': h.inFlight,
        'hashes/s': h.perSec,
        'verifies/s': a.verify[i].perSec,
        'verify ms p50': a.verify[i].msPerOp.p50,
        'verify CPU ms': a.verify[i].cpuMsPerOp,
        'other CPU s': `${h.otherCpuS} / ${a.verify[i].otherCpuS}`,
      })),
      ['in flight', 'hashes/s', 'verifies/s', 'verify ms p50', 'verify CPU ms', 'other CPU s'],
    ),
  );
  out.push(`\nRate limits raised for this run (one loopback IP): ${JSON.stringify(result.rateLimits)}`);
  const rows = [];
  const f = result.floor;
  const row = (scenario, p, vs) => ({
    scenario,
    'req/s': p.rps,
    p50: p.p50,
    p99: p.p99,
    'non-2xx': p.non2xx,
    'exact p99': p.exactMs.p99,
    'srv CPU ms/req': p.serverCpuMsPerReq ?? '',
    'loop ms/req': p.serverMainThreadCpuMsPerReq ?? '',
    'other CPU s': p.otherCpuS,
    vs,
  });
  rows.push(row('floor: bare fastify, same body', f, ''));
  const cf = result.scenarios[0]?.yardsticks.coalescedFloor;
  if (cf) rows.push(row('floor, coalesced writes', cf, 'bare route + write-coalescer.ts'));
  for (const s of result.scenarios) {
    const y = yardsticksOf(s);
    const verify4 = a.verify.find((v) => v.inFlight === 4)?.perSec;
    const ph = [
      [
        s.signin,
        `${r2((s.signin.rps / y.verify.perSec) * 100)}% of argon2 verify x2 (${r2((s.signin.rps / verify4) * 100)}% of the run's x4)`,
      ],
      [
        s.whoami,
        `${r2((s.whoami.rps / y.floor.rps) * 100)}% of floor${s.yardsticks.coalescedFloor ? `, ${r2((s.whoami.rps / s.yardsticks.coalescedFloor.rps) * 100)}% of coalesced` : ''}`,
      ],
      [
        s.whoamiUnderSignin,
        `paced ${s.whoamiUnderSignin.targetRate}/s; sign-in ${s.whoamiUnderSignin.concurrentSignin.rps}/s`,
      ],
    ];
    if (s.recovery) {
      ph.push(
        [s.recovery.existing, 'POST /recovery, known e-mails'],
        [s.recovery.unknown, 'POST /recovery, unknown e-mails'],
      );
    }
    for (const [p, vs] of ph) rows.push(row(`${s.label}: ${p.name}`, p, vs));
  }
  out.push(
    `\nLoad (${result.config.connections} connections, ${result.config.duration}s, warm-up ${result.config.warmup}s, sign-in ${result.config.signinWarmup}s; p50/p99 in ms ` +
      `from autocannon's histogram (whole ms), "exact" from every response; "other CPU s" = CPU used by other jobs on ` +
      'the box during the phase: a phase with several seconds of it was disturbed; "loop ms/req" = CPU of the ' +
      "server's event-loop thread alone)",
  );
  out.push(
    table(rows, [
      'scenario',
      'req/s',
      'p50',
      'p99',
      'non-2xx',
      'exact p99',
      'srv CPU ms/req',
      'loop ms/req',
      'other CPU s',
      'vs',
    ]),
  );
  for (const s of result.scenarios) {
    const y = s.yardsticks;
    const v = (x) => `${x.perSec}/s (${x.cpuMsPerOp} CPU ms each)`;
    const fl = (x) => `${x.rps} req/s (${x.serverCpuMsPerReq} CPU ms/req, p99 ${x.p99} ms)`;
    out.push(
      `\n${s.label}: yardsticks measured around their phases — raw argon2 verify x2 before sign-in ${v(y.argon2.before)}, ` +
        `after ${v(y.argon2.after)}; floor before whoami ${fl(y.floor.before)}, after ${fl(y.floor.after)}`,
    );
    const m = s.memory;
    out.push(
      `\n${s.label}: RSS ${m.firstStart ? `first start on an empty data dir (initdb) ${m.firstStart.rssMiB} MiB; ` : ''}` +
        `after start ${m.afterStart.rssMiB} MiB, idle after load ${m.idle.rssMiB} MiB, peak (VmHWM) ${m.idle.hwmMiB} MiB`,
    );
    const rv = s.revocation;
    const list = (xs) => xs.map((x) => x.ms ?? `still valid after ${x.stillValidAfterMs}`).join(', ');
    out.push(
      `${s.label}: revocation bound (SESSION_CACHE_MS=${rv.sessionCacheMs}): same node at once, another node within ` +
        `${rv.sessionCacheMs} ms (+ ${rv.pollMs} ms poll step). Measured: logout on this node -> 401 after ${list(rv.logout)} ms; ` +
        (rv.otherNode
          ? `direct DB revoke (another node) -> 401 after ${rv.otherNode
              .map((x) => `${x.ms} (session cached ${x.cachedForMsBeforeRevoke} ms before)`)
              .join(', ')} ms. Bound ${rv.withinBound ? 'held' : 'EXCEEDED'}.`
          : `another node: ${rv.otherNodeNote}.`),
    );
    if (s.timingProbe) {
      const t = s.timingProbe;
      out.push(
        `${s.label}: recovery timing probe, ${t.pairs} interleaved sequential pairs: existing mean ${t.existingMeanMs} ms, ` +
          `unknown ${t.unknownMeanMs} ms, mean difference ${t.meanDiffMs} ms, median difference ${t.medianDiffMs} ms, ` +
          `P(existing slower) = ${t.auc} (goal ${t.goal}: ${t.met ? 'met' : 'NOT met'}); statuses ${t.statuses.join(',')}`,
      );
    }
    out.push(table(s.goals, ['goal', 'measured', 'met', 'CPU-cost view (robust to a busy box)']));
  }
  console.log(out.join('\n'));
}
