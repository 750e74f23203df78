import type { Backoff } from './backoff.js';
import type { Clock } from './clock.js';

export interface RetryAttempt {
  readonly signal: AbortSignal;
  /** 1 for the first run, counting every run since the loop started. */
  readonly attempt: number;
}

export interface RetryLoopOptions {
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly backoff: Backoff;
  /**
   * One run of the long-lived work (a watch, a stream). It should return or throw when `signal`
   * is aborted. Returning means it ended normally (e.g. the server closed a watch); throwing
   * means it failed. Either way it is run again after a backoff delay until the loop is aborted.
   */
  readonly run: (attempt: RetryAttempt) => Promise<void>;
  /** Called for each failed run that was not caused by the abort, before the delay. */
  readonly onError?: (error: unknown, info: { readonly attempt: number; readonly delayMs: number }) => void;
  /**
   * A run that lasted at least this long counts as healthy: the backoff is reset first, so a
   * watch that worked for an hour reconnects at once instead of at the maximum delay. Default
   * 10 000 ms.
   */
  readonly resetAfterMs?: number;
}

/**
 * Runs `run` again and again until `signal` is aborted, with backoff between runs; even a run
 * that ends normally waits at least one short backoff step, so work that ends at once cannot spin.
 * Resolves (never rejects) once aborted and the current run has returned; a failure of `run` is
 * handed to `onError`, never dropped. If `onError` throws, the loop rejects with that error.
 */
export async function retryLoop(options: RetryLoopOptions): Promise<void> {
  const { signal, clock, backoff, run } = options;
  const resetAfterMs = options.resetAfterMs ?? 10_000;
  for (let attempt = 1; !signal.aborted; attempt += 1) {
    const started = clock.now();
    let failure: { error: unknown } | undefined;
    try {
      await run({ signal, attempt });
    } catch (error) {
      failure = { error };
    }
    if (signal.aborted) {
      return;
    }
    if (clock.now() - started >= resetAfterMs) {
      backoff.reset();
    }
    const delayMs = backoff.next();
    if (failure !== undefined) {
      options.onError?.(failure.error, { attempt, delayMs });
    }
    try {
      await clock.sleep(delayMs, signal);
    } catch (error) {
      if (signal.aborted) {
        return;
      }
      throw error;
    }
  }
}
