import type { KubernetesClusterStatus, RejectedAgentRecord } from '@kuberelay/shared';
import type { Health } from './render.js';
import type { ServerReplica } from './serverLeases.js';

// The shapes of `relayctl check`: what it reads (CheckInput) and the report it prints or emits as
// JSON (CheckReport, a stable contract: fields are only ever added). On their own so the JSON
// contract can be read in one place, apart from the logic that fills it.

export const ReadyzState = { ready: 'ready', notReady: 'not-ready', unreachable: 'unreachable' } as const;
export type ReadyzState = (typeof ReadyzState)[keyof typeof ReadyzState];

export interface ReadyzResult {
  readonly url: string;
  readonly state: ReadyzState;
  /** `HTTP 200`, or why it could not be reached. */
  readonly detail: string;
}

export interface ClusterObservation {
  readonly name: string;
  readonly status: KubernetesClusterStatus | undefined;
}

/** One key of the rejected-agents ConfigMap, as decoded by the shared codec. */
export type RejectedObservation = RejectedAgentRecord;

export interface CheckInput {
  readonly context: string;
  readonly namespace: string;
  readonly now: Date;
  readonly namespaceExists: boolean;
  readonly replicas: readonly ServerReplica[];
  /** By Lease name; only fresh replicas with an http-address are probed. */
  readonly readyz: ReadonlyMap<string, ReadyzResult>;
  readonly clusters: readonly ClusterObservation[];
  readonly rejected: readonly RejectedObservation[];
}

export interface Finding {
  readonly health: Health;
  readonly message: string;
}

export const SectionId = { server: 'server', connectivity: 'connectivity', rejected: 'rejected' } as const;
export type SectionId = (typeof SectionId)[keyof typeof SectionId];

export interface CheckSection {
  readonly id: SectionId;
  readonly title: string;
  readonly health: Health;
  readonly findings: readonly Finding[];
}

export interface ReplicaReport {
  readonly pod: string;
  readonly lease: string;
  readonly holder: string | null;
  readonly renewTime: string | null;
  readonly renewedSecondsAgo: number | null;
  readonly fresh: boolean;
  readonly grpcAddress: string | null;
  readonly httpAddress: string | null;
  readonly mgmtCluster: string | null;
  /** Another live process renews this Lease too (the same --pod-name twice). */
  readonly sharedWith: string | null;
  readonly readyz: ReadyzResult | null;
}

export interface ClusterReport {
  readonly name: string;
  readonly registered: true;
  /**
   * Connected as far as relayctl can verify: status says so, the replica holding the stream has
   * a fresh Lease held by the same process that wrote the status, its /readyz answers (when
   * probed), and the heartbeat in status is recent.
   */
  readonly connected: boolean;
  /** `status.connected` as the server last wrote it. */
  readonly reportedConnected: boolean;
  /** Why a cluster whose status says connected is not counted as connected; null otherwise. */
  readonly notConnectedReason: string | null;
  readonly connectedPod: string | null;
  /** `<pod>/<start id>` of the server process that wrote the status (null: an older server). */
  readonly serverInstance: string | null;
  readonly agentVersion: string | null;
  readonly agentPod: string | null;
  /** Agent replicas alive, as the cluster's agent leader last said (null: an older server). */
  readonly agentReplicas: number | null;
  readonly lastHeartbeat: string | null;
  readonly sentVersion: string | null;
  readonly ackedVersion: string | null;
  /** The UpToDate condition: null when absent or Unknown. */
  readonly upToDate: boolean | null;
  /** Connected, distribution on, and the agent has not acknowledged the current desired state. */
  readonly behind: boolean;
  readonly counts: {
    applied: number;
    failed: number;
    conflict: number;
    pending: number;
    /** 0 when the status comes from a server that did not count warnings yet. */
    warnings: number;
    /** Copies whose source is gone and whose delete failed (the agent retries); 0 from older servers. */
    notPruned: number;
  } | null;
}

export interface ConnectedPodReport {
  readonly pod: string;
  readonly clusters: readonly string[];
}

export interface RejectedReport {
  readonly cluster: string;
  readonly registered: boolean;
  readonly lastAttempt: string | null;
  readonly reason: string | null;
  readonly code: string | null;
  readonly peer: string | null;
  readonly count: number | null;
}

/**
 * `relayctl check -o json`. Stable: fields are only ever added. Absent values are null, never
 * missing. `ok` is true exactly when the exit code is 0.
 */
export interface CheckReport {
  readonly kind: 'RelayctlCheck';
  readonly schemaVersion: 1;
  readonly context: string;
  readonly namespace: string;
  readonly checkedAt: string;
  readonly ok: boolean;
  readonly health: Health;
  readonly server: { readonly health: Health; readonly replicas: readonly ReplicaReport[] };
  readonly clusters: readonly ClusterReport[];
  readonly connectedPods: readonly ConnectedPodReport[];
  readonly rejectedAgents: readonly RejectedReport[];
  readonly sections: readonly CheckSection[];
}
