import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DistributeTo, parseDistributeTo } from './parseDistributeTo.js';

/** The parse as plain data: includes as `pattern[/namespace]`, excludes as patterns. */
function shape(parsed: DistributeTo): { includes: string[]; excludes: string[] } {
  return {
    includes: parsed.includes.map((i) =>
      i.namespace === undefined ? i.matcher.pattern : `${i.matcher.pattern}/${i.namespace}`,
    ),
    excludes: parsed.excludes.map((m) => m.pattern),
  };
}

describe('parseDistributeTo: valid values', () => {
  it.each([
    { value: '', includes: [], excludes: [] },
    { value: '   ', includes: [], excludes: [] },
    { value: '*/gloo-system', includes: ['*/gloo-system'], excludes: [] },
    { value: 'qa, canary', includes: ['qa', 'canary'], excludes: [] },
    { value: 'prod-*/edge', includes: ['prod-*/edge'], excludes: [] },
    { value: '*, !prod-*', includes: ['*'], excludes: ['prod-*'] },
    { value: '!prod-*, *', includes: ['*'], excludes: ['prod-*'] },
    { value: 'qa/a, qa/b', includes: ['qa/a', 'qa/b'], excludes: [] },
    { value: '{qa,canary}/edge', includes: ['{qa,canary}/edge'], excludes: [] },
    { value: 'qa,,canary,', includes: ['qa', 'canary'], excludes: [] },
    { value: '\tqa\n', includes: ['qa'], excludes: [] },
    { value: '!prod-*', includes: [], excludes: ['prod-*'] },
    { value: `qa/${'n'.repeat(63)}`, includes: [`qa/${'n'.repeat(63)}`], excludes: [] },
  ])('"$value"', ({ value, includes, excludes }) => {
    const result = parseDistributeTo(value, { clusterScoped: false });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(shape(result.value)).toEqual({ includes, excludes });
    }
  });

  it('accepts entries without namespace for a cluster-scoped kind', () => {
    const result = parseDistributeTo('*, !qa', { clusterScoped: true });
    expect(result.ok && shape(result.value)).toEqual({ includes: ['*'], excludes: ['qa'] });
  });
});

