import type { KubernetesClusterStatus } from '@kuberelay/shared';
import { buildCheckReport, type CheckInput } from './checkReport.js';
import type { LeaseObject } from './kubeResources.js';
import { serverReplicas } from './serverLeases.js';

// The server Leases, cluster statuses and inputs of the relayctl check unit tests, with a compact
// summary of a report (not shipped: *.testkit.ts).

export const now = new Date('2026-01-01T00:10:00Z');
export const POD = 'kuberelay-mgmt-server-7d9f';

function lease(pod: string, renewTime: string, http?: string): LeaseObject {
  return {
    metadata: {
      name: `kuberelay-mgmt-server-${pod}`,
      annotations: {
        'kuberelay.dev/grpc-address': '10.0.0.7:9900',
        ...(http ? { 'kuberelay.dev/http-address': http } : {}),
      },
    },
    spec: { holderIdentity: pod, renewTime },
  };
}
export const freshLease = lease(POD, '2026-01-01T00:09:55.000000Z', '10.0.0.7:8080');
export const staleLease = lease('old-0', '2026-01-01T00:01:00.000000Z');

export const connected = (extra: Partial<KubernetesClusterStatus> = {}): KubernetesClusterStatus => ({
  connected: true,
  connectedPod: `gloo-mesh/${POD}`,
  agentVersion: '0.1.0',
  lastHeartbeat: '2026-01-01T00:09:40Z',
  conditions: [
    {
      type: 'UpToDate',
      status: 'True',
      reason: 'Acknowledged',
      message: 'the agent acknowledged the current desired state (ackedVersion)',
      lastTransitionTime: '2026-01-01T00:09:00Z',
    },
  ],
  ...extra,
});
export const disconnected: KubernetesClusterStatus = {
  connected: false,
  connectedPod: '',
  lastHeartbeat: '2026-01-01T00:05:00Z',
};

export function input(over: Partial<CheckInput> & { leases?: LeaseObject[] } = {}): CheckInput {
  const { leases = [freshLease], ...rest } = over;
  return {
    context: 'mgmt',
    namespace: 'gloo-mesh',
    now,
    namespaceExists: true,
    replicas: serverReplicas(leases, now),
    readyz: new Map(),
    clusters: [],
    rejected: [],
    ...rest,
  };
}

export const summary = (i: CheckInput) => {
  const r = buildCheckReport(i);
  return {
    ok: r.ok,
    sections: r.sections.map((s) => [s.id, s.health, s.findings.map((f) => `${f.health}: ${f.message}`)]),
  };
};
