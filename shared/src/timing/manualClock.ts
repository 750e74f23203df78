import type { Clock } from './clock.js';

/**
 * A Clock for tests: time moves only when `advance` is called. Sleepers wake in deadline order
 * (ties in the order they slept), and `advance` lets each woken task run before waking the next,
 * so loops that sleep again during an advance behave as they would with real timers.
 */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, waking every sleeper due on the way. */
  advance(ms: number): Promise<void>;
  /** Number of sleeps not yet woken or aborted. */
  pendingSleeps(): number;
}

interface Sleeper {
  readonly deadline: number;
  readonly order: number;
  readonly wake: () => void;
}

export function createManualClock(options: { readonly start?: number } = {}): ManualClock {
  let now = options.start ?? 0;
  let order = 0;
  const sleepers = new Set<Sleeper>();

  const nextDue = (until: number): Sleeper | undefined => {
    let best: Sleeper | undefined;
    for (const s of sleepers) {
      if (
        s.deadline <= until &&
        (best === undefined ||
          s.deadline < best.deadline ||
          (s.deadline === best.deadline && s.order < best.order))
      ) {
        best = s;
      }
    }
    return best;
  };

  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        const onAbort = () => {
          sleepers.delete(sleeper);
          reject(signal?.reason);
        };
        const sleeper: Sleeper = {
          deadline: now + Math.max(0, ms),
          order: order++,
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        sleepers.add(sleeper);
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    advance: async (ms) => {
      const until = now + ms;
      await settle();
      for (let due = nextDue(until); due !== undefined; due = nextDue(until)) {
        sleepers.delete(due);
        now = due.deadline;
        due.wake();
        await settle();
      }
      now = until;
      await settle();
    },
    pendingSleeps: () => sleepers.size,
  };
}

/** Lets every promise continuation that is ready run (a macrotask turn, not a timed sleep). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
