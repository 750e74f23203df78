import {
  Annotation,
  type ClusterCopies,
  CopyOutcomeName,
  compareStrings,
  computeDesiredState,
  type DesiredCopy,
  type DesiredState,
  type GatewayClassMapping,
  ignoredFieldPaths,
  type KindInfo,
  type KubeObject,
  type KubernetesClusterStatus,
  keepLiveValues,
  objectKey,
  objectRefOf,
  type Rollout,
  type RolloutAdmission,
  rolloutRevision,
  Severity,
  sourceRefOf,
  sourceRollout,
  splitApiVersion,
  waveOf,
} from '@kuberelay/shared';

// The pure half of `relayctl plan`: what the relay would do if the proposed sources were in the
// management cluster. The same computeDesiredState the server runs, twice: once over the sources
// as they are (what agents were told) and once with the proposed ones in their place; the
// difference, cluster by cluster, is the plan. Copies of other sources count too: a changed
// Gateway namespace rewrites the routes that reference it, and a clash blocks both sources.

export const PlanAction = {
  create: 'create',
  update: 'update',
  unchanged: 'unchanged',
  prune: 'prune',
  /** An object the relay does not own is where the copy would go, and the source does not take over. */
  conflict: 'conflict',
  /**
   * The source is paused (kuberelay.dev/paused): the copy would be created or updated, but the
   * agent writes nothing until the pause is lifted (docs/spec.md D10.1).
   */
  paused: 'paused',
} as const;
export type PlanAction = (typeof PlanAction)[keyof typeof PlanAction];

export interface PlanSettings {
  readonly mgmtCluster: string;
  readonly classMapping: GatewayClassMapping;
  readonly kinds: readonly KindInfo[];
}

export interface PlanInput {
  /** The sources as they would be (a file, or an object with a new annotation). */
  readonly proposed: readonly KubeObject[];
  /** The objects of the distributable kinds in the management cluster now. */
  readonly current: readonly KubeObject[];
  readonly clusters: readonly {
    readonly name: string;
    readonly status: KubernetesClusterStatus | undefined;
  }[];
  readonly settings: PlanSettings;
  /**
   * Objects read from workload clusters at the planned copies' places (null: none there), by
   * cluster and copy key. A cluster in it is compared with what is live; the others with what
   * their agent was told and reported.
   */
  readonly live?: ReadonlyMap<string, ReadonlyMap<string, KubeObject | null>>;
}

export interface PlanIssue {
  readonly code: string;
  readonly message: string;
  readonly cluster?: string;
  readonly namespace?: string;
}

export interface PlannedSource {
  readonly key: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly distributeTo: string | undefined;
  /** Where its copies would go: cluster and target namespace (undefined: cluster-scoped). */
  readonly targets: readonly { readonly cluster: string; readonly namespace: string | undefined }[];
  readonly errors: readonly PlanIssue[];
  readonly warnings: readonly PlanIssue[];
}

export interface PlannedCopy {
  readonly cluster: string;
  readonly key: string;
  /** Key of the source the copy is (or was) of. */
  readonly source: string;
  readonly action: PlanAction;
  /** What `before` is: the copy the agent was told to hold, or the object live in the cluster. */
  readonly against: 'desired' | 'live';
  readonly reason?: string;
  /** The copy as it is (absent for a create). */
  readonly before?: KubeObject;
  /** The copy as it would be, after the GatewayClass swap and reference rewrites (absent for a prune). */
  readonly after?: KubeObject;
}

export interface Plan {
  readonly sources: readonly PlannedSource[];
  /** Every copy that would change, and every copy of a proposed source; by cluster, then key. */
  readonly copies: readonly PlannedCopy[];
  /** Errors of the proposed sources plus conflicts: what makes `relayctl plan` exit 3. */
  readonly problems: number;
}

