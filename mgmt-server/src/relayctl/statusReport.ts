import {
  Annotation,
  type CopyStatus,
  compareStrings,
  DEFAULT_KINDS,
  ErrorCode,
  type KindInfo,
  type KubeObject,
  type KubernetesClusterStatus,
  objectKey,
  parseDistributeTo,
  parseSourceUri,
  registeredClusters,
  type SourceRef,
  selectTargets,
  sourceRefOf,
  splitApiVersion,
  validateSource,
} from '@kuberelay/shared';
import type { EventObject } from './kubeResources.js';
import { Health, worstHealth } from './render.js';

export { renderOrphanedCopies, renderSourceStatuses, sourceLabel } from './statusRender.js';

// The pure half of `relayctl status`: which copies each source should have (the shared
// selection functions over the registered clusters), joined with what each cluster's agent
// reported (KubernetesCluster status.copies), and the source's Warning Events.

export const TargetResult = {
  applied: 'applied',
  pending: 'pending',
  failed: 'failed',
  conflict: 'conflict',
  /** Differs from its source, left so (`kuberelay.dev/drift: report`). */
  drifted: 'drifted',
  /** Its source is paused (`kuberelay.dev/paused`): nothing written. */
  paused: 'paused',
  notConnected: 'not-connected',
  /** The cluster's status lists only part of its copies (at most 500), and not this one. */
  unknown: 'unknown',
} as const;
export type TargetResult = (typeof TargetResult)[keyof typeof TargetResult];

export interface StatusCluster {
  readonly name: string;
  readonly status: KubernetesClusterStatus | undefined;
}

export interface StatusSourceInput {
  readonly kind: KindInfo;
  readonly object: KubeObject;
}

export interface StatusInput {
  readonly sources: readonly StatusSourceInput[];
  readonly clusters: readonly StatusCluster[];
  /** Warning Events of the sources' namespaces; joined to sources here. */
  readonly events: readonly EventObject[];
}

export interface Issue {
  readonly code: string;
  readonly message: string;
}

export interface TargetStatus {
  readonly cluster: string;
  /** Null for a cluster-scoped kind. */
  readonly namespace: string | null;
  readonly result: TargetResult;
  readonly code: string | null;
  readonly message: string | null;
  /** False for a copy the agent still reports but the annotation no longer selects (kept
   * because the source is invalid, or about to be removed). */
  readonly selected: boolean;
}

export interface EventSummary {
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly lastSeen: string | null;
}

export interface SourceStatus {
  readonly kind: string;
  readonly group: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly distributeTo: string;
  readonly health: Health;
  /** False when the annotation or the source itself is invalid: nothing new is distributed. */
  readonly valid: boolean;
  readonly errors: readonly Issue[];
  readonly warnings: readonly Issue[];
  readonly targets: readonly TargetStatus[];
  readonly events: readonly EventSummary[];
}

/** Most recent Warning Events shown per source. */
export const MAX_EVENTS_PER_SOURCE = 5;

export function buildSourceStatuses(input: StatusInput): SourceStatus[] {
  const clusters = registeredClusters(input.clusters.map((c) => c.name));
  const statuses = new Map(input.clusters.map((c) => [c.name, c.status]));
  return [...input.sources]
    .sort(
      (a, b) =>
        kindRank(a.kind) - kindRank(b.kind) ||
        compareStrings(a.object.metadata.namespace ?? '', b.object.metadata.namespace ?? '') ||
        compareStrings(a.object.metadata.name, b.object.metadata.name),
    )
    .map((s) => sourceStatus(s, clusters, statuses, input.events));
}

/** Sources are listed in the kind order of docs/spec.md §6 (Gateway before HTTPRoute ...). */
function kindRank(kind: KindInfo): number {
  const i = DEFAULT_KINDS.findIndex((k) => k.group === kind.group && k.kind === kind.kind);
  return i < 0 ? DEFAULT_KINDS.length : i;
}

