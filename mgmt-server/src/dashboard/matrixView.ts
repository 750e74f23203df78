import { objectKey, Severity } from '@kuberelay/shared';
import { parseClusterFilter } from './clusterFilter.js';
import {
  addCount,
  clusterReader,
  type DashboardInput,
  type DashboardSource,
  severity,
  sortedCounts,
  worse,
} from './dashboardInput.js';

// The sources × clusters matrix. At 1,000 clusters one column per cluster is 1,000 columns no
// laptop shows and no person reads; what they ask at that size is "where are the failures".
// So past MAX_CLUSTER_COLUMNS matched clusters the columns become groups by name prefix
// (`prod-eu-17` → `prod-eu-*`): each cell is the group's worst result with its counts, a click on
// a group narrows the name filter to it, and under the threshold every cluster is its own column
// again. Grouping by the name's shape needs no configuration and follows how fleets are named
// (region, environment, index); a fleet named otherwise still gets one column per distinct prefix,
// capped at MAX_COLUMNS with the rest counted as hidden, never silently dropped.

export const MAX_CLUSTER_COLUMNS = 24;
export const MAX_COLUMNS = 60;
export const MAX_ROWS = 500;

export interface SourceSummary {
  readonly key: string;
  readonly group: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly distributeTo: string;
  readonly controls: Readonly<Record<string, string>>;
  /** Reports of the desired state (invalid annotation, unregistered cluster, collision ...). */
  readonly errors: number;
  readonly warnings: number;
}

export interface MatrixColumn {
  /** The cluster name, or the group's glob (`prod-eu-*`), usable as the name filter. */
  readonly id: string;
  readonly clusters: number;
  readonly connected: number;
}

export interface MatrixCell {
  /** The worst result among the cell's copies. */
  readonly result: string;
  readonly counts: Record<string, number>;
}

export interface MatrixRow {
  readonly source: SourceSummary;
  /** One per column; null where the source selects no cluster of the column. */
  readonly cells: readonly (MatrixCell | null)[];
  readonly counts: Record<string, number>;
}

export interface MatrixView {
  readonly generatedAt: string;
  readonly filter: string;
  readonly filterProblem: string | null;
  /** Columns are groups of clusters, not clusters. */
  readonly grouped: boolean;
  /** Clusters the filter matched. */
  readonly clusters: number;
  readonly columns: readonly MatrixColumn[];
  readonly rows: readonly MatrixRow[];
  /** Columns and rows past the caps, counted so the page can say so. */
  readonly hiddenColumns: number;
  readonly hiddenRows: number;
}

/** The group a cluster name falls in: its last `-`, `.` or `_` segment made a wildcard. */
export function groupOf(cluster: string): string {
  const cut = Math.max(cluster.lastIndexOf('-'), cluster.lastIndexOf('.'), cluster.lastIndexOf('_'));
  return cut <= 0 ? cluster : `${cluster.slice(0, cut + 1)}*`;
}

export function summarize(input: DashboardInput, source: DashboardSource): SourceSummary {
  const items = input.reports.get(source.key)?.items ?? [];
  return {
    key: source.key,
    group: source.ref.group,
    kind: source.ref.kind,
    namespace: source.ref.namespace ?? null,
    name: source.ref.name,
    distributeTo: source.distributeTo,
    controls: source.controls,
    errors: items.filter((i) => i.severity === Severity.Error).length,
    warnings: items.filter((i) => i.severity === Severity.Warning).length,
  };
}

export function buildMatrix(input: DashboardInput, filterText = ''): MatrixView {
  const filter = parseClusterFilter(filterText);
  const matched = input.clusters.filter((c) => !filter.ok || filter.matches(c.name));
  const grouped = matched.length > MAX_CLUSTER_COLUMNS;
  const columnIds: string[] = [];
  const columnOf = new Map<string, number>();
  const columnFacts: { clusters: number; connected: number }[] = [];
  // source key → column → counts by result
  const cells = new Map<string, Map<number, Map<string, number>>>();
  for (const cluster of matched) {
    const id = grouped ? groupOf(cluster.name) : cluster.name;
    let column = columnOf.get(id);
    if (column === undefined) {
      column = columnIds.length;
      columnIds.push(id);
      columnOf.set(id, column);
      columnFacts.push({ clusters: 0, connected: 0 });
    }
    const reader = clusterReader(cluster, input.serverInstance);
    const facts = columnFacts[column];
    if (facts !== undefined) {
      facts.clusters += 1;
      if (reader.connected) facts.connected += 1;
    }
    for (const copy of cluster.snapshot?.copies.values() ?? []) {
      const key = objectKey(copy.source);
      let bySource = cells.get(key);
      if (bySource === undefined) {
        bySource = new Map();
        cells.set(key, bySource);
      }
      let counts = bySource.get(column);
      if (counts === undefined) {
        counts = new Map();
        bySource.set(column, counts);
      }
      addCount(counts, reader.fact(copy.key, copy.hash).result);
    }
  }
  const shownColumns = Math.min(columnIds.length, MAX_COLUMNS);
  const rows: MatrixRow[] = [];
  for (const source of input.sources) {
    const bySource = cells.get(source.key);
    const total = new Map<string, number>();
    const row: (MatrixCell | null)[] = [];
    for (let column = 0; column < shownColumns; column += 1) {
      const counts = bySource?.get(column);
      if (counts === undefined) {
        row.push(null);
        continue;
      }
      let result: string | undefined;
      for (const [name, n] of counts) {
        result = result === undefined ? name : worse(result, name);
        addCount(total, name, n);
      }
      row.push({ result: result ?? 'Pending', counts: sortedCounts(counts) });
    }
    rows.push({ source: summarize(input, source), cells: row, counts: sortedCounts(total) });
  }
  // Worst rows first: with hundreds of sources, the ones that need a person come to the top.
  rows.sort((a, b) => worstOf(a) - worstOf(b) || (a.source.key < b.source.key ? -1 : 1));
  return {
    generatedAt: new Date(input.now).toISOString(),
    filter: filterText,
    filterProblem: filter.ok ? null : filter.problem,
    grouped,
    clusters: matched.length,
    columns: columnIds.slice(0, shownColumns).map((id, i) => ({
      id,
      clusters: columnFacts[i]?.clusters ?? 0,
      connected: columnFacts[i]?.connected ?? 0,
    })),
    rows: rows.slice(0, MAX_ROWS),
    hiddenColumns: columnIds.length - shownColumns,
    hiddenRows: Math.max(0, rows.length - MAX_ROWS),
  };
}

/** A row's rank: its worst result, and a source with errors counts as failed. */
function worstOf(row: MatrixRow): number {
  const ranks = Object.keys(row.counts).map(severity);
  if (row.source.errors > 0) ranks.push(severity('Failed'));
  return ranks.length === 0 ? severity('Applied') + 1 : Math.min(...ranks);
}
