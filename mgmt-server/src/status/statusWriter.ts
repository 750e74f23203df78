import { type Clock, KUBERNETES_CLUSTER, type KubernetesClusterStatus, type Logger } from '@kuberelay/shared';
import { ContentType, isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';

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

interface Entry {
  desired: KubernetesClusterStatus;
  written: KubernetesClusterStatus | undefined;
  writtenAt: number;
  heartbeatWrittenAt: number;
  /** A write is in flight; its completion schedules the next one. */
  writing: boolean;
  /** The one pending wake-up, and when it fires; an earlier need replaces it. */
  wake: AbortController | undefined;
  wakeAt: number;
}

/**
 * Writes `KubernetesCluster.status` with merge patches on the status subresource: only when
 * something other than lastHeartbeat changed (or lastHeartbeat is 30 s old), at most once per
 * second per cluster, the latest value winning (intermediate ones are skipped, never queued).
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
            if (entry.desired.connected === false && !(await this.#stillOurs(cluster, signal))) return;
            await this.#patch(cluster, entry.desired, signal);
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
      if (status.connected === false && !(await this.#stillOurs(cluster, this.#o.signal))) {
        // Another replica holds the agent now: our "disconnected" would be a lie.
        entry.written = status;
      } else {
        await this.#patch(cluster, status, this.#o.signal);
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

  async #patch(cluster: string, status: KubernetesClusterStatus, signal: AbortSignal): Promise<void> {
    await this.#o.rest.request({
      method: 'PATCH',
      path: resourcePath({
        group: KUBERNETES_CLUSTER.group,
        version: KUBERNETES_CLUSTER.version,
        plural: KUBERNETES_CLUSTER.plural,
        namespace: this.#o.namespace,
        name: cluster,
        subresource: 'status',
      }),
      contentType: ContentType.mergePatch,
      body: { status },
      signal,
    });
  }

  async #stillOurs(cluster: string, signal: AbortSignal): Promise<boolean> {
    const live = await this.#o.rest.request<{ status?: KubernetesClusterStatus }>({
      method: 'GET',
      path: resourcePath({
        group: KUBERNETES_CLUSTER.group,
        version: KUBERNETES_CLUSTER.version,
        plural: KUBERNETES_CLUSTER.plural,
        namespace: this.#o.namespace,
        name: cluster,
      }),
      signal,
    });
    const pod = live.status?.connectedPod ?? '';
    const instance = live.status?.serverInstance;
    // A status without an instance comes from a server older than instances: its pod decides.
    return pod === '' || (instance ? instance === this.#o.serverInstance : pod === this.#o.serverPod);
  }
}
