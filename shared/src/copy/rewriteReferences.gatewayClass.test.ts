import { describe, expect, it } from 'vitest';
import { deepFreeze } from './immutable.js';
import type { KubeObject } from './kubeObject.js';
import { rewriteReferences } from './rewriteReferences.js';
import { PLACEMENT } from './rewriteReferences.testkit.js';

// A cluster-scoped GatewayClass's parametersRef, rewritten to the one namespace its
// GatewayParameters lands in, or left with a warning.

describe('rewriteReferences', () => {
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
});
