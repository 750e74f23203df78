import { objectKey } from '@kuberelay/shared';
import { parseClusterFilter } from './clusterFilter.js';
import {
  addCount,
  clusterReader,
  type DashboardCluster,
  type DashboardInput,
  ExtraResult,
  severity,
  sortedCounts,
} from './dashboardInput.js';
import type { RejectedAttempt } from './recentActivity.js';

// The fleet page (one row per cluster) and a cluster's page (its copies), built from plain
// values. Pure: the same input gives the same JSON, which is what the unit tests pin.

export interface ClusterRow {
  readonly name: string;
  /** A replica (this one or another) holds a live stream of the cluster's agent. */
  readonly connected: boolean;
  /** `<namespace>/<pod>` of the replica holding the stream. */
  readonly heldBy: string | null;
  readonly agentVersion: string | null;
  readonly agentPod: string | null;
  /** Agent replicas alive, as its leader last said (0 while disconnected). */
  readonly agentReplicas: number;
  /** ISO time. */
  readonly lastHeartbeat: string | null;
  readonly connectedSince: string | null;
  /** Stream version numbers (per stream, not global): last sent, last acknowledged. */
  readonly sentVersion: number | null;
  readonly ackedVersion: number | null;
  /** The agent acknowledged the cluster's current desired state. */
  readonly upToDate: boolean;
  /** Seconds since the desired state first differed from what was acknowledged; null if unknown. */
  readonly behindSeconds: number | null;
  /** Desired copies. */
  readonly copies: number;
  /** Copies by result (orphans included as Orphan), only the results that occur. */
  readonly counts: Record<string, number>;
  /** The last version the agent refused (Nack), if any. */
  readonly lastRejected: { readonly version: number; readonly message: string; readonly at: string } | null;
}

export interface FleetView {
  readonly generatedAt: string;
  readonly filter: string;
  /** Why the filter text is not a glob (then every cluster is shown). */
  readonly filterProblem: string | null;
  readonly totals: {
    readonly clusters: number;
    readonly connected: number;
    readonly upToDate: number;
    readonly counts: Record<string, number>;
  };
  /** The clusters the filter matches, in name order. */
  readonly clusters: readonly ClusterRow[];
}

export interface ClusterCopyRow {
  readonly key: string;
  /** objectKey of the source; null for an orphan (its source is gone). */
  readonly source: string | null;
  readonly result: string;
  readonly code: string | null;
  readonly message: string | null;
  /**
   * Drift repairs the agent made of the copy since it started, and when the last one was (ISO);
   * null when not known (a cluster held by another replica: its status does not carry them).
   */
  readonly repairs: { readonly count: number; readonly last: string } | null;
}

export interface ClusterPage {
  readonly generatedAt: string;
  readonly cluster: ClusterRow;
  /** Worst result first, then by key. */
  readonly copies: readonly ClusterCopyRow[];
  /** Streams this replica refused that claimed to be this cluster, newest first. */
  readonly rejected: readonly RejectedAttempt[];
}

export function buildFleet(input: DashboardInput, filterText = ''): FleetView {
  const filter = parseClusterFilter(filterText);
  const matches = filter.ok ? filter.matches : () => true;
  const totalCounts = new Map<string, number>();
  let connected = 0;
  let upToDate = 0;
  const rows: ClusterRow[] = [];
  for (const cluster of input.clusters) {
    const row = clusterRow(input, cluster).row;
    if (row.connected) connected += 1;
    if (row.upToDate) upToDate += 1;
    for (const [result, n] of Object.entries(row.counts)) addCount(totalCounts, result, n);
    if (matches(cluster.name)) rows.push(row);
  }
  return {
    generatedAt: new Date(input.now).toISOString(),
    filter: filterText,
    filterProblem: filter.ok ? null : filter.problem,
    totals: { clusters: input.clusters.length, connected, upToDate, counts: sortedCounts(totalCounts) },
    clusters: rows,
  };
}

