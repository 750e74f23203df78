import type { Clock, Logger } from '@kuberelay/shared';
import { ContentType, isNotFound, type KubeRest } from '@kuberelay/shared/kube';
import { aliveReplicas } from './aliveReplicas.js';
import { type LeaseApi, leasesPath, microTime } from './leaseApi.js';

/** The label that makes a Lease a replica's presence record, valued with its leader Lease name. */
export const PRESENCE_LABEL = 'kuberelay.dev/agent-replica-of';
export const presenceLeaseName = (pod: string): string => `kuberelay-agent-${pod}`;

export interface ReplicaPresenceOptions {
  readonly rest: KubeRest;
  readonly leases: LeaseApi;
  readonly namespace: string;
  /** The leader Lease this replica competes for: replicas of one group share it. */
  readonly group: string;
  readonly podName: string;
  /** This process's holderIdentity (shown on its presence Lease). */
  readonly identity: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Default 5 s; the Lease lasts 3 renewals. */
  readonly renewMs?: number;
}

const FORGET_AFTER_MS = 60 * 60_000;

/**
 * This replica's presence (docs/design.md "Agent replicas"): Lease `kuberelay-agent-<pod>`,
 * renewed every 5 s for 15 s, whether it leads or stands by, so the leader can count the replicas
 * alive and tell the management server (Hello and every heartbeat). A presence record, not a lock.
 */
export class ReplicaPresence {
  readonly #o: ReplicaPresenceOptions;
  #alive = 1;

  constructor(options: ReplicaPresenceOptions) {
    this.#o = options;
  }

  get #renewMs(): number {
    return this.#o.renewMs ?? 5_000;
  }

  get #name(): string {
    return presenceLeaseName(this.#o.podName);
  }

  /** Replicas alive at the last count (at least this one). */
  get alive(): number {
    return this.#alive;
  }

  /** Renews until the signal aborts, then deletes its Lease (a clean stop is seen at once). */
  async run(): Promise<void> {
    const { clock, signal, logger } = this.#o;
    while (!signal.aborted) {
      await this.#renew().catch((error: unknown) => {
        if (!signal.aborted) logger.warn({ err: error }, 'renewing the replica presence Lease failed');
      });
      await clock.sleep(this.#renewMs, signal).catch(() => undefined);
    }
    await this.#o.rest
      .request({
        method: 'DELETE',
        path: `${leasesPath(this.#o.namespace)}/${this.#name}`,
        signal: AbortSignal.timeout(2_000),
        timeoutMs: 2_000,
      })
      .catch((error: unknown) => {
        if (!isNotFound(error)) logger.warn({ err: error }, 'deleting the replica presence Lease failed');
      });
  }

  /** The leader counts the presence Leases of its group and forgets long-dead ones. */
  async count(signal: AbortSignal): Promise<number> {
    const leases = await this.#o.leases.list({
      labelSelector: `${PRESENCE_LABEL}=${this.#o.group}`,
      signal,
      timeoutMs: this.#renewMs,
    });
    const { alive, forget } = aliveReplicas(leases, {
      now: this.#o.clock.now(),
      self: this.#name,
      forgetAfterMs: FORGET_AFTER_MS,
    });
    this.#alive = alive;
    for (const lease of forget) {
      await this.#o.leases
        .delete(lease.metadata.name, {
          resourceVersion: lease.metadata.resourceVersion ?? '',
          signal,
          timeoutMs: this.#renewMs,
        })
        .catch((error: unknown) =>
          this.#o.logger.warn({ err: error, lease: lease.metadata.name }, 'forgetting a dead replica failed'),
        );
    }
    return alive;
  }

  /**
   * Counts now, then every renewal period until the signal aborts (the leader only). Resolves
   * `counted` after the first count (failed or not), so the first Hello says a real number.
   */
  countLoop(signal: AbortSignal): { readonly counted: Promise<void>; readonly done: Promise<void> } {
    const once = () =>
      this.count(signal).then(
        () => undefined,
        (error: unknown) => {
          if (!signal.aborted) this.#o.logger.warn({ err: error }, 'counting the agent replicas failed');
        },
      );
    const counted = once();
    const done = (async () => {
      await counted;
      while (!signal.aborted) {
        await this.#o.clock.sleep(this.#renewMs, signal).catch(() => undefined);
        if (!signal.aborted) await once();
      }
    })();
    return { counted, done };
  }

  async #renew(): Promise<void> {
    const { rest, namespace, signal, clock } = this.#o;
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.#name,
        namespace,
        labels: { [PRESENCE_LABEL]: this.#o.group, 'app.kubernetes.io/component': 'kuberelay-agent-replica' },
      },
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: Math.round((3 * this.#renewMs) / 1000),
        renewTime: microTime(clock.now()),
      },
    };
    const timeoutMs = this.#renewMs;
    try {
      await rest.request({
        method: 'PATCH',
        path: `${leasesPath(namespace)}/${this.#name}`,
        contentType: ContentType.mergePatch,
        body,
        signal,
        timeoutMs,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await rest.request({ method: 'POST', path: leasesPath(namespace), body, signal, timeoutMs });
    }
  }
}
