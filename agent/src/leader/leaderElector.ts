import type { Clock, Logger } from '@kuberelay/shared';
import { isConflict } from '@kuberelay/shared/kube';
import { type LeaseApi, type LeaseObject, microTime } from './leaseApi.js';
import { decideLease, type LeaseTimings, mayStillLead, type Observation, observe } from './leaseDecision.js';

/** Default name of the leader Lease, in the agent's namespace (`--leader-elect-lease`). */
export const DEFAULT_LEADER_LEASE = 'kuberelay-agent';
/**
 * On the leader Lease: the version of the state the leader last persisted. A replica that takes
 * over trusts its own state file only when it holds that very version (agent.ts: a standby's
 * file is from its own earlier term, and enforcing it would revert newer copies).
 */
export const HELD_VERSION_ANNOTATION = 'kuberelay.dev/held-version';

export interface LeaderElectorOptions {
  /** The Lease I/O (a fake in tests). */
  readonly leases: Pick<LeaseApi, 'read' | 'create' | 'replace'>;
  readonly leaseName: string;
  readonly namespace: string;
  /** This process's holderIdentity: `<pod>_<start id>`, unique per process. */
  readonly identity: string;
  readonly timings: LeaseTimings;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Written at every renewal (the held version). */
  readonly annotations?: () => Readonly<Record<string, string>>;
}

/** What a replica learns when it becomes the leader. */
export interface Leadership {
  /** The annotations of the Lease it took over; undefined when it created the Lease. */
  readonly previous: Readonly<Record<string, string>> | undefined;
  readonly leaseTransitions: number;
}

/**
 * Runs the election for one replica (the pure rules are leaseDecision.ts; this is the I/O): reads
 * the Lease every retry period, takes it when free or expired, renews it while leading. Once it
 * has led and may not any longer, `lost` aborts and the elector ends: this elector never competes
 * again (main.ts stops that agent and starts a new one, with a new holder identity, to stand by),
 * so no half-stopped writer can come back.
 *
 * `mayWrite` is the fence every write to the workload cluster checks synchronously (fencedRest.ts):
 * it is false from the renew deadline on, even if this loop is late to notice.
 */
