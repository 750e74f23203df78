import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOf, example, upstream } from '../support/examples.js';
import { MGMT, type Obj, RelayFixture } from '../support/relayFixture.js';

// What the real Gateway API schemas (standard channel v1.2.1, installed from upstream in every lab
// cluster) bring to distribution: the full HTTPRoute and Gateway shapes survive the trip as the
// management cluster stored them (server defaults included), a copy that the workload API
// server's CEL rules refuse is reported without holding back the others, and a source written
// through an older served version travels as the storage version.

const WORKLOADS = ['cluster-1', 'cluster-2'] as const;
let f: RelayFixture;

beforeAll(async () => {
  f = await RelayFixture.start({ name: 'relay-real-schemas' });
  for (const obj of example('mgmt-gatewayclass.yaml')) await f.apply(obj);
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

const sourceUri = (o: Obj) => `gloo://mgmt/ns/${o.metadata.namespace}/kind/${o.kind}/name/${o.metadata.name}`;
const live = async (o: Obj) => (await f.get(MGMT, copyOf(o, o.metadata.namespace ?? ''))) as Obj;

function gateway(name: string, distributeTo: string, listeners: unknown[]): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: 'gloo-mesh', annotations: { 'gloo.solo.io/distribute-to': distributeTo } },
    spec: { gatewayClassName: 'gloo-gateway-distribute', listeners },
  };
}

const httpListener = {
  name: 'http',
  port: 8080,
  protocol: 'HTTP',
  allowedRoutes: { namespaces: { from: 'All' } },
};

function route(name: string, distributeTo: string, spec: Record<string, unknown>, apiVersion = 'v1'): Obj {
  return {
    apiVersion: `gateway.networking.k8s.io/${apiVersion}`,
    kind: 'HTTPRoute',
    metadata: {
      name,
      namespace: 'gloo-mesh',
      labels: { test: name },
      annotations: { 'gloo.solo.io/distribute-to': distributeTo },
    },
    spec,
  };
}

const toUpstream = (name: string, extra: Record<string, unknown> = {}) => ({
  group: 'gloo.solo.io',
  kind: 'Upstream',
  name,
  ...extra,
});

