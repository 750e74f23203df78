import { describe, expect, it } from 'vitest';
import { objectKey } from '../source/objectRef.js';
import { deepFreeze } from './immutable.js';
import type { KubeObject } from './kubeObject.js';
import { type Placement, rewriteReferences } from './rewriteReferences.js';

/** Placement of the reference example in one workload cluster: the Gateway lands in
 * gloo-system, the Upstream and the HTTPRoute in httpbin, a "multi" Gateway in two namespaces. */
const LANDING: Readonly<Record<string, readonly string[]>> = {
  'gateway.networking.k8s.io/Gateway/gloo-mesh/distributed-gateway': ['gloo-system'],
  'gateway.networking.k8s.io/Gateway/httpbin/local-gateway': ['httpbin'],
  'gateway.networking.k8s.io/Gateway/gloo-mesh/multi': ['a', 'b'],
  'gloo.solo.io/Upstream/gloo-mesh/httpbin': ['httpbin'],
  'gloo.solo.io/Upstream/gloo-mesh/moved': ['elsewhere'],
  'gateway.networking.k8s.io/HTTPRoute/gloo-mesh/httpbin-mydomain': ['httpbin'],
  'gateway.gloo.solo.io/GatewayParameters/gloo-mesh/params': ['gloo-system'],
  'gateway.gloo.solo.io/GatewayParameters/gloo-mesh/everywhere': ['gloo-system', 'httpbin'],
  'gateway.gloo.solo.io/GatewayParameters/gloo-mesh/twice': ['a', 'b'],
  'gateway.solo.io/RouteOption/gloo-mesh/beside': ['httpbin'],
  'gateway.solo.io/RouteOption/gloo-mesh/apart': ['gloo-system'],
};
const PLACEMENT: Placement = { landingNamespaces: (ref) => LANDING[objectKey(ref)] ?? [] };

function httpRoute(spec: Record<string, unknown>): KubeObject {
  return deepFreeze({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'httpbin-mydomain', namespace: 'httpbin' },
    spec,
  });
}

function policy(kind: string, spec: Record<string, unknown>): KubeObject {
  return deepFreeze({
    apiVersion: 'gateway.solo.io/v1',
    kind,
    metadata: { name: 'p', namespace: 'httpbin' },
    spec,
  });
}

const UPSTREAM = { name: 'httpbin', kind: 'Upstream', group: 'gloo.solo.io' };

