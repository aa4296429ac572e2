import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdleCollector, exposeGc } from './idle-gc.ts';

describe('idle collector', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collects once after requests stop, never while they keep coming, and not when nothing happened', () => {
    const collect = vi.fn();
    const c = createIdleCollector({ idleMs: 1000, collect });
    c.start();
    vi.advanceTimersByTime(5000);
    expect(collect).not.toHaveBeenCalled();
    for (let i = 0; i < 10; i++) {
      c.activity();
      vi.advanceTimersByTime(500);
    }
    expect(collect).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2000);
    expect(collect).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(collect).toHaveBeenCalledTimes(1);
    c.activity();
    vi.advanceTimersByTime(2000);
    expect(collect).toHaveBeenCalledTimes(2);
    c.stop();
    c.activity();
    vi.advanceTimersByTime(5000);
    expect(collect).toHaveBeenCalledTimes(2);
  });

  it('is off with idleMs 0', () => {
    const collect = vi.fn();
    const c = createIdleCollector({ idleMs: 0, collect });
    c.start();
    c.activity();
    vi.advanceTimersByTime(10_000);
    expect(collect).not.toHaveBeenCalled();
  });
});

describe('exposeGc', () => {
  it("hands out V8's collector, which frees what nothing references", async () => {
    const gc = exposeGc();
    expect(gc).toBeTypeOf('function');
    let garbage: object | null = { big: new Array(1000).fill('x') };
    const ref = new WeakRef(garbage);
    garbage = null;
    // The WeakRef keeps its target until the current job ends.
    await new Promise((r) => setImmediate(r));
    gc?.();
    expect(ref.deref()).toBeUndefined();
  });
});
