import { Annotation, type KubeObject } from '@kuberelay/shared';
import { KubeApiError } from '@kuberelay/shared/kube';
import { type AgentCopyResult, CopyCode, Outcome } from './copyResult.js';
import type { Drift } from './findDrift.js';
import {
  type Judgment,
  type PausedState,
  resourceVersionOf,
  type StoredDifference,
  type UpdateReason,
} from './planWrite.js';
import type { ReceivedCopy } from './receivedCopy.js';

// What one apply of a copy comes to, and how each ending is phrased: shared by the write strategy
// (copyApplier.ts) and the diagnosis of a 404 (notFoundDiagnosis.ts), kept apart so neither file
// holds both the I/O and the wording of every result.

export const WriteVerb = { Create: 'create', Update: 'update', Delete: 'delete' } as const;
export type WriteVerb = (typeof WriteVerb)[keyof typeof WriteVerb];

/** When the caller should look at the copy again without an event telling it to. */
export const RetryHint = {
  /** Settled (applied, or waiting for a watch to say something changed). */
  None: 'none',
  /** Lost a race with another writer: look again at once. */
  Soon: 'soon',
  /** Failed: look again after a growing delay. */
  Backoff: 'backoff',
} as const;
export type RetryHint = (typeof RetryHint)[keyof typeof RetryHint];

export interface ApplyOutcome {
  readonly result: AgentCopyResult;
  /** The write made, if any. */
  readonly wrote: WriteVerb | undefined;
  /** Why an update was made (or refused). */
  readonly reason?: UpdateReason;
  /** The drift found in the live object (what an update reverted, or was refused to revert). */
  readonly drift: readonly Drift[];
  /** After a write: the API server stored other values than the copy's (mutation; not pruning). */
  readonly rewrittenByServer?: boolean;
  /** After an update: whether it changed the stored object (a new resourceVersion). */
  readonly changed?: boolean;
  /** What to remember about the live object, so an unchanged one costs no further request. */
  readonly judgment?: Judgment;
  readonly retry: RetryHint;
}

/**
 * Applied, possibly with a warning: the API server stores the copy with differences it makes
 * itself (fields an older schema prunes, values it rewrites). The judgment lets the next look at
 * an unchanged object skip every request but the GET.
 */
export function settled(
  copy: ReceivedCopy,
  difference: StoredDifference | undefined,
  object: KubeObject | undefined,
  schema: string | undefined,
): ApplyOutcome {
  const judgment: Judgment | undefined =
    object === undefined
      ? undefined
      : { hash: copy.hash, resourceVersion: resourceVersionOf(object), schema, difference };
  return {
    result: { key: copy.key, hash: copy.hash, ...warningOf(difference) },
    wrote: undefined,
    drift: [],
    retry: RetryHint.None,
    ...(judgment === undefined ? {} : { judgment }),
  };
}

/** Most field paths named in one warning; the rest are counted. */
const WARNING_PATHS = 10;

function warningOf(
  difference: StoredDifference | undefined,
): Pick<AgentCopyResult, 'outcome' | 'code' | 'message'> {
  if (difference === undefined) return { outcome: Outcome.Applied, code: CopyCode.Ok, message: '' };
  const parts: string[] = [];
  if (difference.pruned.length > 0) {
    parts.push(`the workload cluster's schema dropped ${listPaths(difference.pruned)}`);
  }
  if (difference.changed.length > 0) {
    parts.push(`the workload API server stored other values for ${listPaths(difference.changed)}`);
  }
  return {
    outcome: Outcome.Applied,
    code:
      difference.pruned.length > 0
        ? CopyCode.FieldsPrunedByWorkloadSchema
        : CopyCode.FieldsChangedByWorkloadServer,
    message: `${parts.join('; ')} (the copy is otherwise applied; not written again until the source or the workload schema changes)`,
  };
}

function listPaths(paths: readonly string[]): string {
  const shown = paths.slice(0, WARNING_PATHS).join(', ');
  return paths.length > WARNING_PATHS ? `${shown} and ${paths.length - WARNING_PATHS} more` : shown;
}

export function failed(
  copy: ReceivedCopy,
  code: CopyCode,
  message: string,
  retry: RetryHint,
  outcome: Outcome = Outcome.Failed,
): ApplyOutcome {
  return {
    result: { key: copy.key, hash: copy.hash, outcome, code, message },
    wrote: undefined,
    drift: [],
    retry,
  };
}

/**
 * A paused source's copy (docs/spec.md D10.1): nothing was written; the message says how the copy
 * stands, so `relayctl status` and explain can tell "paused and current" from "paused and behind".
 */
export function paused(copy: ReceivedCopy, plan: PausedState): ApplyOutcome {
  const standing = {
    current: 'the copy in the cluster is current',
    missing: 'the copy does not exist in the cluster (not created while paused)',
    behind: 'the copy in the cluster is from an earlier version of the source (not updated while paused)',
    conflict: `an object the relay does not own is in the way (${plan.state === 'conflict' ? plan.owner : ''})`,
    drifted: `the copy differs from its source in ${plan.state === 'drifted' ? listPaths(plan.drift.map((d) => d.path)) : ''} (not reverted while paused)`,
  }[plan.state];
  const why =
    copy.policy.holdReason === '' ? `${Annotation.Paused} is "true" on the source` : copy.policy.holdReason;
  const message = `${why}: nothing is written; ${standing}`;
  return failed(copy, CopyCode.Paused, message, RetryHint.None, Outcome.Paused);
}

/** `kuberelay.dev/drift: report` (docs/spec.md D10.2): the drift, named, and left in place. */
export function drifted(copy: ReceivedCopy, drift: readonly Drift[]): ApplyOutcome {
  const message = `the copy differs from its source in ${listPaths(drift.map((d) => d.path))}; not reverted (${Annotation.Drift}: report on the source)`;
  return { ...failed(copy, CopyCode.Drifted, message, RetryHint.None, Outcome.Drifted), drift };
}

/** The API server refused the copy (validation, admission, RBAC, ...): its message says why. */
export function apiFailure(copy: ReceivedCopy, error: unknown): ApplyOutcome {
  return failed(copy, CopyCode.ApplyFailed, describe(error), RetryHint.Backoff);
}

export function describe(error: unknown): string {
  if (error instanceof KubeApiError) return `${error.status} ${error.reason}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
