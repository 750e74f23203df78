import { describe, expect, it } from 'vitest';
import { LimitCode } from './limitRefusal.js';
import { createRefusalLimiter } from './refusalLimiter.js';

function fakeClock(start = 5_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('createRefusalLimiter', () => {
  /** Each step: advance by `after` ms, record `refusals` from `peer`, then check `peer`. */
  it.each([
    {
      name: 'a peer under the limit is never cut off',
      max: 6,
      steps: [
        { after: 0, peer: '10.0.0.1:1000', refusals: 5, blocked: false },
        { after: 10_000, peer: '10.0.0.1:1001', refusals: 1, blocked: false },
      ],
    },
    {
      name: 'the limit within a minute cuts the address off, whatever the source port',
      max: 6,
      steps: [
        { after: 0, peer: '10.0.0.1:1000', refusals: 6, blocked: true },
        { after: 0, peer: '10.0.0.1:2000', refusals: 0, blocked: true },
      ],
    },
    {
      name: 'one refusal is forgiven every 60/max seconds',
      max: 6,
      steps: [
        { after: 0, peer: '10.0.0.1:1000', refusals: 6, blocked: true },
        { after: 9_999, peer: '10.0.0.1:1000', refusals: 0, blocked: true },
        { after: 1, peer: '10.0.0.1:1000', refusals: 0, blocked: false },
        { after: 0, peer: '10.0.0.1:1000', refusals: 1, blocked: true },
      ],
    },
    {
      name: 'other addresses are unaffected',
      max: 2,
      steps: [
        { after: 0, peer: '10.0.0.1:1000', refusals: 2, blocked: true },
        { after: 0, peer: '10.0.0.2:1000', refusals: 1, blocked: false },
        { after: 0, peer: '::1:1000', refusals: 0, blocked: false },
      ],
    },
    {
      name: '0 disables the limit',
      max: 0,
      steps: [{ after: 0, peer: '10.0.0.1:1000', refusals: 1000, blocked: false }],
    },
  ])('$name', ({ max, steps }) => {
    const clock = fakeClock();
    const limiter = createRefusalLimiter({ clock, maxRefusalsPerMinute: max });
    for (const step of steps) {
      clock.advance(step.after);
      for (let i = 0; i < step.refusals; i++) limiter.recordRefusal(step.peer);
      expect(limiter.check(step.peer) !== undefined).toBe(step.blocked);
    }
  });

  it('says why and when, naming the address but not the port', () => {
    const clock = fakeClock();
    const limiter = createRefusalLimiter({ clock, maxRefusalsPerMinute: 1 });
    limiter.recordRefusal('192.0.2.7:4242');
    expect(limiter.check('192.0.2.7:4343')).toEqual({
      code: LimitCode.TooManyRefusals,
      message: 'too many refused attempts from 192.0.2.7 (more than 1 a minute); try again later',
      retryAfterMs: 60_000,
    });
  });

  it('forgets addresses that recovered and bounds what it tracks', () => {
    const clock = fakeClock();
    const limiter = createRefusalLimiter({ clock, maxRefusalsPerMinute: 2, maxTrackedPeers: 3 });
    for (const host of [1, 2, 3, 4, 5]) {
      limiter.recordRefusal(`10.0.0.${host}:1`);
      limiter.recordRefusal(`10.0.0.${host}:1`);
    }
    expect(limiter.tracked()).toBe(3);
    // The least recently refused were dropped; the latest are still cut off.
    expect(limiter.check('10.0.0.1:1')).toBeUndefined();
    expect(limiter.check('10.0.0.5:1')?.code).toBe(LimitCode.TooManyRefusals);
    clock.advance(60_000);
    expect(limiter.check('10.0.0.5:1')).toBeUndefined();
    expect(limiter.tracked()).toBe(2);
  });
});
