import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDistributeTo } from './parseDistributeTo.js';
import { registeredClusters, selectTargets, type Target } from './selectTargets.js';

const SPEC_CLUSTERS = registeredClusters(['qa', 'canary', 'prod-eu', 'prod-us']);

function select(value: string, options: { clusterScoped?: boolean; sourceNamespace?: string } = {}) {
  const parsed = parseDistributeTo(value, { clusterScoped: options.clusterScoped ?? false });
  if (!parsed.ok) {
    throw new Error(`unexpected parse failure: ${parsed.errors.map((e) => e.message).join('; ')}`);
  }
  const selection = selectTargets(parsed.value, {
    clusters: SPEC_CLUSTERS,
    sourceNamespace: options.sourceNamespace,
  });
  return {
    targets: selection.targets.map((t: Target) =>
      t.namespace === undefined ? t.cluster : `${t.cluster}/${t.namespace}`,
    ),
    unregistered: selection.unregistered,
  };
}

describe('selectTargets: docs/spec.md §2 examples (source namespace "gloo-mesh")', () => {
  it.each([
    {
      value: '*/gloo-system',
      targets: ['canary/gloo-system', 'prod-eu/gloo-system', 'prod-us/gloo-system', 'qa/gloo-system'],
    },
    { value: 'qa, canary', targets: ['canary/gloo-mesh', 'qa/gloo-mesh'] },
    { value: 'prod-*/edge', targets: ['prod-eu/edge', 'prod-us/edge'] },
    { value: '*, !prod-*', targets: ['canary/gloo-mesh', 'qa/gloo-mesh'] },
    { value: 'qa/a, qa/b', targets: ['qa/a', 'qa/b'] },
    { value: '', targets: [] },
  ])('"$value"', ({ value, targets }) => {
    expect(select(value, { sourceNamespace: 'gloo-mesh' })).toEqual({ targets, unregistered: [] });
  });
});

describe('selectTargets: other cases', () => {
  it.each([
    {
      name: 'exclusion before inclusion',
      value: '!prod-*, *',
      targets: ['canary/ns', 'qa/ns'],
      unregistered: [],
    },
    {
      name: 'exclusion removes the cluster from every namespace',
      value: 'qa/a, qa/b, canary, !qa',
      targets: ['canary/ns'],
      unregistered: [],
    },
    {
      name: 'duplicate selections collapse',
      value: 'qa, qa, q*, qa/ns',
      targets: ['qa/ns'],
      unregistered: [],
    },
    { name: 'braces', value: '{qa,prod-eu}/edge', targets: ['prod-eu/edge', 'qa/edge'], unregistered: [] },
    {
      name: 'unregistered literal names are reported and ignored',
      value: 'qa, staging, {canary,dev}',
      targets: ['canary/ns', 'qa/ns'],
      unregistered: ['dev', 'staging'],
    },
    {
      name: 'unregistered names in exclusions are reported',
      value: '*, !prod-eu1',
      targets: ['canary/ns', 'prod-eu/ns', 'prod-us/ns', 'qa/ns'],
      unregistered: ['prod-eu1'],
    },
    { name: 'globs matching nothing are not reported', value: 'dev-*', targets: [], unregistered: [] },
    { name: 'only exclusions select nothing', value: '!qa', targets: [], unregistered: [] },
    {
      name: 'mixed literal and glob alternatives',
      value: '{qa,prod-*,nope}',
      targets: ['prod-eu/ns', 'prod-us/ns', 'qa/ns'],
      unregistered: ['nope'],
    },
  ])('$name: "$value"', ({ value, targets, unregistered }) => {
    expect(select(value, { sourceNamespace: 'ns' })).toEqual({ targets, unregistered });
  });

  it('gives cluster-scoped targets no namespace', () => {
    expect(select('*, !qa', { clusterScoped: true })).toEqual({
      targets: ['canary', 'prod-eu', 'prod-us'],
      unregistered: [],
    });
  });

  it('selects only among registered clusters even for literals', () => {
    const parsed = parseDistributeTo('a, b', { clusterScoped: false });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      const selection = selectTargets(parsed.value, {
        clusters: registeredClusters(['b', 'b', 'c']),
        sourceNamespace: 'x',
      });
      expect(selection).toEqual({ targets: [{ cluster: 'b', namespace: 'x' }], unregistered: ['a'] });
    }
  });

  it('is independent of the order of entries and of registration', () => {
    const entries = ['qa/a', 'prod-*', '!prod-us', 'canary/b', '{qa,nope}'];
    fc.assert(
      fc.property(
        fc.shuffledSubarray(entries, { minLength: entries.length }),
        fc.shuffledSubarray([...SPEC_CLUSTERS.names], { minLength: 4 }),
        (order, clusterOrder) => {
          const parsed = parseDistributeTo(order.join(','), { clusterScoped: false });
          expect(parsed.ok).toBe(true);
          if (parsed.ok) {
            const selection = selectTargets(parsed.value, {
              clusters: registeredClusters(clusterOrder),
              sourceNamespace: 'ns',
            });
            expect(selection.targets.map((t) => `${t.cluster}/${t.namespace}`)).toEqual([
              'canary/b',
              'prod-eu/ns',
              'qa/a',
              'qa/ns',
            ]);
            expect(selection.unregistered).toEqual(['nope']);
          }
        },
      ),
    );
  });
});

describe('registeredClusters', () => {
  it('sorts and deduplicates by code unit', () => {
    const clusters = registeredClusters(['b', 'a', 'B', 'a']);
    expect(clusters.names).toEqual(['B', 'a', 'b']);
    expect(clusters.has('a')).toBe(true);
    expect(clusters.has('c')).toBe(false);
  });
});

describe('registeredClusters.matching', () => {
  it('matches in name order and memoizes per pattern', () => {
    const clusters = registeredClusters(['b', 'a', 'c']);
    const parsed = parseDistributeTo('*, {c,a,zz}', { clusterScoped: false });
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      const [all, literal] = parsed.value.includes;
      if (all === undefined || literal === undefined) {
        throw new Error('expected two includes');
      }
      expect(clusters.matching(all.matcher)).toEqual(['a', 'b', 'c']);
      expect(clusters.matching(all.matcher)).toBe(clusters.matching(all.matcher));
      expect(clusters.matching(literal.matcher)).toEqual(['a', 'c']);
      expect(clusters.indexOf('c')).toBe(2);
      expect(clusters.indexOf('zz')).toBe(-1);
    }
  });
});
