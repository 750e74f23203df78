import { compareStrings } from '../util/compare.js';
import type { ClusterCopies, DesiredCopy } from './desiredState.js';

export interface CopiesDiff {
  /** Copies that are new or changed (content hash or overwrite flag), in key order. */
  readonly upserts: readonly DesiredCopy[];
  /** Keys present before and not any more, in key order. */
  readonly removes: readonly string[];
}

/**
 * What changes between two desired sets of one cluster: the delta a server sends to an agent.
 * Identical DesiredCopy objects are skipped without comparing, so diffing two states that share
 * most copies is cheap. `overwrite` is compared too: an agent must learn that a source now takes
 * over a conflicting object even though the copy itself did not change.
 */
export function diffCopies(previous: ClusterCopies, next: ClusterCopies): CopiesDiff {
  const upserts: DesiredCopy[] = [];
  for (const [key, copy] of next) {
    const before = previous.get(key);
    if (
      before !== copy &&
      (before === undefined || before.hash !== copy.hash || before.overwrite !== copy.overwrite)
    ) {
      upserts.push(copy);
    }
  }
  const removes = [...previous.keys()].filter((key) => !next.has(key));
  return {
    upserts: upserts.sort((a, b) => compareStrings(a.key, b.key)),
    removes: removes.sort(compareStrings),
  };
}