describe('real Gateway API schemas (v1.2.1)', () => {
  it('a complex HTTPRoute (rules, matches, three filters, timeouts) arrives identical in both clusters', async () => {
    const gw = gateway('rs-complex', '*/gloo-system', [httpListener]);
    const ups = ['api-v1', 'api-v1-canary', 'shadow'].map((n) => upstream(n, '*/httpbin'));
    const src = route('rs-complex', '*/httpbin', {
      parentRefs: [{ name: 'rs-complex', sectionName: 'http' }],
      hostnames: ['api.example.com', '*.api.example.com'],
      rules: [
        {
          matches: [
            {
              path: { type: 'PathPrefix', value: '/v1' },
              headers: [
                { name: 'x-tenant', value: 'blue' },
                { type: 'RegularExpression', name: 'x-canary', value: '^(yes|true)$' },
              ],
              method: 'GET',
            },
          ],
          filters: [
            {
              type: 'RequestHeaderModifier',
              requestHeaderModifier: {
                set: [{ name: 'x-env', value: 'prod' }],
                add: [{ name: 'x-via', value: 'kuberelay' }],
                remove: ['x-debug'],
              },
            },
            {
              type: 'URLRewrite',
              urlRewrite: {
                hostname: 'internal.example.com',
                path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/api/v1' },
              },
            },
          ],
          backendRefs: [toUpstream('api-v1', { weight: 90 }), toUpstream('api-v1-canary', { weight: 10 })],
          timeouts: { request: '10s', backendRequest: '2s' },
        },
        {
          matches: [
            { path: { type: 'Exact', value: '/healthz' }, queryParams: [{ name: 'verbose', value: '1' }] },
            { path: { type: 'RegularExpression', value: '^/status/[0-9]+$' } },
          ],
          filters: [
            { type: 'RequestMirror', requestMirror: { backendRef: toUpstream('shadow') } },
            {
              type: 'URLRewrite',
              urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/health' } },
            },
          ],
          backendRefs: [
            {
              ...toUpstream('api-v1'),
              filters: [
                {
                  type: 'RequestHeaderModifier',
                  requestHeaderModifier: { set: [{ name: 'x-backend', value: 'health' }] },
                },
              ],
            },
          ],
          timeouts: { request: '500ms' },
        },
        // No matches: the schema's default (PathPrefix /) is what the management cluster stores.
        { backendRefs: [toUpstream('api-v1')] },
      ],
    });
    for (const o of [gw, ...ups, src]) await f.apply(o);

    // The copy is the source as the management cluster stored it (defaults included), with the
    // parentRef rewritten to where the Gateway landed; nothing else may differ.
    const stored = await live(src);
    expect(stored.spec?.rules).toHaveLength(3);
    const storedSpec = stored.spec as { parentRefs: object[]; rules: { matches?: unknown }[] };
    const expected = {
      ...storedSpec,
      parentRefs: [{ ...storedSpec.parentRefs[0], namespace: 'gloo-system' }],
    };
    const specs: unknown[] = [];
    for (const cluster of WORKLOADS) {
      const copy = await f.waitFor(cluster, copyOf(src, 'httpbin'), (o) => o !== undefined);
      expect(copy?.metadata.annotations?.['gloo.solo.io/distributed-source']).toBe(sourceUri(src));
      expect(copy?.spec).toEqual(expected);
      specs.push(copy?.spec);
    }
    expect(specs[0]).toEqual(specs[1]);
    expect(expected.rules[2]?.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
  });

  it('an HTTPS Gateway with certificateRefs and allowedRoutes selectors arrives as stored, class swapped', async () => {
    const src = gateway('rs-https', '*/gloo-system', [
      {
        name: 'https',
        port: 8443,
        protocol: 'HTTPS',
        hostname: '*.example.com',
        tls: {
          mode: 'Terminate',
          certificateRefs: [
            { kind: 'Secret', group: '', name: 'wildcard-example-com' },
            { name: 'wildcard-example-com-ecdsa' },
          ],
          options: { 'gateway.solo.io/min-tls-version': '1.3' },
        },
        allowedRoutes: {
          namespaces: {
            from: 'Selector',
            selector: {
              matchLabels: { 'gateway-access': 'public' },
              matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'staging'] }],
            },
          },
          kinds: [{ kind: 'HTTPRoute' }],
        },
      },
      { ...httpListener, allowedRoutes: { namespaces: { from: 'Same' } } },
    ]);
    await f.apply(src);
    const stored = await live(src);
    for (const cluster of WORKLOADS) {
      const copy = await f.waitFor(cluster, copyOf(src, 'gloo-system'), (o) => o !== undefined);
      expect(copy?.spec).toEqual({ ...stored.spec, gatewayClassName: 'gloo-gateway' });
    }
    // What the schema filled in on the way: the group of allowed kinds, Secret as the ref's kind.
    const { listeners } = stored.spec as {
      listeners: { allowedRoutes: { kinds: object[] }; tls: { certificateRefs: object[] } }[];
    };
    expect(listeners[0]?.allowedRoutes.kinds).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' },
    ]);
    expect(listeners[0]?.tls.certificateRefs[1]).toEqual({
      group: '',
      kind: 'Secret',
      name: 'wildcard-example-com-ecdsa',
    });
  });

  it('a copy the workload API server refuses by CEL after the reference rewrite is reported failed; the others apply', async () => {
    // Two parentRefs to the same Gateway, one with its namespace spelled out and one implicit.
    // The v1.2.1 rule "sectionName must be unique when parentRefs includes 2 or more references to
    // the same parent" compares namespaces as written, so the management cluster accepts them as
    // two parents. The rewrite points both at gloo-system, where the Gateway lands in cluster-1:
    // now they are the same parent twice, and cluster-1's API server refuses the copy. cluster-2
    // does not receive the Gateway, so nothing is rewritten there and its copy applies.
    const gw = gateway('rs-cel', 'cluster-1/gloo-system', [httpListener]);
    const up = upstream('rs-cel', '*/httpbin');
    const refused = route('rs-cel', '*/httpbin', {
      parentRefs: [
        { name: 'rs-cel', namespace: 'gloo-mesh', sectionName: 'http' },
        { name: 'rs-cel', sectionName: 'http' },
      ],
      rules: [{ backendRefs: [toUpstream('rs-cel')] }],
    });
    for (const o of [gw, up, refused]) await f.apply(o);

    await f.waitFor('cluster-2', copyOf(refused, 'httpbin'), (o) => o !== undefined);
    await f.waitFor('cluster-1', copyOf(gw, 'gloo-system'), (o) => o !== undefined);
    await f.waitFor('cluster-1', copyOf(up, 'httpbin'), (o) => o !== undefined);
    await expect
      .poll(
        async () => {
          const entry = (await f.clusterStatus('cluster-1'))?.copies?.find((c) =>
            c.key.endsWith('/HTTPRoute/httpbin/rs-cel'),
          );
          return entry && { outcome: entry.outcome, message: entry.message };
        },
        { timeout: 10_000 },
      )
      .toEqual({
        outcome: 'Failed',
        message: expect.stringContaining(
          'sectionName must be unique when parentRefs includes 2 or more references to the same parent',
        ),
      });
    expect(await f.get('cluster-1', copyOf(refused, 'httpbin'))).toBeUndefined();

    // The operator sees the same in relayctl: failed in cluster-1, applied in cluster-2.
    await expect
      .poll(
        async () => {
          const r = await f.relayctl([
            'status',
            'httproute/rs-cel',
            '--source-namespace=gloo-mesh',
            '-o',
            'json',
          ]);
          const doc = JSON.parse(r.out) as {
            sources: { targets: { cluster: string; result: string; message?: string }[] }[];
          };
          return doc.sources[0]?.targets.map((t) => `${t.cluster}=${t.result}`);
        },
        { timeout: 10_000 },
      )
      .toEqual(['cluster-1=failed', 'cluster-2=applied']);
  });

  it('a source created through v1beta1 is distributed as the storage version, v1', async () => {
    const gw = gateway('rs-beta', '*/gloo-system', [httpListener]);
    const src = route(
      'rs-beta',
      '*/httpbin',
      {
        parentRefs: [{ name: 'rs-beta' }],
        rules: [
          { matches: [{ path: { type: 'Exact', value: '/beta' } }], backendRefs: [toUpstream('api-v1')] },
        ],
      },
      'v1beta1',
    );
    await f.apply(gw);
    const created = await f.apply(src);
    expect(created.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
    const writer = (o: Obj | undefined) =>
      (o?.metadata.managedFields as { operation: string; apiVersion: string }[] | undefined)?.map(
        (m) => `${m.operation}:${m.apiVersion}`,
      );
    expect(writer(await live({ ...src, apiVersion: 'gateway.networking.k8s.io/v1' }))).toContain(
      'Update:gateway.networking.k8s.io/v1beta1',
    );

    for (const cluster of WORKLOADS) {
      const copy = await f.waitFor(
        cluster,
        { ...copyOf(src, 'httpbin'), apiVersion: 'gateway.networking.k8s.io/v1' },
        (o) => o !== undefined,
      );
      expect(copy?.apiVersion).toBe('gateway.networking.k8s.io/v1');
      // The agent wrote it as v1: every field manager on the copy speaks v1.
      expect(writer(copy)?.filter((w) => !w.endsWith(':gateway.networking.k8s.io/v1'))).toEqual([]);
      expect(copy?.spec?.parentRefs).toEqual([
        { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'rs-beta', namespace: 'gloo-system' },
      ]);
    }
  });
});
