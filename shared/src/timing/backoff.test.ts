import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.js';

function delays(backoff: { next(): number }, count: number): number[] {
  return Array.from({ length: count }, () => backoff.next());
}

describe('createBackoff', () => {
  it.each([
    {
      name: 'half of each ceiling',
      options: { minMs: 100, maxMs: 1000, random: () => 0.5 },
      expected: [50, 100, 200, 400, 500, 500],
    },
    {
      name: 'zero draws give zero',
      options: { minMs: 100, maxMs: 1000, random: () => 0 },
      expected: [0, 0, 0, 0, 0, 0],
    },
    {
      name: 'top draws stay below the ceiling',
      options: { minMs: 100, maxMs: 1000, random: () => 0.99999 },
      expected: [99, 199, 399, 799, 999, 999],
    },
    {
      name: 'an out-of-range draw is clamped',
      options: { minMs: 100, maxMs: 1000, random: () => 1 },
      expected: [99, 199, 399, 799, 999, 999],
    },
    {
      name: 'factor 3',
      options: { minMs: 10, maxMs: 10_000, factor: 3, random: () => 0.5 },
      expected: [5, 15, 45, 135, 405, 1215],
    },
    {
      name: 'constant with factor 1',
      options: { minMs: 40, maxMs: 40, factor: 1, random: () => 0.5 },
      expected: [20, 20, 20, 20, 20, 20],
    },
  ])('$name', ({ options, expected }) => {
    expect(delays(createBackoff(options), 6)).toEqual(expected);
  });

  it('uses defaults 100 ms, 30 s, factor 2', () => {
    const backoff = createBackoff({ random: () => 0.5 });
    expect(delays(backoff, 11)).toEqual([50, 100, 200, 400, 800, 1600, 3200, 6400, 12_800, 15_000, 15_000]);
  });

  it('counts attempts and starts over after reset', () => {
    const backoff = createBackoff({ minMs: 100, maxMs: 1000, random: () => 0.5 });
    expect(delays(backoff, 3)).toEqual([50, 100, 200]);
    expect(backoff.attempts).toBe(3);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(50);
  });

  it('draws a new random number for each delay', () => {
    const draws = [0.1, 0.9, 0.5];
    const backoff = createBackoff({ minMs: 1000, maxMs: 1000, random: () => draws.shift() ?? 0 });
    expect(delays(backoff, 3)).toEqual([100, 900, 500]);
  });

  it('does not overflow after very many attempts', () => {
    const backoff = createBackoff({ minMs: 100, maxMs: 1000, random: () => 0.5 });
    delays(backoff, 5000);
    expect(backoff.next()).toBe(500);
  });

  it.each([
    { minMs: 0, maxMs: 10, factor: 2 },
    { minMs: 10, maxMs: 5, factor: 2 },
    { minMs: 10, maxMs: 50, factor: 0.5 },
    { minMs: Number.NaN, maxMs: 50, factor: 2 },
  ])('rejects minMs=$minMs maxMs=$maxMs factor=$factor', (options) => {
    expect(() => createBackoff(options)).toThrow(/^invalid backoff: need 0 < minMs <= maxMs and factor >= 1/);
  });
});
