import { objectKey, type ReportItem } from '@kuberelay/shared';
import type { RolloutSummary } from '../rollout/rolloutController.js';
import { addCount, clusterReader, type DashboardInput, severity, sortedCounts } from './dashboardInput.js';
import { type SourceSummary, summarize } from './matrixView.js';
import type { RecentEvent } from './recentActivity.js';

// A source's page: what its annotation selects (the copies the desired state holds for it, per
// cluster and namespace), each copy's result and reason, and the desired state's reports about
// it (the same findings its Warning Events are recorded from).

export interface SourceCopyRow {
  readonly cluster: string;
  /** The copy's namespace; null for a cluster-scoped kind. */
  readonly namespace: string | null;
  readonly key: string;
  readonly result: string;
  readonly code: string | null;
  readonly message: string | null;
}

export interface SourcePage {
  readonly generatedAt: string;
  readonly source: SourceSummary;
  /** Clusters with at least one copy, in name order. */
  readonly clusters: readonly string[];
  /** Namespaces the copies land in, sorted. */
  readonly namespaces: readonly string[];
  readonly counts: Record<string, number>;
  /** Worst result first, then by cluster and key. */
  readonly copies: readonly SourceCopyRow[];
  readonly reports: readonly ReportItem[];
  /** The Events this replica recorded on the source since it started, newest first. */
  readonly events: readonly RecentEvent[];
  /** Its rollout's progress (kuberelay.dev/rollout, docs/spec.md D10.5), or null without one. */
  readonly rollout: {
    readonly revision: string;
    readonly waves: string;
    readonly phase: string;
    readonly reason: string;
    /** Per wave (the implicit last one included when not empty): its clusters, and whether reached. */
    readonly byWave: readonly {
      readonly wave: string;
      readonly clusters: readonly string[];
      readonly reached: boolean;
    }[];
    readonly soakUntil: string | null;
  } | null;
}

/** The page of the source `key` (objectKey), or undefined when no annotated source has it. */
export function buildSourcePage(input: DashboardInput, key: string): SourcePage | undefined {
  const source = input.sources.find((s) => s.key === key);
  if (source === undefined) return undefined;
  const copies: SourceCopyRow[] = [];
  const counts = new Map<string, number>();
  for (const cluster of input.clusters) {
    const reader = clusterReader(cluster, input.serverInstance);
    for (const copy of cluster.snapshot?.copies.values() ?? []) {
      if (objectKey(copy.source) !== key) continue;
      const fact = reader.fact(copy.key, copy.hash);
      addCount(counts, fact.result);
      copies.push({
        cluster: cluster.name,
        namespace: copy.object.metadata.namespace ?? null,
        key: copy.key,
        ...fact,
      });
    }
  }
  copies.sort(
    (a, b) =>
      severity(a.result) - severity(b.result) ||
      (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return {
    generatedAt: new Date(input.now).toISOString(),
    source: summarize(input, source),
    clusters: [...new Set(copies.map((c) => c.cluster))].sort(),
    namespaces: [...new Set(copies.flatMap((c) => (c.namespace === null ? [] : [c.namespace])))].sort(),
    counts: sortedCounts(counts),
    copies,
    reports: input.reports.get(key)?.items ?? [],
    events: input.events(key),
    rollout: rolloutOf(input.rollout(key)),
  };
}

function rolloutOf(summary: RolloutSummary | undefined): SourcePage['rollout'] {
  if (summary === undefined) return null;
  const last = summary.clusters.length - 1;
  return {
    revision: summary.revision,
    waves: summary.waves,
    phase: summary.phase,
    reason: summary.reason,
    byWave: summary.clusters.flatMap((clusters, i) =>
      clusters.length === 0 && i === last
        ? []
        : [{ wave: i === last ? 'last' : String(i + 1), clusters, reached: i < summary.admitted }],
    ),
    soakUntil: summary.soakUntil === undefined ? null : new Date(summary.soakUntil).toISOString(),
  };
}
