import { describe, expect, it } from 'vitest';
import { createWriteCoalescer } from './write-coalescer.ts';

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('write coalescer', () => {
  it('runs nothing at once, then every write of the turn together, in order', async () => {
    const done: number[] = [];
    const w = createWriteCoalescer(() => {});
    for (let i = 0; i < 5; i++) w.defer(() => done.push(i));
    // Still the same turn: nothing written yet.
    await Promise.resolve();
    expect(done).toEqual([]);
    await turn();
    expect(done).toEqual([0, 1, 2, 3, 4]);
  });

  it('a write deferred while the batch is written goes out with the next turn, not lost', async () => {
    const done: string[] = [];
    const w = createWriteCoalescer(() => {});
    w.defer(() => {
      done.push('first');
      w.defer(() => done.push('second'));
    });
    await turn();
    expect(done).toEqual(['first']);
    await turn();
    expect(done).toEqual(['first', 'second']);
  });

  it('one throwing write does not strand the others; the error is reported', async () => {
    const errors: unknown[] = [];
    const done: number[] = [];
    const w = createWriteCoalescer((e) => errors.push(e));
    w.defer(() => done.push(1));
    w.defer(() => {
      throw new Error('socket gone');
    });
    w.defer(() => done.push(3));
    await turn();
    expect(done).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('socket gone');
  });
});
