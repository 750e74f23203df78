import type { RelayError } from '../errors/relayError.js';
import type { SourceRef } from '../source/objectRef.js';
import { compareStrings } from '../util/compare.js';
import type { FreshClaim } from './copyBuilder.js';
import { type ReportItem, Severity, type SourceReport } from './desiredState.js';
import { itemsOf } from './planSource.js';
import { dedupeSorted } from './reportOrder.js';

/** One source's report items at one slot. */
export interface SlotItems {
  readonly ref: SourceRef;
  readonly items: ReportItem[];
}

/**
 * The report items that belong to one slot (cluster, copy key): collision errors and reference
 * warnings. Indexed both ways, so replacing a slot's items is cheap and a source's report can be
 * assembled from its slots; sources whose items changed are collected until `takeTouched`.
 */
export class SlotReports {
  /** cluster → copy key → source → items: a cluster with no reports costs one lookup. */
  readonly #bySlot = new Map<string, Map<string, Map<string, SlotItems>>>();
  readonly #bySource = new Map<string, Map<string, SlotItems>>();
  #touched = new Set<string>();

  set(cluster: string, key: string, bySource: ReadonlyMap<string, SlotItems>): void {
    const slots = this.#bySlot.get(cluster);
    const old = slots?.get(key);
    if (old === undefined && bySource.size === 0) return;
    const slot = slotId(cluster, key);
    for (const sourceKey of old?.keys() ?? []) {
      this.#bySource.get(sourceKey)?.delete(slot);
      this.#touched.add(sourceKey);
    }
    if (bySource.size === 0) {
      slots?.delete(key);
      if (slots?.size === 0) this.#bySlot.delete(cluster);
      return;
    }
    if (slots === undefined) this.#bySlot.set(cluster, new Map([[key, new Map(bySource)]]));
    else slots.set(key, new Map(bySource));
    for (const [sourceKey, items] of bySource) {
      let bySlot = this.#bySource.get(sourceKey);
      if (bySlot === undefined) {
        bySlot = new Map();
        this.#bySource.set(sourceKey, bySlot);
      }
      bySlot.set(slot, items);
      this.#touched.add(sourceKey);
    }
  }

  /** Forgets the items of a slot (no-op when it has none). */
  clear(cluster: string, key: string): void {
    if (this.has(cluster, key)) this.set(cluster, key, new Map());
  }

  /** The reference warnings of the copy a fresh claim puts at its slot. */
  setWarnings(cluster: string, key: string, claim: FreshClaim, warnings: readonly RelayError[]): void {
    if (warnings.length === 0) {
      this.clear(cluster, key);
      return;
    }
    const items = itemsOf(warnings, Severity.Warning, { cluster, namespace: claim.namespace });
    this.set(cluster, key, new Map([[claim.sourceKey, { ref: claim.plan.ref, items }]]));
  }

  has(cluster: string, key: string): boolean {
    return this.#bySlot.get(cluster)?.has(key) === true;
  }

  dropCluster(cluster: string): void {
    for (const key of [...(this.#bySlot.get(cluster)?.keys() ?? [])]) this.clear(cluster, key);
  }

  touch(sourceKey: string): void {
    this.#touched.add(sourceKey);
  }

  takeTouched(): ReadonlySet<string> {
    const touched = this.#touched;
    this.#touched = new Set();
    return touched;
  }

  /**
   * `previous` with the reports of the `touched` sources made anew: the items that do not depend on
   * a slot (`fixed`, from the source's plan) and those of its slots, sorted and deduplicated.
   * Sources with no items leave the map; the result is in key order.
   */
  sourceReports(
    previous: ReadonlyMap<string, SourceReport>,
    touched: ReadonlySet<string>,
    fixed: (sourceKey: string) => SlotItems | undefined,
  ): ReadonlyMap<string, SourceReport> {
    const next = new Map(previous);
    for (const sourceKey of touched) {
      const own = fixed(sourceKey);
      const slots = [...(this.#bySource.get(sourceKey)?.values() ?? [])];
      const items = [...(own?.items ?? []), ...slots.flatMap((slot) => slot.items)];
      const source = own?.ref ?? slots[0]?.ref;
      if (items.length === 0 || source === undefined) next.delete(sourceKey);
      else next.set(sourceKey, Object.freeze({ source, items: Object.freeze(dedupeSorted(items)) }));
    }
    return new Map([...next].sort(([a], [b]) => compareStrings(a, b)));
  }
}

const slotId = (cluster: string, key: string): string => `${cluster}\u0000${key}`;
