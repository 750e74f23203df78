import { describe, expect, it } from 'vitest';
import { LimitCode } from './limitRefusal.js';
import { createStreamLimiter, type StreamLease } from './streamLimiter.js';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function admitted(result: ReturnType<ReturnType<typeof createStreamLimiter>['admit']>): StreamLease {
  if (!result.ok) throw new Error(`refused: ${result.refusal.message}`);
  return result.lease;
}

describe('createStreamLimiter: streams per identity', () => {
  it.each([
    { name: 'default: one plus a replacement', max: undefined, attempts: 3, want: [true, true, false] },
    { name: 'limit 1', max: 1, attempts: 2, want: [true, false] },
    { name: '0 disables the limit', max: 0, attempts: 5, want: [true, true, true, true, true] },
  ])('$name', ({ max, attempts, want }) => {
    const limiter = createStreamLimiter({
      clock: fakeClock(),
      ...(max === undefined ? {} : { maxStreamsPerIdentity: max }),
    });
    const got = Array.from({ length: attempts }, () => limiter.admit('alpha').ok);
    expect(got).toEqual(want);
  });

  it('counts identities apart and frees a slot on release, once', () => {
    const limiter = createStreamLimiter({ clock: fakeClock(), maxStreamsPerIdentity: 1 });
    const alpha = admitted(limiter.admit('alpha'));
    expect(limiter.admit('beta').ok).toBe(true);
    const refused = limiter.admit('alpha');
    expect(refused).toMatchObject({ ok: false, refusal: { code: LimitCode.TooManyStreams } });
    alpha.release();
    alpha.release();
    expect(limiter.streams('alpha')).toBe(0);
    expect(limiter.admit('alpha').ok).toBe(true);
    expect(limiter.streams('alpha')).toBe(1);
  });
});

describe('createStreamLimiter: messages per stream', () => {
  /** Each step: advance the clock by `after` ms, then send `count` messages; `allowed` of them pass. */
  it.each([
    {
      name: 'the burst passes at once, the next waits for the rate',
      rate: 10,
      burst: 5,
      steps: [
        { after: 0, count: 6, allowed: 5 },
        { after: 100, count: 2, allowed: 1 },
        { after: 1000, count: 20, allowed: 5 },
      ],
    },
    {
      name: 'a steady sender under the rate is never refused',
      rate: 50,
      burst: 1,
      steps: Array.from({ length: 100 }, () => ({ after: 20, count: 1, allowed: 1 })),
    },
    {
      name: '0 disables the rate limit',
      rate: 0,
      burst: 0,
      steps: [{ after: 0, count: 10_000, allowed: 10_000 }],
    },
  ])('$name', ({ rate, burst, steps }) => {
    const clock = fakeClock();
    const limiter = createStreamLimiter({ clock, messagesPerSecond: rate, burst });
    const lease = admitted(limiter.admit('alpha'));
    for (const step of steps) {
      clock.advance(step.after);
      let allowed = 0;
      for (let i = 0; i < step.count; i++) if (lease.onMessage() === undefined) allowed++;
      expect(allowed).toBe(step.allowed);
    }
  });

  it('gives each stream its own bucket and says when to retry', () => {
    const clock = fakeClock();
    const limiter = createStreamLimiter({ clock, messagesPerSecond: 2, burst: 1 });
    const first = admitted(limiter.admit('alpha'));
    const second = admitted(limiter.admit('alpha'));
    expect(first.onMessage()).toBeUndefined();
    expect(first.onMessage()).toEqual({
      code: LimitCode.MessageRateExceeded,
      message: 'more than 2 messages per second (burst 1) on one stream',
      retryAfterMs: 500,
    });
    expect(second.onMessage()).toBeUndefined();
  });

  it('refuses messages on a released lease', () => {
    const limiter = createStreamLimiter({ clock: fakeClock() });
    const lease = admitted(limiter.admit('alpha'));
    lease.release();
    expect(lease.onMessage()?.code).toBe(LimitCode.MessageRateExceeded);
  });
});
