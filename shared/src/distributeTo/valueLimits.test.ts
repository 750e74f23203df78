import fc from 'fast-check';
import { braceExpand } from 'minimatch';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors/errorCode.js';
import { type DistributeTo, parseDistributeTo } from './parseDistributeTo.js';
import { countExpansions, DistributeToLimits } from './valueLimits.js';

const parse = (value: string) => parseDistributeTo(value, { clusterScoped: false });

function messages(value: string): string[] {
  const result = parse(value);
  expect(result.ok).toBe(false);
  if (result.ok) {
    return [];
  }
  for (const error of result.errors) {
    expect(error.code).toBe(ErrorCode.InvalidAnnotation);
  }
  return result.errors.map((error) => error.message);
}

function totals(parsed: DistributeTo): { expansions: number; wildcards: number } {
  const matchers = [...parsed.includes.map((include) => include.matcher), ...parsed.excludes];
  return {
    expansions: matchers.reduce((sum, m) => sum + m.expansions, 0),
    wildcards: matchers.reduce((sum, m) => sum + m.wildcards, 0),
  };
}

describe('countExpansions', () => {
  it.each([
    ['qa', 1],
    ['{qa,canary}', 2],
    ['{a,b}{c,d,e}', 6],
    ['{a,{b,c}}', 3],
    ['{1..9}', 9],
    ['{01..10..3}', 4],
    ['{a..e}', 5],
    ['{qa}', 1],
    ['\\{a,b}', 1],
    ['{a,b}'.repeat(20), DistributeToLimits.expansions + 1],
    ['{1..99999999999999999999}', DistributeToLimits.expansions + 1],
  ])('%s → %i', (pattern, count) => {
    expect(countExpansions(pattern)).toBe(count);
  });

  // The count must never be below what minimatch really expands, or a bomb could slip past it:
  // checked against brace-expansion itself on random brace-heavy patterns. It is exact except
  // where brace-expansion leaves text after a literal group (`{q}{1..3}`) unexpanded.
  const patterns = (atoms: readonly string[]) =>
    fc.letrec<{ glob: string }>((tie) => ({
      glob: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(...atoms),
        fc.array(tie('glob'), { minLength: 2, maxLength: 3 }).map((parts) => `{${parts.join(',')}}`),
        fc.array(tie('glob'), { minLength: 1, maxLength: 3 }).map((parts) => parts.join('')),
      ),
    })).glob;
  const atoms = ['a', 'b', 'x-', '1', '*', '\\{', '{1..3}', '{a..c..2}', '{-2..2}'];
  // countExpansions(glob, limit) says "over" as limit + 1; brace-expansion stops at its max, so it
  // is asked for one more than the limit and capped there too (a random pattern can expand to
  // more than 100,000: with the same max on both sides the oracle said 100,000 where the truth
  // and countExpansions said "more").
  const LIMIT = 100_000;
  const expanded = (glob: string) =>
    Math.min(braceExpand(glob, { braceExpandMax: LIMIT + 1 }).length, LIMIT + 1);

  it('equals brace-expansion on the pattern that exposed an oracle capped at the limit', () => {
    const over = '{-2..2}{-2..2}a{{{a..c..2},a,{1..3}},{-2..2}}{-2..2}{a,a,a}{-2..2}{{1..3},a,a}';
    expect(countExpansions(over, LIMIT)).toBe(LIMIT + 1);
    expect(expanded(over)).toBe(LIMIT + 1);
  });

  it('equals brace-expansion on random patterns of lists and ranges', () => {
    fc.assert(
      fc.property(patterns(atoms.filter((atom) => !atom.includes('\\'))), (glob) => {
        expect(countExpansions(glob, LIMIT)).toBe(expanded(glob));
      }),
      { numRuns: 500 },
    );
  });

  // With escaped braces, brace-expansion's own reading of the groups around them differs in
  // places (this pattern, from CI seed 2065205509: 84,374 against the 86,400 the groups multiply
  // to): the count may be above it there, never below, so a limit can only refuse more.
  it.each([
    '{{a,a},a}\\{{{a,a,a},a}{a,\\{,a}{-2..2}{\\{,a,{a..c..2}{a,a}}{{1..3},{-2..2}}{-2..2}aa{a..c..2}',
  ])('is never below brace-expansion with escaped braces: %s', (glob) => {
    expect(countExpansions(glob, LIMIT)).toBeGreaterThanOrEqual(expanded(glob));
  });

  it('is never below brace-expansion on random patterns with escaped braces', () => {
    fc.assert(
      fc.property(patterns(atoms), (glob) => {
        expect(countExpansions(glob, LIMIT)).toBeGreaterThanOrEqual(expanded(glob));
      }),
      { numRuns: 500 },
    );
  });

  it('is never below brace-expansion when literal groups are mixed in', () => {
    fc.assert(
      fc.property(patterns([...atoms, '{q}', '{}']), (glob) => {
        expect(countExpansions(glob, LIMIT)).toBeGreaterThanOrEqual(expanded(glob));
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseDistributeTo: hostile values are refused at the cost of reading them', () => {
  it('refuses a brace bomb and says what to do instead', () => {
    const [message] = messages(`${'{a,b}'.repeat(20)}/gloo-system`);
    expect(message).toContain(`expand to more than ${DistributeToLimits.expansions} patterns`);
    expect(message).toContain('use a wildcard');
  });

  it('refuses a range bomb', () => {
    expect(messages('c{1..100000}')[0]).toContain('expand to more than');
  });

  it('counts the expansions of all entries together', () => {
    const half = `{${Array.from({ length: 600 }, (_, i) => `c${i}`).join(',')}}`;
    expect(parse(half).ok).toBe(true);
    expect(messages(`${half}, ${half.replaceAll('c', 'd')}`)).toHaveLength(1);
  });

  it('refuses deep brace nesting before brace-expansion walks it', () => {
    const deep = `${'{'.repeat(5000)}a,b${'}'.repeat(5000)}`;
    expect(messages(deep)[0]).toContain('characters long');
    const nested = `${'{x,'.repeat(9)}y${'}'.repeat(9)}`;
    expect(messages(nested)[0]).toContain('nests "{" 9 deep');
    expect(parse(`${'{x,'.repeat(8)}y${'}'.repeat(8)}`).ok).toBe(true);
  });

  it('refuses a value over the length limit with one short error', () => {
    const value = 'c,'.repeat(DistributeToLimits.valueLength);
    const found = messages(value);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`at most ${DistributeToLimits.valueLength} are allowed`);
    expect(found[0]?.length).toBeLessThan(400);
  });

  it('refuses more entries than allowed', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`).join(',');
    expect(parse(names(DistributeToLimits.entries)).ok).toBe(true);
    expect(messages(names(DistributeToLimits.entries + 1))[0]).toContain(
      `has ${DistributeToLimits.entries + 1} entries`,
    );
  });

  it('bounds wildcard patterns, which cost a match against every cluster', () => {
    const globs = (n: number) => Array.from({ length: n }, (_, i) => `g${i}-*`).join(',');
    expect(parse(globs(DistributeToLimits.wildcardPatterns)).ok).toBe(true);
    expect(messages(globs(DistributeToLimits.wildcardPatterns + 1))[0]).toContain(
      `more than ${DistributeToLimits.wildcardPatterns} wildcard patterns`,
    );
  });

  it('never accepts a value over the limits, whatever it is', () => {
    const piece = fc.constantFrom('{a,b}', '{1..40}', '*', 'qa', ',', '{', '}', '[a-z]', '/ns', '!', '\\');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 200 }), (pieces) => {
        const result = parse(pieces.join(''));
        if (result.ok) {
          const { expansions, wildcards } = totals(result.value);
          expect(expansions).toBeLessThanOrEqual(DistributeToLimits.expansions);
          expect(wildcards).toBeLessThanOrEqual(DistributeToLimits.wildcardPatterns);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('parses each value once: a recompute gets the same immutable result back', () => {
    const value = `{qa,canary}/edge, prod-*, !prod-eu-${Math.random()}`;
    const first = parse(value);
    expect(parse(value)).toBe(first);
    expect(parseDistributeTo(value, { clusterScoped: true })).not.toBe(first);
  });
});
