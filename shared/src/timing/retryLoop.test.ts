import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.js';
import { createManualClock } from './manualClock.js';
import { type RetryAttempt, retryLoop } from './retryLoop.js';

function setup() {
  const clock = createManualClock();
  const controller = new AbortController();
  const backoff = createBackoff({ minMs: 100, maxMs: 1000, random: () => 0.5 });
  return { clock, controller, backoff };
}

describe('retryLoop', () => {
  it('reruns a failing run after growing delays and reports each failure', async () => {
    const { clock, controller, backoff } = setup();
    const runs: number[] = [];
    const errors: [string, number, number][] = [];
    const loop = retryLoop({
      signal: controller.signal,
      clock,
      backoff,
      run: async ({ attempt }: RetryAttempt) => {
        runs.push(clock.now());
        throw new Error(`fail ${attempt}`);
      },
      onError: (error, { attempt, delayMs }) => errors.push([(error as Error).message, attempt, delayMs]),
    });
    await clock.advance(1000);
    expect(runs).toEqual([0, 50, 150, 350, 750]);
    expect(errors).toEqual([
      ['fail 1', 1, 50],
      ['fail 2', 2, 100],
      ['fail 3', 3, 200],
      ['fail 4', 4, 400],
      ['fail 5', 5, 500],
    ]);
    controller.abort();
    await expect(loop).resolves.toBeUndefined();
  });

  it('stops promptly when aborted during the delay, without running again', async () => {
    const { clock, controller, backoff } = setup();
    let runs = 0;
    const loop = retryLoop({
      signal: controller.signal,
      clock,
      backoff,
      run: async () => {
        runs += 1;
        throw new Error('x');
      },
      onError: () => {},
    });
    await clock.advance(10);
    controller.abort();
    await expect(loop).resolves.toBeUndefined();
    expect(runs).toBe(1);
    expect(clock.pendingSleeps()).toBe(0);
  });

  it('passes the signal to the run and ends when the run returns after the abort', async () => {
    const { clock, controller, backoff } = setup();
    const errors: unknown[] = [];
    let seen: AbortSignal | undefined;
    const loop = retryLoop({
      signal: controller.signal,
      clock,
      backoff,
      run: ({ signal }) => {
        seen = signal;
        return clock.sleep(10_000, signal);
      },
      onError: (error) => errors.push(error),
    });
    await clock.advance(5);
    controller.abort(new Error('shutdown'));
    await expect(loop).resolves.toBeUndefined();
    expect(seen).toBe(controller.signal);
    expect(errors).toEqual([]);
  });

  it('resets the backoff after a healthy run, and waits a step even after a normal end', async () => {
    const { clock, controller, backoff } = setup();
    const durations = [0, 0, 0, 20_000, 0];
    const starts: number[] = [];
    const loop = retryLoop({
      signal: controller.signal,
      clock,
      backoff,
      resetAfterMs: 10_000,
      run: async ({ signal }) => {
        starts.push(clock.now());
        await clock.sleep(durations.shift() ?? 0, signal);
      },
    });
    await clock.advance(21_000);
    controller.abort();
    await loop;
    // 0 →50→ 50 →100→ 150 →200→ 350 runs 20 s → 20350, reset →50→ 20400, then 100 later.
    expect(starts).toEqual([0, 50, 150, 350, 20_400, 20_500, 20_700]);
  });

  it('rejects when onError throws, instead of hiding it', async () => {
    const { clock, controller, backoff } = setup();
    const loop = retryLoop({
      signal: controller.signal,
      clock,
      backoff,
      run: async () => {
        throw new Error('run');
      },
      onError: () => {
        throw new Error('handler broke');
      },
    });
    await expect(loop).rejects.toThrow('handler broke');
  });

  it('does not run at all when already aborted', async () => {
    const { clock, backoff } = setup();
    let runs = 0;
    await retryLoop({
      signal: AbortSignal.abort(),
      clock,
      backoff,
      run: async () => {
        runs += 1;
      },
    });
    expect(runs).toBe(0);
  });
});
