import { describe, expect, it } from 'vitest';
import { buildCopy, DEFAULT_CLASS_MAPPING } from './buildCopy.js';
import type { KubeObject } from './kubeObject.js';

/** The Gateway of reference/gloo-distribute-gateways.txt, as the API server returns it. */
const GATEWAY: KubeObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: {
    name: 'distributed-gateway',
    namespace: 'gloo-mesh',
    uid: '0d5c-uid',
    resourceVersion: '4711',
    generation: 3,
    creationTimestamp: '2025-01-01T00:00:00Z',
    deletionTimestamp: '2025-01-02T00:00:00Z',
    managedFields: [{ manager: 'kubectl' }],
    ownerReferences: [{ kind: 'X', name: 'y' }],
    finalizers: ['f'],
    labels: { example: 'config-distro', 'relay.solo.io/cluster': 'spoofed' },
    annotations: {
      'gloo.solo.io/distribute-to': '*/gloo-system',
      'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}',
      'kuberelay.dev/conflict-resolution': 'overwrite',
      'team.example.com/owner': 'edge',
    },
  },
  spec: {
    gatewayClassName: 'gloo-gateway-distribute',
    listeners: [
      {
        protocol: 'HTTP',
        port: 8080,
        hostname: 'mydomain.com',
        name: 'http',
        allowedRoutes: { namespaces: { from: 'All' } },
      },
    ],
  },
  status: { conditions: [{ type: 'Accepted', status: 'False' }] },
};

const EXPECTED_GATEWAY_COPY = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: {
    name: 'distributed-gateway',
    namespace: 'gloo-system',
    labels: {
      'app.kubernetes.io/managed-by': 'kuberelay-agent',
      example: 'config-distro',
      'relay.solo.io/cluster': 'management-cluster',
    },
    annotations: {
      'gloo.solo.io/distributed-source':
        'gloo://management-cluster/ns/gloo-mesh/kind/Gateway/name/distributed-gateway',
      'team.example.com/owner': 'edge',
    },
  },
  spec: {
    gatewayClassName: 'gloo-gateway',
    listeners: [
      {
        protocol: 'HTTP',
        port: 8080,
        hostname: 'mydomain.com',
        name: 'http',
        allowedRoutes: { namespaces: { from: 'All' } },
      },
    ],
  },
};

function copyOf(source: KubeObject, overrides: Partial<Parameters<typeof buildCopy>[0]> = {}): KubeObject {
  return buildCopy({
    source,
    targetNamespace: 'gloo-system',
    mgmtCluster: 'management-cluster',
    classMapping: DEFAULT_CLASS_MAPPING,
    ...overrides,
  });
}

describe('buildCopy', () => {
  it('builds the docs/spec.md §3 copy of the reference Gateway', () => {
    expect(copyOf(GATEWAY)).toStrictEqual(EXPECTED_GATEWAY_COPY);
  });

  it('sorts label and annotation keys and puts apiVersion, kind, metadata first', () => {
    const copy = copyOf(GATEWAY);
    expect(Object.keys(copy)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(Object.keys(copy.metadata.labels ?? {})).toEqual([
      'app.kubernetes.io/managed-by',
      'example',
      'relay.solo.io/cluster',
    ]);
  });

  it('never mutates or shares the source, and freezes the copy', () => {
    const before = structuredClone(GATEWAY);
    const copy = copyOf(GATEWAY);
    expect(GATEWAY).toStrictEqual(before);
    expect(copy.spec).not.toBe(GATEWAY.spec);
    expect(Object.isFrozen(copy)).toBe(true);
    expect(Object.isFrozen(copy.metadata.labels)).toBe(true);
    expect(Object.isFrozen((copy.spec as { listeners: unknown[] }).listeners[0])).toBe(true);
  });

  it.each([
    {
      name: 'mapped class is swapped',
      className: 'gloo-gateway-distribute',
      mapping: DEFAULT_CLASS_MAPPING,
      expected: 'gloo-gateway',
    },
    { name: 'other classes are kept', className: 'istio', mapping: DEFAULT_CLASS_MAPPING, expected: 'istio' },
    { name: 'configurable mapping', className: 'dist', mapping: { dist: 'edge' }, expected: 'edge' },
    {
      name: 'prototype names are not mappings',
      className: 'constructor',
      mapping: DEFAULT_CLASS_MAPPING,
      expected: 'constructor',
    },
    {
      name: 'empty mapping keeps the class',
      className: 'gloo-gateway-distribute',
      mapping: {},
      expected: 'gloo-gateway-distribute',
    },
  ])('GatewayClass swap: $name', ({ className, mapping, expected }) => {
    const source = { ...GATEWAY, spec: { gatewayClassName: className } };
    expect(copyOf(source, { classMapping: mapping }).spec).toEqual({ gatewayClassName: expected });
  });

  it.each([
    { name: 'a Gateway of another group', apiVersion: 'example.com/v1', kind: 'Gateway' },
    { name: 'a non-Gateway kind', apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' },
  ])('no swap for $name', ({ apiVersion, kind }) => {
    const source = { ...GATEWAY, apiVersion, kind, spec: { gatewayClassName: 'gloo-gateway-distribute' } };
    expect(copyOf(source).spec).toEqual({ gatewayClassName: 'gloo-gateway-distribute' });
  });

  it('builds a cluster-scoped copy without namespace and with the short URI', () => {
    const source: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'gloo-gateway', annotations: { 'gloo.solo.io/distribute-to': '*' } },
      spec: { controllerName: 'solo.io/gloo-gateway' },
    };
    expect(copyOf(source, { targetNamespace: undefined })).toStrictEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: {
        name: 'gloo-gateway',
        labels: {
          'app.kubernetes.io/managed-by': 'kuberelay-agent',
          'relay.solo.io/cluster': 'management-cluster',
        },
        annotations: {
          'gloo.solo.io/distributed-source': 'gloo://management-cluster/kind/GatewayClass/name/gloo-gateway',
        },
      },
      spec: { controllerName: 'solo.io/gloo-gateway' },
    });
  });

  it('copies other top-level fields and overrides a stale distributed-source', () => {
    const source: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'c',
        namespace: 'a',
        annotations: { 'gloo.solo.io/distributed-source': 'gloo://other/kind/X/name/y' },
      },
      data: { k: 'v' },
    };
    expect(copyOf(source, { targetNamespace: 'b' })).toStrictEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'c',
        namespace: 'b',
        labels: {
          'app.kubernetes.io/managed-by': 'kuberelay-agent',
          'relay.solo.io/cluster': 'management-cluster',
        },
        annotations: {
          'gloo.solo.io/distributed-source': 'gloo://management-cluster/ns/a/kind/ConfigMap/name/c',
        },
      },
      data: { k: 'v' },
    });
  });

  it('keeps a label named __proto__ as plain data', () => {
    const labels = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const copy = copyOf({ ...GATEWAY, metadata: { name: 'g', namespace: 'n', labels } });
    expect(Object.hasOwn(copy.metadata.labels ?? {}, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(copy.metadata.labels)).toBe(Object.prototype);
  });
});
