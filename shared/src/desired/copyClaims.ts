import type { KubeObject } from '../copy/kubeObject.js';
import type { RegisteredClusters, Target } from '../distributeTo/selectTargets.js';
import { ErrorCode } from '../errors/errorCode.js';
import { objectKey, type SourceRef } from '../source/objectRef.js';
import { compareStrings } from '../util/compare.js';
import type { DesiredCopy, DesiredState } from './desiredState.js';
import { Severity } from './desiredState.js';
import type { ReportCollector } from './reportCollector.js';

// Who wants which copy key in which cluster: fresh claims of valid sources, held claims of copies
// kept for invalid sources, and the resolution of collisions (two sources, one copy key).

/** A valid source and where its copies go. */
export interface SourcePlan {
  readonly key: string;
  readonly ref: SourceRef;
  readonly source: KubeObject;
  readonly targets: readonly Target[];
  readonly overwrite: boolean;
}

/**
 * A claim on one copy key. One object per (valid source, target namespace), shared by every
 * cluster that selects it, or one per kept copy. `rank` is the key's position in the sorted list
 * of all keys, so each cluster's copies are ordered by comparing numbers.
 */
export type Claim = FreshClaim | HeldClaim;

interface ClaimBase {
  readonly key: string;
  readonly sourceKey: string;
  rank: number;
}

export interface FreshClaim extends ClaimBase {
  readonly type: 'fresh';
  readonly plan: SourcePlan;
  readonly namespace: string | undefined;
}

export interface HeldClaim extends ClaimBase {
  readonly type: 'held';
  readonly copy: DesiredCopy;
}

/** Per cluster, per copy key: the claim, or the claims when several sources want the key. */
export type ClusterClaims = Map<string, Claim | Claim[]>;

export interface Claims {
  readonly byCluster: Map<string, ClusterClaims>;
  /** For every claiming source, the copy keys (and their namespaces) it may occupy. */
  readonly landing: LandingIndex;
}

/** sourceKey → the (namespace, copy key) pairs of its claims, sorted by namespace. */
export type LandingIndex = ReadonlyMap<
  string,
  readonly { readonly namespace: string; readonly key: string }[]
>;

/** Previous copies of held sources, in clusters that are still registered. */
export function heldCopies(
  held: ReadonlySet<string>,
  previous: DesiredState | undefined,
  clusters: RegisteredClusters,
): DesiredCopy[] {
  if (held.size === 0 || previous === undefined) {
    return [];
  }
  const kept: DesiredCopy[] = [];
  for (const [cluster, copies] of previous.clusters) {
    if (clusters.has(cluster)) {
      for (const copy of copies.values()) {
        if (held.has(objectKey(copy.source))) {
          kept.push(copy);
        }
      }
    }
  }
  return kept;
}

export function collectClaims(
  plans: readonly SourcePlan[],
  kept: readonly DesiredCopy[],
  clusters: RegisteredClusters,
): Claims {
  const byCluster = new Map<string, ClusterClaims>(clusters.names.map((cluster) => [cluster, new Map()]));
  const all: Claim[] = [];
  const add = (cluster: string, claim: Claim) => {
    const perCluster = byCluster.get(cluster);
    const existing = perCluster?.get(claim.key);
    if (existing === undefined) {
      perCluster?.set(claim.key, claim);
    } else if (Array.isArray(existing)) {
      existing.push(claim);
    } else {
      perCluster?.set(claim.key, [existing, claim]);
    }
  };
  for (const plan of plans) {
    const claimsByNamespace = new Map<string, FreshClaim>();
    for (const { cluster, namespace } of plan.targets) {
      let claim = claimsByNamespace.get(namespace ?? '');
      if (claim === undefined) {
        const key = objectKey({ ...plan.ref, namespace });
        claim = { type: 'fresh', key, sourceKey: plan.key, plan, namespace, rank: 0 };
        claimsByNamespace.set(namespace ?? '', claim);
        all.push(claim);
      }
      add(cluster, claim);
    }
  }
  for (const copy of kept) {
    const claim: HeldClaim = {
      type: 'held',
      key: copy.key,
      sourceKey: objectKey(copy.source),
      copy,
      rank: 0,
    };
    all.push(claim);
    add(copy.cluster, claim);
  }
  return { byCluster, landing: rankAndIndex(all) };
}

/** Sets every claim's rank and indexes where each source may land. */
function rankAndIndex(all: readonly Claim[]): LandingIndex {
  const keys = [...new Set(all.map((claim) => claim.key))].sort(compareStrings);
  const ranks = new Map(keys.map((key, i) => [key, i]));
  const landing = new Map<string, Map<string, { namespace: string; key: string }>>();
  for (const claim of all) {
    claim.rank = ranks.get(claim.key) ?? 0;
    const namespace = claimNamespace(claim) ?? '';
    let entries = landing.get(claim.sourceKey);
    if (entries === undefined) {
      entries = new Map();
      landing.set(claim.sourceKey, entries);
    }
    entries.set(namespace, { namespace, key: claim.key });
  }
  return new Map(
    [...landing].map(([sourceKey, entries]) => [
      sourceKey,
      [...entries.values()].sort((a, b) => compareStrings(a.namespace, b.namespace)),
    ]),
  );
}

export function claimNamespace(claim: Claim): string | undefined {
  return claim.type === 'fresh' ? claim.namespace : claim.copy.object.metadata.namespace;
}

export function claimSource(claim: Claim): SourceRef {
  return claim.type === 'fresh' ? claim.plan.ref : claim.copy.source;
}

/**
 * Leaves one claim per key in every cluster, in place: a collision is replaced by the previous
 * copy of one of the claimants if there was one, else removed. Each collision is reported on every
 * claimant.
 */
export function resolveCollisions(
  claims: Claims,
  previous: DesiredState | undefined,
  reports: ReportCollector,
): void {
  for (const [cluster, byKey] of claims.byCluster) {
    for (const [key, claimed] of byKey) {
      if (!Array.isArray(claimed)) {
        continue;
      }
      const sourceKeys = claimed.map((claim) => claim.sourceKey).sort(compareStrings);
      const before = previous?.clusters.get(cluster)?.get(key);
      const keep = before !== undefined && sourceKeys.includes(objectKey(before.source)) ? before : undefined;
      const rank = claimed[0]?.rank ?? 0;
      if (keep === undefined) {
        byKey.delete(key);
      } else {
        byKey.set(key, { type: 'held', key, sourceKey: objectKey(keep.source), copy: keep, rank });
      }
      const outcome = keep === undefined ? 'none of them is sent' : 'the existing copy is kept as it is';
      for (const claim of claimed) {
        const namespace = claimNamespace(claim);
        reports.add(claimSource(claim), {
          code: ErrorCode.CopyCollision,
          severity: Severity.Error,
          message: `copy ${key} in cluster ${cluster} is wanted by several sources (${sourceKeys.join(', ')}); ${outcome}`,
          cluster,
          ...(namespace === undefined ? {} : { namespace }),
        });
      }
    }
  }
}
