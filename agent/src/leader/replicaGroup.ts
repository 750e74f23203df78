import { randomBytes } from 'node:crypto';
import type { Clock, Logger } from '@kuberelay/shared';
import { KubeRest } from '@kuberelay/shared/kube';
import type { KubeConfig } from '@kubernetes/client-node';
import { FencedKubeRest } from './fencedRest.js';
import {
  DEFAULT_LEADER_LEASE,
  HELD_VERSION_ANNOTATION,
  LeaderElector,
  type Leadership,
} from './leaderElector.js';
import { LeaseApi } from './leaseApi.js';
import type { LeaseTimings } from './leaseDecision.js';
import { ReplicaPresence } from './replicaPresence.js';

/** How the replicas of one workload cluster elect their leader (the agent's --leader-elect-* flags). */
export interface LeaderElectionSettings {
  /** Where the Leases live: the agent's namespace. */
  readonly namespace: string;
  /** Default `kuberelay-agent`. Replicas with the same name form one group. */
  readonly leaseName?: string;
  readonly timings: LeaseTimings;
  /** How often each replica renews its presence Lease. Default 5 s. */
  readonly presenceRenewMs?: number;
}

export interface ReplicaGroupOptions {
  readonly kubeConfig: KubeConfig;
  readonly settings: LeaderElectionSettings;
  readonly podName: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The version of the state this replica holds now (written on the leader Lease). */
  readonly heldVersion: () => number;
}

/**
 * One agent replica's part in its group (docs/design.md "Agent replicas"): its presence Lease,
 * the leader election, and the write fence. The election and the presence use their own
 * KubeRest: a Lease write must never be fenced, a copy write always is (`fencedRest`).
 */
export class ReplicaGroup {
  readonly identity: string;
  readonly #controller = new AbortController();
  readonly #elector: LeaderElector;
  readonly #presence: ReplicaPresence;
  #running: Promise<unknown> | undefined;

  constructor(options: ReplicaGroupOptions) {
    const { settings, clock } = options;
    // Unique per process, as client-go's `<host>_<uuid>`: a restarted container under the same
    // pod name is a new holder and cannot mistake its predecessor's Lease for its own.
    this.identity = `${options.podName}_${randomBytes(4).toString('hex')}`;
    const rest = new KubeRest(options.kubeConfig);
    const leases = new LeaseApi({ rest, namespace: settings.namespace });
    const leaseName = settings.leaseName ?? DEFAULT_LEADER_LEASE;
    const logger = options.logger.child({ component: 'leader-election', identity: this.identity });
    const signal = this.#controller.signal;
    this.#elector = new LeaderElector({
      leases,
      leaseName,
      namespace: settings.namespace,
      identity: this.identity,
      timings: settings.timings,
      clock,
      logger,
      signal,
      annotations: () => ({ [HELD_VERSION_ANNOTATION]: String(options.heldVersion()) }),
    });
    this.#presence = new ReplicaPresence({
      rest,
      leases,
      namespace: settings.namespace,
      group: leaseName,
      podName: options.podName,
      identity: this.identity,
      clock,
      logger,
      signal,
      ...(settings.presenceRenewMs === undefined ? {} : { renewMs: settings.presenceRenewMs }),
    });
  }

  /** The KubeRest for copies: writes only while this replica may lead. */
  fencedRest(kubeConfig: KubeConfig): KubeRest {
    return new FencedKubeRest(kubeConfig, () => this.#elector.mayWrite());
  }

  /**
   * Starts presence and election (once); resolves when this replica leads, or with undefined
   * when `signal` aborts first.
   */
  whenLeading(signal: AbortSignal): Promise<Leadership | undefined> {
    this.#running ??= Promise.all([this.#elector.run(), this.#presence.run()]);
    if (signal.aborted) return Promise.resolve(undefined);
    return Promise.race([
      this.#elector.acquired,
      new Promise<undefined>((resolve) =>
        signal.addEventListener('abort', () => resolve(undefined), { once: true }),
      ),
    ]).then((leadership) => (signal.aborted ? undefined : leadership));
  }

  /** Aborted when this replica, having led, may not any longer. */
  get lost(): AbortSignal {
    return this.#elector.lost;
  }

  get leading(): boolean {
    return this.#elector.leading;
  }

  /** Replicas alive at the leader's last count; 1 until counted. */
  alive(): number {
    return this.#presence.alive;
  }

  /** The leader counts the replicas until `signal` aborts; resolves after the first count. */
  async countReplicas(signal: AbortSignal): Promise<void> {
    await this.#presence.countLoop(signal).counted;
  }

  /**
   * Whether a saved state may be enforced by this new leader: only the version the last leader
   * wrote on the Lease (its state file is this replica's own, maybe from an earlier term). A
   * Lease this replica created had no leader before it: its file is the only state there is.
   */
  static trustsSaved(leadership: Leadership): (version: number) => boolean {
    const held = leadership.previous?.[HELD_VERSION_ANNOTATION];
    return (version) => leadership.previous === undefined || held === String(version);
  }

  /** Call after every writer stopped: releases the leader Lease and deletes the presence Lease. */
  async stop(): Promise<void> {
    this.#controller.abort();
    await this.#running;
  }
}
