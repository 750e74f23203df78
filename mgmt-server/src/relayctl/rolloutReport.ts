import {
  Annotation,
  type ClusterStanding,
  CopyOutcomeName,
  createKindRegistry,
  type KindInfo,
  type KubeObject,
  type KubernetesClusterStatus,
  objectKey,
  planSource,
  RolloutPhase,
  registeredClusters,
  rolloutProgress,
  targetsOf,
  waveOf,
} from '@kuberelay/shared';
import type { EventObject } from './kubeResources.js';
import { HEALTH_EMOJI, Health, renderTable } from './render.js';

// The pure half of `relayctl rollout status` (docs/spec.md D10.5): where a source's rollout stands,
// read as the server reads it: the waves from the annotation, each selected cluster's copies from
// its KubernetesCluster status, and the phase from those by the server's own rolloutProgress (the
// end of a soak is the server's, from its RolloutSoaking Event).

export const ClusterRolloutState = {
  /** Every copy of the source there is applied at its current content. */
  applied: 'applied',
  /** The rollout has not reached the cluster's wave: its copies are held as they are. */
  held: 'held',
  pending: 'pending',
  failed: 'failed',
  paused: 'paused',
  notConnected: 'not-connected',
} as const;
export type ClusterRolloutState = (typeof ClusterRolloutState)[keyof typeof ClusterRolloutState];

export interface RolloutClusterView {
  readonly cluster: string;
  /** 1-based; the implicit last wave (clusters no wave names) is waves + 1. */
  readonly wave: number;
  readonly state: ClusterRolloutState;
  readonly message: string | null;
}

export interface RolloutStatusView {
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly revision: string;
  readonly waves: string;
  readonly soak: string | null;
  /** The revision `kuberelay.dev/rollout-resume` names, when it is the current one. */
  readonly resumed: boolean;
  /** As the server derives it from the same statuses: rolling, soaking, halted, holding, complete. */
  readonly phase: RolloutPhase;
  readonly phaseMessage: string;
  readonly clusters: readonly RolloutClusterView[];
}

export interface RolloutStatusInput {
  readonly source: KubeObject;
  readonly kinds: readonly KindInfo[];
  readonly clusters: readonly {
    readonly name: string;
    readonly status: KubernetesClusterStatus | undefined;
  }[];
  readonly events: readonly EventObject[];
}

/** The view, or why there is none (no rollout annotation, an invalid source). */
export function buildRolloutStatus(
  input: RolloutStatusInput,
): { ok: true; value: RolloutStatusView } | { ok: false; message: string } {
  const { source } = input;
  const plan = planSource(source, createKindRegistry(input.kinds));
  if (source.metadata.annotations?.[Annotation.Rollout] === undefined)
    return { ok: false, message: `it has no ${Annotation.Rollout} annotation` };
  if (plan === undefined) return { ok: false, message: `it has no ${Annotation.DistributeTo} annotation` };
  if (plan.type !== 'valid' || plan.rollout === undefined) {
    const errors = plan.reports.map((r) => r.message).join('; ');
    return { ok: false, message: `it is not distributed as it is: ${errors}` };
  }
  const { revision, waves } = plan.rollout;
  const statuses = new Map(input.clusters.map((c) => [c.name, c.status]));
  const targets = targetsOf(plan, registeredClusters(input.clusters.map((c) => c.name))).targets;
  const byCluster = new Map<string, string[]>();
  for (const t of targets)
    byCluster.set(t.cluster, [
      ...(byCluster.get(t.cluster) ?? []),
      objectKey({ ...plan.ref, namespace: t.namespace }),
    ]);
  const clusters = [...byCluster]
    .map(([cluster, keys]) => ({
      cluster,
      wave: waveOf(waves, cluster) + 1,
      ...standing(statuses.get(cluster), keys),
    }))
    .sort((a, b) => a.wave - b.wave || a.cluster.localeCompare(b.cluster));
  // The phase as the server derives it, from the same statuses: a wave is reached when any of its
  // clusters is no longer held. Only when the soak ends is the server's (its Event says).
  const reached = Math.max(
    0,
    ...clusters.filter((c) => c.state !== ClusterRolloutState.held).map((c) => c.wave),
  );
  const resumed = source.metadata.annotations?.[Annotation.RolloutResume]?.trim() === revision;
  const progress = rolloutProgress({
    rollout: waves,
    clusters: clusters.map((c) => c.cluster),
    standing: (cluster) => standingOf(clusters.find((c) => c.cluster === cluster)),
    completedAt: new Map(),
    admittedBefore: reached,
    resumed,
    now: 0,
  });
  const soak = progress.phase === RolloutPhase.soaking ? latestSoak(input.events, revision) : undefined;
  return {
    ok: true,
    value: {
      kind: source.kind,
      namespace: source.metadata.namespace ?? null,
      name: source.metadata.name,
      revision,
      waves: waves.text,
      soak: source.metadata.annotations?.[Annotation.RolloutSoak] ?? null,
      resumed,
      phase: progress.phase,
      phaseMessage: soak ?? progress.reason,
      clusters,
    },
  };
}

