import { CopyOutcome, type CopyResult } from '@kuberelay/proto';
import {
  Annotation,
  type Clock,
  type ClusterStanding,
  type CopyStatus,
  createKindRegistry,
  type DesiredState,
  fitsRecord,
  type KindInfo,
  type KubeObject,
  type KubernetesClusterStatus,
  type Logger,
  objectKey,
  planSource,
  type RecordedRevision,
  type RolloutAdmission,
  RolloutPhase,
  type RolloutProgress,
  registeredClusters,
  revisionContent,
  rolloutProgress,
  type SourcePlan,
  targetsOf,
  type ValidPlan,
} from '@kuberelay/shared';

// Steers the sources that carry kuberelay.dev/rollout (docs/spec.md D10.5): after every change of
// the desired state or of what the agents report, it reads how each wave stands (the pure
// rolloutProgress), tells the desired-state loop how far each revision may go, records the
// progress as Events on the source and wakes itself when a soak ends. Its only memory is when
// waves were first seen done and how far each revision got: what is applied where is read from
// the agents' results (this replica's streams) and the clusters' statuses (the others'), so a
// restarted server or a second replica reads the same progress.

export interface RolloutControllerOptions {
  readonly kinds: readonly KindInfo[];
  readonly sources: () => readonly KubeObject[];
  readonly clusterStatuses: () => readonly {
    readonly name: string;
    readonly status?: KubernetesClusterStatus | undefined;
  }[];
  readonly desired: () => DesiredState | undefined;
  /** This replica holds the cluster's stream: its results are exact and current. */
  readonly holds: (cluster: string) => boolean;
  readonly copyResult: (cluster: string, key: string) => CopyResult | undefined;
  /** How far each revision may go changed: recompute the desired state with it. */
  readonly onAdmissions: (admissions: ReadonlyMap<string, RolloutAdmission>) => void;
  /** The progress of some rollout changed (what the dashboard shows). */
  readonly onProgress?: () => void;
  /** Every wave applied a revision: what `relayctl rollout undo` may go back to (RevisionStore). */
  readonly onComplete?: (sourceKey: string, complete: RecordedRevision) => void;
  readonly record: (event: {
    readonly source: KubeObject;
    readonly reason: string;
    readonly message: string;
    readonly type: 'Warning' | 'Normal';
  }) => void;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** Reasons of the Events a rollout records on its source. */
export const RolloutEvent = {
  /** A wave is applying the revision (Normal). */
  Progressing: 'RolloutProgressing',
  /** A wave applied it; the next gets it when the soak ends (Normal). */
  Soaking: 'RolloutSoaking',
  Complete: 'RolloutComplete',
  /** A cluster of the current wave failed (Warning). */
  Halted: 'RolloutHalted',
  /** A cluster of the current wave is not connected (Warning). */
  Holding: 'RolloutHolding',
} as const;

/** Where one source's rollout stands, as last evaluated (shown by the dashboard). */
export interface RolloutSummary {
  readonly revision: string;
  readonly waves: string;
  readonly phase: RolloutProgress['phase'];
  readonly reason: string;
  /** The selected clusters by wave: the annotation's waves, then the implicit last one. */
  readonly clusters: RolloutProgress['waves'];
  /** Waves 0 .. admitted-1 have the revision. */
  readonly admitted: number;
  /** ms since the epoch, while soaking. */
  readonly soakUntil: number | undefined;
}

interface Tracked {
  readonly revision: string;
  admitted: number;
  completedAt: ReadonlyMap<number, number>;
  /** phase and wave last recorded, so each transition is recorded once. */
  said: string;
  summary: RolloutSummary | undefined;
  /** The revision handed to onComplete, once. */
  recorded: boolean;
}

export class RolloutController {
  readonly #o: RolloutControllerOptions;
  readonly #registry;
  readonly #tracked = new Map<string, Tracked>();
  readonly #plans = new WeakMap<KubeObject, SourcePlan | undefined>();
  #admissions: ReadonlyMap<string, RolloutAdmission> = new Map();
  #scheduled = false;
  #wakeAt: number | undefined;

  constructor(options: RolloutControllerOptions) {
    this.#o = options;
    this.#registry = createKindRegistry(options.kinds);
  }

  get admissions(): ReadonlyMap<string, RolloutAdmission> {
    return this.#admissions;
  }

  /** Where the rollout of source `key` (objectKey) stands; undefined without one. */
  progress(key: string): RolloutSummary | undefined {
    return this.#tracked.get(key)?.summary;
  }

