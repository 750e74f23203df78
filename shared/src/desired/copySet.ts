import { compareStrings } from '../util/compare.js';
import type { DesiredCopy } from './desiredState.js';
import { addEntry, DigestedMap, EMPTY_SUM, formatSum, removeEntry } from './stateDigest.js';

/**
 * One cluster's desired copies as an immutable map that shares structure with the set it was made
 * from: a base Map (frozen in key order) plus a small overlay of changed and removed keys. At 1,000
 * copies in each of 1,000 clusters, one edit changes one key per cluster; copying every cluster's
 * map for that would move 10⁶ entries (issue 10). With the overlay it moves a few dozen per cluster,
 * and the entrySum digest and the diff against an earlier set of the same base follow from the
 * overlay alone.
 *
 * Invariants: iteration is in key order (compareStrings); `digest` is stateDigest(this) in the
 * entrySum format; the overlay never holds more than overlayLimit(base size) entries (beyond it the
 * set folds into a new base, an O(size) step that happens once every overlayLimit changes).
 */
export class CopySet extends DigestedMap<DesiredCopy> {
  static readonly empty: CopySet = new CopySet(new Map(), new Map(), [], EMPTY_SUM, 0);

  readonly #base: ReadonlyMap<string, DesiredCopy>;
  /** Changed keys → their copy, or null for a key the base has and this set does not. */
  readonly #overlay: ReadonlyMap<string, DesiredCopy | null>;
  /** Overlay keys the base lacks, sorted: merged into the base's order when iterating. */
  readonly #added: readonly string[];
  readonly #sum: bigint;
  readonly size: number;
  #digest: string | undefined;

  private constructor(
    base: ReadonlyMap<string, DesiredCopy>,
    overlay: ReadonlyMap<string, DesiredCopy | null>,
    added: readonly string[],
    sum: bigint,
    size: number,
  ) {
    super();
    this.#base = base;
    this.#overlay = overlay;
    this.#added = added;
    this.#sum = sum;
    this.size = size;
  }

  /** A set of `copies` (by key; a later copy of a repeated key wins). */
  static of(copies: Iterable<DesiredCopy>): CopySet {
    const byKey = new Map<string, DesiredCopy>();
    for (const copy of copies) byKey.set(copy.key, copy);
    return CopySet.#fromMap(byKey);
  }

  static #fromMap(byKey: ReadonlyMap<string, DesiredCopy>): CopySet {
    const keys = [...byKey.keys()].sort(compareStrings);
    const base = new Map<string, DesiredCopy>();
    let sum = EMPTY_SUM;
    for (const key of keys) {
      const copy = byKey.get(key) as DesiredCopy;
      base.set(key, copy);
      sum = addEntry(sum, copy);
    }
    return new CopySet(base, new Map(), [], sum, base.size);
  }

  get digest(): string {
    this.#digest ??= formatSum(this.#sum);
    return this.#digest;
  }

  get(key: string): DesiredCopy | undefined {
    const changed = this.#overlay.get(key);
    if (changed !== undefined) return changed ?? undefined;
    return this.#base.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[string, DesiredCopy]> {
    const added = this.#added;
    let next = 0;
    for (const [key, copy] of this.#base) {
      while (next < added.length && compareStrings(added[next] as string, key) < 0) {
        const addedKey = added[next++] as string;
        yield [addedKey, this.#overlay.get(addedKey) as DesiredCopy];
      }
      const changed = this.#overlay.get(key);
      if (changed === undefined) yield [key, copy];
      else if (changed !== null) yield [key, changed];
    }
    while (next < added.length) {
      const addedKey = added[next++] as string;
      yield [addedKey, this.#overlay.get(addedKey) as DesiredCopy];
    }
  }

  /** This set with `changes` made (a copy per key, or undefined to remove the key). */
  with(changes: ReadonlyMap<string, DesiredCopy | undefined>): CopySet {
    const overlay = new Map(this.#overlay);
    let sum = this.#sum;
    let size = this.size;
    let touched = false;
    for (const [key, next] of changes) {
      const before = this.get(key);
      if (before === next) continue;
      touched = true;
      if (before !== undefined) {
        sum = removeEntry(sum, before);
        size -= 1;
      }
      if (next !== undefined) {
        sum = addEntry(sum, next);
        size += 1;
      }
      const inBase = this.#base.get(key);
      if (inBase === next) overlay.delete(key);
      else overlay.set(key, next ?? null);
    }
    if (!touched) return this;
    if (overlay.size > overlayLimit(this.#base.size)) {
      const merged = new Map<string, DesiredCopy>();
      for (const [key, copy] of this.#base) if (!overlay.has(key)) merged.set(key, copy);
      for (const [key, copy] of overlay) if (copy !== null) merged.set(key, copy);
      return CopySet.#fromMap(merged);
    }
    const added: string[] = [];
    for (const [key, copy] of overlay) if (copy !== null && !this.#base.has(key)) added.push(key);
    return new CopySet(this.#base, overlay, added.sort(compareStrings), sum, size);
  }

  /**
   * The keys whose copy may differ between this set and `other`, when both were made from the
   * same base (a superset: a key changed and changed back is listed); undefined when they were not,
   * and everything must be compared.
   */
  changedKeys(other: CopySet): ReadonlySet<string> | undefined {
    if (other.#base !== this.#base) return undefined;
    return new Set([...this.#overlay.keys(), ...other.#overlay.keys()]);
  }
}

/**
 * Most overlay entries over a base of `size`: about √(2·size), which balances copying the overlay
 * at every change against folding it into a new base (O(size)) once it is full.
 */
function overlayLimit(size: number): number {
  return Math.max(8, Math.ceil(Math.sqrt(2 * size)));
}
