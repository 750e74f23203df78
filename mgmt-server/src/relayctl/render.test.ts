import { describe, expect, it } from 'vitest';
import { ageMs, formatAge, renderTable, worstHealth } from './render.js';

describe('renderTable', () => {
  it('pads columns, trims line ends and keeps rows on one line', () => {
    expect(
      renderTable(
        ['Cluster', 'Registered', 'Connected Pod'],
        [
          ['cluster-1', 'true', 'gloo-mesh/server-0'],
          ['c2', 'true', ''],
          ['c3', 'multi\nline', 'x'],
        ],
        { separator: ' | ' },
      ),
    ).toBe(
      [
        'Cluster   | Registered | Connected Pod',
        'cluster-1 | true       | gloo-mesh/server-0',
        'c2        | true       |',
        'c3        | multi line | x',
        '',
      ].join('\n'),
    );
  });

  it('indents and counts emoji as two columns', () => {
    expect(
      renderTable(
        ['A', 'B'],
        [
          ['🟢', 'x'],
          ['ab', 'y'],
        ],
        { indent: '  ' },
      ),
    ).toBe('  A   B\n  🟢  x\n  ab  y\n');
  });
});

describe('formatAge', () => {
  it.each([
    { ms: -5000, text: '0s' },
    { ms: 999, text: '0s' },
    { ms: 45_000, text: '45s' },
    { ms: 119_000, text: '119s' },
    { ms: 12 * 60_000, text: '12m' },
    { ms: 5 * 3_600_000, text: '5h' },
    { ms: 3 * 86_400_000, text: '3d' },
  ])('$ms ms → $text', ({ ms, text }) => {
    expect(formatAge(ms)).toBe(text);
  });
});

describe('ageMs', () => {
  const now = new Date('2026-01-01T00:01:00Z');
  it.each([
    { time: '2026-01-01T00:00:00Z', age: 60_000 },
    { time: '2026-01-01T00:00:59.500000Z', age: 500 },
    { time: undefined, age: undefined },
    { time: null, age: undefined },
    { time: 'yesterday', age: undefined },
  ])('$time', ({ time, age }) => {
    expect(ageMs(time, now)).toBe(age);
  });
});

describe('worstHealth', () => {
  it.each([
    { healths: [], worst: 'ok' },
    { healths: ['ok', 'warning'], worst: 'warning' },
    { healths: ['error', 'warning', 'ok'], worst: 'error' },
  ] as const)('$healths → $worst', ({ healths, worst }) => {
    expect(worstHealth(healths)).toBe(worst);
  });
});
