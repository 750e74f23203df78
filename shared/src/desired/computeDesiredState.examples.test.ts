import { describe, expect, it } from 'vitest';
import { compute, GW_KEY, layout, ROUTE_KEY, UPSTREAM_KEY, upstream } from './computeDesiredState.testkit.js';
import { contentHash } from './contentHash.js';

// computeDesiredState on the documented examples: the reference example (where each copy goes,
// what it looks like, which objects are shared) and the distribute-to values of docs/spec.md §2.

describe('computeDesiredState: the reference example', () => {
  const state = compute();

  it('sends the three copies to every registered cluster, in key order', () => {
    expect(layout(state)).toEqual({
      canary: [GW_KEY, ROUTE_KEY, UPSTREAM_KEY],
      'prod-eu': [GW_KEY, ROUTE_KEY, UPSTREAM_KEY],
      'prod-us': [GW_KEY, ROUTE_KEY, UPSTREAM_KEY],
      qa: [GW_KEY, ROUTE_KEY, UPSTREAM_KEY],
    });
    expect(state.reports.size).toBe(0);
    expect(state.invalidSources.size).toBe(0);
  });

  it('rewrites the HTTPRoute parentRef to where the Gateway lands, and swaps the class', () => {
    const copies = state.clusters.get('qa');
    expect(copies?.get(ROUTE_KEY)?.object.spec).toEqual({
      parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-system' }],
      rules: [{ backendRefs: [{ name: 'httpbin', kind: 'Upstream', group: 'gloo.solo.io' }] }],
    });
    expect(copies?.get(GW_KEY)?.object.spec).toEqual({
      gatewayClassName: 'gloo-gateway',
      listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
    });
    expect(copies?.get(GW_KEY)?.object.metadata.annotations).toEqual({
      'gloo.solo.io/distributed-source':
        'gloo://management-cluster/ns/gloo-mesh/kind/Gateway/name/distributed-gateway',
    });
  });

  it('describes each copy and hashes its content', () => {
    const copy = state.clusters.get('prod-eu')?.get(UPSTREAM_KEY);
    expect(copy?.key).toBe(UPSTREAM_KEY);
    expect(copy?.cluster).toBe('prod-eu');
    expect(copy?.source).toEqual({
      group: 'gloo.solo.io',
      kind: 'Upstream',
      namespace: 'gloo-mesh',
      name: 'httpbin',
    });
    expect(copy?.overwrite).toBe(false);
    expect(copy?.hash).toBe(contentHash(copy?.object));
    expect(copy?.hash).toMatch(/^[0-9a-f]{32}$/);
  });

  it('shares one object per (source, namespace) across clusters', () => {
    for (const key of [GW_KEY, ROUTE_KEY, UPSTREAM_KEY]) {
      const objects = new Set([...state.clusters.values()].map((copies) => copies.get(key)?.object));
      expect(objects.size).toBe(1);
    }
  });
});

describe('computeDesiredState: docs/spec.md §2 examples', () => {
  it.each([
    {
      value: '*/gloo-system',
      layout: {
        canary: ['gloo-system'],
        'prod-eu': ['gloo-system'],
        'prod-us': ['gloo-system'],
        qa: ['gloo-system'],
      },
    },
    {
      value: 'qa, canary',
      layout: { canary: ['gloo-mesh'], 'prod-eu': [], 'prod-us': [], qa: ['gloo-mesh'] },
    },
    { value: 'prod-*/edge', layout: { canary: [], 'prod-eu': ['edge'], 'prod-us': ['edge'], qa: [] } },
    {
      value: '*, !prod-*',
      layout: { canary: ['gloo-mesh'], 'prod-eu': [], 'prod-us': [], qa: ['gloo-mesh'] },
    },
    { value: 'qa/a, qa/b', layout: { canary: [], 'prod-eu': [], 'prod-us': [], qa: ['a', 'b'] } },
    { value: '', layout: { canary: [], 'prod-eu': [], 'prod-us': [], qa: [] } },
  ])('"$value"', ({ value, layout: expected }) => {
    const state = compute({ sources: [upstream('u', 'gloo-mesh', value)] });
    const namespaces = Object.fromEntries(
      [...state.clusters].map(([cluster, copies]) => [
        cluster,
        [...copies.values()].map((c) => c.object.metadata.namespace),
      ]),
    );
    expect(namespaces).toEqual(expected);
    expect(state.reports.size).toBe(0);
  });
});
