/** Prefix reserved for annotations and labels this project defines (docs/spec.md §3). */
export const KUBERELAY_PREFIX = 'kuberelay.dev/';

/** Annotation keys the relay reads or writes. */
export const Annotation = {
  /** On a source: where to distribute it (docs/spec.md §2). Never copied. */
  DistributeTo: 'gloo.solo.io/distribute-to',
  /** On a copy: which source it comes from, as a `gloo://` URI (docs/spec.md §3). Proof of ownership. */
  DistributedSource: 'gloo.solo.io/distributed-source',
  /** On a source: `overwrite` lets its copies take over objects the relay does not own (docs/spec.md §4). */
  ConflictResolution: `${KUBERELAY_PREFIX}conflict-resolution`,
  /** Written by `kubectl apply`; large, and meaningless on a copy. Never copied. */
  LastAppliedConfiguration: 'kubectl.kubernetes.io/last-applied-configuration',
  /**
   * On a copy, written by the agent (never part of the copy the server builds): the hash of the
   * desired copy the object was last written from. A different hash means the source changed since,
   * so the copy is replaced even when nothing in live looks drifted (a field the source removed).
   * Sources never pass it on: every `kuberelay.dev/` annotation is dropped from copies.
   */
  CopyHash: `${KUBERELAY_PREFIX}copy-hash`,
  /** On a source: `"true"` freezes its copies: no update, no prune, no drift repair (docs/spec.md D10.1). */
  Paused: `${KUBERELAY_PREFIX}paused`,
  /** On a source: `enforce` (the default) reverts drift in its copies, `report` only reports it (D10.2). */
  Drift: `${KUBERELAY_PREFIX}drift`,
  /** On a source: field paths of its copies that the agent neither compares nor writes (D10.3). */
  IgnoreFields: `${KUBERELAY_PREFIX}ignore-fields`,
  /** On a source: ordered waves of cluster globs a change reaches one after the other (D10.5). */
  Rollout: `${KUBERELAY_PREFIX}rollout`,
  /** On a source with a rollout: how long a wave must have applied a revision before the next gets it. */
  RolloutSoak: `${KUBERELAY_PREFIX}rollout-soak`,
  /** On a source whose rollout halted: the revision to go on with despite the failure (relayctl rollout resume). */
  RolloutResume: `${KUBERELAY_PREFIX}rollout-resume`,
} as const;

/** Values of `kuberelay.dev/conflict-resolution`. */
export const ConflictResolution = {
  Overwrite: 'overwrite',
} as const;
export type ConflictResolution = (typeof ConflictResolution)[keyof typeof ConflictResolution];

/** Label keys every copy carries (docs/spec.md §3). */
export const Label = {
  /** Name of the management cluster the copy comes from. */
  RelayCluster: 'relay.solo.io/cluster',
  ManagedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Value of `app.kubernetes.io/managed-by` on every copy. */
export const MANAGED_BY_AGENT = 'kuberelay-agent';
