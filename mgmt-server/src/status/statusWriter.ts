import { type Clock, KUBERNETES_CLUSTER, type KubernetesClusterStatus, type Logger } from '@kuberelay/shared';
import { ContentType, isConflict, isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { mayOverwrite } from './statusOwnership.js';
import { WriteBudget } from './writeBudget.js';

export interface StatusWriterOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  /** `<namespace>/<pod>` of this replica: a disconnect is only written over our own connection. */
  readonly serverPod: string;
  /** `<pod>/<start id>` of this process: a status another instance wrote is not ours. */
  readonly serverInstance: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Least time between two writes of one cluster (default 1 s). */
  readonly minIntervalMs?: number;
  /** A change of the routine fields alone (lastHeartbeat, sentVersion, ackedVersion) is written
   * at most this often (default 30 s). */
  readonly heartbeatIntervalMs?: number;
  /**
   * A change is written once it has lasted this long (default 1 s; not for a cluster's first
   * status): an edit that every agent acknowledges within it (pending, then applied again) leaves
   * no write at all, instead of two per cluster.
   */
  readonly settleMs?: number;
  /** Status writes per second for all clusters together (default 200; 0 = no budget). */
  readonly writesPerSecond?: number;
}

/** Status fields that change in the normal course (every heartbeat, every version): written with
 * the heartbeat, not as changes. What check judges (conditions, counts, connected) is never one. */
const ROUTINE_FIELDS = ['lastHeartbeat', 'sentVersion', 'ackedVersion'] as const;
type RoutineField = (typeof ROUTINE_FIELDS)[number];

/** The default budget: 1,000 clusters changing at once are written within 5 s, at under a third of
 * the PATCH rate the lab's API server sustains (676/s, `pnpm bench:scale`). */
export const DEFAULT_STATUS_WRITES_PER_SECOND = 200;

/** A KubernetesCluster as read or as a write answers it (what the writer looks at). */
interface LiveCluster {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly status?: KubernetesClusterStatus;
}

/** The reason a replaced or stopped wake-up is aborted with (see Entry.wake). */
const WAKE_CANCELLED = Symbol('status wake-up cancelled');

interface Entry {
  desired: KubernetesClusterStatus;
  written: KubernetesClusterStatus | undefined;
  writtenAt: number;
  heartbeatWrittenAt: number;
  /** A write is in flight; its completion schedules the next one. */
  writing: boolean;
  /**
   * The object's resourceVersion after our last write (undefined: not known, read it first).
   * Every write is conditional on it, so a status another replica wrote since is seen and judged
   * (statusOwnership.ts) instead of overwritten.
   */
  resourceVersion: string | undefined;
  /**
   * The one pending wake-up, and when it fires; an earlier need replaces it, and aborts it so its
   * timer is released at once (a replaced 30 s heartbeat wait otherwise lingers for 30 s). Always
   * aborted with the constant WAKE_CANCELLED: abort() without a reason builds a DOMException with
   * a stack each time, which was 2 % of the server's CPU at 1,000 agents.
   */
  wake: AbortController | undefined;
  wakeAt: number;
  /** Since when a change (not routine) waits to be written; undefined when there is none. */
  changedSince: number | undefined;
}

/**
 * Writes `KubernetesCluster.status` with merge patches on the status subresource: when something
 * other than the routine fields changed and stayed changed for 1 s (or the routine fields are 30 s
 * old), at most once per second per cluster and within one budget of writes per second for all
 * clusters, the latest value winning (intermediate ones are skipped, never queued). So an edit
 * acknowledged everywhere within a second costs no write, and 1,000 clusters changing at once
 * cost 1,000 writes spread over the budget rather than 1,000 in a second.
 * Each patch carries the resourceVersion of our last write: when the object changed since (another
 * replica wrote, or anyone edited it), it is read again and written only if this process may
 * (`mayOverwrite`: never over a newer holder's status), so a stale holder never overwrites one.
 */
export class StatusWriter {
  readonly #o: StatusWriterOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #budget: WriteBudget;

