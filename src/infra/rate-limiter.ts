// Rate-limit counters behind the core's RateLimiter port: rate-limiter-flexible, in memory by
// default (one node), in Redis when REDIS_URL is set so every node shares the same counters.
import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiter } from '../core/ports.ts';

export interface BucketSpec {
  /** Attempts allowed per window. */
  points: number;
  /** Window length in seconds. */
  duration: number;
  /** Once exhausted, refuse for this long (seconds); defaults to the rest of the window. */
  blockDuration?: number;
}

export function createRateLimiter(buckets: Record<string, BucketSpec>, redis?: Redis): RateLimiter {
  const limiters = new Map<string, RateLimiterAbstract>();
  for (const [name, spec] of Object.entries(buckets)) {
    const opts = {
      keyPrefix: `dostup:rl:${name}`,
      points: spec.points,
      duration: spec.duration,
      blockDuration: spec.blockDuration ?? 0,
    };
    limiters.set(
      name,
      redis
        ? new RateLimiterRedis({ ...opts, storeClient: redis, useRedisPackage: false })
        : new RateLimiterMemory(opts),
    );
  }
  const get = (bucket: string) => {
    const l = limiters.get(bucket);
    if (!l) throw new Error(`unknown rate-limit bucket ${bucket}`);
    return l;
  };
  return {
    async consume(bucket, key) {
      try {
        await get(bucket).consume(key, 1);
        return 0;
      } catch (e) {
        if (e instanceof RateLimiterRes) return Math.max(1, Math.ceil(e.msBeforeNext / 1000));
        throw e;
      }
    },
    async reset(bucket, key) {
      await get(bucket).delete(key);
    },
    async refund(bucket, key) {
      await get(bucket).reward(key, 1);
    },
  };
}
