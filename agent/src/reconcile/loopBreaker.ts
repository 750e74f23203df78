import type { Clock } from '@kuberelay/shared';

export interface LoopBreakerOptions {
  readonly clock: Clock;
  /** Writes with the same difference within `windowMs` that trip the breaker. Default 3. */
  readonly maxWrites?: number;
  /** Default 30 s. */
  readonly windowMs?: number;
  /** How long a tripped copy is left alone. Default 5 minutes. */
  readonly cooldownMs?: number;
}

/**
 * Per-copy write-loop breaker (docs/design.md, rule 5). The reconciler records only writes whose
 * stored result the API server had already changed (a mutating webhook, a normalising default);
 * `maxWrites` of those with the same difference within `windowMs` mean writing again would fight
 * the API server forever, so the breaker refuses writes for `cooldownMs`. Edits made by people or
 * other controllers after our write are not recorded, so they are always reverted. Keys are
 * forgotten when the copy is (see `forget`).
 */
export class LoopBreaker {
  readonly #clock: Clock;
  readonly #maxWrites: number;
  readonly #windowMs: number;
  readonly #cooldownMs: number;
  readonly #writes = new Map<string, { at: number; signature: string }[]>();
  readonly #trippedUntil = new Map<string, number>();

  constructor(options: LoopBreakerOptions) {
    this.#clock = options.clock;
    this.#maxWrites = options.maxWrites ?? 3;
    this.#windowMs = options.windowMs ?? 30_000;
    this.#cooldownMs = options.cooldownMs ?? 5 * 60_000;
  }

  /**
   * Whether the copy may be written to revert a difference with this signature. Returns false,
   * and trips the breaker, when the last `maxWrites` recent writes reverted the same difference.
   */
  allow(key: string, signature: string): boolean {
    const now = this.#clock.now();
    const until = this.#trippedUntil.get(key);
    if (until !== undefined) {
      if (now < until) return false;
      this.#trippedUntil.delete(key);
      this.#writes.delete(key);
    }
    const recent = (this.#writes.get(key) ?? []).filter((w) => now - w.at < this.#windowMs);
    this.#writes.set(key, recent);
    if (recent.filter((w) => w.signature === signature).length >= this.#maxWrites) {
      this.#trippedUntil.set(key, now + this.#cooldownMs);
      return false;
    }
    return true;
  }

  /** Records a write that reverted a difference with this signature. */
  recordWrite(key: string, signature: string): void {
    const list = this.#writes.get(key) ?? [];
    list.push({ at: this.#clock.now(), signature });
    this.#writes.set(key, list);
  }

  /** Milliseconds until a tripped copy may be written again; undefined if not tripped. */
  retryInMs(key: string): number | undefined {
    const until = this.#trippedUntil.get(key);
    return until === undefined ? undefined : Math.max(0, until - this.#clock.now());
  }

  forget(key: string): void {
    this.#writes.delete(key);
    this.#trippedUntil.delete(key);
  }
}
