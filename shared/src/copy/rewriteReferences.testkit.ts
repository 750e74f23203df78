import { objectKey } from '../source/objectRef.js';
import { deepFreeze } from './immutable.js';
import type { KubeObject } from './kubeObject.js';
import type { Placement } from './rewriteReferences.js';

// The placement and copies of the rewriteReferences unit tests (not shipped: *.testkit.ts).

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
export const PLACEMENT: Placement = { landingNamespaces: (ref) => LANDING[objectKey(ref)] ?? [] };

export function httpRoute(spec: Record<string, unknown>): KubeObject {
  return deepFreeze({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'httpbin-mydomain', namespace: 'httpbin' },
    spec,
  });
}

export function policy(kind: string, spec: Record<string, unknown>): KubeObject {
  return deepFreeze({
    apiVersion: 'gateway.solo.io/v1',
    kind,
    metadata: { name: 'p', namespace: 'httpbin' },
    spec,
  });
}

export const UPSTREAM = { name: 'httpbin', kind: 'Upstream', group: 'gloo.solo.io' };
