import type { CopyResult } from '@kuberelay/proto';
import {
  type ClusterCopies,
  type CopyStatus,
  ErrorCode,
  type KubernetesClusterStatus,
  type SourceRef,
  type SourceReport,
} from '@kuberelay/shared';
import type { RolloutSummary } from '../rollout/rolloutController.js';
import { type AgentState, copyOutcome } from '../status/buildClusterStatus.js';
import type { RecentEvent, RejectedAttempt } from './recentActivity.js';

// What the dashboard's pure views (fleetView, matrixView, sourceView) read: plain values taken
// from the server's own memory (snapshot cache, status reporter, informers) by dashboardState.ts.
// Nothing here does I/O, so a page view costs no request to the management API server.

/**
 * Result names shown for a copy. Open on purpose (`string`, not a closed union): the agent's
 * outcomes come from `copyOutcome` (CopyOutcomeName), which grows (Drifted and Paused are being
 * added), and a name this file does not know must still be shown, not dropped.
 */
export const ExtraResult = {
  /** No longer desired, and its agent could not delete it (PruneFailed). */
  orphan: 'Orphan',
  /** No replica holds a stream of the cluster's agent: nothing is known of its copies now. */
  notConnected: 'NotConnected',
  /** Held by another replica whose status lists only part of the copies (at most 500). */
  unknown: 'Unknown',
} as const;

/** One cluster's agent as this replica's ClusterStatusReporter holds it. */
export interface DashboardAgent extends AgentState {
  /** Since when (ms) its desired state differed from what it acknowledged; undefined: up to date. */
  readonly behindSince: number | undefined;
}

export interface DashboardCluster {
  readonly name: string;
  /** Its desired copies now (undefined only before the first desired state). */
  readonly snapshot: { readonly copies: ClusterCopies; readonly digest: string } | undefined;
  /** Set when this replica holds (or held) the cluster's stream. */
  readonly agent: DashboardAgent | undefined;
  /** Its KubernetesCluster status as last watched: what the replica holding it wrote. */
  readonly status: KubernetesClusterStatus | undefined;
}

export interface DashboardSource {
  readonly ref: SourceRef;
  /** objectKey(ref): how copies, reports and URLs name the source. */
  readonly key: string;
  /** The `gloo.solo.io/distribute-to` annotation as written. */
  readonly distributeTo: string;
  /** Its other `kuberelay.dev/` annotations (paused, drift, ignore-fields, conflict-resolution ...). */
  readonly controls: Readonly<Record<string, string>>;
}

export interface DashboardInput {
  /** ms since the epoch. */
  readonly now: number;
  /** `<pod>/<start id>` of this replica: tells a cluster held here from one held elsewhere. */
  readonly serverInstance: string;
  /** Registered clusters, in name order. */
  readonly clusters: readonly DashboardCluster[];
  /** Annotated sources, in key order. */
  readonly sources: readonly DashboardSource[];
  /** The desired state's reports (errors and warnings per source), by source key. */
  readonly reports: ReadonlyMap<string, SourceReport>;
  /** Events this replica recorded on a source (by source key), newest first. */
  readonly events: (sourceKey: string) => readonly RecentEvent[];
  /** Streams this replica refused that claimed to be a cluster, newest first. */
  readonly rejected: (cluster: string) => readonly RejectedAttempt[];
  /** Where a source's rollout stands (kuberelay.dev/rollout), by source key; undefined without. */
  readonly rollout: (sourceKey: string) => RolloutSummary | undefined;
}

/** What is known of one desired copy in one cluster. */
export interface CopyFact {
  readonly result: string;
  readonly code: string | null;
  readonly message: string | null;
}

/** How one cluster's copies are read: from this replica's memory, another's status, or not at all. */
export interface ClusterReader {
  readonly connected: boolean;
  /** `<namespace>/<pod>` of the replica holding the stream, when one does. */
  readonly heldBy: string | null;
  fact(key: string, hash: string): CopyFact;
  /** Copies no longer desired that the agent could not delete. */
  orphans(): readonly { readonly key: string; readonly code: string; readonly message: string }[];
}

/**
 * The reader for a cluster. A stream held here is the freshest truth (the reporter's results); a
 * stream held by another replica is read from the status that replica writes; otherwise every
 * copy is NotConnected (the reporter drops a disconnected agent's results, and so does status).
 */
export function clusterReader(cluster: DashboardCluster, serverInstance: string): ClusterReader {
  const { agent, status } = cluster;
  if (agent?.connected === true) return heldHere(agent, status?.connectedPod ?? null);
  if (status?.connected === true && status.serverInstance !== serverInstance) return heldElsewhere(status);
  return {
    connected: false,
    heldBy: null,
    fact: () => ({ result: ExtraResult.notConnected, code: null, message: null }),
    orphans: () => [],
  };
}

function heldHere(agent: DashboardAgent, pod: string | null): ClusterReader {
  return {
    connected: true,
    heldBy: pod,
    fact: (key, hash) => factOf(agent.results.get(key), hash),
    orphans: () => {
      const orphans: { key: string; code: string; message: string }[] = [];
      for (const result of agent.results.values()) {
        if (result.code === ErrorCode.PruneFailed) orphans.push(result);
      }
      return orphans;
    },
  };
}

function heldElsewhere(status: KubernetesClusterStatus): ClusterReader {
  const byKey = new Map<string, CopyStatus>((status.copies ?? []).map((c) => [c.key, c]));
  return {
    connected: true,
    heldBy: status.connectedPod ?? null,
    fact: (key) => {
      const copy = byKey.get(key);
      if (copy === undefined) return { result: ExtraResult.unknown, code: null, message: null };
      return { result: copy.outcome, code: copy.code ?? null, message: copy.message ?? null };
    },
    orphans: () =>
      (status.copies ?? [])
        .filter((c) => c.code === ErrorCode.PruneFailed && c.source === undefined)
        .map((c) => ({ key: c.key, code: c.code ?? '', message: c.message ?? '' })),
  };
}

function factOf(result: CopyResult | undefined, hash: string): CopyFact {
  const outcome = copyOutcome(result, hash);
  // A result for older content says nothing about the copy now: no reason to show.
  const current = result !== undefined && result.hash === hash;
  return {
    result: outcome,
    code: current && result.code !== '' ? result.code : null,
    message: current && result.message !== '' ? result.message : null,
  };
}

/**
 * Results from the worst to the best, for a cell holding several copies and for sorting. A name
 * not listed (one added after this file) ranks after Conflict and before Pending: unknown news is
 * worth a look, but is not assumed to be a failure.
 */
const SEVERITY: readonly string[] = [
  'Failed',
  'Conflict',
  ExtraResult.orphan,
  'Drifted',
  ExtraResult.notConnected,
  ExtraResult.unknown,
  'Pending',
  'Paused',
  'Applied',
];
const UNLISTED_RANK = SEVERITY.indexOf('Drifted');

export function severity(result: string): number {
  const i = SEVERITY.indexOf(result);
  return i < 0 ? UNLISTED_RANK : i;
}

/** The worse of two results (the first on a tie). */
export function worse(a: string, b: string): string {
  return severity(b) < severity(a) ? b : a;
}

/** Counts by result name, only the names that occur, in severity order. */
export function sortedCounts(counts: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of [...counts.keys()].sort((a, b) => severity(a) - severity(b) || (a < b ? -1 : 1))) {
    out[name] = counts.get(name) ?? 0;
  }
  return out;
}

export function addCount(counts: Map<string, number>, result: string, n = 1): void {
  counts.set(result, (counts.get(result) ?? 0) + n);
}
