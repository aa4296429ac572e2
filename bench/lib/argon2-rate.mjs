// Step a: the raw argon2id ceiling of this box with the server's own parameters. Sign-in can never
// beat this, so it is the yardstick for "is the sign-in path adding anything on top of the hash?".
// Same library and call (@node-rs/argon2 async, libuv threadpool) as src/core/password/argon2-hasher.ts.
import { Algorithm, hash, Version, verify } from '@node-rs/argon2';
import { machineBusySeconds, percentiles, r2, waitQuiet } from './util.mjs';

export function argon2ParamsFromEnv(env) {
  // Defaults mirror src/config.ts so an unset env measures what the server would use.
  return {
    memoryKiB: Number(env.ARGON2_MEMORY_KIB || 19456),
    iterations: Number(env.ARGON2_ITERATIONS || 2),
    parallelism: Number(env.ARGON2_PARALLELISM || 1),
  };
}

/** Closed loop: `inFlight` workers call op() back to back until `seconds` have passed. */
async function measure(op, inFlight, seconds, quiet) {
  const quietBefore = await waitQuiet(quiet);
  const ms = [];
  const busy0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now();
        await op();
        ms.push(performance.now() - s);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  // argon2 runs on this process's threadpool, so anything beyond our own CPU is another job's.
  const otherCpuS = r2(Math.max(0, machineBusySeconds() - busy0 - (self.user + self.system) / 1e6));
  // CPU per operation is the contention-proof yardstick: other jobs on the box change ops/s, not this.
  const cpuMsPerOp = r2((self.user + self.system) / 1e3 / ms.length);
  return {
    inFlight,
    ops: ms.length,
    perSec: r2(ms.length / wall),
    cpuMsPerOp,
    msPerOp: percentiles(ms),
    otherCpuS,
    quietBefore,
  };
}

const optionsOf = (params) => ({
  algorithm: Algorithm.Argon2id,
  version: Version.V0x13,
  memoryCost: params.memoryKiB,
  timeCost: params.iterations,
  parallelism: params.parallelism,
});

const PASSWORD = 'bench-Pass-0000-x9!';

/** A stored hash and a verify of it; the threadpool and allocator warmed so the first window doesn't pay for start-up. */
async function prepare(params) {
  const options = optionsOf(params);
  const encoded = await hash(PASSWORD, options);
  await Promise.all([verify(encoded, PASSWORD), verify(encoded, PASSWORD)]);
  const verifyOp = async () => {
    if (!(await verify(encoded, PASSWORD))) throw new Error('argon2 verify returned false');
  };
  return { options, verifyOp };
}

/**
 * Verify only, `inFlight` at once: the yardstick measured again right before and right after each
 * sign-in phase. This box's speed drifts by tens of percent over minutes (other machines on the same
 * host); a ceiling measured minutes earlier moved the sign-in ratio by more than 10 points.
 */
export async function argon2Verify({ params, seconds, inFlight = 2, quiet = {} }) {
  const { verifyOp } = await prepare(params);
  return measure(verifyOp, inFlight, seconds, quiet);
}

export async function argon2Rate({ params, seconds, inFlight = [1, 2, 4], quiet = {} }) {
  const { options, verifyOp } = await prepare(params);
  const out = { params, threadpool: Number(process.env.UV_THREADPOOL_SIZE || 4), hash: [], verify: [] };
  for (const n of inFlight) {
    out.hash.push(await measure(() => hash(PASSWORD, options), n, seconds, quiet));
    out.verify.push(await measure(verifyOp, n, seconds, quiet));
  }
  return out;
}
