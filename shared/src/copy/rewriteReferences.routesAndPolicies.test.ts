import { describe, expect, it } from 'vitest';
import { deepFreeze } from './immutable.js';
import { rewriteReferences } from './rewriteReferences.js';
import { httpRoute, PLACEMENT, policy, UPSTREAM } from './rewriteReferences.testkit.js';

// References of HTTPRoutes and policies rewritten to where their targets land: what changes, what
// is returned unchanged (and shared), and the warnings for unresolvable or ambiguous targets.

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
});
