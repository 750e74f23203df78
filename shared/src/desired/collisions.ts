import { ErrorCode } from '../errors/errorCode.js';
import { objectKey } from '../source/objectRef.js';
import { compareStrings } from '../util/compare.js';
import { type Claim, claimNamespace, claimSource } from './copyBuilder.js';
import { type DesiredCopy, Severity } from './desiredState.js';
import type { SlotItems } from './slotReports.js';

// Step 3 of the pure core: one copy key wanted by several sources in one cluster (docs/spec.md §4
// "Collision"): neither is sent, and a copy one of them already had there is kept as it is, so
// adding a clashing source never deletes a copy that works.

/** The claim that occupies a slot, given its claims and the copy it holds now. */
export function winnerOf(claims: readonly Claim[], before: DesiredCopy | undefined): Claim | undefined {
  if (claims.length <= 1) return claims[0];
  if (before === undefined) return undefined;
  const beforeSource = objectKey(before.source);
  if (!claims.some((claim) => claim.sourceKey === beforeSource)) return undefined;
  return { type: 'held', key: before.key, sourceKey: beforeSource, copy: before };
}

/** The CopyCollision error of every claimant of a contested slot. */
export function collisionReports(
  cluster: string,
  key: string,
  claims: readonly Claim[],
  winner: Claim | undefined,
): Map<string, SlotItems> {
  const sourceKeys = claims.map((claim) => claim.sourceKey).sort(compareStrings);
  const outcome = winner === undefined ? 'none of them is sent' : 'the existing copy is kept as it is';
  const message = `copy ${key} in cluster ${cluster} is wanted by several sources (${sourceKeys.join(', ')}); ${outcome}`;
  const out = new Map<string, SlotItems>();
  for (const claim of claims) {
    const namespace = claimNamespace(claim);
    const item = {
      code: ErrorCode.CopyCollision,
      severity: Severity.Error,
      message,
      cluster,
      ...(namespace === undefined ? {} : { namespace }),
    };
    const entry = out.get(claim.sourceKey);
    if (entry === undefined) out.set(claim.sourceKey, { ref: claimSource(claim), items: [item] });
    else entry.items.push(item);
  }
  return out;
}