/** The plan of `input`. Pure: reads nothing, writes nothing. */
export function computePlan(input: PlanInput): Plan {
  const { settings } = input;
  const kindOf = (o: KubeObject) => {
    const { group } = splitApiVersion(o.apiVersion);
    return settings.kinds.find((k) => k.group === group && k.kind === o.kind);
  };
  const keyOf = (o: KubeObject) => {
    const kind = kindOf(o);
    return objectKey(kind === undefined ? objectRefOf(o) : sourceRefOf(o, kind));
  };
  const proposedKeys = new Set(input.proposed.map(keyOf));
  const clusters = input.clusters.map((c) => c.name);
  const common = { clusters, ...settings };
  // A rollout's waves are planned as reached: the plan is what the change does in the end; each
  // copy of a rollout says which wave it waits for (docs/spec.md D10.5).
  const waves = rolloutsOf([...input.current, ...input.proposed], keyOf);
  const before = computeDesiredState({ ...common, sources: input.current, rollouts: waves.admitAll });
  const next = [...input.current.filter((o) => !proposedKeys.has(keyOf(o))), ...input.proposed];
  // With the state before as `previous`, as the server has it: an invalid annotation keeps copies.
  const after = computeDesiredState({ ...common, sources: next, previous: before, rollouts: waves.admitAll });

  const sources = input.proposed.map((o) => plannedSource(o, keyOf(o), after));
  const statuses = new Map(input.clusters.map((c) => [c.name, c.status]));
  const copies: PlannedCopy[] = [];
  for (const cluster of [...new Set([...before.clusters.keys(), ...after.clusters.keys()])].sort(
    compareStrings,
  )) {
    copies.push(
      ...clusterPlan({
        cluster,
        before: before.clusters.get(cluster) ?? new Map(),
        after: after.clusters.get(cluster) ?? new Map(),
        proposedKeys,
        status: statuses.get(cluster),
        live: input.live?.get(cluster),
      }).map((planned) => withWave(planned, waves.bySource.get(planned.source))),
    );
  }
  const errors = sources.reduce((n, s) => n + s.errors.length, 0);
  const conflicts = copies.filter((c) => c.action === PlanAction.conflict).length;
  return { sources, copies, problems: errors + conflicts };
}

function plannedSource(object: KubeObject, key: string, after: DesiredState): PlannedSource {
  const targets: { cluster: string; namespace: string | undefined }[] = [];
  for (const [cluster, copies] of after.clusters) {
    for (const copy of copies.values()) {
      if (objectKey(copy.source) === key)
        targets.push({ cluster, namespace: copy.object.metadata.namespace });
    }
  }
  const items = after.reports.get(key)?.items ?? [];
  const issue = (i: (typeof items)[number]): PlanIssue => ({
    code: i.code,
    message: i.message,
    ...(i.cluster === undefined ? {} : { cluster: i.cluster }),
    ...(i.namespace === undefined ? {} : { namespace: i.namespace }),
  });
  const ref = objectRefOf(object);
  return {
    key,
    kind: object.kind,
    namespace: ref.namespace,
    name: ref.name,
    distributeTo: object.metadata.annotations?.[Annotation.DistributeTo],
    targets,
    errors: items.filter((i) => i.severity === Severity.Error).map(issue),
    warnings: items.filter((i) => i.severity === Severity.Warning).map(issue),
  };
}

interface ClusterPlanInput {
  readonly cluster: string;
  readonly before: ClusterCopies;
  readonly after: ClusterCopies;
  readonly proposedKeys: ReadonlySet<string>;
  readonly status: KubernetesClusterStatus | undefined;
  readonly live: ReadonlyMap<string, KubeObject | null> | undefined;
}

function clusterPlan(input: ClusterPlanInput): PlannedCopy[] {
  return copiesPlan(input).map((planned) => withPause(planned, input.after.get(planned.key)));
}

/** Every rollout admitted to its last wave, and each source's waves (by source key). */
function rolloutsOf(objects: readonly KubeObject[], keyOf: (o: KubeObject) => string) {
  const admitAll = new Map<string, RolloutAdmission>();
  const bySource = new Map<string, Rollout>();
  for (const o of objects) {
    const { rollout } = sourceRollout(o);
    if (rollout === undefined) continue;
    admitAll.set(keyOf(o), { revision: rolloutRevision(o), admitted: Number.POSITIVE_INFINITY });
    bySource.set(keyOf(o), rollout);
  }
  return { admitAll, bySource };
}

/** A write of a rollout's copy happens in the cluster's wave: said in the reason. */
function withWave(planned: PlannedCopy, rollout: Rollout | undefined): PlannedCopy {
  if (rollout === undefined || planned.action === PlanAction.prune || planned.action === PlanAction.unchanged)
    return planned;
  const wave = waveOf(rollout, planned.cluster);
  const which = wave < rollout.waves.length ? `wave ${wave + 1} of ${rollout.waves.length}` : 'the last wave';
  const when = wave === 0 ? 'first' : 'once the earlier waves applied it';
  const note = `rollout ${which}: ${when}`;
  return { ...planned, reason: planned.reason === undefined ? note : `${planned.reason} (${note})` };
}

/** What a pause makes of a planned write: nothing, until it is lifted. */
function withPause(planned: PlannedCopy, will: DesiredCopy | undefined): PlannedCopy {
  if (will?.policy.paused !== true) return planned;
  switch (planned.action) {
    case PlanAction.create:
    case PlanAction.update:
      return {
        ...planned,
        action: PlanAction.paused,
        reason: `the source is paused: the agent would ${planned.action} it once kuberelay.dev/paused is removed`,
      };
    case PlanAction.unchanged:
      return { ...planned, reason: 'the source is paused' };
    default:
      return planned;
  }
}