function standing(
  status: KubernetesClusterStatus | undefined,
  keys: readonly string[],
): { state: ClusterRolloutState; message: string | null } {
  if (status?.connected !== true) return { state: ClusterRolloutState.notConnected, message: null };
  const entries = new Map((status.copies ?? []).map((c) => [c.key, c]));
  let worst: { state: ClusterRolloutState; message: string | null } = {
    state: ClusterRolloutState.applied,
    message: null,
  };
  const rank: readonly ClusterRolloutState[] = [
    ClusterRolloutState.failed,
    ClusterRolloutState.paused,
    ClusterRolloutState.held,
    ClusterRolloutState.pending,
    ClusterRolloutState.applied,
  ];
  for (const key of keys) {
    const entry = entries.get(key);
    const message = entry?.message ?? null;
    let state: ClusterRolloutState;
    switch (entry?.outcome) {
      case CopyOutcomeName.applied:
      case CopyOutcomeName.drifted:
        state = ClusterRolloutState.applied;
        break;
      case CopyOutcomeName.failed:
      case CopyOutcomeName.conflict:
        state = ClusterRolloutState.failed;
        break;
      case CopyOutcomeName.paused:
        state = message?.startsWith(Annotation.Rollout)
          ? ClusterRolloutState.held
          : ClusterRolloutState.paused;
        break;
      default:
        state = ClusterRolloutState.pending;
    }
    if (rank.indexOf(state) < rank.indexOf(worst.state)) worst = { state, message };
  }
  return worst;
}

function standingOf(view: RolloutClusterView | undefined): ClusterStanding {
  switch (view?.state) {
    case ClusterRolloutState.applied:
      return { state: 'applied' };
    case ClusterRolloutState.failed:
      return { state: 'failed', message: view.message ?? '' };
    case ClusterRolloutState.notConnected:
      return { state: 'disconnected' };
    default:
      return { state: 'pending' };
  }
}

/** The newest RolloutSoaking Event's message for this revision (it says until when). */
function latestSoak(events: readonly EventObject[], revision: string): string | undefined {
  const prefix = `revision ${revision}: `;
  let latest: { at: string; message: string } | undefined;
  for (const e of events) {
    const message = e.message ?? '';
    if (e.reason !== 'RolloutSoaking' || !message.startsWith(prefix)) continue;
    const at = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? '';
    if (latest === undefined || at >= latest.at) latest = { at, message: message.slice(prefix.length) };
  }
  return latest?.message;
}

const STATE_HEALTH: Readonly<Record<ClusterRolloutState, Health>> = {
  applied: Health.ok,
  held: Health.warning,
  pending: Health.warning,
  paused: Health.warning,
  failed: Health.error,
  'not-connected': Health.error,
};

export function renderRolloutStatus(view: RolloutStatusView): string {
  const where = view.namespace === null ? view.name : `${view.namespace}/${view.name}`;
  const lines = [
    `${view.kind} ${where}: revision ${view.revision}, waves "${view.waves}"${view.soak ? `, soak ${view.soak}` : ''}${view.resumed ? ' (resumed past its failures)' : ''}`,
    view.phase === null
      ? 'Phase: not recorded yet (no rollout Event for this revision)'
      : `Phase: ${view.phase}: ${view.phaseMessage ?? ''}`,
    '',
    renderTable(
      ['WAVE', 'CLUSTER', 'STATE', 'DETAIL'],
      view.clusters.map((c) => [
        String(c.wave),
        c.cluster,
        `${HEALTH_EMOJI[STATE_HEALTH[c.state]]} ${c.state}`,
        c.message ?? '',
      ]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
