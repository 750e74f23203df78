import type { KubeObject } from '../copy/kubeObject.js';
import { validateSource } from '../copy/validateSource.js';
import { type DistributeTo, parseDistributeTo } from '../distributeTo/parseDistributeTo.js';
import {
  type RegisteredClusters,
  selectTargets,
  type Target,
  unregisteredNames,
} from '../distributeTo/selectTargets.js';
import { ErrorCode } from '../errors/errorCode.js';
import type { RelayError } from '../errors/relayError.js';
import { groupKindOf, type KindInfo, type KindRegistry, splitApiVersion } from '../kinds/kindInfo.js';
import { type CopyPolicy, sourcePolicy } from '../policy/copyPolicy.js';
import { type Rollout, rolloutRevision, sourceRollout } from '../rollout/rollout.js';
import { Annotation, ConflictResolution } from '../source/annotations.js';
import { objectKey, objectRefOf, type SourceRef, sourceRefOf } from '../source/objectRef.js';
import { type ReportItem, Severity } from './desiredState.js';

// Step 1 of the pure core: what one source asks for, on its own (docs/spec.md §2). Nothing here
// looks at other sources; collisions and references are the engine's (desiredStateEngine.ts).

/** An annotated source that is distributed: where its copies go is `targetsOf(plan, clusters)`. */
export interface ValidPlan {
  readonly type: 'valid';
  readonly key: string;
  readonly ref: SourceRef;
  readonly source: KubeObject;
  readonly distributeTo: DistributeTo;
  readonly overwrite: boolean;
  /** kuberelay.dev/paused, drift and ignore-fields (docs/spec.md §10). */
  readonly policy: CopyPolicy;
  /** kuberelay.dev/rollout and its revision of the source (docs/spec.md D10.5); undefined without. */
  readonly rollout: { readonly waves: Rollout; readonly revision: string } | undefined;
  /** Reports that do not depend on the registered clusters (an unknown conflict-resolution). */
  readonly reports: readonly ReportItem[];
}

/**
 * An annotated source that is not distributed as asked. `held`: its copies are kept as they are
 * (an invalid annotation or source: an edit that breaks a route must not take it down everywhere);
 * not held: an undistributable kind, which never had copies.
 */
export interface InvalidPlan {
  readonly type: 'invalid';
  readonly key: string;
  readonly ref: SourceRef;
  readonly source: KubeObject;
  readonly held: boolean;
  readonly reports: readonly ReportItem[];
}

export type SourcePlan = ValidPlan | InvalidPlan;

/** The plan of one source, or undefined when it takes no part (no annotation, or being deleted). */
export function planSource(source: KubeObject, registry: KindRegistry): SourcePlan | undefined {
  const { annotations, deletionTimestamp } = source.metadata;
  const value = annotations?.[Annotation.DistributeTo];
  if (value === undefined || (deletionTimestamp !== undefined && deletionTimestamp !== null)) {
    return undefined;
  }
  const kind = kindOf(source, registry);
  const ref = kind === undefined ? objectRefOf(source) : sourceRefOf(source, kind);
  const key = objectKey(ref);
  if (kind === undefined) {
    const reports = [
      {
        code: ErrorCode.KindNotDistributable,
        severity: Severity.Error,
        message: `${groupKindOf(ref)} is not one of the distributable kinds`,
      },
    ];
    return { type: 'invalid', key, ref, source, held: false, reports };
  }
  const sourceErrors = validateSource(source, kind);
  const parsed = parseDistributeTo(value, { clusterScoped: !kind.namespaced });
  const policy = sourcePolicy(source);
  const rollout = sourceRollout(source);
  const errors = [...sourceErrors, ...(parsed.ok ? [] : parsed.errors), ...policy.errors, ...rollout.errors];
  if (!parsed.ok || errors.length > 0) {
    return { type: 'invalid', key, ref, source, held: true, reports: itemsOf(errors, Severity.Error) };
  }
  const overwrite = overwriteOf(source);
  return {
    type: 'valid',
    key,
    ref,
    source,
    distributeTo: parsed.value,
    overwrite: overwrite.overwrite,
    policy: policy.policy,
    rollout:
      rollout.rollout === undefined
        ? undefined
        : { waves: rollout.rollout, revision: rolloutRevision(source) },
    reports: policy.policy.paused ? [...overwrite.reports, pausedItem()] : overwrite.reports,
  };
}