/** The page of cluster `name`, or undefined when it is not registered. */
export function buildClusterPage(input: DashboardInput, name: string): ClusterPage | undefined {
  const cluster = input.clusters.find((c) => c.name === name);
  if (cluster === undefined) return undefined;
  const { row, copies } = clusterRow(input, cluster);
  copies.sort(
    (a, b) => severity(a.result) - severity(b.result) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return {
    generatedAt: new Date(input.now).toISOString(),
    cluster: row,
    copies,
    rejected: input.rejected(name),
  };
}

function clusterRow(
  input: DashboardInput,
  cluster: DashboardCluster,
): { row: ClusterRow; copies: ClusterCopyRow[] } {
  const reader = clusterReader(cluster, input.serverInstance);
  const counts = new Map<string, number>();
  const copies: ClusterCopyRow[] = [];
  for (const copy of cluster.snapshot?.copies.values() ?? []) {
    const fact = reader.fact(copy.key, copy.hash);
    addCount(counts, fact.result);
    copies.push({
      key: copy.key,
      source: objectKey(copy.source),
      ...fact,
      repairs: repairsOf(cluster, copy.key),
    });
  }
  for (const orphan of reader.orphans()) {
    // An orphan is a result for a key no longer desired; a desired key with PruneFailed is not one.
    if (cluster.snapshot?.copies.has(orphan.key) === true) continue;
    addCount(counts, ExtraResult.orphan);
    copies.push({
      key: orphan.key,
      source: null,
      result: ExtraResult.orphan,
      code: orphan.code || null,
      message: orphan.message || null,
      repairs: null,
    });
  }
  return {
    row: {
      name: cluster.name,
      ...streamFacts(input, cluster, reader.connected, reader.heldBy),
      copies: cluster.snapshot?.copies.size ?? 0,
      counts: sortedCounts(counts),
    },
    copies,
  };
}

/** What this replica's stream heard of a copy's drift repairs (the agent counts them). */
function repairsOf(cluster: DashboardCluster, key: string): ClusterCopyRow['repairs'] {
  const result = cluster.agent?.connected === true ? cluster.agent.results.get(key) : undefined;
  if (result?.repairs === undefined || result.repairs === 0) return null;
  return { count: result.repairs, last: new Date(result.lastRepairMs ?? 0).toISOString() };
}

type StreamFacts = Omit<ClusterRow, 'name' | 'copies' | 'counts'>;

/** What a row says of the stream: this replica's memory when it knows the agent, else status. */
function streamFacts(
  input: DashboardInput,
  cluster: DashboardCluster,
  connected: boolean,
  heldBy: string | null,
): StreamFacts {
  const { agent, status, snapshot } = cluster;
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  if (agent !== undefined && (agent.connected || !connected)) {
    return {
      connected,
      heldBy: agent.connected ? heldBy : null,
      agentVersion: agent.agentVersion,
      agentPod: agent.agentPod,
      agentReplicas: agent.connected ? agent.agentReplicas : 0,
      lastHeartbeat: iso(agent.lastHeartbeatAt),
      connectedSince: agent.connected ? iso(agent.connectedAt) : null,
      sentVersion: agent.sentVersion ?? null,
      ackedVersion: agent.ackedVersion ?? null,
      upToDate: agent.connected && snapshot !== undefined && agent.ackedDigest === snapshot.digest,
      behindSeconds:
        agent.behindSince === undefined
          ? agent.connected
            ? 0
            : null
          : Math.max(0, input.now - agent.behindSince) / 1000,
      lastRejected:
        agent.lastRejected === undefined
          ? null
          : {
              version: agent.lastRejected.version,
              message: agent.lastRejected.message,
              at: new Date(agent.lastRejected.at).toISOString(),
            },
    };
  }
  const number = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));
  return {
    connected,
    heldBy,
    agentVersion: status?.agentVersion || null,
    agentPod: status?.agentPod || null,
    agentReplicas: connected ? (status?.agentReplicas ?? 1) : 0,
    lastHeartbeat: status?.lastHeartbeat || null,
    connectedSince: connected ? status?.connectedSince || null : null,
    sentVersion: number(status?.sentVersion),
    ackedVersion: number(status?.ackedVersion),
    upToDate: connected && status?.conditions?.find((c) => c.type === 'UpToDate')?.status === 'True',
    behindSeconds: null,
    lastRejected:
      status?.lastRejectedAttempt === undefined
        ? null
        : {
            version: Number(status.lastRejectedAttempt.version),
            message: status.lastRejectedAttempt.message,
            at: status.lastRejectedAttempt.time,
          },
  };
}
