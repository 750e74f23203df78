import { describe, expect, it } from 'vitest';
import { parseDurationFlag } from './durationFlag.js';

const bounds = { fallback: 7, minMs: 60 * 60_000 };

describe('parseDurationFlag', () => {
  it.each([
    [undefined, 7],
    ['90m', 90 * 60_000],
    [' 12h ', 12 * 3_600_000],
    ['30d', 30 * 86_400_000],
  ])('%s is %d ms', (value, ms) => {
    expect(parseDurationFlag('ttl', value, bounds)).toEqual({ ok: true, value: ms });
  });

  it.each([
    ['1y', '--ttl "1y" must be a duration such as 90m, 12h or 30d'],
    ['30m', '--ttl "30m" is shorter than the minimum 60m'],
  ])('refuses %s', (value, message) => {
    const parsed = parseDurationFlag('ttl', value, bounds);
    expect(parsed.ok ? undefined : parsed.errors[0].message).toBe(message);
  });
});
