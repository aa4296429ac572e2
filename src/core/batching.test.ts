import { describe, expect, it } from 'vitest';
import { createBatcher } from './batching.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('createBatcher', () => {
  it('writes the callers of one tick as one batch and answers each with its own result', async () => {
    const batches: number[][] = [];
    const double = createBatcher(async (xs: number[]) => {
      batches.push(xs);
      return xs.map((x) => x * 2);
    });
    expect(await Promise.all([double(1), double(2), double(3)])).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('collects callers who arrive while a batch is being written into the next one', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const id = createBatcher(async (xs: number[]) => {
      batches.push(xs);
      if (batches.length === 1) await gate;
      return xs;
    });
    const first = id(1);
    await tick();
    const later = [id(2), id(3), id(4)];
    release();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('caps a batch at max', async () => {
    const sizes: number[] = [];
    const id = createBatcher(
      async (xs: number[]) => {
        sizes.push(xs.length);
        return xs;
      },
      { max: 2 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((x) => id(x)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('fails every caller of a failed batch, and the next batch is tried afresh', async () => {
    let calls = 0;
    const flaky = createBatcher(async (xs: number[]) => {
      calls++;
      if (calls === 1) throw new Error('database down');
      return xs;
    });
    const failed = await Promise.allSettled([flaky(1), flaky(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await flaky(3)).toBe(3);
  });

  it('with isolateFailures, a failed batch is written again item by item: only the bad item fails', async () => {
    const batches: number[][] = [];
    const noOdd13 = createBatcher(
      async (xs: number[]) => {
        batches.push(xs);
        if (xs.includes(13)) throw new Error('refused');
        return xs;
      },
      { isolateFailures: true },
    );
    const out = await Promise.allSettled([noOdd13(1), noOdd13(13), noOdd13(2)]);
    expect(out.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((out[1] as PromiseRejectedResult).reason).toEqual(new Error('refused'));
    expect(batches).toEqual([[1, 13, 2], [1], [13], [2]]);
    // A lone item's failure is not retried.
    await expect(noOdd13(13)).rejects.toThrow('refused');
    expect(batches).toHaveLength(5);
  });

  it('waitMs as a function is asked at each batch: callers arriving within the wait share it', async () => {
    const batches: number[][] = [];
    let wait = 30;
    const id = createBatcher(
      async (xs: number[]) => {
        batches.push(xs);
        return xs;
      },
      { waitMs: () => wait },
    );
    const first = id(1);
    await new Promise((r) => setTimeout(r, 5));
    const second = id(2);
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(batches).toEqual([[1, 2]]);
    // With no wait, only the callers of one tick share a batch.
    wait = 0;
    const third = id(3);
    await new Promise((r) => setTimeout(r, 5));
    expect(await Promise.all([third, id(4)])).toEqual([3, 4]);
    expect(batches).toEqual([[1, 2], [3], [4]]);
  });

  it('refuses a write that does not answer every item', async () => {
    const short = createBatcher(async (xs: number[]) => xs.slice(1));
    await expect(Promise.all([short(1), short(2)])).rejects.toThrow(/returned 1 of 2/);
  });

  it('idle() waits for the batch in progress', async () => {
    const done: number[] = [];
    const slow = createBatcher(async (xs: number[]) => {
      await new Promise((r) => setTimeout(r, 20));
      done.push(...xs);
      return xs;
    });
    void slow(7);
    await slow.idle();
    expect(done).toEqual([7]);
  });

  it('with concurrency n, up to n batches are written at once, never more; with the default, one', async () => {
    for (const concurrency of [1, 2]) {
      let inFlight = 0;
      let most = 0;
      const batches: number[][] = [];
      const slow = createBatcher(
        async (xs: number[]) => {
          batches.push(xs);
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 15));
          inFlight--;
          return xs;
        },
        concurrency === 1 ? {} : { concurrency },
      );
      // Three waves, each arriving while the previous one is being written.
      const all = [slow(1), slow(2)];
      await tick();
      all.push(slow(3));
      await tick();
      all.push(slow(4), slow(5));
      expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
      expect(most).toBe(concurrency);
      expect(batches.flat().sort()).toEqual([1, 2, 3, 4, 5]);
      await slow.idle();
    }
  });

  it('idle() waits for every batch in flight', async () => {
    const done: number[] = [];
    const slow = createBatcher(
      async (xs: number[]) => {
        await new Promise((r) => setTimeout(r, 10 * xs[0]!));
        done.push(...xs);
        return xs;
      },
      { concurrency: 2 },
    );
    void slow(3);
    await tick();
    void slow(1);
    await slow.idle();
    expect(done.sort()).toEqual([1, 3]);
  });
});
