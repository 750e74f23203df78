import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../copy/kubeObject.js';
import {
  CLUSTERS,
  compute,
  EXAMPLE,
  GW_KEY,
  gateway,
  layout,
  ROUTE_KEY,
  reportsOf,
  route,
  UPSTREAM_KEY,
  upstream,
} from './computeDesiredState.testkit.js';

// computeDesiredState on sources it must not send as asked: invalid annotations and objects
// (existing copies kept, errors reported) and copies that several sources want (collisions).

describe('computeDesiredState: invalid sources and annotations', () => {
  const previous = compute();

  it('keeps the existing copies of a source whose annotation became invalid', () => {
    const sources = [
      EXAMPLE[0],
      upstream('httpbin', 'gloo-mesh', '*/httpbin, {qa'),
      EXAMPLE[2],
    ] as KubeObject[];
    const state = compute({ sources, previous });
    for (const cluster of CLUSTERS) {
      expect(state.clusters.get(cluster)?.get(UPSTREAM_KEY)).toBe(
        previous.clusters.get(cluster)?.get(UPSTREAM_KEY),
      );
    }
    expect([...state.invalidSources]).toEqual(['gloo.solo.io/Upstream/gloo-mesh/httpbin']);
    expect(reportsOf(state)).toEqual({
      'gloo.solo.io/Upstream/gloo-mesh/httpbin': [
        {
          code: 'InvalidAnnotation',
          severity: 'error',
          message: 'distribute-to entry "{qa": cluster pattern "{qa" has a "{" without a matching "}"',
        },
      ],
    });
  });

  it('sends nothing for an invalid annotation without a previous state', () => {
    const state = compute({ sources: [upstream('u', 'gloo-mesh', 'a/b/c')] });
    expect(layout(state)).toEqual({ canary: [], 'prod-eu': [], 'prod-us': [], qa: [] });
    expect([...state.invalidSources]).toEqual(['gloo.solo.io/Upstream/gloo-mesh/u']);
  });

  it('keeps the copies of a source that an edit made invalid, and reports why', () => {
    const badRoute = route('httpbin-mydomain', 'gloo-mesh', '*/httpbin', {
      rules: [{ backendRefs: [{ name: 'httpbin', port: 8000 }] }],
    });
    const state = compute({ sources: [EXAMPLE[0], EXAMPLE[1], badRoute] as KubeObject[], previous });
    // The route copy the earlier, valid version made stays exactly as it was.
    expect(layout(state).qa).toEqual([GW_KEY, ROUTE_KEY, UPSTREAM_KEY]);
    expect(state.clusters.get('qa')?.get(ROUTE_KEY)).toBe(previous.clusters.get('qa')?.get(ROUTE_KEY));
    expect([...state.invalidSources]).toEqual([
      'gateway.networking.k8s.io/HTTPRoute/gloo-mesh/httpbin-mydomain',
    ]);
    expect(
      reportsOf(state)['gateway.networking.k8s.io/HTTPRoute/gloo-mesh/httpbin-mydomain']?.map((r) => [
        r.code,
        r.severity,
      ]),
    ).toEqual([['NonUpstreamBackend', 'error']]);
  });

  it.each([
    {
      name: 'name longer than 63 characters',
      source: upstream('u'.repeat(64), 'ns', '*'),
      reports: [
        {
          code: 'InvalidName',
          severity: 'error',
          message: `name "${'u'.repeat(64)}" cannot be used for copies: it must be no more than 63 characters (has 64)`,
        },
      ],
    },
    {
      name: 'namespace on a cluster-scoped kind',
      source: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'c', annotations: { 'gloo.solo.io/distribute-to': '*/gloo-system' } },
      },
      reports: [
        {
          code: 'NamespaceOnClusterScoped',
          severity: 'error',
          message:
            'distribute-to entry "*/gloo-system": the kind is cluster-scoped, so a namespace ("gloo-system") cannot be given',
        },
      ],
    },
    {
      name: 'kind not distributable',
      source: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c', namespace: 'ns', annotations: { 'gloo.solo.io/distribute-to': '*' } },
      },
      reports: [
        {
          code: 'KindNotDistributable',
          severity: 'error',
          message: 'ConfigMap is not one of the distributable kinds',
        },
      ],
    },
  ])('reports an invalid source: $name', ({ source, reports }) => {
    const state = compute({ sources: [source] });
    expect([...state.clusters.values()].every((copies) => copies.size === 0)).toBe(true);
    expect([...state.reports.values()].map((r) => r.items)).toEqual([reports]);
    expect(state.invalidSources.size).toBe(1);
  });
});

describe('computeDesiredState: collisions', () => {
  const fromA = gateway('gw', 'a', 'qa/gloo-system, canary/a');
  const fromB = gateway('gw', 'b', 'qa/gloo-system');
  const key = 'gateway.networking.k8s.io/Gateway/gloo-system/gw';
  const message = `copy ${key} in cluster qa is wanted by several sources (gateway.networking.k8s.io/Gateway/a/gw, gateway.networking.k8s.io/Gateway/b/gw)`;

  it('sends neither colliding copy and reports it on both sources', () => {
    const state = compute({ sources: [fromA, fromB] });
    expect(layout(state)).toEqual({
      canary: ['gateway.networking.k8s.io/Gateway/a/gw'],
      'prod-eu': [],
      'prod-us': [],
      qa: [],
    });
    expect(reportsOf(state)).toEqual({
      'gateway.networking.k8s.io/Gateway/a/gw': [
        {
          code: 'CopyCollision',
          severity: 'error',
          message: `${message}; none of them is sent`,
          cluster: 'qa',
          namespace: 'gloo-system',
        },
      ],
      'gateway.networking.k8s.io/Gateway/b/gw': [
        {
          code: 'CopyCollision',
          severity: 'error',
          message: `${message}; none of them is sent`,
          cluster: 'qa',
          namespace: 'gloo-system',
        },
      ],
    });
  });

  it('keeps the copy that was there before the collision', () => {
    const previous = compute({ sources: [fromA] });
    const state = compute({ sources: [fromB, fromA], previous });
    expect(state.clusters.get('qa')?.get(key)).toBe(previous.clusters.get('qa')?.get(key));
    expect(reportsOf(state)['gateway.networking.k8s.io/Gateway/b/gw']?.map((r) => r.message)).toEqual([
      `${message}; the existing copy is kept as it is`,
    ]);
  });
});
