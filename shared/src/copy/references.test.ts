import { describe, expect, it } from 'vitest';
import type { KubeObject } from './kubeObject.js';
import { findReferences, referencedSources } from './references.js';

const ROUTE: KubeObject = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'n' },
  spec: {
    parentRefs: [{ name: 'gw' }, { name: 'svc', kind: 'Service', group: '' }],
    rules: [
      {
        backendRefs: [
          { name: 'up', kind: 'Upstream', group: 'gloo.solo.io', namespace: '' },
          { name: 'plain' },
        ],
        filters: [
          {
            requestMirror: {
              backendRef: { name: 'mirror', kind: 'Upstream', group: 'gloo.solo.io', namespace: 'm' },
            },
          },
        ],
      },
    ],
  },
};

describe('findReferences', () => {
  it('finds every reference with Gateway API defaults', () => {
    expect(findReferences(ROUTE)).toEqual([
      {
        path: ['spec', 'parentRefs', 0],
        role: 'parent',
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: 'gw',
        namespace: undefined,
      },
      {
        path: ['spec', 'parentRefs', 1],
        role: 'parent',
        group: '',
        kind: 'Service',
        name: 'svc',
        namespace: undefined,
      },
      {
        path: ['spec', 'rules', 0, 'backendRefs', 0],
        role: 'backend',
        group: 'gloo.solo.io',
        kind: 'Upstream',
        name: 'up',
        namespace: undefined,
      },
      {
        path: ['spec', 'rules', 0, 'backendRefs', 1],
        role: 'backend',
        group: '',
        kind: 'Service',
        name: 'plain',
        namespace: undefined,
      },
      {
        path: ['spec', 'rules', 0, 'filters', 0, 'requestMirror', 'backendRef'],
        role: 'backend',
        group: 'gloo.solo.io',
        kind: 'Upstream',
        name: 'mirror',
        namespace: 'm',
      },
    ]);
  });

  it.each([
    {
      name: 'policy targetRefs without group',
      object: {
        apiVersion: 'gateway.solo.io/v1',
        kind: 'RouteOption',
        metadata: { name: 'p' },
        spec: { targetRefs: [{ kind: 'HTTPRoute', name: 'r' }] },
      },
      expected: [
        {
          path: ['spec', 'targetRefs', 0],
          role: 'target',
          group: '',
          kind: 'HTTPRoute',
          name: 'r',
          namespace: undefined,
        },
      ],
    },
    {
      name: 'GatewayClass parametersRef keeps its namespace',
      object: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'c' },
        spec: {
          parametersRef: {
            group: 'gateway.gloo.solo.io',
            kind: 'GatewayParameters',
            name: 'p',
            namespace: 'n',
          },
        },
      },
      expected: [
        {
          path: ['spec', 'parametersRef'],
          role: 'class-parameters',
          group: 'gateway.gloo.solo.io',
          kind: 'GatewayParameters',
          name: 'p',
          namespace: 'n',
        },
      ],
    },
    {
      name: 'Gateway infrastructure parametersRef is local (a stray namespace is ignored)',
      object: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'g', namespace: 'n' },
        spec: {
          infrastructure: {
            parametersRef: {
              group: 'gateway.gloo.solo.io',
              kind: 'GatewayParameters',
              name: 'p',
              namespace: 'x',
            },
          },
        },
      },
      expected: [
        {
          path: ['spec', 'infrastructure', 'parametersRef'],
          role: 'infrastructure-parameters',
          group: 'gateway.gloo.solo.io',
          kind: 'GatewayParameters',
          name: 'p',
          namespace: undefined,
        },
      ],
    },
    {
      name: 'HTTPRoute filter extensionRef',
      object: {
        ...ROUTE,
        spec: {
          rules: [
            { filters: [{ extensionRef: { group: 'gateway.solo.io', kind: 'RouteOption', name: 'o' } }] },
          ],
        },
      },
      expected: [
        {
          path: ['spec', 'rules', 0, 'filters', 0, 'extensionRef'],
          role: 'extension',
          group: 'gateway.solo.io',
          kind: 'RouteOption',
          name: 'o',
          namespace: undefined,
        },
      ],
    },
    { name: 'HTTPRoute of another group', object: { ...ROUTE, apiVersion: 'example.com/v1' }, expected: [] },
    {
      name: 'inherited property names are not fields',
      object: { ...ROUTE, spec: Object.create({ parentRefs: [{ name: 'x' }] }) },
      expected: [],
    },
  ])('$name', ({ object, expected }) => {
    expect(findReferences(object)).toEqual(expected);
  });
});

describe('referencedSources', () => {
  it('keeps references to distributable kinds and resolves implicit namespaces to the source namespace', () => {
    expect(referencedSources(ROUTE, { sourceNamespace: 'src' }).map((r) => r.target)).toEqual([
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'src', name: 'gw' },
      { group: 'gloo.solo.io', kind: 'Upstream', namespace: 'src', name: 'up' },
      { group: 'gloo.solo.io', kind: 'Upstream', namespace: 'm', name: 'mirror' },
    ]);
  });
});