function sourceStatus(
  input: StatusSourceInput,
  clusters: ReturnType<typeof registeredClusters>,
  statuses: ReadonlyMap<string, KubernetesClusterStatus | undefined>,
  events: readonly EventObject[],
): SourceStatus {
  const { kind, object } = input;
  const ref = sourceRefOf(object, kind);
  const value = object.metadata.annotations?.[Annotation.DistributeTo] ?? '';
  const errors: Issue[] = validateSource(object, kind).map(issue);
  const warnings: Issue[] = [];
  const parsed = parseDistributeTo(value, { clusterScoped: !kind.namespaced });
  if (!parsed.ok) errors.push(...parsed.errors.map(issue));
  const valid = errors.length === 0;
  const targets: TargetStatus[] = [];
  const expected = new Set<string>();
  if (parsed.ok && valid) {
    const selection = selectTargets(parsed.value, { clusters, sourceNamespace: ref.namespace });
    if (selection.unregistered.length > 0) {
      warnings.push({
        code: ErrorCode.UnregisteredCluster,
        message: `names clusters that are not registered: ${selection.unregistered.join(', ')}`,
      });
    }
    if (selection.targets.length === 0 && value.trim() !== '') {
      warnings.push({ code: 'NoTargets', message: 'selects no registered cluster' });
    }
    for (const target of selection.targets) {
      const key = objectKey({ ...ref, namespace: target.namespace });
      expected.add(`${target.cluster}\u0000${key}`);
      targets.push(expectedTarget(target.cluster, target.namespace, key, ref, statuses.get(target.cluster)));
    }
  }
  for (const cluster of clusters.names) {
    const status = statuses.get(cluster);
    for (const entry of status?.copies ?? []) {
      if (expected.has(`${cluster}\u0000${entry.key}`) || !belongsTo(entry, ref)) continue;
      targets.push({
        cluster,
        namespace: keyNamespace(entry.key),
        ...fromEntry(entry),
        selected: false,
      });
    }
  }
  const results = targets.map((t) => t.result);
  const health = worstHealth([
    ...(errors.length > 0 || results.some((r) => r === TargetResult.failed || r === TargetResult.conflict)
      ? [Health.error]
      : []),
    ...(warnings.length > 0 ||
    results.some(
      (r) =>
        r === TargetResult.pending ||
        r === TargetResult.notConnected ||
        r === TargetResult.unknown ||
        r === TargetResult.drifted ||
        r === TargetResult.paused,
    ) ||
    // Applied with a warning (fields the workload cluster dropped or stored otherwise).
    targets.some((t) => t.result === TargetResult.applied && t.code !== null)
      ? [Health.warning]
      : []),
  ]);
  return {
    kind: ref.kind,
    group: ref.group,
    namespace: ref.namespace ?? null,
    name: ref.name,
    distributeTo: value,
    health,
    valid,
    errors,
    warnings,
    targets,
    events: eventsOf(events, object, ref),
  };
}

const issue = (e: { code: string; message: string }): Issue => ({ code: e.code, message: e.message });

function expectedTarget(
  cluster: string,
  namespace: string | undefined,
  key: string,
  ref: SourceRef,
  status: KubernetesClusterStatus | undefined,
): TargetStatus {
  const base = { cluster, namespace: namespace ?? null, selected: true } as const;
  const connected = status?.connected === true;
  const atKey = (status?.copies ?? []).filter((e) => e.key === key);
  const entry = atKey.find((e) => e.source === undefined || sourceMatches(e.source, ref));
  if (entry) {
    const reported = fromEntry(entry);
    return connected
      ? { ...base, ...reported }
      : {
          ...base,
          ...reported,
          message: `${reported.message ? `${reported.message} ` : ''}(last report; the agent is not connected)`,
        };
  }
  const other = atKey[0];
  if (other) {
    return {
      ...base,
      result: TargetResult.pending,
      code: null,
      message: `the copy at this place comes from another source (${other.source ?? '?'}); see this source's events`,
    };
  }
  if (!connected) {
    return {
      ...base,
      result: TargetResult.notConnected,
      code: null,
      message: "the cluster's agent is not connected",
    };
  }
  const listed = status?.copies?.length ?? 0;
  const counts = status?.counts;
  const total = counts ? counts.applied + counts.failed + counts.conflict + counts.pending : 0;
  if (total > listed && counts !== undefined) {
    // Status lists failures, conflicts, pending copies and warnings before plain applied ones: when
    // all of those are among the listed entries, a copy that is not listed is applied, cleanly.
    const entries = (status?.copies ?? []).filter((e) => e.code !== ErrorCode.PruneFailed);
    const notApplied = entries.filter((e) => e.outcome !== 'Applied').length;
    const warned = entries.filter((e) => e.outcome === 'Applied' && e.code).length;
    if (
      notApplied === counts.failed + counts.conflict + counts.pending &&
      warned === (counts.warnings ?? 0)
    ) {
      return { ...base, result: TargetResult.applied, code: null, message: null };
    }
  }
  if (total > listed) {
    return {
      ...base,
      result: TargetResult.unknown,
      code: null,
      message: `not among the ${listed} of ${total} copies the cluster's status lists (failures are listed first, so it is most likely applied)`,
    };
  }
  return { ...base, result: TargetResult.pending, code: null, message: 'not reported by the agent yet' };
}

