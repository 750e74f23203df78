/**
 * The leader election of the agent replicas of one workload cluster, as a pure decision over what
 * the Lease says and the local clock (docs/design.md "Agent replicas"). The rules are client-go's
 * `leaderelection` (LeaseLock):
 *
 * - A replica takes the Lease only when it is free (no holder) or expired, and "expired" is judged
 *   by the *local* time at which this replica last saw the Lease record change plus the holder's
 *   `leaseDurationSeconds`, never by the `renewTime` the holder wrote: clocks of two nodes may
 *   disagree, the time between two observations on one node does not.
 * - The leader renews every retry period. When it has not renewed successfully for
 *   `renewDeadlineMs` it steps down at once: the renew deadline is shorter than the lease
 *   duration, so the leader has stopped writing before any standby can see the Lease expire
 *   (the standby waits a full lease duration from its last observation of a renewal, which came
 *   after the leader's last successful renewal started). Never two writers.
 * - Every write of the Lease is a compare-and-swap on its `resourceVersion` (the adapter's PUT);
 *   a 409 means someone else moved first and the next decision reads again.
 */

/** Timings in milliseconds. Invariant (validateLeaseTimings): duration > deadline > retry > 0. */
export interface LeaseTimings {
  /** How long a holder's Lease is valid after the standby last saw it renewed. */
  readonly leaseDurationMs: number;
  /** The leader steps down when it has not renewed for this long. */
  readonly renewDeadlineMs: number;
  /** How often the leader renews and a standby looks. */
  readonly retryPeriodMs: number;
}

export const DEFAULT_LEASE_TIMINGS: LeaseTimings = Object.freeze({
  leaseDurationMs: 10_000,
  renewDeadlineMs: 7_000,
  retryPeriodMs: 2_000,
});

/** The fields of a `coordination.k8s.io/v1` Lease the election reads. */
export interface LeaseRecord {
  /** '' when released. */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** As written (RFC 3339 micro time); only compared for change, never against our clock. */
  readonly renewTime: string;
  readonly leaseTransitions: number;
  readonly resourceVersion: string;
}

/** When this replica last saw the record change, by its own clock. */
export interface Observation {
  /** holderIdentity, renewTime and leaseTransitions: what a renewal or a takeover changes. */
  readonly key: string;
  readonly observedAt: number;
}

export type LeaseRead =
  | { readonly kind: 'found'; readonly record: LeaseRecord }
  | { readonly kind: 'missing' }
  /** The GET failed (API server unreachable, 5xx): nothing is known of the Lease now. */
  | { readonly kind: 'unreadable' };

export interface LeaseDecisionInput {
  readonly read: LeaseRead;
  /** This process's holderIdentity (`<pod>_<start id>`: unique per process). */
  readonly self: string;
  readonly now: number;
  readonly timings: LeaseTimings;
  /** The last change of the record seen, from `observe` on this read. */
  readonly observed: Observation | undefined;
  /** Set while this replica leads: when its last successful acquire or renewal started. */
  readonly renewedAt: number | undefined;
}

export const LeaseAction = {
  /** No Lease exists: create it naming us (acquireTime = renewTime = now, transitions 0). */
  create: 'create',
  /** Free or expired: replace it naming us, transitions + 1, with its resourceVersion. */
  acquire: 'acquire',
  /** We hold it: write renewTime = now with its resourceVersion. */
  renew: 'renew',
  /** Someone else holds a valid Lease (or we cannot tell): look again after `retryInMs`. */
  standBy: 'standBy',
  /** We lead but could not read the Lease: keep leading, try again after `retryInMs`. */
  retry: 'retry',
  /** We led and may not any longer: stop writing now. */
  stepDown: 'stepDown',
} as const;
export type LeaseAction = (typeof LeaseAction)[keyof typeof LeaseAction];

export type LeaseDecision =
  | { readonly action: 'create' }
  | { readonly action: 'acquire'; readonly leaseTransitions: number; readonly resourceVersion: string }
  | { readonly action: 'renew'; readonly leaseTransitions: number; readonly resourceVersion: string }
  | { readonly action: 'standBy'; readonly retryInMs: number; readonly holder: string }
  | { readonly action: 'retry'; readonly retryInMs: number }
  | { readonly action: 'stepDown'; readonly reason: string };

