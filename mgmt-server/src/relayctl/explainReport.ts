import {
  Annotation,
  CopyOutcomeName,
  type CopyPolicy,
  compareStrings,
  DEFAULT_POLICY,
  DriftMode,
  FieldManager,
  ignoredFieldPaths,
  isIgnored,
  type KubeObject,
  type KubernetesClusterStatus,
  parseDistributeTo,
  parseFieldPath,
  registeredClusters,
  selectTargets,
  sourcePolicy,
  splitEntries,
} from '@kuberelay/shared';
import type { EventObject } from './kubeResources.js';
import { type Plan, PlanAction, type PlannedCopy } from './planReport.js';

// The pure half of `relayctl explain`: for a source (or the source of one copy), each copy's
// story, from what the management cluster says (the annotation and the entry that selected the
// cluster, the cluster's status: acknowledged version, result), what the copy should be (the plan
// of the source as it is: the server's own computation) and, where relayctl can read the workload
// cluster, what is there (current or drifted, and in which fields; when the agent last wrote it).

export const CopyState = {
  current: 'current',
  pending: 'pending',
  drifted: 'drifted',
  failed: 'failed',
  conflict: 'conflict',
  /** Its source is paused (`kuberelay.dev/paused`): the agent writes nothing for it. */
  paused: 'paused',
  notConnected: 'not-connected',
  /** The copy exists but its source is gone or no longer selects the cluster. */
  orphan: 'orphan',
} as const;
export type CopyState = (typeof CopyState)[keyof typeof CopyState];

export interface ExplainInput {
  readonly sourceUri: string;
  /** The source as it is in the management cluster; undefined when it is gone. */
  readonly source: KubeObject | undefined;
  /** computePlan of the source as it is (its copies, 'unchanged', with live when read). */
  readonly plan: Plan | undefined;
  readonly clusters: readonly {
    readonly name: string;
    readonly status: KubernetesClusterStatus | undefined;
  }[];
  /** Copies read in workload clusters, by cluster and key (null: not there). */
  readonly live: ReadonlyMap<string, ReadonlyMap<string, KubeObject | null>>;
  /** Warning Events on the source, and Events on each copy (by cluster and key). */
  readonly sourceEvents: readonly EventObject[];
  readonly copyEvents: ReadonlyMap<string, ReadonlyMap<string, readonly EventObject[]>>;
  /** A copy named by the user that the plan may not know (an orphan): cluster and key. */
  readonly named?: { readonly cluster: string; readonly key: string };
}

export interface ExplainedEvent {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly lastSeen: string | null;
}

export interface ExplainedCopy {
  readonly cluster: string;
  readonly key: string;
  readonly state: CopyState;
  readonly detail: string;
  /** The distribute-to entry that selected this cluster (undefined for an orphan). */
  readonly selectedBy: string | undefined;
  readonly ackedVersion: string | null;
  /** When the cluster last became up to date (its UpToDate condition), if it is. */
  readonly upToDateSince: string | null;
  readonly lastHeartbeat: string | null;
  /** Whether relayctl read the live copy, and what it found. */
  readonly live: 'matches' | 'differs' | 'missing' | 'foreign' | 'not-read';
  /** Fields (JSON paths) where the live copy differs from what it should be (first 20). */
  readonly driftFields: readonly string[];
  /** The last write of the agent's field manager, from the live copy's managedFields. */
  readonly lastWrittenByAgent: string | null;
  readonly events: readonly ExplainedEvent[];
}

export interface Explanation {
  readonly sourceUri: string;
  readonly sourceExists: boolean;
  readonly distributeTo: string | null;
  readonly sourceEvents: readonly ExplainedEvent[];
  readonly copies: readonly ExplainedCopy[];
}

