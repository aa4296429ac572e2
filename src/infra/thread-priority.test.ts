import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deprioritizeHelperThreads } from './thread-priority.ts';

/** A thread's nice value: field 19 of /proc/self/task/<tid>/stat (after the parenthesised name). */
const niceOf = (tid: number) => {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
};

describe.runIf(process.platform === 'linux')('deprioritizeHelperThreads', () => {
  it('lowers every thread but the event loop, which keeps its priority', async () => {
    const before = niceOf(process.pid);
    const changed = await deprioritizeHelperThreads(3);
    const others = readdirSync('/proc/self/task')
      .map(Number)
      .filter((t) => t !== process.pid);
    expect(changed).toBeGreaterThanOrEqual(4); // at least the libuv pool, started by the call itself
    expect(niceOf(process.pid)).toBe(before);
    for (const tid of others) expect(niceOf(tid)).toBe(Math.min(19, before + 3));
  });
});
