import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdleCollector, exposeFullCollection, exposeGc } from './idle-gc.ts';
import { runInFreshNode } from './testing/fresh-node.ts';

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

describe('exposeFullCollection', () => {
  // A fresh process, so no other test's heap moves the numbers: grow the old generation by ~150 MB,
  // keep every 50th object (scattered over all its pages, as a server's survivors are), collect.
  // On Node 24 plain collections keep the emptied pages pooled (RSS drops by ~3 MB); this
  // collection must hand them back now. Node 20 hands them back either way.
  it("gives a burst's emptied heap pages back to the system at once", () => {
    const mod = new URL('./idle-gc.ts', import.meta.url).href;
    const script = `
      const { exposeFullCollection } = await import(${JSON.stringify(mod)});
      const collect = exposeFullCollection();
      let objs = [];
      for (let i = 0; i < 400000; i++) objs.push({ a: i, b: 'x'.repeat(50) + i, c: [i, i + 1] });
      collect();
      const peak = process.memoryUsage().rss;
      objs = objs.filter((_, i) => i % 50 === 0);
      collect();
      await new Promise((r) => setTimeout(r, 300));
      console.log(JSON.stringify({ peak, after: process.memoryUsage().rss, kept: objs.length }));
    `;
    const { peak, after, kept } = JSON.parse(runInFreshNode(script)) as { peak: number; after: number; kept: number };
    expect(kept).toBe(8000);
    expect((peak - after) / (1024 * 1024)).toBeGreaterThan(80);
  });

  it('is there', () => {
    expect(exposeFullCollection()).toBeTypeOf('function');
  });
});
