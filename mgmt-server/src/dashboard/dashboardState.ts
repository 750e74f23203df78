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
  #timer = false;
  #input: { generation: number; value: DashboardInput } | undefined;

  constructor(options: DashboardStateOptions) {
    this.#o = options;
  }

  get generation(): number {
    return this.#generation;
  }

  /** Something the dashboard shows may have changed. Cheap: a counter and at most one timer. */
  changed(): void {
    this.#generation += 1;
    if (this.#timer || this.#o.signal.aborted || this.#listeners.size === 0) return;
    const wait = Math.max(0, this.#lastNotifyAt + this.#interval() - this.#o.clock.now());
    this.#timer = true;
    this.#o.clock.sleep(wait, this.#o.signal).then(
      () => {
        this.#timer = false;
        this.#notify();
      },
      () => {
        this.#timer = false;
      },
    );
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
    return this.#o.minNotifyIntervalMs ?? MIN_NOTIFY_INTERVAL_MS;
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
    };
  }
}
