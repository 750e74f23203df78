/**
 * An unbounded FIFO with one reader: `push` never blocks, `next` waits for an item. The stream's
 * inputs (agent messages, snapshot changes, timers) go through one queue so the state machine
 * handles exactly one at a time, in order, without locks.
 */
export class AsyncQueue<T> {
  readonly #items: T[] = [];
  #waiter: ((item: T) => void) | undefined;

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
      return Promise.resolve(this.#items.shift() as T);
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }
}
