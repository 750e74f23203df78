import { describe, expect, it } from 'vitest';
import { deepFreeze } from './immutable.js';
import type { KubeObject } from './kubeObject.js';
import { rewriteReferences } from './rewriteReferences.js';
import { httpRoute, PLACEMENT, UPSTREAM } from './rewriteReferences.testkit.js';

// Local references (Gateway parameters, extensionRefs to RouteOptions): never rewritten, but a
// warning when the target does not land beside the copy.

describe('rewriteReferences', () => {
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
