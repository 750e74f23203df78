import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../copy/kubeObject.js';
import {
  CLUSTERS,
  compute,
  EXAMPLE,
  GW_KEY,
  gateway,
  layout,
  reportsOf,
  UPSTREAM_KEY,
  upstream,
} from './computeDesiredState.testkit.js';
import type { DesiredState } from './desiredState.js';
import { stateDigest } from './stateDigest.js';

// computeDesiredState as a pure, stable function: unchanged copies reused from the previous state,
// no dependence on input order, no mutation, one object per source at scale.

describe('computeDesiredState: stability', () => {
  it('reuses unchanged DesiredCopy objects from the previous state and replaces changed ones', () => {
    const previous = compute();
    const changed = upstream('httpbin', 'gloo-mesh', '*/httpbin');
    const next = compute({
      sources: [
        EXAMPLE[0],
        { ...changed, spec: { kube: { serviceName: 'other' } } },
        EXAMPLE[2],
      ] as KubeObject[],
      previous,
    });
    for (const cluster of CLUSTERS) {
      expect(next.clusters.get(cluster)?.get(GW_KEY)).toBe(previous.clusters.get(cluster)?.get(GW_KEY));
      expect(next.clusters.get(cluster)?.get(UPSTREAM_KEY)).not.toBe(
        previous.clusters.get(cluster)?.get(UPSTREAM_KEY),
      );
      expect(next.clusters.get(cluster)?.get(UPSTREAM_KEY)?.hash).not.toBe(
        previous.clusters.get(cluster)?.get(UPSTREAM_KEY)?.hash,
      );
    }
  });

  it('drops clusters that are no longer registered, even for kept copies', () => {
    const previous = compute();
    const state = compute({ sources: [upstream('httpbin', 'gloo-mesh', '{')], clusters: ['qa'], previous });
    expect(layout(state)).toEqual({ qa: [UPSTREAM_KEY] });
  });

  it('does not depend on the order of sources or clusters', () => {
    const sources = [
      ...EXAMPLE,
      gateway('gw', 'a', 'qa/gloo-system'),
      gateway('gw', 'b', 'qa/gloo-system'),
      upstream('x', 'n', 'nope, prod-*'),
    ];
    const reference = compute({ sources });
    const digests = (state: DesiredState) =>
      [...state.clusters].map(([cluster, copies]) => [cluster, stateDigest(copies)]);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(sources, { minLength: sources.length }),
        fc.shuffledSubarray(CLUSTERS, { minLength: CLUSTERS.length }),
        (s, c) => {
          const state = compute({ sources: s, clusters: c });
          expect(digests(state)).toEqual(digests(reference));
          expect(reportsOf(state)).toEqual(reportsOf(reference));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('never mutates its input', () => {
    const sources = structuredClone(EXAMPLE);
    compute({ sources });
    expect(sources).toEqual(EXAMPLE);
  });

  it('builds one object per source for thousands of clusters', () => {
    const clusters = Array.from({ length: 3000 }, (_, i) => `c${i}`);
    const state = compute({ clusters });
    const objects = new Set(
      [...state.clusters.values()].flatMap((copies) => [...copies.values()].map((c) => c.object)),
    );
    expect(state.clusters.size).toBe(3000);
    expect(objects.size).toBe(3);
  });
});
