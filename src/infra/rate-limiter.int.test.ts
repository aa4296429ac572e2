// The limiter on both stores: memory (one node) and Redis (several nodes share the counters).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { RateLimiter } from '../core/ports.ts';
import { createRateLimiter } from './rate-limiter.ts';

const spec = { b: { points: 3, duration: 60 } };

function suite(make: () => RateLimiter, second?: () => RateLimiter) {
  it('allows `points` tries, then answers with seconds to wait', async () => {
    const l = make();
    const key = randomBytes(6).toString('hex');
    for (let i = 0; i < 3; i++) expect(await l.consume('b', key)).toBe(0);
    const wait = await l.consume('b', key);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
  });
  it('keys are independent and reset forgets a key', async () => {
    const l = make();
    const a = randomBytes(6).toString('hex');
    const b = randomBytes(6).toString('hex');
    for (let i = 0; i < 3; i++) await l.consume('b', a);
    expect(await l.consume('b', b)).toBe(0);
    await l.reset('b', a);
    expect(await l.consume('b', a)).toBe(0);
  });
  it('refund gives one point back: the try after it is allowed again, one more is not', async () => {
    const l = make();
    const key = randomBytes(6).toString('hex');
    for (let i = 0; i < 3; i++) await l.consume('b', key);
    await l.refund('b', key);
    expect(await l.consume('b', key)).toBe(0);
    expect(await l.consume('b', key)).toBeGreaterThan(0);
  });
  it('refuses an unknown bucket loudly (a typo must not disable a limit)', async () => {
    await expect(make().consume('nope', 'k')).rejects.toThrow(/unknown rate-limit bucket/);
  });
  if (second) {
    it('two nodes share the counters', async () => {
      const n1 = make();
      const n2 = second();
      const key = randomBytes(6).toString('hex');
      expect(await n1.consume('b', key)).toBe(0);
      expect(await n2.consume('b', key)).toBe(0);
      expect(await n1.consume('b', key)).toBe(0);
      expect(await n2.consume('b', key)).toBeGreaterThan(0);
    });
  }
}

describe('rate limiter [memory]', () => suite(() => createRateLimiter(spec)));

const url = process.env.TEST_REDIS_URL;
const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});
(url ? describe : describe.skip)('rate limiter [redis]', () => {
  const client = () => {
    const c = new Redis(url as string, { maxRetriesPerRequest: 1 });
    clients.push(c);
    return c;
  };
  suite(
    () => createRateLimiter(spec, client()),
    () => createRateLimiter(spec, client()),
  );
});
