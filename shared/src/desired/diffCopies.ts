import { type CopyPolicy, samePolicy } from '../policy/copyPolicy.js';
import { compareStrings } from '../util/compare.js';
import { CopySet } from './copySet.js';
import type { ClusterCopies, DesiredCopy } from './desiredState.js';

/**
 * What an agent is believed to hold: per copy key, the content hash and, when known, the overwrite
 * flag and policy. A cluster's previous desired set is one (every DesiredCopy has them); what a
 * Hello lists is another (key and hash only: `overwrite` and `policy` undefined).
 */
export type Baseline = ReadonlyMap<string, BaselineEntry>;

export interface BaselineEntry {
  readonly hash: string;
  readonly overwrite?: boolean;
  readonly policy?: CopyPolicy;
}

export interface CopiesDiff {
  /** Copies that are new or changed (content hash, overwrite flag or policy), in key order. */
  readonly upserts: readonly DesiredCopy[];
  /** Keys present before and not any more, in key order. */
  readonly removes: readonly string[];
}

/**
 * The delta that brings `baseline` to `next`: what the server sends an agent as one version.
 * Pure. Identical DesiredCopy objects are skipped without comparing, so diffing two states that
 * share most copies is cheap. `overwrite` is compared too: an agent must learn that a source now
 * takes over a conflicting object even though the copy itself did not change, and so is the
 * policy (a pause, a drift mode). An unknown overwrite flag or policy (a Hello's baseline) counts as equal: if the agent's flag differs after all, its digest
 * will not match Delta.digest, it rejects with DIGEST_MISMATCH, and a replacing version repairs it.
 */
export function diffCopies(baseline: Baseline, next: ClusterCopies): CopiesDiff {
  // Two CopySets of one base differ only in their overlays: compare those keys, not all of them.
  const keys =
    baseline instanceof CopySet && next instanceof CopySet ? next.changedKeys(baseline) : undefined;
  if (keys !== undefined) return diffKeys(baseline, next, keys);
  const upserts: DesiredCopy[] = [];
  for (const [key, copy] of next) {
    const have = baseline.get(key);
    if (have === undefined || (have !== copy && differs(have, copy))) upserts.push(copy);
  }
  const removes = [...baseline.keys()].filter((key) => !next.has(key));
  return {
    upserts: upserts.sort((a, b) => compareStrings(a.key, b.key)),
    removes: removes.sort(compareStrings),
  };
}

function diffKeys(baseline: Baseline, next: ClusterCopies, keys: ReadonlySet<string>): CopiesDiff {
  const upserts: DesiredCopy[] = [];
  const removes: string[] = [];
  for (const key of keys) {
    const have = baseline.get(key);
    const copy = next.get(key);
    if (copy === undefined) {
      if (have !== undefined) removes.push(key);
    } else if (have === undefined || (have !== copy && differs(have, copy))) {
      upserts.push(copy);
    }
  }
  return {
    upserts: upserts.sort((a, b) => compareStrings(a.key, b.key)),
    removes: removes.sort(compareStrings),
  };
}

/** What the agent must be told again: another hash, or a known flag or policy that differs. */
const differs = (have: BaselineEntry, copy: DesiredCopy): boolean =>
  have.hash !== copy.hash ||
  (have.overwrite !== undefined && have.overwrite !== copy.overwrite) ||
  (have.policy !== undefined && !samePolicy(have.policy, copy.policy));

/** The baseline a Hello describes. Later entries for a repeated key win. */
export function baselineFromHave(have: readonly { readonly key: string; readonly hash: string }[]): Baseline {
  return new Map(have.map(({ key, hash }) => [key, { hash }]));
}
