/**
 * A FIFO with one reader: `push` never blocks, `next` waits for an item. The stream's inputs
 * (agent messages, snapshot changes, timers) go through one queue so the state machine handles
 * exactly one at a time, in order, without locks. A producer that can wait (the reader of the
 * agent's messages) calls `room` before each push: that is what bounds the queue, because while it
 * waits it stops reading the gRPC call, and HTTP/2 flow control pushes back on the agent.
 */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  readonly #limit: number;
  #waiter: ((item: T) => void) | undefined;
  #roomWaiters: (() => void)[] = [];
  #released = false;

  /** `limit`: how many items `room` lets wait (default unbounded). */
  constructor(options: { readonly limit?: number } = {}) {
    this.#limit = options.limit ?? Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter(item);
    } else {
      this.#items.push(item);
    }
  }

  next(): Promise<T> {
    if (this.#items.length > 0) {
      const item = this.#items.shift() as T;
      this.#wakeProducers();
      return Promise.resolve(item);
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Resolves once fewer than `limit` items wait (at once after `release`). */
  room(): Promise<void> {
    if (this.#released || this.#items.length < this.#limit) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** The reader is gone: producers stop waiting for room (their pushes are dropped with the queue). */
  release(): void {
    this.#released = true;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }

  #wakeProducers(): void {
    if (this.#items.length >= this.#limit || this.#roomWaiters.length === 0) return;
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const wake of waiters) wake();
  }
}
