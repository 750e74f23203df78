import { DEFAULT_CLASS_MAPPING } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import { DEFAULT_KINDS } from '../kinds/kindInfo.js';
import { computeDesiredState, type DesiredStateInput } from './computeDesiredState.js';
import type { DesiredState, ReportItem } from './desiredState.js';

// The sources and helpers of the computeDesiredState unit tests: the reference example, four
// registered clusters, compute() and compact views of a state (not shipped: *.testkit.ts).

export const CLUSTERS = ['qa', 'canary', 'prod-eu', 'prod-us'];

function annotated(annotations: Record<string, string>): { annotations: Record<string, string> } {
  return { annotations };
}

export function gateway(
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

export function upstream(name: string, namespace: string, distributeTo: string): KubeObject {
  return {
    apiVersion: 'gloo.solo.io/v1',
    kind: 'Upstream',
    metadata: { name, namespace, ...annotated({ 'gloo.solo.io/distribute-to': distributeTo }) },
    spec: { kube: { serviceName: name, serviceNamespace: 'httpbin', servicePort: 8000 } },
  };
}

export function route(
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
export const EXAMPLE = [
  gateway('distributed-gateway', 'gloo-mesh', '*/gloo-system'),
  upstream('httpbin', 'gloo-mesh', '*/httpbin'),
  route('httpbin-mydomain', 'gloo-mesh', '*/httpbin', {
    parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-mesh' }],
    rules: [{ backendRefs: [{ name: 'httpbin', kind: 'Upstream', group: 'gloo.solo.io' }] }],
  }),
];

export const GW_KEY = 'gateway.networking.k8s.io/Gateway/gloo-system/distributed-gateway';
export const ROUTE_KEY = 'gateway.networking.k8s.io/HTTPRoute/httpbin/httpbin-mydomain';
export const UPSTREAM_KEY = 'gloo.solo.io/Upstream/httpbin/httpbin';

export function compute(overrides: Partial<DesiredStateInput> = {}): DesiredState {
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
export function layout(state: DesiredState): Record<string, string[]> {
  return Object.fromEntries([...state.clusters].map(([cluster, copies]) => [cluster, [...copies.keys()]]));
}

export function reportsOf(state: DesiredState): Record<string, ReportItem[]> {
  return Object.fromEntries([...state.reports].map(([key, report]) => [key, [...report.items]]));
}