describe('rewriteReferences', () => {
  it.each([
    {
      name: 'the reference example: explicit parent namespace rewritten, implicit backend already right',
      copy: httpRoute({
        parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-mesh' }],
        rules: [{ backendRefs: [UPSTREAM] }],
      }),
      spec: {
        parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-system' }],
        rules: [{ backendRefs: [UPSTREAM] }],
      },
    },
    {
      name: 'implicit namespace made explicit when it changes',
      copy: httpRoute({ parentRefs: [{ name: 'distributed-gateway' }] }),
      spec: { parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-system' }] },
    },
    {
      name: 'explicit group and kind are honoured',
      copy: httpRoute({
        parentRefs: [
          {
            group: 'gateway.networking.k8s.io',
            kind: 'Gateway',
            name: 'distributed-gateway',
            sectionName: 'http',
          },
        ],
      }),
      spec: {
        parentRefs: [
          {
            group: 'gateway.networking.k8s.io',
            kind: 'Gateway',
            name: 'distributed-gateway',
            sectionName: 'http',
            namespace: 'gloo-system',
          },
        ],
      },
    },
    {
      name: 'backend whose Upstream lands elsewhere',
      copy: httpRoute({ rules: [{ backendRefs: [UPSTREAM, { ...UPSTREAM, name: 'moved', weight: 1 }] }] }),
      spec: {
        rules: [
          { backendRefs: [UPSTREAM, { ...UPSTREAM, name: 'moved', weight: 1, namespace: 'elsewhere' }] },
        ],
      },
    },
    {
      name: 'request mirror backends',
      copy: httpRoute({
        rules: [
          {
            filters: [
              { type: 'RequestMirror', requestMirror: { backendRef: { ...UPSTREAM, name: 'moved' } } },
            ],
          },
        ],
      }),
      spec: {
        rules: [
          {
            filters: [
              {
                type: 'RequestMirror',
                requestMirror: { backendRef: { ...UPSTREAM, name: 'moved', namespace: 'elsewhere' } },
              },
            ],
          },
        ],
      },
    },
  ])('HTTPRoute: $name', ({ copy, spec }) => {
    const result = rewriteReferences(copy, { sourceNamespace: 'gloo-mesh', placement: PLACEMENT });
    expect(result.warnings).toEqual([]);
    expect(result.object).toStrictEqual({ ...copy, spec });
  });

  it.each([
    {
      kind: 'RouteOption',
      field: 'targetRefs',
      ref: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'httpbin-mydomain' }],
      expected: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'httpbin-mydomain' }],
    },
    {
      kind: 'VirtualHostOption',
      field: 'targetRefs',
      ref: [
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: 'distributed-gateway',
          namespace: 'gloo-mesh',
          sectionName: 'http',
        },
      ],
      expected: [
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: 'distributed-gateway',
          namespace: 'gloo-system',
          sectionName: 'http',
        },
      ],
    },
    {
      kind: 'ListenerOption',
      field: 'targetRefs',
      ref: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'distributed-gateway' }],
      expected: [
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: 'distributed-gateway',
          namespace: 'gloo-system',
        },
      ],
    },
    {
      kind: 'HttpListenerOption',
      field: 'targetRef',
      ref: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'distributed-gateway' },
      expected: {
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: 'distributed-gateway',
        namespace: 'gloo-system',
      },
    },
  ])('$kind $field', ({ kind, field, ref, expected }) => {
    const copy = policy(kind, { [field]: ref, options: { x: 1 } });
    const result = rewriteReferences(copy, { sourceNamespace: 'gloo-mesh', placement: PLACEMENT });
    expect(result.warnings).toEqual([]);
    expect(result.object.spec).toStrictEqual({ [field]: expected, options: { x: 1 } });
  });

  it.each([
    {
      name: 'already explicit and right',
      copy: httpRoute({ parentRefs: [{ name: 'local-gateway', namespace: 'httpbin' }] }),
      sourceNamespace: 'gloo-mesh',
    },
    {
      name: 'implicit and right',
      copy: httpRoute({ parentRefs: [{ name: 'local-gateway' }] }),
      sourceNamespace: 'httpbin',
    },
    {
      name: 'parentRef to a Service (mesh)',
      copy: httpRoute({ parentRefs: [{ group: '', kind: 'Service', name: 'svc' }] }),
      sourceNamespace: 'gloo-mesh',
    },
    {
      name: 'policy targeting another kind',
      copy: policy('ListenerOption', {
        targetRefs: [{ group: 'gateway.networking.x-k8s.io', kind: 'ListenerSet', name: 'l' }],
      }),
      sourceNamespace: 'gloo-mesh',
    },
    {
      name: 'policy target without kind',
      copy: policy('RouteOption', { targetRefs: [{ name: 'httpbin-mydomain' }] }),
      sourceNamespace: 'gloo-mesh',
    },
    {
      name: 'malformed refs',
      copy: httpRoute({ parentRefs: 'x', rules: [null, { backendRefs: [{ kind: 'Upstream' }] }] }),
      sourceNamespace: 'gloo-mesh',
    },
    {
      name: 'a kind without references',
      copy: deepFreeze({
        apiVersion: 'gloo.solo.io/v1',
        kind: 'Upstream',
        metadata: { name: 'u', namespace: 'httpbin' },
        spec: { parentRefs: [{ name: 'distributed-gateway' }] },
      }),
      sourceNamespace: 'gloo-mesh',
    },
  ])('returns the same object when nothing changes: $name', ({ copy, sourceNamespace }) => {
    const result = rewriteReferences(copy, { sourceNamespace, placement: PLACEMENT });
    expect(result.object).toBe(copy);
    expect(result.warnings).toEqual([]);
  });

  it('shares every subtree that did not change', () => {
    const copy = httpRoute({
      parentRefs: [{ name: 'distributed-gateway' }, { name: 'local-gateway', namespace: 'httpbin' }],
      rules: [{ backendRefs: [UPSTREAM] }],
    });
    const { object } = rewriteReferences(copy, { sourceNamespace: 'gloo-mesh', placement: PLACEMENT });
    const before = copy.spec as { parentRefs: unknown[]; rules: unknown };
    const after = object.spec as { parentRefs: unknown[]; rules: unknown };
    expect(object.metadata).toBe(copy.metadata);
    expect(after.rules).toBe(before.rules);
    expect(after.parentRefs[1]).toBe(before.parentRefs[1]);
    expect(after.parentRefs[0]).toEqual({ name: 'distributed-gateway', namespace: 'gloo-system' });
    expect(before.parentRefs[0]).toEqual({ name: 'distributed-gateway' });
    expect(Object.isFrozen(after.parentRefs[0])).toBe(true);
  });

  it.each([
    {
      name: 'not distributed here',
      ref: { name: 'missing', namespace: 'gloo-mesh' },
      code: 'UnresolvedReference',
      message:
        'spec.parentRefs[0] refers to Gateway.gateway.networking.k8s.io gloo-mesh/missing, which is not distributed to this cluster; the reference is left as it is',
      reference: 'gateway.networking.k8s.io/Gateway/gloo-mesh/missing',
    },
    {
      name: 'lands in several namespaces',
      ref: { name: 'multi' },
      code: 'AmbiguousReference',
      message:
        'spec.parentRefs[0] refers to Gateway.gateway.networking.k8s.io gloo-mesh/multi, which lands in several namespaces of this cluster (a, b); the reference is left as it is',
      reference: 'gateway.networking.k8s.io/Gateway/gloo-mesh/multi',
    },
  ])('warns and leaves the reference when it $name', ({ ref, code, message, reference }) => {
    const copy = httpRoute({ parentRefs: [ref] });
    const result = rewriteReferences(copy, { sourceNamespace: 'gloo-mesh', placement: PLACEMENT });
    expect(result.object).toBe(copy);
    expect(result.warnings.map((w) => [w.code, w.message, w.details])).toEqual([
      [code, message, { path: 'spec.parentRefs[0]', reference }],
    ]);
  });

  it('rewrites the resolvable references and warns about the others', () => {
    const copy = httpRoute({
      parentRefs: [{ name: 'multi' }, { name: 'distributed-gateway' }],
      rules: [{ backendRefs: [{ ...UPSTREAM, name: 'nope' }] }],
    });
    const result = rewriteReferences(copy, { sourceNamespace: 'gloo-mesh', placement: PLACEMENT });
    expect(result.object.spec).toStrictEqual({
      parentRefs: [{ name: 'multi' }, { name: 'distributed-gateway', namespace: 'gloo-system' }],
      rules: [{ backendRefs: [{ ...UPSTREAM, name: 'nope' }] }],
    });
    expect(result.warnings.map((w) => [w.code, w.details.path])).toEqual([
      ['AmbiguousReference', 'spec.parentRefs[0]'],
      ['UnresolvedReference', 'spec.rules[0].backendRefs[0]'],
    ]);
  });

  describe('GatewayClass parametersRef', () => {
    const PARAMS = { group: 'gateway.gloo.solo.io', kind: 'GatewayParameters' };
    const gatewayClass = (parametersRef: Record<string, unknown>): KubeObject =>
      deepFreeze({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'gloo-gateway-distribute' },
        spec: { controllerName: 'solo.io/gloo-gateway', parametersRef },
      });

    it.each([
      {
        name: 'rewritten to the one namespace its GatewayParameters lands in',
        ref: { ...PARAMS, name: 'params', namespace: 'gloo-mesh' },
        expected: { ...PARAMS, name: 'params', namespace: 'gloo-system' },
        warnings: [],
      },
      {
        name: 'left as it is with a warning when the GatewayParameters is not distributed here',
        ref: { ...PARAMS, name: 'missing', namespace: 'gloo-mesh' },
        expected: { ...PARAMS, name: 'missing', namespace: 'gloo-mesh' },
        warnings: [
          [
            'UnresolvedReference',
            'spec.parametersRef refers to GatewayParameters.gateway.gloo.solo.io gloo-mesh/missing, which is not distributed to this cluster; the reference is left as it is',
          ],
        ],
      },
      {
        name: 'left as it is with a warning when it lands in several namespaces',
        ref: { ...PARAMS, name: 'twice', namespace: 'gloo-mesh' },
        expected: { ...PARAMS, name: 'twice', namespace: 'gloo-mesh' },
        warnings: [
          [
            'AmbiguousReference',
            'spec.parametersRef refers to GatewayParameters.gateway.gloo.solo.io gloo-mesh/twice, which lands in several namespaces of this cluster (a, b); the reference is left as it is',
          ],
        ],
      },
      {
        name: 'a ConfigMap is not a distributed kind: left alone silently',
        ref: { group: '', kind: 'ConfigMap', name: 'params', namespace: 'gloo-mesh' },
        expected: { group: '', kind: 'ConfigMap', name: 'params', namespace: 'gloo-mesh' },
        warnings: [],
      },
    ])('$name', ({ ref, expected, warnings }) => {
      const copy = gatewayClass(ref);
      const result = rewriteReferences(copy, { sourceNamespace: undefined, placement: PLACEMENT });
      expect(result.object.spec).toStrictEqual({
        controllerName: 'solo.io/gloo-gateway',
        parametersRef: expected,
      });
      expect(result.warnings.map((w) => [w.code, w.message])).toEqual(warnings);
    });
  });

  describe('local references (checked, never rewritten)', () => {
    const gateway = (namespace: string, parametersRef: Record<string, unknown>): KubeObject =>
      deepFreeze({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'gw', namespace },
        spec: { gatewayClassName: 'gloo-gateway', infrastructure: { parametersRef } },
      });
    const PARAMS = { group: 'gateway.gloo.solo.io', kind: 'GatewayParameters' };
    const ROUTE_OPTION = { group: 'gateway.solo.io', kind: 'RouteOption' };

    it.each([
      {
        name: 'Gateway parameters beside the copy',
        copy: gateway('gloo-system', { ...PARAMS, name: 'params' }),
        warnings: [],
      },
      {
        name: 'Gateway parameters that also land elsewhere',
        copy: gateway('httpbin', { ...PARAMS, name: 'everywhere' }),
        warnings: [],
      },
      {
        name: 'Gateway parameters landing in another namespace',
        copy: gateway('httpbin', { ...PARAMS, name: 'params' }),
        warnings: [
          [
            'spec.infrastructure.parametersRef',
            "spec.infrastructure.parametersRef is a local reference to GatewayParameters.gateway.gloo.solo.io params in the copy's namespace httpbin, whose copies land in gloo-system, not beside it; distribute GatewayParameters.gateway.gloo.solo.io params to the same clusters and namespace",
          ],
        ],
      },
      {
        name: 'Gateway parameters not distributed here',
        copy: gateway('gloo-system', { ...PARAMS, name: 'missing' }),
        warnings: [
          [
            'spec.infrastructure.parametersRef',
            "spec.infrastructure.parametersRef is a local reference to GatewayParameters.gateway.gloo.solo.io missing in the copy's namespace gloo-system, which is not distributed to this cluster; distribute GatewayParameters.gateway.gloo.solo.io missing to the same clusters and namespace",
          ],
        ],
      },
      {
        name: 'HTTPRoute extensionRef to a RouteOption beside the copy',
        copy: httpRoute({
          rules: [{ filters: [{ type: 'ExtensionRef', extensionRef: { ...ROUTE_OPTION, name: 'beside' } }] }],
        }),
        warnings: [],
      },
      {
        name: 'HTTPRoute extensionRef to a RouteOption landing elsewhere',
        copy: httpRoute({
          rules: [{ filters: [{ type: 'ExtensionRef', extensionRef: { ...ROUTE_OPTION, name: 'apart' } }] }],
        }),
        warnings: [
          [
            'spec.rules[0].filters[0].extensionRef',
            "spec.rules[0].filters[0].extensionRef is a local reference to RouteOption.gateway.solo.io apart in the copy's namespace httpbin, whose copies land in gloo-system, not beside it; distribute RouteOption.gateway.solo.io apart to the same clusters and namespace",
          ],
        ],
      },
      {
        name: 'backend filter extensionRef to a RouteOption not distributed here',
        copy: httpRoute({
          rules: [
            {
              backendRefs: [
                {
                  ...UPSTREAM,
                  filters: [{ type: 'ExtensionRef', extensionRef: { ...ROUTE_OPTION, name: 'nope' } }],
                },
              ],
            },
          ],
        }),
        warnings: [
          [
            'spec.rules[0].backendRefs[0].filters[0].extensionRef',
            "spec.rules[0].backendRefs[0].filters[0].extensionRef is a local reference to RouteOption.gateway.solo.io nope in the copy's namespace httpbin, which is not distributed to this cluster; distribute RouteOption.gateway.solo.io nope to the same clusters and namespace",
          ],
        ],
      },
      {
        name: 'extensionRef to another kind is not about distributed objects',
        copy: httpRoute({
          rules: [
            {
              filters: [{ type: 'ExtensionRef', extensionRef: { group: 'x.io', kind: 'Other', name: 'o' } }],
            },
          ],
        }),
        warnings: [],
      },
    ])('$name', ({ copy, warnings }) => {
      const result = rewriteReferences(copy, { sourceNamespace: 'gloo-mesh', placement: PLACEMENT });
      expect(result.object).toBe(copy);
      expect(result.warnings.map((w) => [w.details.path, w.message])).toEqual(warnings);
      expect(result.warnings.every((w) => w.code === 'UnresolvedReference')).toBe(true);
    });
  });
});
