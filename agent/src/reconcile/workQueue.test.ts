import { createManualClock } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { WorkQueue } from './workQueue.js';

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('runs a key added while it runs once more, never concurrently with itself', async () => {
    const abort = new AbortController();
    const runs: string[] = [];
    let active = 0;
    let maxActive = 0;
    const gate = deferred();
    const queue = new WorkQueue({
      clock: createManualClock(),
      signal: abort.signal,
      concurrency: 4,
      process: async (key) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        runs.push(key);
        if (runs.length === 1) await gate.promise;
        active -= 1;
      },
    });
    const first = queue.add('a');
    const second = queue.add('a'); // while running: runs again afterwards
    const third = queue.add('a'); // coalesced with the second
    gate.resolve();
    await Promise.all([first, second, third]);
    expect(runs).toEqual(['a', 'a']);
    expect(maxActive).toBe(1);
    abort.abort();
  });

  it('limits concurrency across keys and reports idle', async () => {
    const abort = new AbortController();
    let active = 0;
    let maxActive = 0;
    const queue = new WorkQueue({
      clock: createManualClock(),
      signal: abort.signal,
      concurrency: 2,
      process: async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setImmediate(r));
        active -= 1;
      },
    });
    for (const key of ['a', 'b', 'c', 'd', 'e']) void queue.add(key);
    await queue.idle();
    expect(maxActive).toBe(2);
    abort.abort();
  });

  it('addAfter runs a key once after the delay, keeping only the earliest', async () => {
    const abort = new AbortController();
    const clock = createManualClock();
    const runs: number[] = [];
    const queue = new WorkQueue({
      clock,
      signal: abort.signal,
      concurrency: 1,
      process: async () => {
        runs.push(clock.now());
      },
    });
    queue.addAfter('a', 1_000);
    queue.addAfter('a', 5_000);
    await clock.advance(999);
    expect(runs).toEqual([]);
    await clock.advance(10_000);
    expect(runs).toEqual([1_000]);
    abort.abort();
  });
});