function copiesPlan(input: ClusterPlanInput): PlannedCopy[] {
  const { cluster, before, after } = input;
  const reported = new Map((input.status?.copies ?? []).map((c) => [c.key, c]));
  const planned: PlannedCopy[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort(compareStrings)) {
    const was = before.get(key);
    const will = after.get(key);
    const source = objectKey(
      (will ?? was)?.source ?? { group: '', kind: '', namespace: undefined, name: '' },
    );
    if (will === undefined) {
      if (was !== undefined)
        planned.push({
          cluster,
          key,
          source,
          action: PlanAction.prune,
          against: 'desired',
          before: was.object,
        });
      continue;
    }
    const ours = input.proposedKeys.has(source);
    // Another source's copy the change leaves as it is: not part of this plan, whatever its state.
    if (!ours && was !== undefined && was.hash === will.hash && was.overwrite === will.overwrite) continue;
    const live = input.live?.get(key);
    if (live !== undefined) {
      planned.push(...againstLive({ cluster, key, source, will, live, ours }));
      continue;
    }
    const report = reported.get(key);
    if (report?.outcome === CopyOutcomeName.conflict && !will.overwrite) {
      planned.push({
        cluster,
        key,
        source,
        action: PlanAction.conflict,
        against: 'desired',
        reason: `the agent reported a conflict: ${report.message ?? 'an object the relay does not own is there'}`,
        after: will.object,
        ...(was === undefined ? {} : { before: was.object }),
      });
      continue;
    }
    const action =
      was === undefined
        ? PlanAction.create
        : was.hash === will.hash
          ? PlanAction.unchanged
          : PlanAction.update;
    if (action === PlanAction.unchanged && !ours) continue;
    planned.push({
      cluster,
      key,
      source,
      action,
      against: 'desired',
      after: will.object,
      ...(was === undefined ? {} : { before: was.object }),
    });
  }
  return planned;
}

function againstLive(input: {
  cluster: string;
  key: string;
  source: string;
  will: DesiredCopy;
  live: KubeObject | null;
  ours: boolean;
}): PlannedCopy[] {
  const { cluster, key, source, will, live } = input;
  const base = { cluster, key, source, against: 'live' as const, after: will.object };
  if (live === null) return [{ ...base, action: PlanAction.create }];
  const shown = withoutServerFields(live);
  const owner = live.metadata.annotations?.[Annotation.DistributedSource];
  if (owner !== will.object.metadata.annotations?.[Annotation.DistributedSource]) {
    if (!will.overwrite) {
      return [
        {
          ...base,
          before: shown,
          action: PlanAction.conflict,
          reason:
            owner === undefined
              ? 'an object the relay does not own is there (set kuberelay.dev/conflict-resolution: overwrite on the source to take it over)'
              : `the object there is a copy of another source (${owner})`,
        },
      ];
    }
    return [
      {
        ...base,
        before: shown,
        action: PlanAction.update,
        reason: 'taken over (conflict-resolution: overwrite)',
      },
    ];
  }
  // Only what the copy sets is compared (and shown): what the API server defaults on top is not a
  // difference the agent would write away (docs/design.md, the agent's write strategy). Nor is
  // what the source's ignore-fields leaves to live: the agent's writes keep it (D10.3).
  const ignored = ignoredFieldPaths(will.policy);
  const wanted =
    ignored.length === 0 ? will.object : (keepLiveValues(will.object, shown, ignored) as KubeObject);
  const projected = project(shown, wanted) as KubeObject;
  const same = JSON.stringify(comparable(projected)) === JSON.stringify(comparable(wanted));
  if (same && !input.ours) return [];
  return [{ ...base, before: projected, action: same ? PlanAction.unchanged : PlanAction.update }];
}

/** `live` cut to the shape of `desired`: its fields that desired has, arrays element by element. */
function project(live: unknown, desired: unknown): unknown {
  if (Array.isArray(desired) && Array.isArray(live)) {
    return live.map((item, i) => (i < desired.length ? project(item, desired[i]) : item));
  }
  if (isRecord(desired) && isRecord(live)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(live)) if (key in desired) out[key] = project(live[key], desired[key]);
    return out;
  }
  return live;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Metadata the API server sets and status: not part of what the relay writes. */
const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
];

function withoutServerFields(object: KubeObject): KubeObject {
  const metadata = { ...object.metadata } as Record<string, unknown>;
  for (const field of SERVER_METADATA) delete metadata[field];
  const annotations = { ...(object.metadata.annotations ?? {}) };
  delete annotations[Annotation.CopyHash];
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  else metadata.annotations = annotations;
  const { status: _status, ...rest } = object as KubeObject & { status?: unknown };
  return { ...rest, metadata } as KubeObject;
}

/** Key order does not matter when comparing a live object with a copy. */
function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([k, v]) => [k, comparable(v)]),
  );
}
