import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../copy/kubeObject.js';
import { compute, gateway, layout, reportsOf, upstream } from './computeDesiredState.testkit.js';

// computeDesiredState's warnings and per-source options: unregistered cluster names,
// conflict-resolution, ignored sources, cluster-scoped copies, duplicate keys.

describe('computeDesiredState: reports and options', () => {
  it('warns about unregistered cluster names and distributes to the others', () => {
    const state = compute({ sources: [upstream('u', 'ns', 'qa, staging, !old')] });
    expect(layout(state).qa).toEqual(['gloo.solo.io/Upstream/ns/u']);
    expect(reportsOf(state)).toEqual({
      'gloo.solo.io/Upstream/ns/u': [
        {
          code: 'UnregisteredCluster',
          severity: 'warning',
          message: 'cluster "old" named in gloo.solo.io/distribute-to is not registered; it is ignored',
          cluster: 'old',
        },
        {
          code: 'UnregisteredCluster',
          severity: 'warning',
          message: 'cluster "staging" named in gloo.solo.io/distribute-to is not registered; it is ignored',
          cluster: 'staging',
        },
      ],
    });
    expect(state.invalidSources.size).toBe(0);
  });

  it.each([
    { value: 'overwrite', overwrite: true, reports: 0 },
    { value: ' overwrite ', overwrite: true, reports: 0 },
    { value: 'Overwrite', overwrite: false, reports: 1 },
  ])('conflict-resolution "$value"', ({ value, overwrite, reports }) => {
    const state = compute({
      sources: [gateway('g', 'ns', 'qa', { 'kuberelay.dev/conflict-resolution': value })],
    });
    const copy = state.clusters.get('qa')?.get('gateway.networking.k8s.io/Gateway/ns/g');
    expect(copy?.overwrite).toBe(overwrite);
    expect(copy?.object.metadata.annotations).not.toHaveProperty('kuberelay.dev/conflict-resolution');
    expect([...state.reports.values()].flatMap((r) => r.items.map((i) => [i.code, i.severity]))).toEqual(
      reports === 0 ? [] : [['InvalidAnnotation', 'warning']],
    );
  });

  it.each([
    {
      name: 'without the annotation',
      source: { ...upstream('u', 'ns', '*'), metadata: { name: 'u', namespace: 'ns' } },
    },
    {
      name: 'being deleted',
      source: {
        ...upstream('u', 'ns', '*'),
        metadata: { ...upstream('u', 'ns', '*').metadata, deletionTimestamp: '2025-01-01T00:00:00Z' },
      },
    },
  ])('ignores a source $name', ({ source }) => {
    const state = compute({ sources: [source] });
    expect([...state.clusters.values()].every((copies) => copies.size === 0)).toBe(true);
    expect(state.reports.size).toBe(0);
  });

  it('gives a cluster-scoped copy no namespace', () => {
    const gatewayClass: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'gloo-gateway', annotations: { 'gloo.solo.io/distribute-to': 'qa' } },
      spec: { controllerName: 'solo.io/gloo-gateway' },
    };
    const state = compute({ sources: [gatewayClass] });
    const copy = state.clusters.get('qa')?.get('gateway.networking.k8s.io/GatewayClass//gloo-gateway');
    expect(copy?.object.metadata).toEqual({
      name: 'gloo-gateway',
      labels: {
        'app.kubernetes.io/managed-by': 'kuberelay-agent',
        'relay.solo.io/cluster': 'management-cluster',
      },
      annotations: {
        'gloo.solo.io/distributed-source': 'gloo://management-cluster/kind/GatewayClass/name/gloo-gateway',
      },
    });
    expect(copy?.source.namespace).toBeUndefined();
  });

  it('lets the later of two objects with one key win', () => {
    const state = compute({ sources: [upstream('u', 'ns', 'qa'), upstream('u', 'ns', 'canary')] });
    expect(layout(state)).toEqual({
      canary: ['gloo.solo.io/Upstream/ns/u'],
      'prod-eu': [],
      'prod-us': [],
      qa: [],
    });
  });
});