export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #lost = new AbortController();
  #renewedAt: number | undefined;
  /** The loop has ended (stopped or lost): the fence stays closed. */
  #stopped = false;
  #observed: Observation | undefined;
  #leaseTransitions = 0;
  #resolveAcquired!: (leadership: Leadership) => void;
  /** Resolves when this replica leads; never, if the signal aborts first. */
  readonly acquired: Promise<Leadership>;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.acquired = new Promise((resolve) => {
      this.#resolveAcquired = resolve;
    });
  }

  /** Aborted when this replica stops leading (renew deadline passed, Lease taken or deleted). */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  get leading(): boolean {
    return this.#renewedAt !== undefined && !this.#stopped && !this.#lost.signal.aborted;
  }

  /** The write fence: this replica leads and its last renewal is younger than the renew deadline. */
  mayWrite(): boolean {
    return (
      !this.#stopped &&
      !this.#lost.signal.aborted &&
      mayStillLead(this.#renewedAt, this.#o.clock.now(), this.#o.timings)
    );
  }

  /**
   * Runs until the signal aborts or leadership is lost. Never rejects. Abort it only after every
   * writer has stopped: on a clean stop the Lease is released (holder '') so a standby takes over
   * at once, and a write still in flight then could land beside the new leader's.
   */
  async run(): Promise<void> {
    const { clock, signal } = this.#o;
    const watchdog = this.#watchdog();
    try {
      while (!signal.aborted && !this.#lost.signal.aborted) {
        const waitMs = await this.#step();
        if (waitMs === undefined) break;
        await clock.sleep(waitMs, signal).catch(() => undefined);
      }
    } finally {
      const wasLeading = this.leading;
      // The fence closes first: nothing of ours is written from here on.
      this.#stopped = true;
      if (wasLeading && signal.aborted) await this.#release();
      await watchdog;
    }
  }

  /** One read-decide-write round; the delay before the next, undefined when leadership is lost. */
  async #step(): Promise<number | undefined> {
    const { clock, signal, timings, leases, leaseName, logger } = this.#o;
    const startedAt = clock.now();
    // A read must not outlive the renew deadline: the decision after it must still be in time.
    const timeoutMs = this.#renewedAt === undefined ? timings.retryPeriodMs * 2 : timings.retryPeriodMs;
    const { read, object, error } = await leases.read(leaseName, { signal, timeoutMs });
    if (signal.aborted) return timings.retryPeriodMs;
    if (error !== undefined) logger.warn({ err: error }, 'reading the leader Lease failed');
    const now = clock.now();
    this.#observed = observe(this.#observed, read, now);
    const decision = decideLease({
      read,
      self: this.#o.identity,
      now,
      timings,
      observed: this.#observed,
      renewedAt: this.#renewedAt,
    });
    switch (decision.action) {
      case 'standBy':
      case 'retry':
        return decision.retryInMs;
      case 'stepDown':
        this.#stepDown(decision.reason);
        return undefined;
      case 'create':
      case 'acquire':
      case 'renew': {
        const body = this.#body(decision, object, startedAt);
        try {
          const written =
            decision.action === 'create'
              ? await leases.create(body, { signal, timeoutMs })
              : await leases.replace(body, { signal, timeoutMs });
          this.#leaseTransitions = written.spec?.leaseTransitions ?? this.#leaseTransitions;
          this.#wrote(decision.action, startedAt, object);
          return timings.retryPeriodMs;
        } catch (writeError) {
          if (signal.aborted) return timings.retryPeriodMs;
          // 409: someone moved first (another replica took it, or our read was stale): read again.
          if (isConflict(writeError)) return 1;
          logger.warn({ err: writeError, action: decision.action }, 'writing the leader Lease failed');
          return timings.retryPeriodMs;
        }
      }
    }
  }

  #body(
    decision:
      | { action: 'create' }
      | { action: 'acquire' | 'renew'; leaseTransitions: number; resourceVersion: string },
    current: LeaseObject | undefined,
    at: number,
  ): LeaseObject {
    const time = microTime(at);
    const annotations = { ...current?.metadata.annotations, ...this.#o.annotations?.() };
    const metadata = {
      name: this.#o.leaseName,
      namespace: this.#o.namespace,
      labels: { ...current?.metadata.labels, 'app.kubernetes.io/component': 'kuberelay-agent-leader' },
      annotations,
    };
    const spec = {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.round(this.#o.timings.leaseDurationMs / 1000),
      renewTime: time,
    };
    if (decision.action === 'create') {
      return { metadata, spec: { ...spec, acquireTime: time, leaseTransitions: 0 } };
    }
    return {
      metadata: { ...metadata, resourceVersion: decision.resourceVersion },
      spec: {
        ...spec,
        acquireTime: decision.action === 'renew' ? (current?.spec?.acquireTime ?? time) : time,
        leaseTransitions: decision.leaseTransitions,
      },
    };
  }

  #wrote(action: 'create' | 'acquire' | 'renew', startedAt: number, taken: LeaseObject | undefined): void {
    const first = this.#renewedAt === undefined;
    // The time the round *started*: a standby saw nothing newer than that, so the deadline
    // counted from it ends before any standby's expiry does.
    this.#renewedAt = startedAt;
    if (!first) return;
    this.#o.logger.info(
      { lease: this.#o.leaseName, identity: this.#o.identity, transitions: this.#leaseTransitions },
      'became the leader: this replica applies copies now',
    );
    this.#resolveAcquired({
      previous: action === 'create' ? undefined : (taken?.metadata.annotations ?? {}),
      leaseTransitions: this.#leaseTransitions,
    });
  }

  /** Steps down when the renew deadline passes even if a read or write hangs. */
  async #watchdog(): Promise<void> {
    const { clock, signal, timings } = this.#o;
    while (!signal.aborted && !this.#lost.signal.aborted && !this.#stopped) {
      const renewedAt = this.#renewedAt;
      const waitMs =
        renewedAt === undefined ? timings.retryPeriodMs : renewedAt + timings.renewDeadlineMs - clock.now();
      if (renewedAt !== undefined && waitMs <= 0) {
        this.#stepDown(
          `no successful renewal for ${clock.now() - renewedAt}ms (renew deadline ${timings.renewDeadlineMs}ms)`,
        );
        return;
      }
      await clock
        .sleep(Math.max(1, waitMs), AbortSignal.any([signal, this.#lost.signal]))
        .catch(() => undefined);
    }
  }

  #stepDown(reason: string): void {
    if (this.#lost.signal.aborted) return;
    this.#o.logger.error(
      { lease: this.#o.leaseName, reason },
      'lost the leadership: this replica stops writing now',
    );
    this.#lost.abort(new Error(`lost the leadership: ${reason}`));
  }

  async #release(): Promise<void> {
    const { leases, leaseName, logger, timings } = this.#o;
    const signal = AbortSignal.timeout(timings.retryPeriodMs);
    try {
      const { object } = await leases.read(leaseName, { signal, timeoutMs: timings.retryPeriodMs });
      if (object?.spec?.holderIdentity !== this.#o.identity) return;
      await leases.replace(
        {
          metadata: {
            ...object.metadata,
            annotations: { ...object.metadata.annotations, ...this.#o.annotations?.() },
          },
          spec: {
            ...object.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: microTime(this.#o.clock.now()),
          },
        },
        { signal, timeoutMs: timings.retryPeriodMs },
      );
      logger.info({ lease: leaseName }, 'released the leader Lease');
    } catch (error) {
      logger.warn({ err: error }, 'releasing the leader Lease failed; a standby takes over when it expires');
    }
  }
}
