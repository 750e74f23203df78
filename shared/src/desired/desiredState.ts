import type { KubeObject } from '../copy/kubeObject.js';
import type { ErrorCode } from '../errors/errorCode.js';
import type { CopyPolicy } from '../policy/copyPolicy.js';
import type { SourceRef } from '../source/objectRef.js';

/**
 * One copy wanted in one workload cluster. Immutable. `object` is shared between every cluster
 * that gets byte-identical content (never copy or mutate it per cluster); `hash` is its content
 * hash, so equal hashes mean equal objects.
 */
export interface DesiredCopy {
  /** `<group>/<Kind>/<namespace or "">/<name>` of the copy (see objectKey). Unique per cluster. */
  readonly key: string;
  readonly cluster: string;
  readonly source: SourceRef;
  readonly object: KubeObject;
  readonly hash: string;
  /** The source opted in to taking over an object the relay does not own (docs/spec.md §4). */
  readonly overwrite: boolean;
  /** How the agent treats the copy: paused, drift mode, ignored fields (docs/spec.md §10). */
  readonly policy: CopyPolicy;
}

/** A cluster's desired copies by key, iterated in key order. */
export type ClusterCopies = ReadonlyMap<string, DesiredCopy>;

export const Severity = {
  /** The source, or part of it, is not distributed as asked. */
  Error: 'error',
  /** Distribution goes on, but something needs attention. */
  Warning: 'warning',
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** One outcome that is not plain success, for Events, status and relayctl (docs/spec.md §8). */
export interface ReportItem {
  readonly code: ErrorCode;
  readonly severity: Severity;
  readonly message: string;
  readonly cluster?: string;
  readonly namespace?: string;
}

export interface SourceReport {
  readonly source: SourceRef;
  /** Sorted by cluster, namespace, code, message. */
  readonly items: readonly ReportItem[];
}

/**
 * What every registered workload cluster should hold. An immutable value: computing the next
 * state never changes this one, so it can be shared by the streams of all agents.
 */
export interface DesiredState {
  /** Every registered cluster, in name order, even those that get nothing. */
  readonly clusters: ReadonlyMap<string, ClusterCopies>;
  /** Sources with at least one report, by source key, in key order. */
  readonly reports: ReadonlyMap<string, SourceReport>;
  /** Keys of annotated sources that are not distributed as asked because they are invalid
   * (annotation, name, backends or kind). Collisions are not in it: they are per cluster. */
  readonly invalidSources: ReadonlySet<string>;
}
