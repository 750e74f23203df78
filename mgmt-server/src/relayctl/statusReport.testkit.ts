import {
  type CopyStatus,
  DEFAULT_KINDS,
  type KubeObject,
  type KubernetesClusterStatus,
} from '@kuberelay/shared';
import type { EventObject } from './kubeResources.js';
import { buildSourceStatuses, type StatusCluster } from './statusReport.js';

// Sources, cluster statuses and a statusOf() for the relayctl status unit tests: three clusters
// with applied, failed and conflicting copies, one not connected (not shipped: *.testkit.ts).

const kind = (name: string) => {
  const k = DEFAULT_KINDS.find((x) => x.kind === name);
  if (!k) throw new Error(name);
  return k;
};
export const UPSTREAM = kind('Upstream');
export const ROUTE = kind('HTTPRoute');
export const CLASS = kind('GatewayClass');

export function source(
  k: typeof UPSTREAM,
  name: string,
  distributeTo: string | undefined,
  namespace = 'gloo-mesh',
): KubeObject {
  return {
    apiVersion: `${k.group}/${k.version}`,
    kind: k.kind,
    metadata: {
      name,
      uid: `uid-${name}`,
      ...(k.namespaced ? { namespace } : {}),
      ...(distributeTo === undefined ? {} : { annotations: { 'gloo.solo.io/distribute-to': distributeTo } }),
    },
    spec: {},
  };
}
export const upstreamUri = (name: string, ns = 'gloo-mesh') =>
  `gloo://mgmt/ns/${ns}/kind/Upstream/name/${name}`;
export const copy = (
  key: string,
  outcome: CopyStatus['outcome'],
  extra: Partial<CopyStatus> = {},
): CopyStatus => ({
  key,
  outcome,
  ...extra,
});
export const cluster = (name: string, status: KubernetesClusterStatus | undefined): StatusCluster => ({
  name,
  status,
});

export const up = (name: string, ns: string) => `gloo.solo.io/Upstream/${ns}/${name}`;

const clusters: StatusCluster[] = [
  cluster('cluster-1', {
    connected: true,
    counts: { applied: 1, failed: 1, conflict: 0, pending: 0 },
    copies: [
      copy(up('failing', 'httpbin'), 'Failed', {
        source: upstreamUri('failing'),
        code: 'NamespaceNotFound',
        message: 'namespace httpbin not found',
      }),
      copy(up('web', 'httpbin'), 'Applied', { source: upstreamUri('web') }),
    ],
  }),
  cluster('cluster-2', {
    connected: true,
    counts: { applied: 0, failed: 0, conflict: 1, pending: 1 },
    copies: [
      copy(up('web', 'httpbin'), 'Conflict', {
        source: upstreamUri('web'),
        code: 'Conflict',
        message: 'Upstream httpbin/web exists and is not managed by the relay',
      }),
      copy(up('web', 'old-ns'), 'Applied', { source: upstreamUri('web') }),
    ],
  }),
  cluster('cluster-3', { connected: false, connectedPod: '' }),
];

export function statusOf(
  sources: KubeObject[],
  extra: { clusters?: StatusCluster[]; events?: EventObject[] } = {},
) {
  return buildSourceStatuses({
    sources: sources.map((object) => ({
      kind: DEFAULT_KINDS.find((k) => k.kind === object.kind) ?? UPSTREAM,
      object,
    })),
    clusters: extra.clusters ?? clusters,
    events: extra.events ?? [],
  });
}
