import { describe, expect, it } from 'vitest';
import { hashesInFlight, threadPoolSize } from './thread-pool.ts';

describe('threadPoolSize', () => {
  it('reads UV_THREADPOOL_SIZE the way libuv does', () => {
    expect(threadPoolSize({})).toBe(4);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '2' })).toBe(2);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '0' })).toBe(1);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: 'lots' })).toBe(1);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '5000' })).toBe(1024);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '-3' })).toBe(1024);
  });

  it('lets two hashes per pool thread in (one running, one queued), counting no more threads than cores', () => {
    expect(hashesInFlight({ UV_THREADPOOL_SIZE: '2' }, 2)).toBe(4);
    expect(hashesInFlight({ UV_THREADPOOL_SIZE: '1' }, 2)).toBe(2);
    // libuv's default 4 threads on 2 cores: 4 hashes, all running, rather than 4 running and 4 queued.
    expect(hashesInFlight({}, 2)).toBe(4);
    expect(hashesInFlight({ UV_THREADPOOL_SIZE: '8' }, 8)).toBe(16);
  });
});
