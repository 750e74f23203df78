import { describe, expect, it } from 'vitest';
import { compileClusterPattern } from './clusterMatcher.js';

const CLUSTERS = ['qa', 'canary', 'prod-eu', 'prod-us', '.hidden', 'prod-eu-2'];

describe('compileClusterPattern', () => {
  it.each([
    { pattern: 'qa', literals: ['qa'], literalOnly: true, matched: ['qa'] },
    { pattern: 'nope', literals: ['nope'], literalOnly: true, matched: [] },
    { pattern: '*', literals: [], literalOnly: false, matched: CLUSTERS },
    { pattern: '**', literals: [], literalOnly: false, matched: CLUSTERS },
    { pattern: 'prod-*', literals: [], literalOnly: false, matched: ['prod-eu', 'prod-us', 'prod-eu-2'] },
    { pattern: 'prod-??', literals: [], literalOnly: false, matched: ['prod-eu', 'prod-us'] },
    { pattern: '{qa,canary}', literals: ['qa', 'canary'], literalOnly: true, matched: ['qa', 'canary'] },
    {
      pattern: '{qa,prod-*}',
      literals: ['qa'],
      literalOnly: false,
      matched: ['qa', 'prod-eu', 'prod-us', 'prod-eu-2'],
    },
    { pattern: '{,qa}', literals: ['qa'], literalOnly: true, matched: ['qa'] },
    { pattern: 'prod-[e]*', literals: [], literalOnly: false, matched: ['prod-eu', 'prod-eu-2'] },
    { pattern: '@(qa|canary)', literals: [], literalOnly: false, matched: ['qa', 'canary'] },
    { pattern: 'q\\a', literals: ['qa'], literalOnly: true, matched: ['qa'] },
    { pattern: '#qa', literals: ['#qa'], literalOnly: true, matched: [] },
  ])('$pattern', ({ pattern, literals, literalOnly, matched }) => {
    const matcher = compileClusterPattern(pattern);
    expect(matcher.pattern).toBe(pattern);
    expect(matcher.literals).toEqual(literals);
    expect(matcher.literalOnly).toBe(literalOnly);
    expect(CLUSTERS.filter((c) => matcher.matches(c))).toEqual(matched);
  });

  it('throws for a pattern minimatch refuses', () => {
    expect(() => compileClusterPattern('x'.repeat(70_000))).toThrow('pattern is too long');
  });
});
