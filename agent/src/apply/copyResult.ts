import { ErrorCode } from '@kuberelay/shared';

/** What happened to one copy. Converted to the protocol's CopyOutcome only at the stream edge. */
export const Outcome = {
  Applied: 'Applied',
  Failed: 'Failed',
  Conflict: 'Conflict',
  Removed: 'Removed',
  /** The copy differs from its source and the source says `kuberelay.dev/drift: report`. */
  Drifted: 'Drifted',
  /** The source is paused: nothing written; the message says how the copy stands. */
  Paused: 'Paused',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/**
 * Stable codes of per-copy results. The shared ErrorCode values plus the ones only the agent
 * produces (MutationLoop). They reach status, Events and relayctl, so they are never renamed.
 */
export const CopyCode = {
  Ok: '',
  NamespaceNotFound: ErrorCode.NamespaceNotFound,
  KindNotInstalled: ErrorCode.KindNotInstalled,
  KindNotDistributable: ErrorCode.KindNotDistributable,
  Conflict: ErrorCode.Conflict,
  ApplyFailed: ErrorCode.ApplyFailed,
  /** A copy no longer wanted could not be deleted yet (retried); `Failed`, for a key not desired. */
  PruneFailed: ErrorCode.PruneFailed,
  /** The API server (an admission webhook) keeps changing what we write: we stopped writing. */
  MutationLoop: 'MutationLoop',
  Paused: ErrorCode.Paused,
  Drifted: ErrorCode.Drifted,
  /**
   * Applied, with a warning: the workload cluster's schema (a CRD older than the management
   * cluster's) dropped fields of the copy. The message names them.
   */
  FieldsPrunedByWorkloadSchema: ErrorCode.FieldsPrunedByWorkloadSchema,
  /** Applied, with a warning: the workload API server stored other values than the copy's. */
  FieldsChangedByWorkloadServer: ErrorCode.FieldsChangedByWorkloadServer,
} as const;
export type CopyCode = (typeof CopyCode)[keyof typeof CopyCode];

/**
 * The result of one copy as a value, as the agent sees it (the protocol's CopyResult is converted
 * from it at the stream edge): one bad copy never hides the others. An `Applied` result
 * with a code is applied with a warning (the code says which).
 */
export interface AgentCopyResult {
  readonly key: string;
  readonly hash: string;
  readonly outcome: Outcome;
  readonly code: CopyCode;
  readonly message: string;
  /** Drift repairs of the copy since this agent started, and when the last was (ms); absent: none. */
  readonly repairs?: { readonly count: number; readonly lastAt: number } | undefined;
}

export function sameResult(a: AgentCopyResult | undefined, b: AgentCopyResult | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.key === b.key &&
    a.hash === b.hash &&
    a.outcome === b.outcome &&
    a.code === b.code &&
    a.message === b.message &&
    a.repairs?.count === b.repairs?.count
  );
}
