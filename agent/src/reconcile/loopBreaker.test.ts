import { createManualClock } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { LoopBreaker } from './loopBreaker.js';

describe('LoopBreaker', () => {
  it('trips on the 4th write of the same difference within 30 s, and reopens after 5 minutes', async () => {
    const clock = createManualClock({ start: 1_000_000 });
    const breaker = new LoopBreaker({ clock });
    for (let i = 0; i < 3; i += 1) {
      expect(breaker.allow('k', 'Changed spec.a')).toBe(true);
      breaker.recordWrite('k', 'Changed spec.a');
      await clock.advance(5_000);
    }
    expect(breaker.allow('k', 'Changed spec.a')).toBe(false);
    expect(breaker.retryInMs('k')).toBe(300_000);
    // Even another difference is refused while tripped: the copy is left alone.
    expect(breaker.allow('k', 'Changed spec.b')).toBe(false);
    expect(breaker.allow('other', 'Changed spec.a')).toBe(true);
    await clock.advance(300_000);
    expect(breaker.allow('k', 'Changed spec.a')).toBe(true);
  });

  it.each([
    { name: 'different differences', signatures: ['a', 'b', 'c', 'a'], gapMs: 1_000, allowed: true },
    {
      name: 'same difference, spread over more than 30 s',
      signatures: ['a', 'a', 'a', 'a'],
      gapMs: 16_000,
      allowed: true,
    },
    { name: 'same difference, quickly', signatures: ['a', 'a', 'a', 'a'], gapMs: 1_000, allowed: false },
  ])('$name → allowed: $allowed', async ({ signatures, gapMs, allowed }) => {
    const clock = createManualClock();
    const breaker = new LoopBreaker({ clock });
    const last = signatures.at(-1) ?? '';
    for (const signature of signatures.slice(0, -1)) {
      expect(breaker.allow('k', signature)).toBe(true);
      breaker.recordWrite('k', signature);
      await clock.advance(gapMs);
    }
    expect(breaker.allow('k', last)).toBe(allowed);
  });
});
