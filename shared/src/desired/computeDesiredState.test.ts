import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLASS_MAPPING } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import { DEFAULT_KINDS } from '../kinds/kindInfo.js';
import { computeDesiredState, type DesiredStateInput } from './computeDesiredState.js';
import { contentHash } from './contentHash.js';
import type { DesiredState, ReportItem } from './desiredState.js';
import { stateDigest } from './stateDigest.js';

const CLUSTERS = ['qa', 'canary', 'prod-eu', 'prod-us'];

function annotated(annotations: Record<string, string>): { annotations: Record<string, string> } {
  return { annotations };
}

function gateway(
  name: string,
  namespace: string,
  distributeTo: string,
  extra: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: {
      name,
      namespace,
      uid: `uid-${namespace}-${name}`,
      ...annotated({ 'gloo.solo.io/distribute-to': distributeTo, ...extra }),
    },
    spec: {
      gatewayClassName: 'gloo-gateway-distribute',
      listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
    },
  };
}

function upstream(name: string, namespace: string, distributeTo: string): KubeObject {
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: { name, namespace, ...annotated({ 'gloo.solo.io/distribute-to': distributeTo }) },
    spec: { kube: { serviceName: name, serviceNamespace: 'httpbin', servicePort: 8000 } },
  };
}

function route(
  name: string,
  namespace: string,
  distributeTo: string,
  spec: Record<string, unknown>,
): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace, ...annotated({ 'gloo.solo.io/distribute-to': distributeTo }) },
    spec,
  };
}

/** reference/gloo-distribute-gateways.txt, step 3. */
const EXAMPLE = [
  gateway('distributed-gateway', 'gloo-mesh', '*/gloo-system'),
  upstream('httpbin', 'gloo-mesh', '*/httpbin'),
  route('httpbin-mydomain', 'gloo-mesh', '*/httpbin', {
    parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-mesh' }],
    rules: [{ backendRefs: [{ name: 'httpbin', kind: 'Upstream', group: 'gloo.solo.io' }] }],
  }),
];

const GW_KEY = 'gateway.networking.k8s.io/Gateway/gloo-system/distributed-gateway';
const ROUTE_KEY = 'gateway.networking.k8s.io/HTTPRoute/httpbin/httpbin-mydomain';
const UPSTREAM_KEY = 'gloo.solo.io/Upstream/httpbin/httpbin';

function compute(overrides: Partial<DesiredStateInput> = {}): DesiredState {
  return computeDesiredState({
    sources: EXAMPLE,
    clusters: CLUSTERS,
    mgmtCluster: 'management-cluster',
    classMapping: DEFAULT_CLASS_MAPPING,
    kinds: DEFAULT_KINDS,
    ...overrides,
  });
}

/** cluster → copy keys, for compact expectations. */
function layout(state: DesiredState): Record<string, string[]> {
  return Object.fromEntries([...state.clusters].map(([cluster, copies]) => [cluster, [...copies.keys()]]));
}

function reportsOf(state: DesiredState): Record<string, ReportItem[]> {
  return Object.fromEntries([...state.reports].map(([key, report]) => [key, [...report.items]]));
}

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
