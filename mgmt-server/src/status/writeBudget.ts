/**
 * A budget of requests per second shared by every cluster's status writes (the generic cell rate
 * algorithm: a burst of `burst` at once, then one every 1/rate s). `reserve` books the next slot
 * and says how long to wait for it, so writes never exceed the budget however many clusters want
 * one at the same moment (1,000 agents acknowledging one edit made 1,000 PATCHes in a second, more
 * than the lab's API server answers while it also serves everything else; issue 10). Pure over the
 * `now` it is given.
 */
export class WriteBudget {
  readonly #intervalMs: number;
  readonly #burst: number;
  /** When the slot after the last booked one is free (theoretical arrival time). */
  #next = Number.NEGATIVE_INFINITY;

  /** `perSecond` 0: no budget, every reservation waits 0. */
  constructor(options: { readonly perSecond: number; readonly burst?: number }) {
    this.#intervalMs = options.perSecond > 0 ? 1_000 / options.perSecond : 0;
    this.#burst = Math.max(1, options.burst ?? Math.max(1, Math.round(options.perSecond)));
  }

  /** Books one write at `now` or later; returns the ms to wait before sending it. */
  reserve(now: number): number {
    if (this.#intervalMs === 0) return 0;
    const next = Math.max(this.#next, now);
    const wait = Math.max(0, next - now - (this.#burst - 1) * this.#intervalMs);
    this.#next = next + this.#intervalMs;
    return wait;
  }
}