export function explain(input: ExplainInput): Explanation {
  const statuses = new Map(input.clusters.map((c) => [c.name, c.status]));
  const distributeTo = input.source?.metadata.annotations?.[Annotation.DistributeTo] ?? null;
  // Only this source's copies: the plan also lists other sources' copies a change would touch.
  const key = input.plan?.sources[0]?.key;
  const planned = (input.plan?.copies ?? []).filter((c) => c.action !== PlanAction.prune && c.source === key);
  const copies: ExplainedCopy[] = planned.map((c) =>
    explainCopy(c, statuses.get(c.cluster), input, distributeTo),
  );
  const named = input.named;
  if (named !== undefined && !planned.some((c) => c.cluster === named.cluster && c.key === named.key)) {
    copies.push(orphan(named.cluster, named.key, statuses.get(named.cluster), input));
  }
  copies.sort((a, b) => compareStrings(a.cluster, b.cluster) || compareStrings(a.key, b.key));
  return {
    sourceUri: input.sourceUri,
    sourceExists: input.source !== undefined,
    distributeTo,
    sourceEvents: input.sourceEvents.map(explainedEvent),
    copies,
  };
}

function explainCopy(
  c: PlannedCopy,
  status: KubernetesClusterStatus | undefined,
  input: ExplainInput,
  distributeTo: string | null,
): ExplainedCopy {
  const reported = status?.copies?.find((s) => s.key === c.key);
  const live = input.live.get(c.cluster)?.get(c.key);
  const policy = input.source === undefined ? DEFAULT_POLICY : sourcePolicy(input.source).policy;
  // Fields the source tells the agent to ignore are nobody's drift (docs/spec.md D10.3).
  const drift =
    live === undefined || live === null || c.after === undefined
      ? []
      : differingPaths(c.before, c.after).filter((path) => !ignoredPath(path, policy));
  const connected = status?.connected === true;
  let state: CopyState;
  let detail: string;
  if (reported?.outcome === CopyOutcomeName.paused || (policy.paused && reported === undefined)) {
    state = CopyState.paused;
    detail = reported?.message ?? `${Annotation.Paused} is "true" on the source: the agent writes nothing`;
  } else if (c.action === PlanAction.conflict) {
    state = CopyState.conflict;
    detail = c.reason ?? 'an object the relay does not own is in its place';
  } else if (reported?.outcome === CopyOutcomeName.drifted) {
    state = CopyState.drifted;
    detail = reported.message ?? `differs from its source; left so (${Annotation.Drift}: report)`;
  } else if (reported?.outcome === CopyOutcomeName.failed) {
    state = CopyState.failed;
    detail = `${reported.code ?? 'Failed'}: ${reported.message ?? ''}`.trim();
  } else if (live === null) {
    state = connected ? CopyState.pending : CopyState.notConnected;
    detail = 'not in the cluster yet';
  } else if (drift.length > 0 || (live !== undefined && c.action === PlanAction.update)) {
    state = CopyState.drifted;
    detail = !connected
      ? 'the live copy differs from its source, and its agent is not connected'
      : policy.drift === DriftMode.Report
        ? `the live copy differs from its source; left so (${Annotation.Drift}: report on the source)`
        : 'the live copy differs from its source; the agent reverts it (drift repair)';
  } else if (!connected) {
    state = CopyState.notConnected;
    detail = 'the cluster has no agent connected';
  } else if (reported?.outcome === CopyOutcomeName.applied) {
    state = CopyState.current;
    detail = reported.code ? `applied with a warning: ${reported.code}` : 'applied as its source says';
  } else {
    state = CopyState.pending;
    detail = 'the agent has not reported this content yet';
  }
  return {
    ...clusterFacts(status),
    cluster: c.cluster,
    key: c.key,
    state,
    detail,
    selectedBy: selectingEntry(distributeTo, c.cluster, input.source),
    live:
      live === undefined
        ? 'not-read'
        : live === null
          ? 'missing'
          : c.action === PlanAction.conflict
            ? 'foreign'
            : drift.length > 0
              ? 'differs'
              : 'matches',
    driftFields: drift.slice(0, 20),
    lastWrittenByAgent: live === undefined || live === null ? null : lastAgentWrite(live),
    events: (input.copyEvents.get(c.cluster)?.get(c.key) ?? []).map(explainedEvent),
  };
}

