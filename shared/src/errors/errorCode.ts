/**
 * Stable error codes. They are part of the contract with operators and other components: they
 * appear in Kubernetes Events, `KubernetesCluster` status, `relayctl` output and logs, so a code
 * is never renamed or reused for another meaning. gRPC status codes are chosen from these only at
 * the server edge (STYLE principle 4).
 */
export const ErrorCode = {
  /** `gloo.solo.io/distribute-to` (or another relay annotation) has an invalid value. */
  InvalidAnnotation: 'InvalidAnnotation',
  /** A distribute-to entry names a cluster that is not registered. A warning, never fatal. */
  UnregisteredCluster: 'UnregisteredCluster',
  /** An HTTPRoute has a backend that is not a `gloo.solo.io` Upstream. */
  NonUpstreamBackend: 'NonUpstreamBackend',
  /** A source's name is not a valid DNS-1123 label of at most 63 characters. */
  InvalidName: 'InvalidName',
  /** A distribute-to entry gives a namespace for a cluster-scoped kind. */
  NamespaceOnClusterScoped: 'NamespaceOnClusterScoped',
  /** A reference points to a resource that is not distributed to the cluster. */
  UnresolvedReference: 'UnresolvedReference',
  /** A reference points to a resource that lands in several namespaces of the cluster. */
  AmbiguousReference: 'AmbiguousReference',
  /** Two sources would produce the same copy (kind, namespace, name) in one cluster. */
  CopyCollision: 'CopyCollision',
  /** An object not owned by this relay already exists where a copy should go. */
  Conflict: 'Conflict',
  /** The copy's target namespace does not exist in the workload cluster. */
  NamespaceNotFound: 'NamespaceNotFound',
  /** The copy's kind (CRD) is not installed in the workload cluster. */
  KindNotInstalled: 'KindNotInstalled',
  /** The object's kind is not in the configured set of distributable kinds. */
  KindNotDistributable: 'KindNotDistributable',
  /**
   * A copy its source no longer wants could not be deleted (the workload API server refused or
   * failed the DELETE); the agent retries it. Reported for the orphan until it is gone.
   */
  PruneFailed: 'PruneFailed',
  /** The workload API server refused or failed to apply a copy. */
  ApplyFailed: 'ApplyFailed',
  /** A warning on an applied copy: the workload cluster's schema dropped some of its fields. */
  FieldsPrunedByWorkloadSchema: 'FieldsPrunedByWorkloadSchema',
  /** A warning on an applied copy: the workload API server stored other values for some fields. */
  FieldsChangedByWorkloadServer: 'FieldsChangedByWorkloadServer',
  /**
   * A source is paused (`kuberelay.dev/paused`), or a copy is frozen by that pause: the agent
   * writes nothing for it (docs/spec.md D10.1). A warning on the source; the copy's outcome Paused.
   */
  Paused: 'Paused',
  /**
   * A copy differs from its source and the source says `kuberelay.dev/drift: report`: reported
   * with the fields, never reverted (docs/spec.md D10.2). The copy's outcome Drifted.
   */
  Drifted: 'Drifted',
  /** A source object is malformed (e.g. a namespaced kind without a namespace). */
  InvalidObject: 'InvalidObject',
  /** A `gloo://` distributed-source URI could not be parsed. */
  InvalidSourceUri: 'InvalidSourceUri',
  /** A flag or configuration value of a program is invalid. */
  InvalidConfig: 'InvalidConfig',
  /** A program could not open a listening socket (port taken, no permission, no such address). */
  ListenFailed: 'ListenFailed',
  /** The caller presented no credentials or invalid ones. */
  Unauthenticated: 'Unauthenticated',
  /** The caller's credentials do not allow the request (e.g. another cluster's token). */
  PermissionDenied: 'PermissionDenied',
  /** A protocol message failed validation at the boundary. */
  InvalidMessage: 'InvalidMessage',
  /**
   * An agent replica that does not lead (or no longer may: its renew deadline passed) refused to
   * send a write to the workload cluster (docs/spec.md D1.4).
   */
  NotLeader: 'NotLeader',
  /** The operation was cancelled through an AbortSignal. */
  Aborted: 'Aborted',
  /** A bug or an unexpected failure; the cause says more. */
  Internal: 'Internal',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