describe('parseDistributeTo: invalid values', () => {
  it.each([
    {
      value: 'a/b/c',
      errors: [['InvalidAnnotation', 'a/b/c', 'more than one "/" (expected cluster or cluster/namespace)']],
    },
    {
      value: '{qa,canary',
      errors: [
        ['InvalidAnnotation', '{qa,canary', 'cluster pattern "{qa,canary" has a "{" without a matching "}"'],
      ],
    },
    {
      value: 'qa}, canary',
      errors: [['InvalidAnnotation', 'qa}', 'cluster pattern "qa}" has a "}" without a matching "{"']],
    },
    {
      value: '[abc/ns',
      errors: [['InvalidAnnotation', '[abc/ns', 'cluster pattern "[abc" has a "[" without a matching "]"']],
    },
    {
      value: 'qa/Bad_NS',
      errors: [
        [
          'InvalidAnnotation',
          'qa/Bad_NS',
          'namespace "Bad_NS" is not a valid namespace name: it must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character',
        ],
      ],
    },
    {
      value: `qa/${'n'.repeat(64)}`,
      errors: [
        [
          'InvalidAnnotation',
          `qa/${'n'.repeat(64)}`,
          `namespace "${'n'.repeat(64)}" is not a valid namespace name: it must be no more than 63 characters (has 64)`,
        ],
      ],
    },
    {
      value: 'qa/',
      errors: [
        ['InvalidAnnotation', 'qa/', 'namespace "" is not a valid namespace name: it must not be empty'],
      ],
    },
    { value: '/edge', errors: [['InvalidAnnotation', '/edge', 'cluster pattern "" is empty']] },
    { value: '!', errors: [['InvalidAnnotation', '!', 'cluster pattern "" is empty']] },
    {
      value: '!qa/edge',
      errors: [
        ['InvalidAnnotation', '!qa/edge', 'an exclusion cannot have a namespace: it removes whole clusters'],
      ],
    },
    {
      value: '!!qa',
      errors: [['InvalidAnnotation', '!!qa', 'more than one leading "!" (an exclusion takes exactly one)']],
    },
    {
      value: 'qa canary',
      errors: [
        [
          'InvalidAnnotation',
          'qa canary',
          'cluster pattern "qa canary" contains white space (a missing comma?)',
        ],
      ],
    },
    {
      value: 'qa / edge',
      errors: [
        ['InvalidAnnotation', 'qa / edge', 'cluster pattern "qa " contains white space (a missing comma?)'],
        [
          'InvalidAnnotation',
          'qa / edge',
          'namespace " edge" is not a valid namespace name: it must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character',
        ],
      ],
    },
    {
      name: 'every bad entry is reported',
      value: 'a/b/c, ok, {x/ns, qa/UP',
      errors: [
        ['InvalidAnnotation', 'a/b/c', 'more than one "/" (expected cluster or cluster/namespace)'],
        ['InvalidAnnotation', '{x/ns, qa/UP', 'more than one "/" (expected cluster or cluster/namespace)'],
      ],
    },
  ])('"$value"', ({ value, errors }) => {
    const result = parseDistributeTo(value, { clusterScoped: false });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => [e.code, e.details.entry, e.message])).toEqual(
        errors.map(([code, entry, reason]) => [code, entry, `distribute-to entry "${entry}": ${reason}`]),
      );
    }
  });

  it.each([
    { value: '*/gloo-system', entries: ['*/gloo-system'] },
    { value: 'qa, canary/x, prod/Bad', entries: ['canary/x', 'prod/Bad'] },
  ])('a namespace on a cluster-scoped kind is NamespaceOnClusterScoped: "$value"', ({ value, entries }) => {
    const result = parseDistributeTo(value, { clusterScoped: true });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => [e.code, e.details.entry])).toEqual(
        entries.map((entry) => ['NamespaceOnClusterScoped', entry]),
      );
    }
  });
});

describe('parseDistributeTo: a value over the length limit', () => {
  it('is one error naming its start and length, not the whole value', () => {
    const result = parseDistributeTo('x'.repeat(70_000), { clusterScoped: false });
    expect(!result.ok && result.errors.map((e) => [e.code, e.details.entry, e.message])).toEqual([
      [
        'InvalidAnnotation',
        `${'x'.repeat(60)}… (70000 characters)`,
        `distribute-to value "${'x'.repeat(60)}… (70000 characters)": the value is 70000 characters long; at most 16384 are allowed (use wildcards such as "prod-*" instead of listing clusters)`,
      ],
    ]);
  });
});

describe('parseDistributeTo: properties', () => {
  const alphabet = fc.constantFrom(...'*?!{},/ []()@+|\\^.-az09QZ\t'.split(''));
  const globby = fc.array(alphabet, { maxLength: 40 }).map((chars) => chars.join(''));

  it.each([
    { name: 'arbitrary strings', arbitrary: fc.string({ maxLength: 60 }) },
    { name: 'strings of glob syntax', arbitrary: globby },
  ])('$name never throw and give ok or a non-empty errors array', ({ arbitrary }) => {
    fc.assert(
      fc.property(arbitrary, fc.boolean(), (value, clusterScoped) => {
        const result = parseDistributeTo(value, { clusterScoped });
        if (result.ok) {
          expect(Array.isArray(result.value.includes) && Array.isArray(result.value.excludes)).toBe(true);
        } else {
          expect(result.errors.length).toBeGreaterThan(0);
          expect(result.errors.every((e) => e.message.startsWith('distribute-to entry "'))).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('a value with only separators and white space selects nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(',', ' ', '\t', '\n'), { maxLength: 20 }), (chars) => {
        const result = parseDistributeTo(chars.join(''), { clusterScoped: false });
        expect(result.ok && shape(result.value)).toEqual({ includes: [], excludes: [] });
      }),
    );
  });
});
