import { type Clock, KUBERNETES_CLUSTER, type KubernetesClusterStatus, type Logger } from '@kuberelay/shared';
import { ContentType, isConflict, isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { mayOverwrite } from './statusOwnership.js';

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
  /** A change of lastHeartbeat alone is written at most this often (default 30 s). */
  readonly heartbeatIntervalMs?: number;
}

/** A KubernetesCluster as read or as a write answers it (what the writer looks at). */
interface LiveCluster {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly status?: KubernetesClusterStatus;
}

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
  /** The one pending wake-up, and when it fires; an earlier need replaces it. */
  wake: AbortController | undefined;
  wakeAt: number;
}

/**
 * Writes `KubernetesCluster.status` with merge patches on the status subresource: only when
 * something other than lastHeartbeat changed (or lastHeartbeat is 30 s old), at most once per
 * second per cluster, the latest value winning (intermediate ones are skipped, never queued).
 * Each patch carries the resourceVersion of our last write: when the object changed since (another
 * replica wrote, or anyone edited it), it is read again and written only if this process may
 * (`mayOverwrite`: never over a newer holder's status), so a stale holder never overwrites one.
 */
export class StatusWriter {
  readonly #o: StatusWriterOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: StatusWriterOptions) {
    this.#o = options;
  }

  set(cluster: string, status: KubernetesClusterStatus): void {
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
      });
    } else {
      entry.desired = status;
    }
    this.#schedule(cluster);
  }

  /** Stops tracking a cluster (deregistered); a pending write is dropped. */
  forget(cluster: string): void {
    this.#entries.get(cluster)?.wake?.abort();
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
    if (entry.written === undefined) return true;
    const { lastHeartbeat: _a, ...desired } = entry.desired;
    const { lastHeartbeat: _b, ...written } = entry.written;
    if (JSON.stringify(desired) !== JSON.stringify(written)) return true;
    return (
      entry.desired.lastHeartbeat !== entry.written.lastHeartbeat &&
      now - entry.heartbeatWrittenAt >= (this.#o.heartbeatIntervalMs ?? 30_000)
    );
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
    if (this.#due(entry, now)) {
      wait = Math.max(0, entry.writtenAt + (this.#o.minIntervalMs ?? 1_000) - now);
    } else if (entry.written !== undefined && entry.desired.lastHeartbeat !== entry.written.lastHeartbeat) {
      wait = Math.max(0, entry.heartbeatWrittenAt + (this.#o.heartbeatIntervalMs ?? 30_000) - now);
    } else {
      return;
    }
    if (entry.wake !== undefined && entry.wakeAt <= now + wait) return;
    entry.wake?.abort();
    entry.wake = undefined;
    entry.wakeAt = Number.POSITIVE_INFINITY;
    if (wait === 0) {
      entry.writing = true;
      void this.#write(cluster, entry);
      return;
    }
    const wake = new AbortController();
    entry.wake = wake;
    entry.wakeAt = now + wait;
    this.#o.clock.sleep(wait, AbortSignal.any([this.#o.signal, wake.signal])).then(
      () => {
        if (entry.wake !== wake) return;
        entry.wake = undefined;
        entry.wakeAt = Number.POSITIVE_INFINITY;
        this.#schedule(cluster);
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
      } else {
        const now = this.#o.clock.now();
        if (entry.written?.lastHeartbeat !== status.lastHeartbeat) entry.heartbeatWrittenAt = now;
        entry.written = status;
        entry.writtenAt = now;
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