  constructor(options: StatusWriterOptions) {
    this.#o = options;
    this.#budget = new WriteBudget({
      perSecond: options.writesPerSecond ?? DEFAULT_STATUS_WRITES_PER_SECOND,
    });
    // One listener on the server's signal for every pending wake-up, not one per sleep: at 1,000
    // clusters the signal held thousands of listeners, and each addEventListener walks them all
    // (8.8 % of the server's CPU in a 1,000-agent profile).
    options.signal.addEventListener(
      'abort',
      () => {
        for (const entry of this.#entries.values()) entry.wake?.abort(WAKE_CANCELLED);
      },
      { once: true },
    );
  }

  /** What status should say now; `since`: when it changed, if earlier (the settle time counts from it). */
  set(cluster: string, status: KubernetesClusterStatus, since?: number): void {
    const entry = this.#entries.get(cluster);
    if (entry === undefined) {
      this.#entries.set(cluster, {
        desired: status,
        written: undefined,
        writtenAt: 0,
        heartbeatWrittenAt: 0,
        writing: false,
        resourceVersion: undefined,
        wake: undefined,
        wakeAt: Number.POSITIVE_INFINITY,
        changedSince: undefined,
      });
    } else {
      entry.desired = status;
    }
    const current = this.#entries.get(cluster);
    if (since !== undefined && current !== undefined && this.#changed(current)) {
      current.changedSince = Math.min(current.changedSince ?? since, since);
    }
    this.#schedule(cluster);
  }

  /**
   * Changes only routine fields of what status should say (a heartbeat, a version sent), without
   * a new status built and compared: on every heartbeat of every cluster that was most of an idle
   * server's work. False when there is no status for the cluster yet (build one and `set` it).
   */
  touch(cluster: string, routine: Partial<Pick<KubernetesClusterStatus, RoutineField>>): boolean {
    const entry = this.#entries.get(cluster);
    if (entry === undefined) return false;
    const next = { ...entry.desired, ...routine };
    meanings.set(next, meaningOf(entry.desired));
    entry.desired = next;
    this.#schedule(cluster);
    return true;
  }

  /** Stops tracking a cluster (deregistered); a pending write is dropped. */
  forget(cluster: string): void {
    this.#entries.get(cluster)?.wake?.abort(WAKE_CANCELLED);
    this.#entries.delete(cluster);
  }

  /**
   * Writes every cluster whose status is due now, ignoring the rate limit, with its own deadline
   * (the server's signal may already be aborted): on shutdown, so status says "disconnected" at once.
   */
  async drain(timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    const now = this.#o.clock.now();
    await Promise.all(
      [...this.#entries]
        .filter(([, entry]) => this.#due(entry, now))
        .map(async ([cluster, entry]) => {
          try {
            await this.#guardedPatch(cluster, entry, entry.desired, signal);
          } catch (error) {
            this.#o.logger.warn({ err: error, cluster }, 'final status write failed');
          }
        }),
    );
  }

  /** The last status written for a cluster (tests, conditions' transition times). */
  written(cluster: string): KubernetesClusterStatus | undefined {
    return this.#entries.get(cluster)?.written;
  }

  #due(entry: Entry, now: number): boolean {
    if (this.#changed(entry)) return true;
    return this.#routineChanged(entry) && now - entry.heartbeatWrittenAt >= this.#heartbeatMs;
  }

  /** Something other than the routine fields differs from what was written. */
  #changed(entry: Entry): boolean {
    if (entry.written === undefined) return true;
    return entry.desired !== entry.written && meaningOf(entry.desired) !== meaningOf(entry.written);
  }

  #routineChanged(entry: Entry): boolean {
    return ROUTINE_FIELDS.some((field) => entry.desired[field] !== entry.written?.[field]);
  }

  get #heartbeatMs(): number {
    return this.#o.heartbeatIntervalMs ?? 30_000;
  }

  /**
   * Decides when this cluster's status is next written: now, after the rate limit, or (a fresh
   * heartbeat alone) when the heartbeat interval allows. One wake-up at a time, and a change that
   * is due sooner than the pending wake-up replaces it: a heartbeat's 30 s wait must never hold
   * back new counts or a disconnect.
   */
  #schedule(cluster: string): void {
    const entry = this.#entries.get(cluster);
    if (entry === undefined || entry.writing || this.#o.signal.aborted) return;
    const now = this.#o.clock.now();
    let wait: number;
    if (this.#changed(entry)) {
      entry.changedSince ??= now;
      const settled = entry.written === undefined ? now : entry.changedSince + (this.#o.settleMs ?? 1_000);
      wait = Math.max(0, entry.writtenAt + (this.#o.minIntervalMs ?? 1_000) - now, settled - now);
    } else if (this.#routineChanged(entry)) {
      entry.changedSince = undefined;
      wait = Math.max(0, entry.heartbeatWrittenAt + this.#heartbeatMs - now);
    } else {
      entry.changedSince = undefined;
      return;
    }
    if (entry.wake !== undefined && entry.wakeAt <= now + wait) return;
    // The pending wake-up is replaced: cancel its timer rather than let it fire for nothing.
    entry.wake?.abort(WAKE_CANCELLED);
    entry.wake = undefined;
    entry.wakeAt = Number.POSITIVE_INFINITY;
    if (wait === 0) {
      // Due now: book a slot of the shared budget, and write when it comes.
      const slot = this.#budget.reserve(now);
      if (slot === 0) {
        this.#start(cluster, entry);
        return;
      }
      this.#wakeIn(cluster, entry, slot, now, () => {
        if (this.#due(entry, this.#o.clock.now()) && !entry.writing) this.#start(cluster, entry);
        else this.#schedule(cluster);
      });
      return;
    }
    this.#wakeIn(cluster, entry, wait, now, () => this.#schedule(cluster));
  }

  #start(cluster: string, entry: Entry): void {
    entry.writing = true;
    void this.#write(cluster, entry);
  }

  #wakeIn(cluster: string, entry: Entry, wait: number, now: number, then: () => void): void {
    const wake = new AbortController();
    entry.wake = wake;
    entry.wakeAt = now + wait;
    this.#o.clock.sleep(wait, wake.signal).then(
      () => {
        if (entry.wake !== wake || this.#entries.get(cluster) !== entry) return;
        entry.wake = undefined;
        entry.wakeAt = Number.POSITIVE_INFINITY;
        then();
      },
      () => {},
    );
  }

  async #write(cluster: string, entry: Entry): Promise<void> {
    const status = entry.desired;
    const logger = this.#o.logger.child({ cluster });
    try {
      const skipped = await this.#guardedPatch(cluster, entry, status, this.#o.signal);
      if (skipped !== undefined) {
        // Another replica holds the agent now (or a newer stream of it): ours would be a lie.
        // Not retried: the next change of what we would say is judged again.
        logger.info({ holder: skipped.holder }, `not writing the status: ${skipped.reason}`);
        entry.written = status;
        entry.changedSince = undefined;
      } else {
        const now = this.#o.clock.now();
        // Every write carries the routine fields too: the next routine-only one waits from here.
        entry.heartbeatWrittenAt = now;
        entry.written = status;
        entry.writtenAt = now;
        entry.changedSince = undefined;
        logger.debug({ connected: status.connected, counts: status.counts }, 'status written');
      }
      entry.writing = false;
      this.#schedule(cluster);
    } catch (error) {
      entry.writing = false;
      if (this.#o.signal.aborted) return;
      if (isNotFound(error)) {
        // Deregistered while we were writing; nothing to report on.
        this.#entries.delete(cluster);
        return;
      }
      logger.warn({ err: error }, 'writing KubernetesCluster status failed; retrying in 5 s');
      // The rate limit then holds the next attempt back by 5 s.
      entry.writtenAt = this.#o.clock.now() + 5_000 - (this.#o.minIntervalMs ?? 1_000);
      this.#schedule(cluster);
    }
  }

  /**
   * Patches `status` conditionally on the entry's resourceVersion; on a conflict (or when it is not
   * known yet) reads the object and writes only if `mayOverwrite` allows. Returns why it did not
   * write, or undefined once written.
   */
  async #guardedPatch(
    cluster: string,
    entry: Entry,
    status: KubernetesClusterStatus,
    signal: AbortSignal,
  ): Promise<{ holder: string; reason: string } | undefined> {
    const self = { pod: this.#o.serverPod, instance: this.#o.serverInstance };
    // A few rounds: each conflict means the object changed between our read and our write.
    for (let attempt = 0; ; attempt += 1) {
      if (entry.resourceVersion === undefined) {
        const live = await this.#read(cluster, signal);
        const verdict = mayOverwrite({ live: live.status, ours: status, self });
        // Kept only when allowed: a version we were refused on must not license the next write.
        if (!verdict.write) return verdict;
        entry.resourceVersion = live.metadata?.resourceVersion;
      }
      try {
        const written = await this.#patch(cluster, status, entry.resourceVersion, signal);
        entry.resourceVersion = written.metadata?.resourceVersion;
        return undefined;
      } catch (error) {
        entry.resourceVersion = undefined;
        if (!isConflict(error) || attempt >= 3) throw error;
      }
    }
  }

  async #patch(
    cluster: string,
    status: KubernetesClusterStatus,
    resourceVersion: string | undefined,
    signal: AbortSignal,
  ): Promise<LiveCluster> {
    return this.#o.rest.request<LiveCluster>({
      method: 'PATCH',
      path: this.#path(cluster, 'status'),
      contentType: ContentType.mergePatch,
      body: resourceVersion === undefined ? { status } : { metadata: { resourceVersion }, status },
      signal,
    });
  }

  #read(cluster: string, signal: AbortSignal): Promise<LiveCluster> {
    return this.#o.rest.request<LiveCluster>({ method: 'GET', path: this.#path(cluster), signal });
  }

  #path(cluster: string, subresource?: 'status'): string {
    return resourcePath({
      group: KUBERNETES_CLUSTER.group,
      version: KUBERNETES_CLUSTER.version,
      plural: KUBERNETES_CLUSTER.plural,
      namespace: this.#o.namespace,
      name: cluster,
      ...(subresource === undefined ? {} : { subresource }),
    });
  }
}

function withoutRoutine(
  status: KubernetesClusterStatus,
): Omit<KubernetesClusterStatus, (typeof ROUTINE_FIELDS)[number]> {
  const { lastHeartbeat: _h, sentVersion: _s, ackedVersion: _a, ...rest } = status;
  return rest;
}

/** The non-routine part of a status as text, once per status object: #changed runs at every
 * set() of every cluster, and stringifying both sides (with up to 500 copies) each time was the
 * writer's largest cost at 1,000 agents (issue 10). */
const meanings = new WeakMap<KubernetesClusterStatus, string>();

function meaningOf(status: KubernetesClusterStatus): string {
  let meaning = meanings.get(status);
  if (meaning === undefined) {
    meaning = JSON.stringify(withoutRoutine(status));
    meanings.set(status, meaning);
  }
  return meaning;
}
