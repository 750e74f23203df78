import { Annotation, canonicalJson, type FieldPath, type KubeObject } from '@kuberelay/shared';
import { type Drift, DriftReason, findDrift } from './findDrift.js';
import { type ReceivedCopy, sourceUriOf } from './receivedCopy.js';

/**
 * What the workload API server stores differently from the copy it was sent: fields it dropped
 * (a CRD older than the management cluster's prunes what its schema does not know) and fields it
 * stored with another value (admission mutation, normalisation). Paths as `formatPath` writes them.
 */
export interface StoredDifference {
  readonly pruned: readonly string[];
  readonly changed: readonly string[];
}

/**
 * A judgment made about one live object: "with this desired copy and this workload schema, the
 * object at this resourceVersion is as close to the copy as the API server will store it".
 * While all three are unchanged, nothing is read again beyond the GET, and nothing is written:
 * that is what keeps a copy whose fields the workload schema prunes from being rewritten forever.
 */
export interface Judgment {
  readonly hash: string;
  readonly resourceVersion: string;
  /** The kind's schema generation in the workload cluster (its CRD's metadata.generation). */
  readonly schema: string | undefined;
  readonly difference: StoredDifference | undefined;
}

/** Why a copy is written over a live object. */
export const UpdateReason = {
  /** The desired copy changed since the object was last written (or was never written by us). */
  DesiredChanged: 'DesiredChanged',
  /** Someone changed the object after we wrote the current desired copy. */
  Drift: 'Drift',
  /** The object is not ours and the source says `overwrite`. */
  TakeOver: 'TakeOver',
} as const;
export type UpdateReason = (typeof UpdateReason)[keyof typeof UpdateReason];

/** How a paused copy stands (docs/spec.md D10.1): said in its result, never acted on. */
export type PausedState =
  | { readonly state: 'current' }
  | { readonly state: 'missing' }
  | { readonly state: 'conflict'; readonly owner: string }
  /** The object was written from an earlier version of the source. */
  | { readonly state: 'behind' }
  | { readonly state: 'drifted'; readonly drift: readonly Drift[] };

export type WritePlan =
  | { readonly action: 'create' }
  /** The source is paused: write nothing, say how the copy stands. */
  | ({ readonly action: 'paused' } & PausedState)
  /** Not ours and no overwrite: leave it alone. `owner` says whose it is. */
  | { readonly action: 'conflict'; readonly owner: string }
  /** Nothing to write: in sync, or judged before at this resourceVersion. */
  | { readonly action: 'none'; readonly difference: StoredDifference | undefined }
  /**
   * We wrote this desired copy before and live still differs: ask the API server (a dry-run
   * update) whether writing it again would change anything. It would not when the differences are
   * what the server itself makes of the copy (schema pruning, mutation).
   */
  | { readonly action: 'verify'; readonly live: KubeObject; readonly drift: readonly Drift[] }
  | {
      readonly action: 'update';
      readonly live: KubeObject;
      readonly reason: UpdateReason;
      readonly drift: readonly Drift[];
    };

export interface PlanWriteInput {
  readonly copy: ReceivedCopy;
  readonly live: KubeObject | undefined;
  readonly fieldManager: string;
  /** The kind's current schema generation in the workload cluster, when known. */
  readonly schema: string | undefined;
  /** The last judgment made about this copy, if any. */
  readonly judged: Judgment | undefined;
}

/**
 * The write decision for one copy (docs/design.md, "Agent write strategy"). Pure.
 *
 * A copy converges to exactly its desired object: the object carries the hash of the desired copy
 * it was last written from (`kuberelay.dev/copy-hash`), and another hash means a full replace,
 * which also removes what the source no longer has. With the hash current, only drift (findDrift)
 * is a reason to write: at once when the server stored this very copy exactly last time, and
 * otherwise only after it confirmed (a dry-run) that a write would change the object: differences
 * the server itself creates are never written again.
 */
export function planWrite(input: PlanWriteInput): WritePlan {
  const { copy, live, fieldManager } = input;
  const paused = copy.policy.paused;
  if (live === undefined) return paused ? { action: 'paused', state: 'missing' } : { action: 'create' };
  const liveSource = sourceUriOf(live);
  const ours = liveSource !== undefined && liveSource === sourceUriOf(copy.object);
  const drift = findDrift(copy.object, live, { fieldManager, ignored: copy.ignored });
  if (!ours) {
    const owner =
      liveSource === undefined ? 'not distributed by the relay' : `distributed from ${liveSource}`;
    if (paused) return { action: 'paused', state: 'conflict', owner };
    if (!copy.overwrite) {
      return { action: 'conflict', owner };
    }
    return { action: 'update', live, reason: UpdateReason.TakeOver, drift };
  }
  if (live.metadata.annotations?.[Annotation.CopyHash] !== copy.hash) {
    if (paused) return { action: 'paused', state: 'behind' };
    return { action: 'update', live, reason: UpdateReason.DesiredChanged, drift };
  }
  const judged = input.judged;
  if (paused) {
    // What the API server itself made of this copy at this resourceVersion is not drift.
    const known =
      judged !== undefined && judged.hash === copy.hash && judged.resourceVersion === resourceVersionOf(live);
    return drift.length === 0 || known
      ? { action: 'paused', state: 'current' }
      : { action: 'paused', state: 'drifted', drift };
  }
  if (drift.length === 0) return { action: 'none', difference: undefined };
  if (judged !== undefined && judged.hash === copy.hash && judged.schema === input.schema) {
    if (judged.resourceVersion === resourceVersionOf(live)) {
      return { action: 'none', difference: judged.difference };
    }
    // The server stored exactly this copy under this schema before: what differs now is someone
    // else's change, and writing the copy again changes it back. No dry-run needed.
    if (judged.difference === undefined) return { action: 'update', live, reason: UpdateReason.Drift, drift };
  }
  return { action: 'verify', live, drift };
}

/**
 * After a dry-run update: whether the real one would change the live object. Compares what a
 * copy's write can change (every top-level field but metadata and status; labels, annotations).
 */
export function wouldChange(live: KubeObject, dryRun: KubeObject): boolean {
  return canonicalJson(writableView(live)) !== canonicalJson(writableView(dryRun));
}

/** How the object the API server stored (or would store) differs from the copy. */
export function storedDifference(
  copy: KubeObject,
  stored: KubeObject,
  fieldManager: string,
  ignored?: readonly FieldPath[],
): StoredDifference | undefined {
  const drift = findDrift(copy, stored, { fieldManager, ignored });
  const pruned = drift.filter((d) => d.reason === DriftReason.Missing).map((d) => d.path);
  const changed = drift.filter((d) => d.reason === DriftReason.Changed).map((d) => d.path);
  return pruned.length === 0 && changed.length === 0 ? undefined : { pruned, changed };
}

export function resourceVersionOf(object: KubeObject): string {
  const rv = object.metadata.resourceVersion;
  return typeof rv === 'string' ? rv : '';
}

function writableView(object: KubeObject): Record<string, unknown> {
  const { metadata, status: _status, ...rest } = object;
  return { ...rest, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} };
}
