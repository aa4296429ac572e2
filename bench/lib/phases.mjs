// Step d: autocannon phases. Every phase is closed-loop (CONNECTIONS connections, each sends its
// next request when the previous answer arrives), time-bounded, with an unmeasured warm-up, and
// followed by drain() so leftover server work never leaks into the next phase.
import autocannon from 'autocannon';
import {
  assertLoopback,
  drain,
  log,
  machineBusySeconds,
  percentiles,
  procCpuSeconds,
  r2,
  r4,
  sleep,
  waitQuiet,
} from './util.mjs';

/** One autocannon run; `exact` collects per-response latencies (µs resolution) on the side. */
function cannon({ base, requests, connections, seconds, overallRate, exact }) {
  assertLoopback(base);
  const inst = autocannon({
    url: base,
    requests,
    connections,
    duration: seconds,
    timeout: 30,
    ...(overallRate ? { overallRate, ignoreCoordinatedOmission: true } : {}),
  });
  // autocannon's own histogram floors to whole ms; keep the exact values for the JSON report.
  if (exact) inst.on('response', (_c, status, _bytes, ms) => status >= 200 && status < 300 && exact.push(ms));
  return inst;
}

function summarize(name, res, exact, extra = {}) {
  const ok = res['2xx'];
  return {
    name,
    rps: r2(ok / res.duration), // 2xx per second of the measured window
    p50: res.latency.p50, // autocannon histogram, ms (whole ms)
    p99: res.latency.p99,
    non2xx: res.non2xx,
    errors: res.errors,
    timeouts: res.timeouts,
    ok,
    status: Object.fromEntries(Object.entries(res.statusCodeStats || {}).map(([k, v]) => [k, v.count])),
    autocannonReqPerSecAvg: res.requests.average,
    exactMs: percentiles(exact),
    ...extra,
  };
}

const cpuWindow = (pid) => {
  const main = () => procCpuSeconds(pid, { mainThread: true });
  const s = {
    t: performance.now(),
    srv: procCpuSeconds(pid),
    main: main(),
    busy: machineBusySeconds(),
    self: process.cpuUsage(),
  };
  return () => {
    const wall = (performance.now() - s.t) / 1000;
    const srv = procCpuSeconds(pid) - s.srv;
    // The event-loop thread alone: everything but the threadpool (argon2) and V8's helper threads.
    const mainS = main() - s.main;
    const self = process.cpuUsage(s.self);
    const loadgen = (self.user + self.system) / 1e6;
    return {
      serverCpuS: r2(srv),
      serverMainThreadCpuS: r2(mainS),
      loadgenCpuS: r2(loadgen),
      // CPU nobody in this benchmark used: another job on the box disturbing the phase.
      otherCpuS: r2(Math.max(0, machineBusySeconds() - s.busy - srv - loadgen)),
      machineBusyCores: r2((machineBusySeconds() - s.busy) / wall),
    };
  };
};

/** warm-up -> drain -> measured run -> drain. `pid` = server process (for CPU and drain). */
export async function loadPhase(name, { base, pid, requests, cfg }) {
  const quietBefore = await waitQuiet({ excludePids: [pid], maxCores: cfg.quietMaxCores, maxWaitS: cfg.quietWaitS });
  if (cfg.warmup > 0) {
    await cannon({ base, requests, connections: cfg.connections, seconds: cfg.warmup });
    await drain(pid);
  }
  log(`${name}: ${cfg.duration}s x ${cfg.connections} connections`);
  const exact = [];
  const end = cpuWindow(pid);
  const res = await cannon({ base, requests, connections: cfg.connections, seconds: cfg.duration, exact });
  const cpu = end();
  await drain(pid);
  const out = summarize(name, res, exact, { ...cpu, quietBefore });
  out.serverCpuMsPerReq = out.ok ? r4((cpu.serverCpuS * 1000) / out.ok) : null;
  out.serverMainThreadCpuMsPerReq = out.ok ? r4((cpu.serverMainThreadCpuS * 1000) / out.ok) : null;
  log(`${name}: ${out.rps} req/s p50=${out.p50} p99=${out.p99} ms (exact p99 ${out.exactMs.p99}) non2xx=${out.non2xx}`);
  return out;
}

/**
 * whoami at a steady rate (what a portal generates) while closed-loop sign-ins keep every core busy
 * with argon2. The question is whether password hashing starves the hot path, so whoami is paced
 * rather than flat out: flat out it would mostly measure its own queueing.
 */
export async function whoamiUnderSignin(name, { base, pid, whoamiRequests, signinRequests, cfg }) {
  const quietBefore = await waitQuiet({ excludePids: [pid], maxCores: cfg.quietMaxCores, maxWaitS: cfg.quietWaitS });
  log(`${name}: sign-in x ${cfg.connections} connections + whoami at ${cfg.loadedRate}/s for ${cfg.duration}s`);
  const signin = cannon({
    base,
    requests: signinRequests,
    connections: cfg.connections,
    seconds: cfg.warmup + cfg.duration + 2,
  });
  const signinDone = signin.then((r) => r);
  // Let the sign-in load reach saturation before whoami starts measuring.
  await sleep(Math.max(1, cfg.warmup) * 1000);
  const exact = [];
  const end = cpuWindow(pid);
  const res = await cannon({
    base,
    requests: whoamiRequests,
    connections: cfg.loadedConnections,
    seconds: cfg.duration,
    overallRate: cfg.loadedRate,
    exact,
  });
  const cpu = end();
  signin.stop();
  const sres = await signinDone;
  await drain(pid);
  const out = summarize(name, res, exact, { ...cpu, quietBefore });
  out.targetRate = cfg.loadedRate;
  out.concurrentSignin = summarize('signin (concurrent)', sres, []);
  log(
    `${name}: whoami ${out.rps} req/s p99=${out.p99} ms (exact ${out.exactMs.p99}); sign-in ${out.concurrentSignin.rps}/s`,
  );
  return out;
}
