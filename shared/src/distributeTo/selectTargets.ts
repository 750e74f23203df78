import { compareStrings } from '../util/compare.js';
import type { ClusterMatcher } from './clusterMatcher.js';
import type { DistributeTo } from './parseDistributeTo.js';

/**
 * The registered clusters, sorted and deduplicated once and shared by every selection of one
 * computation. Immutable, which is what makes `matching` safe to memoize.
 */
export interface RegisteredClusters {
  /** Sorted by code unit, unique. */
  readonly names: readonly string[];
  has(cluster: string): boolean;
  /** Position of `cluster` in `names`, or -1 when it is not registered. */
  indexOf(cluster: string): number;
  /**
   * The registered clusters `matcher` matches, in name order. Memoized by pattern (a pattern always
   * compiles to the same matcher), so `*` is matched against thousands of names once, not once per
   * source.
   */
  matching(matcher: ClusterMatcher): readonly string[];
}

export function registeredClusters(names: Iterable<string>): RegisteredClusters {
  const sorted = Object.freeze([...new Set(names)].sort(compareStrings));
  const positions = new Map(sorted.map((name, i) => [name, i]));
  const memo = new Map<string, readonly string[]>();
  const matching = (matcher: ClusterMatcher): readonly string[] => {
    let matched = memo.get(matcher.pattern);
    if (matched === undefined) {
      matched = Object.freeze(
        matcher.literalOnly
          ? matcher.literals.filter((name) => positions.has(name)).sort(compareStrings)
          : sorted.filter((name) => matcher.matches(name)),
      );
      memo.set(matcher.pattern, matched);
    }
    return matched;
  };
  return Object.freeze({
    names: sorted,
    has: (cluster: string) => positions.has(cluster),
    indexOf: (cluster: string) => positions.get(cluster) ?? -1,
    matching,
  });
}

/** Where one copy goes. `namespace` is undefined for a cluster-scoped kind. */
export interface Target {
  readonly cluster: string;
  readonly namespace: string | undefined;
}

export interface TargetSelection {
  /** Unique, sorted by cluster then namespace. Only registered clusters. */
  readonly targets: readonly Target[];
  /** Names spelled out in the value (in an inclusion or an exclusion) that are not registered,
   * sorted. Exclusions count too: `!prod-eu1` for `prod-eu` is a typo an operator wants to see. */
  readonly unregistered: readonly string[];
}

export interface SelectTargetsOptions {
  readonly clusters: RegisteredClusters;
  /** The source's namespace: the target namespace of entries without one. Undefined for a
   * cluster-scoped source. */
  readonly sourceNamespace: string | undefined;
}

/**
 * Applies a parsed distribute-to value to the registered clusters (docs/spec.md §2): the union of the
 * inclusions, minus every cluster matching any exclusion, one target per (cluster, namespace).
 */
export function selectTargets(parsed: DistributeTo, options: SelectTargetsOptions): TargetSelection {
  const { clusters, sourceNamespace } = options;
  const excluded = new Set(parsed.excludes.flatMap((matcher) => clusters.matching(matcher)));
  // Per target namespace, the positions of the selected clusters: sorting numbers is cheaper than
  // sorting names, and positions follow name order.
  const byNamespace = new Map<string, { namespace: string | undefined; positions: Set<number> }>();
  for (const include of parsed.includes) {
    const namespace = include.namespace ?? sourceNamespace;
    const nsKey = namespace ?? '';
    let group = byNamespace.get(nsKey);
    if (group === undefined) {
      group = { namespace, positions: new Set() };
      byNamespace.set(nsKey, group);
    }
    for (const cluster of clusters.matching(include.matcher)) {
      if (!excluded.has(cluster)) {
        group.positions.add(clusters.indexOf(cluster));
      }
    }
  }
  const groups = [...byNamespace.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([, group]) => group);
  const ranked: { position: number; rank: number; target: Target }[] = [];
  groups.forEach(({ namespace, positions }, rank) => {
    for (const position of positions) {
      ranked.push({ position, rank, target: { cluster: clusters.names[position] ?? '', namespace } });
    }
  });
  ranked.sort((a, b) => a.position - b.position || a.rank - b.rank);
  return { targets: ranked.map(({ target }) => target), unregistered: unregisteredNames(parsed, clusters) };
}

/** Names spelled out in `parsed` (inclusions and exclusions) that are not registered, sorted. */
export function unregisteredNames(parsed: DistributeTo, clusters: RegisteredClusters): string[] {
  const unregistered = new Set<string>();
  for (const matcher of [...parsed.includes.map((include) => include.matcher), ...parsed.excludes]) {
    for (const name of matcher.literals) {
      if (!clusters.has(name)) {
        unregistered.add(name);
      }
    }
  }
  return [...unregistered].sort(compareStrings);
}
