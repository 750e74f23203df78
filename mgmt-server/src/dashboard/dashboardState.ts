import {
  Annotation,
  type Clock,
  type DesiredState,
  KUBERELAY_PREFIX,
  type KubeObject,
  type KubernetesClusterStatus,
  objectKey,
  objectRefOf,
} from '@kuberelay/shared';
import type { RolloutSummary } from '../rollout/rolloutController.js';
import type { DashboardAgent, DashboardCluster, DashboardInput, DashboardSource } from './dashboardInput.js';
import type { RecentEvent, RecentLog, RejectedAttempt } from './recentActivity.js';

/** The parts of the server the dashboard reads; all in memory, none makes a request. */
export interface DashboardStateOptions {
  readonly cache: {
    readonly state: DesiredState | undefined;
    get(cluster: string): DashboardCluster['snapshot'];
  };
  readonly reporter: { agent(cluster: string): DashboardAgent | undefined };
  readonly view: {
    sources(): KubeObject[];
    clusterStatuses(): { name: string; status: KubernetesClusterStatus | undefined }[];
  };
  readonly serverInstance: string;
  /** The rollout controller's view of each rollout (none: no rollout is shown). */
  readonly rollouts?: { progress(sourceKey: string): RolloutSummary | undefined };
  readonly recent: { readonly events: RecentLog<RecentEvent>; readonly rejected: RecentLog<RejectedAttempt> };
  readonly clock: Clock;
  /** Ends the coalescing timer. */
  readonly signal: AbortSignal;
  /** Least time between two change notifications (default MIN_NOTIFY_INTERVAL_MS). */
  readonly minNotifyIntervalMs?: number;
}

/**
 * At most two notifications a second, however busy the fleet: 1,000 agents heartbeating every 5 s
 * are 200 events a second, and each notification makes every open page fetch its view again.
 */
export const MIN_NOTIFY_INTERVAL_MS = 500;
/**
 * A heartbeat changes only a cluster's "last heartbeat": told at most this often, so an idle
 * fleet of any size costs an open page one fetch per HEARTBEAT_NOTIFY_MS, not two a second.
 */
export const HEARTBEAT_NOTIFY_MS = 5_000;
/**
 * Between two notifications, at least this many times what building the last view cost: a view
 * of 1,000 clusters x 100 sources takes ~70 ms, so the dashboard keeps to about a tenth of the
 * event loop the streams need, whatever the fleet's size.
 */
export const COST_FACTOR = 10;

/** `data`: anything a page shows may have changed; `heartbeat`: only a last-heartbeat time. */
export type ChangeKind = 'data' | 'heartbeat';

/**
 * The dashboard's window on the server: `changed()` is called on every stream event, desired
 * state and informer change; listeners hear of them coalesced, and `input()` gathers the current
 * values at most once per change (pages fetched between two changes share it).
 */
export class DashboardState {
  readonly #o: DashboardStateOptions;
  readonly #listeners = new Set<(generation: number) => void>();
  #generation = 0;
  #notified = 0;
  #lastNotifyAt = Number.NEGATIVE_INFINITY;
  /** The one pending notification: when it is due, and how to cancel it for an earlier one. */
  #timer: { readonly due: number; readonly cancel: AbortController } | undefined;
  #costMs = 0;
  #input: { generation: number; value: DashboardInput } | undefined;

  constructor(options: DashboardStateOptions) {
    this.#o = options;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Something the dashboard shows may have changed. Cheap: a counter and at most one timer. */
  changed(kind: ChangeKind = 'data'): void {
    this.#generation += 1;
    if (this.#o.signal.aborted || this.#listeners.size === 0) return;
    const now = this.#o.clock.now();
    const gap = kind === 'data' ? this.#interval() : Math.max(this.#interval(), HEARTBEAT_NOTIFY_MS);
    const due = Math.max(now, this.#lastNotifyAt + gap);
    // A notification already due sooner covers this change too.
    if (this.#timer !== undefined && this.#timer.due <= due) return;
    this.#timer?.cancel.abort();
    const timer = { due, cancel: new AbortController() };
    this.#timer = timer;
    this.#o.clock.sleep(due - now, AbortSignal.any([this.#o.signal, timer.cancel.signal])).then(
      () => {
        if (this.#timer === timer) this.#timer = undefined;
        this.#notify();
      },
      () => {
        if (this.#timer === timer) this.#timer = undefined;
      },
    );
  }

  /** What building a view just cost (wall time, ms): spaces the next notifications accordingly. */
  recordCost(ms: number): void {
    this.#costMs = ms;
  }

  /** Hears of changes (coalesced); returns the function that stops listening. */
  onChange(listener: (generation: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  input(): DashboardInput {
    if (this.#input?.generation === this.#generation) return this.#input.value;
    const value = this.#gather();
    this.#input = { generation: this.#generation, value };
    return value;
  }

  #interval(): number {
    return Math.max(this.#o.minNotifyIntervalMs ?? MIN_NOTIFY_INTERVAL_MS, COST_FACTOR * this.#costMs);
  }

  #notify(): void {
    if (this.#notified === this.#generation) return;
    this.#notified = this.#generation;
    this.#lastNotifyAt = this.#o.clock.now();
    for (const listener of this.#listeners) listener(this.#generation);
  }

  #gather(): DashboardInput {
    const { cache, reporter, view } = this.#o;
    const state = cache.state;
    const statuses = new Map(view.clusterStatuses().map((c) => [c.name, c.status]));
    const clusters: DashboardCluster[] = [];
    // The desired state's clusters are the registered ones (KubernetesClusters not being deleted).
    for (const name of state?.clusters.keys() ?? []) {
      clusters.push({
        name,
        snapshot: cache.get(name),
        agent: reporter.agent(name),
        status: statuses.get(name),
      });
    }
    const sources: DashboardSource[] = [];
    for (const object of view.sources()) {
      const distributeTo = object.metadata.annotations?.[Annotation.DistributeTo];
      if (distributeTo === undefined) continue;
      const ref = objectRefOf(object);
      // By prefix, not a list: a control added later shows without a change here.
      const controls = Object.fromEntries(
        Object.entries(object.metadata.annotations ?? {}).filter(([k]) => k.startsWith(KUBERELAY_PREFIX)),
      );
      sources.push({ ref, key: objectKey(ref), distributeTo, controls });
    }
    sources.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return {
      now: this.#o.clock.now(),
      serverInstance: this.#o.serverInstance,
      clusters,
      sources,
      reports: state?.reports ?? new Map(),
      // Read at page time, not copied: the logs are small and only ever appended to.
      events: (key) => this.#o.recent.events.get(key),
      rejected: (cluster) => this.#o.recent.rejected.get(cluster),
      rollout: (key) => this.#o.rollouts?.progress(key),
    };
  }
}
