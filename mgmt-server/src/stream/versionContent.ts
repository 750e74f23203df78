import type { DesiredCopy } from '@kuberelay/shared';
import { compareStrings } from '@kuberelay/shared';

/**
 * What the server believes an agent holds: per copy key, the content hash and, when known, the
 * overwrite flag. From a Hello only key and hash are known (`overwrite` undefined); after an Ack it
 * is the acknowledged snapshot itself.
 */
export type Baseline = ReadonlyMap<string, { readonly hash: string; readonly overwrite?: boolean }>;

export interface VersionChanges {
  readonly upserts: readonly DesiredCopy[];
  readonly removes: readonly string[];
}

/**
 * The changes that bring `baseline` to `desired`, in key order. An unknown overwrite flag counts as
 * equal: if the agent's flag differs after all, its digest will not match Delta.digest, it rejects
 * with DIGEST_MISMATCH, and a replacing version repairs it.
 */
export function changesAgainst(
  baseline: Baseline,
  desired: ReadonlyMap<string, DesiredCopy>,
): VersionChanges {
  const upserts: DesiredCopy[] = [];
  for (const [key, copy] of desired) {
    const have = baseline.get(key);
    if (
      have === undefined ||
      (have !== copy &&
        (have.hash !== copy.hash || (have.overwrite !== undefined && have.overwrite !== copy.overwrite)))
    ) {
      upserts.push(copy);
    }
  }
  const removes = [...baseline.keys()].filter((key) => !desired.has(key));
  return {
    upserts: upserts.sort((a, b) => compareStrings(a.key, b.key)),
    removes: removes.sort(compareStrings),
  };
}

/** The baseline a Hello describes. Later entries for a repeated key win. */
export function baselineFromHave(have: readonly { readonly key: string; readonly hash: string }[]): Baseline {
  return new Map(have.map(({ key, hash }) => [key, { hash }]));
}
