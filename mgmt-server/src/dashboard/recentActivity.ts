/** One Event this replica recorded on a source (failures, conflicts, warnings). */
export interface RecentEvent {
  /** ISO time. */
  readonly at: string;
  readonly reason: string;
  readonly message: string;
}

/** One agent stream this replica refused (bad certificate, unregistered cluster, limits ...). */
export interface RejectedAttempt {
  readonly at: string;
  readonly reason: string;
  /** Why, as a StreamEndCode (PermissionDenied, Unauthenticated, ResourceExhausted ...). */
  readonly code: string;
  readonly peer: string;
}

/** Entries kept per key, and keys kept: memory stays bounded whatever a fleet or an attacker does. */
export const RECENT_PER_KEY = 10;
export const RECENT_KEYS = 2_000;

/**
 * The last few entries per key (a source's Events, a claimed cluster's refused streams), newest
 * first, as this replica saw them since it started. The server already has them in hand when it
 * records an Event or refuses a stream; keeping a few here lets a page show them without listing
 * Events from the API server. Keys past RECENT_KEYS push out the least recently written one, so
 * streams refused under made-up cluster names cannot grow it.
 */
export class RecentLog<T> {
  readonly #entries = new Map<string, T[]>();

  add(key: string, entry: T): void {
    const list = this.#entries.get(key) ?? [];
    // Re-inserted, so the Map's order is least recently written first.
    this.#entries.delete(key);
    this.#entries.set(key, [entry, ...list].slice(0, RECENT_PER_KEY));
    if (this.#entries.size > RECENT_KEYS) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  get(key: string): readonly T[] {
    return this.#entries.get(key) ?? [];
  }
}
