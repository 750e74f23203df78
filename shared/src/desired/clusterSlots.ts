import { objectKey } from '../source/objectRef.js';
import { compareStrings } from '../util/compare.js';
import { type Claim, claimNamespace, type HeldClaim } from './copyBuilder.js';
import type { CopySet } from './copySet.js';
import type { DesiredCopy } from './desiredState.js';

/** One claim, or several (a collision, or a source landing in several namespaces): most slots and
 * most sources have exactly one, and at 10⁶ slots an array each is most of the memory. */
type OneOrMore = Claim | Claim[];

function add(map: Map<string, OneOrMore>, key: string, claim: Claim): void {
  const had = map.get(key);
  if (had === undefined) map.set(key, claim);
  else if (Array.isArray(had)) had.push(claim);
  else map.set(key, [had, claim]);
}

function remove(map: Map<string, OneOrMore>, key: string, claim: Claim): void {
  const had = map.get(key);
  if (had === claim) map.delete(key);
  else if (Array.isArray(had)) {
    const rest = had.filter((c) => c !== claim);
    if (rest.length === 0) map.delete(key);
    else map.set(key, rest.length === 1 ? (rest[0] as Claim) : rest);
  }
}

const all = (value: OneOrMore | undefined): readonly Claim[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * One cluster's slots (copy keys) in the engine: every claim on each key, the claim that occupies
 * it, where each source's copies land (what reference rewrites read), and the published copies.
 * Mutable, owned by one DesiredStateEngine; `copies` is the immutable value it publishes.
 */
export class ClusterSlots {
  readonly cluster: string;
  copies: CopySet;
  readonly #claims = new Map<string, OneOrMore>();
  /** The occupant of each slot. Seeded from a previous state as held claims of its copies. */
  readonly #placed = new Map<string, Claim>();
  /** sourceKey → the occupants that are its copies. */
  readonly #landing = new Map<string, OneOrMore>();

  constructor(cluster: string, copies: CopySet) {
    this.cluster = cluster;
    this.copies = copies;
    for (const copy of copies.values()) {
      const seeded: HeldClaim = { type: 'held', key: copy.key, sourceKey: objectKey(copy.source), copy };
      this.#placed.set(copy.key, seeded);
      add(this.#landing, seeded.sourceKey, seeded);
    }
  }

  addClaim(claim: Claim): void {
    add(this.#claims, claim.key, claim);
  }

  removeClaim(claim: Claim): void {
    remove(this.#claims, claim.key, claim);
  }

  claimsAt(key: string): readonly Claim[] {
    return all(this.#claims.get(key));
  }

  occupant(key: string): Claim | undefined {
    return this.#placed.get(key);
  }

  /** Puts `winner` in slot `key` (undefined: empty); answers the sources whose landing moved. */
  occupy(key: string, winner: Claim | undefined): string[] {
    const old = this.#placed.get(key);
    if (old === winner) return [];
    const same =
      old !== undefined &&
      winner !== undefined &&
      old.sourceKey === winner.sourceKey &&
      claimNamespace(old) === claimNamespace(winner);
    if (old !== undefined) remove(this.#landing, old.sourceKey, old);
    if (winner === undefined) this.#placed.delete(key);
    else {
      this.#placed.set(key, winner);
      add(this.#landing, winner.sourceKey, winner);
    }
    if (same) return [];
    const moved: string[] = [];
    if (old !== undefined) moved.push(old.sourceKey);
    if (winner !== undefined && winner.sourceKey !== old?.sourceKey) moved.push(winner.sourceKey);
    return moved;
  }

  /** Namespaces (sorted) where `sourceKey`'s copies are in this cluster. */
  landingNamespaces(sourceKey: string): string[] {
    const claims = all(this.#landing.get(sourceKey));
    if (claims.length === 1) return [claimNamespace(claims[0] as Claim) ?? ''];
    return claims.map((claim) => claimNamespace(claim) ?? '').sort(compareStrings);
  }

  /** The published copies of `sourceKey` (what is held when the source turns invalid). */
  landedCopies(sourceKey: string): DesiredCopy[] {
    const out: DesiredCopy[] = [];
    for (const claim of all(this.#landing.get(sourceKey))) {
      const copy = this.copies.get(claim.key);
      if (copy !== undefined) out.push(copy);
    }
    return out;
  }

  /** Keys where a fresh claim of `sourceKey` is the occupant (copies to rebuild when a source they
   * refer to moves). */
  freshKeysOf(sourceKey: string): string[] {
    return all(this.#landing.get(sourceKey))
      .filter((claim) => claim.type === 'fresh')
      .map((claim) => claim.key);
  }
}