function orphan(
  cluster: string,
  key: string,
  status: KubernetesClusterStatus | undefined,
  input: ExplainInput,
): ExplainedCopy {
  const live = input.live.get(cluster)?.get(key);
  const notPruned = status?.copies?.find((s) => s.key === key && s.code === 'PruneFailed');
  const why =
    input.source === undefined ? 'its source no longer exists' : 'its source no longer selects this cluster';
  return {
    ...clusterFacts(status),
    cluster,
    key,
    state: CopyState.orphan,
    detail:
      notPruned !== undefined
        ? `${why}; the agent's delete failed (${notPruned.message ?? 'PruneFailed'}) and is retried`
        : `${why}; the agent deletes it with the next version it acknowledges (at once when connected, else when it reconnects)`,
    selectedBy: undefined,
    live: live === undefined ? 'not-read' : live === null ? 'missing' : 'differs',
    driftFields: [],
    lastWrittenByAgent: live === undefined || live === null ? null : lastAgentWrite(live),
    events: (input.copyEvents.get(cluster)?.get(key) ?? []).map(explainedEvent),
  };
}

function clusterFacts(status: KubernetesClusterStatus | undefined) {
  const upToDate = status?.conditions?.find((c) => c.type === 'UpToDate');
  return {
    ackedVersion: status?.ackedVersion ?? null,
    upToDateSince: upToDate?.status === 'True' ? upToDate.lastTransitionTime : null,
    lastHeartbeat: status?.lastHeartbeat ?? null,
  };
}

/**
 * The first entry of the annotation that, on its own, selects `cluster`. Exclusions need no look:
 * they remove whole clusters, so none matches a cluster that has a copy.
 */
function selectingEntry(
  value: string | null,
  cluster: string,
  source: KubeObject | undefined,
): string | undefined {
  if (value === null) return undefined;
  const clusters = registeredClusters([cluster]);
  const clusterScoped = source?.metadata.namespace === undefined;
  for (const entry of splitEntries(value)) {
    const parsed = parseDistributeTo(entry, { clusterScoped });
    if (!parsed.ok) continue;
    if (
      selectTargets(parsed.value, { clusters, sourceNamespace: source?.metadata.namespace }).targets.length >
      0
    )
      return entry.trim();
  }
  return undefined;
}

/** Whether a differing path is at or under one the source ignores. */
function ignoredPath(path: string, policy: CopyPolicy): boolean {
  if (policy.ignoreFields.length === 0) return false;
  const at = parseFieldPath(path);
  if (!at.ok) return false;
  const concrete = at.value.filter((step): step is string | number => typeof step !== 'symbol');
  return isIgnored(concrete, ignoredFieldPaths(policy));
}

/** The JSON paths where `live` (cut to the copy's shape) and `desired` differ. */
function differingPaths(live: unknown, desired: unknown, path = ''): string[] {
  if (JSON.stringify(live) === JSON.stringify(desired)) return [];
  if (Array.isArray(desired) && Array.isArray(live) && desired.length === live.length) {
    return desired.flatMap((d, i) => differingPaths(live[i], d, `${path}[${i}]`));
  }
  if (isRecord(desired) && isRecord(live)) {
    const keys = [...new Set([...Object.keys(desired), ...Object.keys(live)])].sort(compareStrings);
    return keys.flatMap((k) => differingPaths(live[k], desired[k], path === '' ? k : `${path}.${k}`));
  }
  return [path === '' ? '.' : path];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function lastAgentWrite(live: KubeObject): string | null {
  const entries =
    (live.metadata as { managedFields?: { manager?: string; time?: string }[] }).managedFields ?? [];
  const times = entries
    .filter((e) => e.manager === FieldManager.agent && e.time !== undefined)
    .map((e) => e.time ?? '');
  return times.length === 0 ? null : (times.sort(compareStrings).at(-1) ?? null);
}

function explainedEvent(e: EventObject): ExplainedEvent {
  return {
    type: e.type ?? '',
    reason: e.reason ?? '',
    message: e.message ?? '',
    count: e.series?.count ?? e.count ?? 1,
    lastSeen: e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? null,
  };
}