const recordKey = (r: LeaseRecord) => `${r.holderIdentity}\u0000${r.renewTime}\u0000${r.leaseTransitions}`;

/** The observation after a read: unchanged records keep the time they were first seen. */
export function observe(
  previous: Observation | undefined,
  read: LeaseRead,
  now: number,
): Observation | undefined {
  if (read.kind !== 'found') return read.kind === 'missing' ? undefined : previous;
  const key = recordKey(read.record);
  return previous?.key === key ? previous : { key, observedAt: now };
}

/** Whether a leader that last renewed at `renewedAt` may still write at `now`. */
export function mayStillLead(renewedAt: number | undefined, now: number, timings: LeaseTimings): boolean {
  return renewedAt !== undefined && now < renewedAt + timings.renewDeadlineMs;
}

export function decideLease(input: LeaseDecisionInput): LeaseDecision {
  const { read, self, now, timings, renewedAt } = input;
  const leading = renewedAt !== undefined;
  if (leading && !mayStillLead(renewedAt, now, timings)) {
    return {
      action: 'stepDown',
      reason: `no successful renewal for ${now - renewedAt}ms (renew deadline ${timings.renewDeadlineMs}ms)`,
    };
  }
  switch (read.kind) {
    case 'unreadable':
      // A leader keeps trying until its deadline; a standby cannot take what it cannot read.
      return leading
        ? {
            action: 'retry',
            retryInMs: Math.max(
              1,
              Math.min(timings.retryPeriodMs, renewedAt + timings.renewDeadlineMs - now),
            ),
          }
        : { action: 'standBy', retryInMs: timings.retryPeriodMs, holder: '' };
    case 'missing':
      // Deleted under a leader: someone else may have created it since; never re-create while
      // we think we lead, step down and compete again like everyone else.
      return leading ? { action: 'stepDown', reason: 'the leader Lease was deleted' } : { action: 'create' };
    case 'found': {
      const record = read.record;
      if (record.holderIdentity === self) {
        if (leading) {
          return {
            action: 'renew',
            leaseTransitions: record.leaseTransitions,
            resourceVersion: record.resourceVersion,
          };
        }
        // Names this process but we do not lead (we stepped down): let it expire like a stranger's.
      } else if (leading) {
        return {
          action: 'stepDown',
          reason: `the leader Lease is held by ${record.holderIdentity || 'nobody'}`,
        };
      }
      if (record.holderIdentity === '') {
        return {
          action: 'acquire',
          leaseTransitions: record.leaseTransitions + 1,
          resourceVersion: record.resourceVersion,
        };
      }
      const seenAt = input.observed?.observedAt ?? now;
      const expiresAt = seenAt + Math.max(1, record.leaseDurationSeconds) * 1000;
      if (now >= expiresAt) {
        return {
          action: 'acquire',
          leaseTransitions: record.leaseTransitions + 1,
          resourceVersion: record.resourceVersion,
        };
      }
      // Look again at the expiry itself rather than up to a retry period after it: the takeover
      // bound (lease duration + one look) matters more than one GET.
      return {
        action: 'standBy',
        retryInMs: Math.max(1, Math.min(timings.retryPeriodMs, expiresAt - now)),
        holder: record.holderIdentity,
      };
    }
  }
}

/** Errors for timings that break the invariant, each naming the flag to change. */
export function validateLeaseTimings(t: LeaseTimings): string[] {
  const errors: string[] = [];
  const s = (ms: number) => `${ms / 1000}s`;
  if (!(t.retryPeriodMs > 0)) errors.push('--leader-elect-retry-period must be positive');
  if (!(t.renewDeadlineMs > t.retryPeriodMs)) {
    errors.push(
      `--leader-elect-renew-deadline (${s(t.renewDeadlineMs)}) must be longer than --leader-elect-retry-period (${s(t.retryPeriodMs)}): the leader needs more than one try to renew`,
    );
  }
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) {
    errors.push(
      `--leader-elect-lease-duration (${s(t.leaseDurationMs)}) must be longer than --leader-elect-renew-deadline (${s(t.renewDeadlineMs)}): a leader must stop writing before a standby may take over`,
    );
  }
  if (t.leaseDurationMs % 1000 !== 0) {
    errors.push('--leader-elect-lease-duration must be whole seconds (the Lease stores seconds)');
  }
  return errors;
}
