import { createManualClock } from '@kuberelay/shared';
import { KubeApiError } from '@kuberelay/shared/kube';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LeaderElector } from './leaderElector.js';
import { type LeaseApi, type LeaseObject, recordOf } from './leaseApi.js';
import { DEFAULT_LEASE_TIMINGS } from './leaseDecision.js';

// The elector's I/O against an in-memory Lease with the API server's compare-and-swap, and a
// manual clock: what the pure decision promises must hold once reads and writes take time, fail,
// or are cut off.

const logger = pino({ level: 'silent' });
const T = DEFAULT_LEASE_TIMINGS; // 10 s, 7 s, 2 s

/** One Lease as an API server keeps it: 409 on a stale resourceVersion or a second create. */
class FakeLeases {
  object: LeaseObject | undefined;
  #rv = 0;
  /** Identities whose requests fail (a partitioned replica). */
  readonly cutOff = new Set<string>();

  for(identity: string): Pick<LeaseApi, 'read' | 'create' | 'replace'> {
    const check = () => {
      if (this.cutOff.has(identity))
        throw new KubeApiError({ status: 503, reason: 'Unavailable', message: 'cut off' });
    };
    return {
      read: async () => {
        if (this.cutOff.has(identity)) {
          return { read: { kind: 'unreadable' }, object: undefined, error: new Error('cut off') };
        }
        const object = this.object;
        return object === undefined
          ? { read: { kind: 'missing' }, object: undefined, error: undefined }
          : { read: { kind: 'found', record: recordOf(object) }, object, error: undefined };
      },
      create: async (body) => {
        check();
        if (this.object !== undefined)
          throw new KubeApiError({ status: 409, reason: 'AlreadyExists', message: 'exists' });
        return this.#store(body);
      },
      replace: async (body) => {
        check();
        if (body.metadata.resourceVersion !== this.object?.metadata.resourceVersion) {
          throw new KubeApiError({ status: 409, reason: 'Conflict', message: 'moved on' });
        }
        return this.#store(body);
      },
    };
  }

  #store(body: LeaseObject): LeaseObject {
    this.#rv += 1;
    this.object = { ...body, metadata: { ...body.metadata, resourceVersion: String(this.#rv) } };
    return this.object;
  }
}

function setup() {
  const clock = createManualClock({ start: 1_000_000 });
  const leases = new FakeLeases();
  const elector = (identity: string) => {
    const controller = new AbortController();
    const e = new LeaderElector({
      leases: leases.for(identity),
      leaseName: 'kuberelay-agent',
      namespace: 'gloo-mesh',
      identity,
      timings: T,
      clock,
      logger,
      signal: controller.signal,
      annotations: () => ({ 'kuberelay.dev/held-version': '7' }),
    });
    const done = e.run();
    return { e, stop: () => controller.abort(), done };
  };
  return { clock, leases, elector };
}

/** Advances in 100 ms steps and fails if both may write at any step. */
async function neverTwoWriters(
  clock: ReturnType<typeof createManualClock>,
  ms: number,
  ...es: LeaderElector[]
) {
  for (let t = 0; t < ms; t += 100) {
    await clock.advance(100);
    expect(es.filter((e) => e.mayWrite()).length).toBeLessThanOrEqual(1);
  }
}

describe('LeaderElector', () => {
  it('the first replica creates the Lease and leads; a standby never leads while it renews', async () => {
    const { clock, leases, elector } = setup();
    const a = elector('a_1');
    await clock.advance(0);
    expect(a.e.mayWrite()).toBe(true);
    expect(leases.object?.spec).toMatchObject({
      holderIdentity: 'a_1',
      leaseDurationSeconds: 10,
      leaseTransitions: 0,
    });
    const b = elector('b_2');
    await neverTwoWriters(clock, 60_000, a.e, b.e);
    expect(a.e.mayWrite()).toBe(true);
    expect(b.e.leading).toBe(false);
    expect(leases.object?.metadata.annotations).toEqual({ 'kuberelay.dev/held-version': '7' });
    a.stop();
    b.stop();
    await Promise.all([a.done, b.done]);
  });

  it.each([
    ['the leader is cut off from the API server (it cannot renew)', 'cut'],
    ['the leader process is gone (it renews nothing)', 'gone'],
  ])(
    '%s: it stops writing at its renew deadline, and the standby leads only after the lease duration',
    async (_what, how) => {
      const { clock, leases, elector } = setup();
      const a = elector('a_1');
      await clock.advance(0);
      const b = elector('b_2');
      await clock.advance(5_000);
      const lastRenewal = leases.object?.spec?.renewTime;
      const cutAt = clock.now();
      if (how === 'cut') leases.cutOff.add('a_1');
      else a.stop(); // a stop without release: as if killed (its loop ends, nothing more is written)
      if (how === 'gone') leases.cutOff.add('a_1'); // its release cannot reach the API server either
      await neverTwoWriters(clock, 20_000, a.e, b.e);
      expect(a.e.mayWrite()).toBe(false);
      if (how === 'cut') expect(a.e.lost.aborted).toBe(true);
      expect(b.e.mayWrite()).toBe(true);
      expect(leases.object?.spec).toMatchObject({ holderIdentity: 'b_2', leaseTransitions: 1 });
      expect(leases.object?.spec?.renewTime).not.toBe(lastRenewal);
      // Taken over after the Lease had been left alone for a full duration, and not much later.
      const acquired = Date.parse(leases.object?.spec?.acquireTime ?? '');
      expect(acquired - cutAt).toBeGreaterThanOrEqual(T.leaseDurationMs - T.retryPeriodMs);
      expect(acquired - cutAt).toBeLessThanOrEqual(T.leaseDurationMs + T.retryPeriodMs);
      b.stop();
      await Promise.all([a.done, b.done]);
    },
  );

  it('a leader cut off steps down by its renew deadline even with its reads hanging', async () => {
    const { clock, leases, elector } = setup();
    const a = elector('a_1');
    await clock.advance(0);
    const renewedAt = clock.now();
    leases.cutOff.add('a_1');
    await clock.advance(T.renewDeadlineMs - 100);
    expect(a.e.mayWrite()).toBe(true);
    await clock.advance(100);
    expect(a.e.mayWrite()).toBe(false);
    expect(a.e.lost.aborted).toBe(true);
    expect(clock.now() - renewedAt).toBe(T.renewDeadlineMs);
    await a.done;
  });

  it('a clean stop releases the Lease: the standby leads within a retry period', async () => {
    const { clock, leases, elector } = setup();
    const a = elector('a_1');
    await clock.advance(0);
    const b = elector('b_2');
    await clock.advance(3_000);
    a.stop();
    await a.done;
    expect(a.e.mayWrite()).toBe(false);
    expect(leases.object?.spec?.holderIdentity).toBe('');
    await clock.advance(T.retryPeriodMs);
    expect(b.e.mayWrite()).toBe(true);
    expect(await b.e.acquired).toEqual({
      previous: { 'kuberelay.dev/held-version': '7' },
      leaseTransitions: 1,
    });
    b.stop();
    await b.done;
  });

  it('two replicas racing for a free Lease: exactly one wins (compare-and-swap)', async () => {
    const { clock, elector } = setup();
    const a = elector('a_1');
    const b = elector('b_2');
    await neverTwoWriters(clock, 10_000, a.e, b.e);
    expect([a.e.leading, b.e.leading].filter(Boolean)).toHaveLength(1);
    a.stop();
    b.stop();
    await Promise.all([a.done, b.done]);
  });
});
