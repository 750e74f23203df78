import { describe, expect, it } from 'vitest';
import { type BucketSettings, fullBucket, msUntilToken, refill, takeToken } from './tokenBucket.js';

const settings: BucketSettings = { ratePerSecond: 2, burst: 3 };

describe('refill', () => {
  it.each([
    { name: 'nothing elapsed', tokens: 0, at: 1000, now: 1000, want: 0 },
    { name: 'half a second at 2/s is one token', tokens: 0, at: 1000, now: 1500, want: 1 },
    { name: 'partial tokens accumulate', tokens: 0.5, at: 1000, now: 1250, want: 1 },
    { name: 'never above burst', tokens: 2, at: 0, now: 60_000, want: 3 },
    { name: 'a clock stepping back refills nothing', tokens: 1, at: 5000, now: 4000, want: 1 },
  ])('$name', ({ tokens, at, now, want }) => {
    expect(refill({ tokens, at }, settings, now)).toEqual({ tokens: want, at: now });
  });
});

describe('takeToken', () => {
  it('allows the burst at once, then the rate', () => {
    let state = fullBucket(settings, 0);
    const taken: boolean[] = [];
    for (const now of [0, 0, 0, 0, 499, 500, 500, 1000]) {
      const attempt = takeToken(state, settings, now);
      state = attempt.state;
      taken.push(attempt.taken);
    }
    expect(taken).toEqual([true, true, true, false, false, true, false, true]);
  });
});

describe('msUntilToken', () => {
  it.each([
    { tokens: 1, rate: 2, want: 0 },
    { tokens: 0, rate: 2, want: 500 },
    { tokens: 0.75, rate: 1, want: 250 },
    { tokens: 0, rate: 0, want: Number.POSITIVE_INFINITY },
  ])('$tokens tokens at $rate/s: $want ms', ({ tokens, rate, want }) => {
    expect(msUntilToken({ tokens, at: 0 }, { ratePerSecond: rate, burst: 3 })).toBe(want);
  });
});
