/**
 * `KubernetesCluster.status` as the management server writes it and relayctl reads it
 * (deploy/charts/kuberelay/crds/admin.gloo.solo.io_kubernetesclusters.yaml is the schema).
 */

export const CopyOutcomeName = {
  applied: 'Applied',
  failed: 'Failed',
  conflict: 'Conflict',
  /** Differs from its source; the source says `kuberelay.dev/drift: report` (docs/spec.md D10.2). */
  drifted: 'Drifted',
  /** Its source is paused: nothing is written (docs/spec.md D10.1). */
  paused: 'Paused',
  pending: 'Pending',
} as const;
export type CopyOutcomeName = (typeof CopyOutcomeName)[keyof typeof CopyOutcomeName];

/**
 * One copy in `status.copies`. `code` and `message` are set for failures, conflicts, drifted and
 * paused copies, and for an applied copy with a warning (code FieldsPrunedByWorkloadSchema, FieldsChangedByWorkloadServer).
 */
export interface CopyStatus {
  readonly key: string;
  readonly source?: string;
  /** The content hash of the desired copy the outcome is about (absent from older servers). */
  readonly hash?: string;
  readonly outcome: CopyOutcomeName;
  readonly code?: string;
  readonly message?: string;
}

export interface ClusterCondition {
  readonly type: 'Connected' | 'UpToDate';
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface KubernetesClusterStatus {
  readonly connected?: boolean;
  /** `<namespace>/<pod>` of the server replica holding the stream; '' when disconnected. */
  readonly connectedPod?: string;
  /**
   * `<pod>/<start id>` of the server process holding the stream (its Lease's holderIdentity);
   * '' when disconnected. A pod restarted under the same name is a new instance, so a status
   * its predecessor wrote is never read as current (docs/design.md "Status").
   */
  readonly serverInstance?: string;
  /**
   * When the holder's stream started (RFC 3339, the holder's clock); '' when disconnected. Lets a
   * replica that still believes it holds a stream the agent left tell that a newer one exists
   * elsewhere, so it never overwrites the newer holder's status (docs/design.md "Status").
   */
  readonly connectedSince?: string;
  readonly agentVersion?: string;
  /** The pod of the agent replica that holds the stream: the leader when replicas elect one. */
  readonly agentPod?: string;
  /**
   * Agent replicas alive in the workload cluster, as their leader counted them (fresh presence
   * Leases); 1 for an agent that does not say (no leader election); 0 while disconnected. Absent
   * from older servers.
   */
  readonly agentReplicas?: number;
  readonly lastHeartbeat?: string;
  /** Decimal strings (the schema says string: versions exceed 2^53 in other encodings). */
  readonly sentVersion?: string;
  readonly ackedVersion?: string;
  /** `warnings`: applied copies with a warning (also in `applied`); absent from older servers. */
  /** `notPruned`: orphans whose delete failed (listed in `copies` with code PruneFailed, no
   * `source` being wanted any more); absent from older servers. */
  readonly counts?: {
    applied: number;
    failed: number;
    conflict: number;
    pending: number;
    /** Absent from servers before per-source policy (§10). */
    drifted?: number;
    paused?: number;
    warnings?: number;
    notPruned?: number;
  };
  readonly lastRejectedAttempt?: { version: string; message: string; time: string };
  readonly conditions?: readonly ClusterCondition[];
  readonly copies?: readonly CopyStatus[];
}

/** Most per-copy entries kept in status (the CRD's maxItems); counts always cover all copies. */
export const MAX_STATUS_COPIES = 500;

/** An entry of the rejected-agents ConfigMap (one key per claimed cluster name). */
export interface RejectedAgent {
  readonly lastAttempt: string;
  readonly reason: string;
  /** The gRPC status code name the agent was refused with. */
  readonly code: string;
  readonly peer: string;
  readonly count: number;
}