/** The key a source is known by (its kind's group, kind, namespace when namespaced, name). */
export function sourceKeyOf(source: KubeObject, registry: KindRegistry): string {
  const kind = kindOf(source, registry);
  return objectKey(kind === undefined ? objectRefOf(source) : sourceRefOf(source, kind));
}

const kindOf = (source: KubeObject, registry: KindRegistry): KindInfo | undefined =>
  registry.byGroupKind(splitApiVersion(source.apiVersion).group, source.kind);

/** Where a valid source's copies go among `clusters`, and its warnings about names not registered. */
export function targetsOf(
  plan: ValidPlan,
  clusters: RegisteredClusters,
): { readonly targets: readonly Target[]; readonly reports: readonly ReportItem[] } {
  const selection = selectTargets(plan.distributeTo, { clusters, sourceNamespace: plan.ref.namespace });
  return { targets: selection.targets, reports: unregisteredItems(selection.unregistered) };
}

/** The warnings of a valid source about names it spells out that are not among `clusters`. */
export function unregisteredReports(plan: ValidPlan, clusters: RegisteredClusters): readonly ReportItem[] {
  return unregisteredItems(unregisteredNames(plan.distributeTo, clusters));
}

function unregisteredItems(names: readonly string[]): ReportItem[] {
  return names.map((cluster) => ({
    code: ErrorCode.UnregisteredCluster,
    severity: Severity.Warning,
    message: `cluster "${cluster}" named in ${Annotation.DistributeTo} is not registered; it is ignored`,
    cluster,
  }));
}

/** Shown wherever the source's status is (relayctl status, Events): a pause is never silent. */
function pausedItem(): ReportItem {
  return {
    code: ErrorCode.Paused,
    severity: Severity.Warning,
    message: `${Annotation.Paused} is "true": its copies are frozen as they are (no update, no prune, no drift repair) until it is removed`,
  };
}

function overwriteOf(source: KubeObject): { overwrite: boolean; reports: ReportItem[] } {
  const value = source.metadata.annotations?.[Annotation.ConflictResolution];
  if (value === undefined) {
    return { overwrite: false, reports: [] };
  }
  if (value.trim() === ConflictResolution.Overwrite) {
    return { overwrite: true, reports: [] };
  }
  const message = `${Annotation.ConflictResolution} "${value}" is not understood (the only value is "${ConflictResolution.Overwrite}"); conflicting objects are left untouched`;
  return {
    overwrite: false,
    reports: [{ code: ErrorCode.InvalidAnnotation, severity: Severity.Warning, message }],
  };
}

/** Errors as report items, optionally placed in one cluster and namespace. */
export function itemsOf(
  errors: readonly RelayError[],
  severity: Severity,
  where: { readonly cluster?: string; readonly namespace?: string | undefined } = {},
): ReportItem[] {
  return errors.map((error) => ({
    code: error.code,
    severity,
    message: error.message,
    ...(where.cluster === undefined ? {} : { cluster: where.cluster }),
    ...(where.namespace === undefined ? {} : { namespace: where.namespace }),
  }));
}

/** The same version of a source: the same object, or the same uid at the same resourceVersion (a
 * relist hands out new objects for unchanged sources; the API server changes the resourceVersion
 * with every write). */
export function sameVersion(a: KubeObject, b: KubeObject): boolean {
  if (a === b) return true;
  const { uid, resourceVersion } = a.metadata;
  return (
    typeof uid === 'string' &&
    uid !== '' &&
    typeof resourceVersion === 'string' &&
    resourceVersion !== '' &&
    uid === b.metadata.uid &&
    resourceVersion === b.metadata.resourceVersion
  );
}

/** Report lists with the same codes and messages, in order. */
export function sameItems(a: readonly ReportItem[], b: readonly ReportItem[]): boolean {
  return (
    a.length === b.length && a.every((item, i) => item.message === b[i]?.message && item.code === b[i]?.code)
  );
}
