import type { Clock } from '@kuberelay/shared';

export interface WorkQueueOptions {
  /** Handles one key. Never runs twice at the same time for one key. Must not throw. */
  readonly process: (key: string) => Promise<void>;
  readonly concurrency: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
}

/**
 * A deduplicating queue of keys, in the spirit of client-go's workqueue: a key added many times
 * before it runs runs once; a key added while it runs runs again afterwards (so no event is ever
 * lost); one key never runs concurrently with itself, different keys run `concurrency` at a time.
 * `add` returns a promise that resolves when a run that started after the call has finished,
 * so a caller can wait for "this copy has been looked at since I changed it".
 */
export class WorkQueue {
  readonly #options: WorkQueueOptions;
  /** Keys waiting to run, in arrival order. */
  readonly #queued = new Set<string>();
  readonly #running = new Set<string>();
  /** Callers waiting for the next run of a key (one that has not started yet). */
  readonly #waiting = new Map<string, (() => void)[]>();
  readonly #delayed = new Map<string, number>();
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    this.#options = options;
    options.signal.addEventListener('abort', () => this.#releaseAll(), { once: true });
  }

  add(key: string): Promise<void> {
    if (this.#options.signal.aborted) return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      const list = this.#waiting.get(key) ?? [];
      list.push(resolve);
      this.#waiting.set(key, list);
    });
    this.#queued.add(key);
    this.#pump();
    return done;
  }

  /**
   * Adds `key` after `ms`. Only the earliest pending delayed add of a key is kept, so retries
   * scheduled by many failures do not pile up.
   */
  addAfter(key: string, ms: number): void {
    const { clock, signal } = this.#options;
    const due = clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending <= due) return;
    this.#delayed.set(key, due);
    clock.sleep(ms, signal).then(
      () => {
        if (this.#delayed.get(key) !== due) return;
        this.#delayed.delete(key);
        void this.add(key);
      },
      () => {
        // aborted: the queue is shutting down
      },
    );
  }

  /** Resolves when nothing is queued or running (tests, and waiting before a shutdown). */
  idle(): Promise<void> {
    if (this.#queued.size === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    if (this.#options.signal.aborted) return;
    for (const key of this.#queued) {
      if (this.#running.size >= this.#options.concurrency) return;
      if (this.#running.has(key)) continue;
      this.#queued.delete(key);
      this.#running.add(key);
      const waiters = this.#waiting.get(key) ?? [];
      this.#waiting.delete(key);
      void this.#run(key, waiters);
    }
  }

  async #run(key: string, waiters: (() => void)[]): Promise<void> {
    try {
      await this.#options.process(key);
    } finally {
      this.#running.delete(key);
      for (const resolve of waiters) resolve();
      this.#pump();
      if (this.#queued.size === 0 && this.#running.size === 0) {
        const idle = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const resolve of idle) resolve();
      }
    }
  }

  #releaseAll(): void {
    for (const list of this.#waiting.values()) for (const resolve of list) resolve();
    this.#waiting.clear();
    this.#queued.clear();
    for (const resolve of this.#idleWaiters) resolve();
    this.#idleWaiters = [];
  }
}