  /** Something a rollout may depend on changed; evaluated once per event-loop turn. */
  notify(): void {
    if (this.#scheduled || this.#o.signal.aborted) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#evaluate();
    });
  }

  #evaluate(): void {
    const state = this.#o.desired();
    if (state === undefined || this.#o.signal.aborted) return;
    // Called after every Ack of every agent: with no rollout anywhere it costs one pass over the
    // sources' annotations, nothing per cluster.
    const waved = this.#o.sources().filter((s) => s.metadata.annotations?.[Annotation.Rollout] !== undefined);
    if (waved.length === 0 && this.#tracked.size === 0 && this.#admissions.size === 0) return;
    const statuses = new Map(this.#o.clusterStatuses().map((c) => [c.name, c.status]));
    const clusters = registeredClusters([...state.clusters.keys()]);
    const now = this.#o.clock.now();
    const next = new Map<string, RolloutAdmission>();
    let wakeAt: number | undefined;
    let progressed = false;
    for (const source of waved) {
      const plan = this.#planOf(source);
      if (plan?.type !== 'valid' || plan.rollout === undefined || plan.policy.paused) continue;
      const { revision } = plan.rollout;
      const known = this.#tracked.get(plan.key);
      const tracked: Tracked =
        known?.revision === revision
          ? known
          : { revision, admitted: 0, completedAt: new Map(), said: '', summary: undefined, recorded: false };
      this.#tracked.set(plan.key, tracked);
      const targets = targetsOf(plan, clusters).targets;
      const progress = rolloutProgress({
        rollout: plan.rollout.waves,
        clusters: targets.map((t) => t.cluster),
        standing: (cluster) => this.#standing(state, statuses.get(cluster), plan, cluster, targets),
        completedAt: tracked.completedAt,
        admittedBefore: tracked.admitted,
        resumed: source.metadata.annotations?.[Annotation.RolloutResume]?.trim() === revision,
        now,
      });
      tracked.completedAt = progress.completedAt;
      tracked.admitted = Math.max(tracked.admitted, progress.admitted);
      next.set(plan.key, { revision, admitted: tracked.admitted });
      this.#say(source, plan, tracked, progress);
      if (progress.phase === RolloutPhase.complete && !tracked.recorded) {
        tracked.recorded = true;
        this.#remember(plan.key, source, revision, now);
      }
      const summary: RolloutSummary = {
        revision,
        waves: plan.rollout.waves.text,
        phase: progress.phase,
        reason: progress.reason,
        clusters: progress.waves,
        admitted: tracked.admitted,
        soakUntil: progress.soakUntil,
      };
      if (!sameSummary(tracked.summary, summary)) {
        tracked.summary = summary;
        progressed = true;
      }
      if (progress.soakUntil !== undefined)
        wakeAt = Math.min(wakeAt ?? progress.soakUntil, progress.soakUntil);
    }
    for (const key of this.#tracked.keys()) {
      if (next.has(key)) continue;
      this.#tracked.delete(key);
      progressed = true;
    }
    if (progressed) this.#o.onProgress?.();
    if (!sameAdmissions(this.#admissions, next)) {
      this.#admissions = next;
      this.#o.onAdmissions(next);
    }
    if (wakeAt !== undefined && (this.#wakeAt === undefined || wakeAt < this.#wakeAt))
      this.#wake(wakeAt, now);
  }

  /**
   * How a cluster of an admitted wave stands with the revision: every copy of the source there
   * applied at the content it should hold now. Exact from this replica's stream; from the status
   * another replica wrote otherwise (an entry at another hash is not about this revision yet).
   */
  #standing(
    state: DesiredState,
    status: KubernetesClusterStatus | undefined,
    plan: ValidPlan,
    cluster: string,
    targets: readonly { readonly cluster: string; readonly namespace: string | undefined }[],
  ): ClusterStanding {
    const held = this.#o.holds(cluster);
    if (!held && status?.connected !== true) return { state: 'disconnected' };
    const entries = held ? undefined : new Map((status?.copies ?? []).map((c) => [c.key, c]));
    let pending = false;
    for (const target of targets) {
      if (target.cluster !== cluster) continue;
      const key = objectKey({ ...plan.ref, namespace: target.namespace });
      const desired = state.clusters.get(cluster)?.get(key);
      if (desired === undefined)
        return { state: 'failed', message: `no copy ${key} is desired there (see the source's Events)` };
      // Still held (the engine has not taken the admission in yet): not applied.
      if (desired.policy.paused) {
        pending = true;
        continue;
      }
      const outcome = held
        ? fromResult(this.#o.copyResult(cluster, key), desired.hash)
        : fromStatus(entries?.get(key), desired.hash);
      if (outcome.state === 'failed') return outcome;
      if (outcome.state !== 'applied') pending = true;
    }
    return pending ? { state: 'pending' } : { state: 'applied' };
  }

  #say(source: KubeObject, plan: ValidPlan, tracked: Tracked, progress: RolloutProgress): void {
    const said = `${progress.phase} ${progress.wave}`;
    if (said === tracked.said) return;
    const first = tracked.said === '';
    tracked.said = said;
    this.#o.logger.info(
      { source: plan.key, revision: tracked.revision, phase: progress.phase, admitted: progress.admitted },
      progress.reason,
    );
    const event = (reason: string, message: string, type: 'Warning' | 'Normal') =>
      this.#o.record({ source, reason, message: `revision ${tracked.revision}: ${message}`, type });
    switch (progress.phase) {
      case RolloutPhase.halted:
        event(
          RolloutEvent.Halted,
          `${progress.reason}; nothing goes further until the source is fixed, or relayctl rollout resume`,
          'Warning',
        );
        break;
      case RolloutPhase.holding:
        event(RolloutEvent.Holding, progress.reason, 'Warning');
        break;
      case RolloutPhase.soaking:
        event(
          RolloutEvent.Soaking,
          `${progress.reason} until ${new Date(progress.soakUntil ?? 0).toISOString()}`,
          'Normal',
        );
        break;
      case RolloutPhase.rolling:
        event(RolloutEvent.Progressing, progress.reason, 'Normal');
        break;
      case RolloutPhase.complete:
        // A revision found complete at start (a server restart) is no news.
        if (!first) event(RolloutEvent.Complete, progress.reason, 'Normal');
        break;
    }
  }

  /**
   * The plan of a source object, once per object: informers hand out the same object until it
   * changes, and evaluations run after every Ack (planning compiles the waves and hashes the
   * revision).
   */
  #planOf(source: KubeObject): SourcePlan | undefined {
    if (this.#plans.has(source)) return this.#plans.get(source);
    const plan = planSource(source, this.#registry);
    this.#plans.set(source, plan);
    return plan;
  }

  #remember(sourceKey: string, source: KubeObject, revision: string, now: number): void {
    const complete = { revision, content: revisionContent(source), at: new Date(now).toISOString() };
    if (!fitsRecord(sourceKey, complete)) {
      this.#o.logger.warn(
        { source: sourceKey, revision },
        'the source is too large to keep its revision for relayctl rollout undo',
      );
      return;
    }
    this.#o.onComplete?.(sourceKey, complete);
  }

  #wake(at: number, now: number): void {
    this.#wakeAt = at;
    this.#o.clock.sleep(Math.max(0, at - now), this.#o.signal).then(
      () => {
        if (this.#wakeAt === at) this.#wakeAt = undefined;
        this.notify();
      },
      () => {},
    );
  }
}

function fromResult(result: CopyResult | undefined, hash: string): ClusterStanding {
  if (result === undefined || result.hash !== hash) return { state: 'pending' };
  switch (result.outcome) {
    case CopyOutcome.COPY_OUTCOME_APPLIED:
    case CopyOutcome.COPY_OUTCOME_DRIFTED:
      return { state: 'applied' };
    case CopyOutcome.COPY_OUTCOME_FAILED:
    case CopyOutcome.COPY_OUTCOME_CONFLICT:
      return { state: 'failed', message: result.message || result.code };
    default:
      return { state: 'pending' };
  }
}

function fromStatus(entry: CopyStatus | undefined, hash: string): ClusterStanding {
  if (entry === undefined || entry.hash !== hash) return { state: 'pending' };
  switch (entry.outcome) {
    case 'Applied':
    case 'Drifted':
      return { state: 'applied' };
    case 'Failed':
    case 'Conflict':
      return { state: 'failed', message: entry.message ?? entry.code ?? entry.outcome };
    default:
      return { state: 'pending' };
  }
}

function sameAdmissions(
  a: ReadonlyMap<string, RolloutAdmission>,
  b: ReadonlyMap<string, RolloutAdmission>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [key, x] of a) {
    const y = b.get(key);
    if (y === undefined || y.revision !== x.revision || y.admitted !== x.admitted) return false;
  }
  return true;
}

function sameSummary(a: RolloutSummary | undefined, b: RolloutSummary): boolean {
  return (
    a !== undefined &&
    a.revision === b.revision &&
    a.phase === b.phase &&
    a.reason === b.reason &&
    a.admitted === b.admitted &&
    a.soakUntil === b.soakUntil &&
    JSON.stringify(a.clusters) === JSON.stringify(b.clusters)
  );
}
