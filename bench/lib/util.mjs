// Small helpers shared by the benchmark steps: loopback guard, free ports, /proc readers,
// percentiles and a tiny JSON client. Plain .mjs (no tsx) so the load generator stays as light
// as possible: it shares the two cores with the server it measures.
import fs from 'node:fs';
import net from 'node:net';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
export const r2 = (v) => (v == null || Number.isNaN(v) ? null : Math.round(v * 100) / 100);
/** Four decimals: per-request CPU of a fast route is a few hundredths of a millisecond. */
export const r4 = (v) => (v == null || Number.isNaN(v) ? null : Math.round(v * 10000) / 10000);

// Every URL the benchmark talks to goes through here: a typo or a hostile env var must never turn
// a load test into traffic against somebody else's machine.
export function assertLoopback(url) {
  const u = new URL(url);
  if (u.protocol !== 'http:' || u.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback target ${url}`);
  return u;
}

/** A port the kernel just gave us on 127.0.0.1 (tiny race before the child binds it; fine on a bench box). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function procStatus(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [])[1]) || null;
    return {
      rssMiB: r2(kb('VmRSS') / 1024),
      hwmMiB: r2(kb('VmHWM') / 1024),
      threads: Number((s.match(/^Threads:\s+(\d+)/m) || [])[1]),
    };
  } catch {
    return null;
  }
}

const CLK_TCK = 100; // Linux USER_HZ
/** utime + stime of one process (all threads), or of its main thread with `mainThread`, in seconds. */
export function procCpuSeconds(pid, { mainThread = false } = {}) {
  try {
    const s = fs.readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine (all cores), to spot other work disturbing a phase. */
export function machineBusySeconds() {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (v.slice(0, 8).reduce((a, b) => a + b, 0) - v[3] - (v[4] || 0)) / CLK_TCK;
}

/**
 * Wait (bounded) until the server has been idle for 300 ms. autocannon drops its in-flight requests
 * when it stops, but the server still finishes them (16 queued argon2 verifications are ~1 s of
 * work); without this the tail of one phase would be billed to the next.
 */
export async function drain(pid, maxMs = 60_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const c0 = procCpuSeconds(pid);
    await sleep(300);
    if (c0 == null || procCpuSeconds(pid) - c0 <= 0.015) return;
  }
  log(`warning: server ${pid} still busy ${maxMs / 1000}s after the load stopped`);
}

/** Exact percentiles (µs resolution) from per-response latencies; autocannon's histogram floors to 1 ms. */
export function percentiles(values) {
  const a = Float64Array.from(values).sort();
  if (!a.length) return { n: 0 };
  const q = (p) => a[Math.min(a.length - 1, Math.max(0, Math.ceil(p * a.length) - 1))];
  return { n: a.length, p50: r2(q(0.5)), p90: r2(q(0.9)), p99: r2(q(0.99)), max: r2(a[a.length - 1]) };
}

/** JSON request with a hard timeout; returns status, parsed body and the raw Set-Cookie list. */
export async function jsonRequest(base, method, path, { body, headers = {}, timeoutMs = 30_000 } = {}) {
  const url = `${base}${path}`;
  assertLoopback(url);
  const h = { ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, setCookie: res.headers.getSetCookie() };
}

/** Run fn(i) for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n, concurrency, fn) {
  let next = 0;
  const out = new Array(n);
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

/**
 * The box is shared (other people's tests run on it too): before a measurement, wait (at most
 * maxWaitS) until processes other than ours use less than maxCores over a 1-second sample. Returns
 * what it saw, so a phase measured on a busy box is marked as such instead of silently skewed.
 */
export async function waitQuiet({ excludePids = [], maxCores = 0.25, maxWaitS = 90 } = {}) {
  const t0 = performance.now();
  let notified = false;
  for (;;) {
    const b0 = machineBusySeconds();
    const s0 = process.cpuUsage();
    const e0 = excludePids.map((p) => procCpuSeconds(p) || 0);
    await sleep(1000);
    const self = process.cpuUsage(s0);
    const ours =
      (self.user + self.system) / 1e6 + excludePids.reduce((a, p, i) => a + (procCpuSeconds(p) || 0) - e0[i], 0);
    const other = Math.max(0, machineBusySeconds() - b0 - ours);
    const waited = (performance.now() - t0) / 1000;
    if (other <= maxCores || waited >= maxWaitS)
      return { otherCores: r2(other), waitedS: r2(waited), quiet: other <= maxCores };
    if (!notified) log(`box busy (${other.toFixed(2)} cores used by other processes), waiting up to ${maxWaitS}s...`);
    notified = true;
  }
}