const OUTCOME_RESULT = {
  Applied: TargetResult.applied,
  Failed: TargetResult.failed,
  Conflict: TargetResult.conflict,
  Drifted: TargetResult.drifted,
  Paused: TargetResult.paused,
  Pending: TargetResult.pending,
} as const satisfies Record<CopyStatus['outcome'], TargetResult>;

function fromEntry(entry: CopyStatus): Pick<TargetStatus, 'result' | 'code' | 'message'> {
  return {
    result: OUTCOME_RESULT[entry.outcome] ?? TargetResult.pending,
    code: entry.code || null,
    message: entry.message || null,
  };
}

/** The source URI names this source (the management cluster part is not compared: every
 * entry of this management cluster's KubernetesClusters comes from it). */
function sourceMatches(uri: string, ref: SourceRef): boolean {
  const parsed = parseSourceUri(uri);
  return (
    parsed.ok &&
    parsed.value.kind === ref.kind &&
    parsed.value.name === ref.name &&
    (parsed.value.namespace ?? undefined) === ref.namespace
  );
}

/** An entry is this source's copy when its key has the source's group, kind and name and its
 * source URI names it (entries without a source URI cannot be attributed). */
function belongsTo(entry: CopyStatus, ref: SourceRef): boolean {
  const parts = entry.key.split('/');
  return (
    parts.length === 4 &&
    parts[0] === ref.group &&
    parts[1] === ref.kind &&
    parts[3] === ref.name &&
    entry.source !== undefined &&
    sourceMatches(entry.source, ref)
  );
}

const keyNamespace = (key: string): string | null => {
  const ns = key.split('/')[2];
  return ns === undefined || ns === '' ? null : ns;
};

/** The source's Warning Events, most recent first. */
function eventsOf(events: readonly EventObject[], object: KubeObject, ref: SourceRef): EventSummary[] {
  const uid = typeof object.metadata.uid === 'string' ? object.metadata.uid : undefined;
  return events
    .filter((e) => {
      const o = e.involvedObject;
      if (e.type !== 'Warning' || !o || o.kind !== ref.kind || o.name !== ref.name) return false;
      if (ref.namespace !== undefined && o.namespace !== ref.namespace) return false;
      if (o.apiVersion && splitApiVersion(o.apiVersion).group !== ref.group) return false;
      return !(uid && o.uid && o.uid !== uid);
    })
    .map((e) => ({
      reason: e.reason ?? '',
      message: e.message ?? '',
      count: e.series?.count ?? e.count ?? 1,
      lastSeen:
        e.series?.lastObservedTime ??
        e.lastTimestamp ??
        e.eventTime ??
        e.firstTimestamp ??
        e.metadata.creationTimestamp ??
        null,
    }))
    .sort((a, b) => compareStrings(b.lastSeen ?? '', a.lastSeen ?? ''))
    .slice(0, MAX_EVENTS_PER_SOURCE);
}

/** A copy whose source is gone and which its agent could not delete (code PruneFailed). */
export interface OrphanedCopy {
  readonly cluster: string;
  readonly key: string;
  readonly message: string;
}

/** The orphans the clusters' agents report, by cluster then key. Sources are gone, so only the
 * clusters' status knows them. */
export function orphanedCopies(clusters: readonly StatusCluster[]): OrphanedCopy[] {
  return clusters
    .flatMap((c) =>
      (c.status?.copies ?? [])
        .filter((entry) => entry.code === ErrorCode.PruneFailed)
        .map((entry) => ({ cluster: c.name, key: entry.key, message: entry.message ?? '' })),
    )
    .sort((a, b) => compareStrings(a.cluster, b.cluster) || compareStrings(a.key, b.key));
}
