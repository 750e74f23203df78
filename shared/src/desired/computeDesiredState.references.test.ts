import { describe, expect, it } from 'vitest';
import { CLUSTERS, compute, gateway, reportsOf, route } from './computeDesiredState.testkit.js';

// computeDesiredState rewriting references per cluster: each cluster's copy points where the
// referenced object lands there, shares objects between equal placements, warns otherwise.

describe('computeDesiredState: reference placement per cluster', () => {
  const gw = gateway('gw', 'mgmt', 'qa/x, qa2/x, canary/y, prod-us/one, prod-us/two');
  const rt = route('rt', 'mgmt', '*/routes', { parentRefs: [{ name: 'gw' }] });
  const state = compute({ sources: [gw, rt], clusters: [...CLUSTERS, 'qa2'] });
  const routeIn = (cluster: string) =>
    state.clusters.get(cluster)?.get('gateway.networking.k8s.io/HTTPRoute/routes/rt');

  it.each([
    { cluster: 'qa', parentRefs: [{ name: 'gw', namespace: 'x' }] },
    { cluster: 'qa2', parentRefs: [{ name: 'gw', namespace: 'x' }] },
    { cluster: 'canary', parentRefs: [{ name: 'gw', namespace: 'y' }] },
    { cluster: 'prod-eu', parentRefs: [{ name: 'gw' }] },
    { cluster: 'prod-us', parentRefs: [{ name: 'gw' }] },
  ])('$cluster', ({ cluster, parentRefs }) => {
    expect(routeIn(cluster)?.object.spec).toEqual({ parentRefs });
  });

  it('shares the rewritten object between clusters with the same placement', () => {
    expect(routeIn('qa')?.object).toBe(routeIn('qa2')?.object);
    expect(routeIn('qa')?.object).not.toBe(routeIn('canary')?.object);
    expect(routeIn('prod-eu')?.object).toBe(routeIn('prod-us')?.object);
  });

  it('warns, per cluster, about references it cannot resolve', () => {
    expect(reportsOf(state)).toEqual({
      'gateway.networking.k8s.io/HTTPRoute/mgmt/rt': [
        {
          code: 'UnresolvedReference',
          severity: 'warning',
          message:
            'spec.parentRefs[0] refers to Gateway.gateway.networking.k8s.io mgmt/gw, which is not distributed to this cluster; the reference is left as it is',
          cluster: 'prod-eu',
          namespace: 'routes',
        },
        {
          code: 'AmbiguousReference',
          severity: 'warning',
          message:
            'spec.parentRefs[0] refers to Gateway.gateway.networking.k8s.io mgmt/gw, which lands in several namespaces of this cluster (one, two); the reference is left as it is',
          cluster: 'prod-us',
          namespace: 'routes',
        },
      ],
    });
  });

  it('resolves references to copies kept from an invalid annotation', () => {
    const previous = compute({ sources: [gw, rt] });
    const state2 = compute({ sources: [gateway('gw', 'mgmt', '{broken'), rt], previous });
    expect(
      state2.clusters.get('canary')?.get('gateway.networking.k8s.io/HTTPRoute/routes/rt')?.object.spec,
    ).toEqual({
      parentRefs: [{ name: 'gw', namespace: 'y' }],
    });
  });
});
