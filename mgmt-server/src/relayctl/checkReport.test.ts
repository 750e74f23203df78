import { decodeRejectedAgents, type KubernetesClusterStatus } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { buildCheckReport, type CheckInput, renderCheckReport } from './checkReport.js';
import type { LeaseObject } from './kubeResources.js';
import { serverReplicas } from './serverLeases.js';

const now = new Date('2026-01-01T00:10:00Z');
const POD = 'kuberelay-mgmt-server-7d9f';

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
const freshLease = lease(POD, '2026-01-01T00:09:55.000000Z', '10.0.0.7:8080');
const staleLease = lease('old-0', '2026-01-01T00:01:00.000000Z');

const connected = (extra: Partial<KubernetesClusterStatus> = {}): KubernetesClusterStatus => ({
  connected: true,
  connectedPod: `gloo-mesh/${POD}`,
  agentVersion: '0.1.0',
  lastHeartbeat: '2026-01-01T00:09:40Z',
  conditions: [
    {
      type: 'UpToDate',
      status: 'True',
      reason: 'Acknowledged',
      message: 'the agent acknowledged version 12, the current desired state',
      lastTransitionTime: '2026-01-01T00:09:00Z',
    },
  ],
  ...extra,
});
const disconnected: KubernetesClusterStatus = {
  connected: false,
  connectedPod: '',
  lastHeartbeat: '2026-01-01T00:05:00Z',
};

const disconnectedBehind: KubernetesClusterStatus = {
  ...disconnected,
  conditions: [
    {
      type: 'UpToDate',
      status: 'False',
      reason: 'AgentDisconnected',
      message: 'the agent has not acknowledged the current desired state',
      lastTransitionTime: '2026-01-01T00:05:00Z',
    },
  ],
};

function input(over: Partial<CheckInput> & { leases?: LeaseObject[] } = {}): CheckInput {
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

const summary = (i: CheckInput) => {
  const r = buildCheckReport(i);
  return {
    ok: r.ok,
    sections: r.sections.map((s) => [s.id, s.health, s.findings.map((f) => `${f.health}: ${f.message}`)]),
  };
};

describe('buildCheckReport', () => {
  it.each([
    {
      name: 'no server Lease → server error, not ok',
      input: input({ leases: [] }),
      ok: false,
      server: [
        'error: no management server is running: no Lease kuberelay-mgmt-server-* in namespace gloo-mesh',
      ],
    },
    {
      name: 'only a stale Lease → server error',
      input: input({ leases: [staleLease] }),
      ok: false,
      server: [
        'error: no management server is running: no replica renewed its Lease in the last 30s',
        'error: replica old-0: Lease renewed 9m ago (stopped? a replica renews it every 10s)',
      ],
    },
    {
      name: 'namespace missing',
      input: input({ leases: [], namespaceExists: false }),
      ok: false,
      server: [
        'error: namespace gloo-mesh does not exist in context "mgmt": is the management server installed there? (-n selects its namespace)',
      ],
    },
    {
      name: 'fresh Lease next to a stale one',
      input: input({
        leases: [freshLease, staleLease],
        readyz: new Map([
          [
            freshLease.metadata.name,
            { url: 'http://10.0.0.7:8080/readyz', state: 'ready', detail: 'HTTP 200' } as const,
          ],
        ]),
      }),
      ok: true,
      server: [
        `ok: replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900; http://10.0.0.7:8080/readyz answers ready (HTTP 200)`,
        'warning: replica old-0: Lease renewed 9m ago (stopped? a replica renews it every 10s)',
      ],
    },
    {
      name: 'readyz not ready is a warning',
      input: input({
        leases: [freshLease],
        readyz: new Map([
          [
            freshLease.metadata.name,
            { url: 'http://x/readyz', state: 'not-ready', detail: 'HTTP 503' } as const,
          ],
        ]),
      }),
      ok: true,
      server: [
        `warning: replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900; http://x/readyz answers NOT ready (HTTP 503)`,
      ],
    },
    {
      name: 'readyz unreachable is an error: a crashed or frozen replica keeps a fresh Lease for 30 s',
      input: input({
        leases: [freshLease],
        readyz: new Map([
          [
            freshLease.metadata.name,
            { url: 'http://x/readyz', state: 'unreachable', detail: 'ECONNREFUSED' } as const,
          ],
        ]),
      }),
      ok: false,
      server: [
        `error: replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900; http://x/readyz does not answer (ECONNREFUSED): crashed or frozen? (if relayctl cannot reach the server's HTTP port from here, run it where it can, or pass --no-probe to trust the Lease alone)`,
      ],
    },
    {
      name: 'two processes renew one Lease (the same --pod-name twice)',
      input: input({
        leases: [
          {
            ...freshLease,
            metadata: {
              ...freshLease.metadata,
              annotations: { ...freshLease.metadata.annotations, 'kuberelay.dev/shared-with': `${POD}/b` },
            },
            spec: { ...freshLease.spec, holderIdentity: `${POD}/a` },
          },
        ],
      }),
      ok: false,
      server: [
        `error: replica ${POD}: two server processes renew its Lease (${POD}/a and ${POD}/b): each must run with its own --pod-name, or their statuses mix and one is invisible here`,
        `ok: replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900`,
      ],
    },
  ])('$name', ({ input: i, ok, server }) => {
    const s = summary(i);
    expect(s.ok).toBe(ok);
    expect(s.sections[0]?.[2]).toEqual(server);
  });

  it('hints at register when no cluster is registered, and stays ok', () => {
    const s = summary(input());
    expect(s.ok).toBe(true);
    expect(s.sections[1]).toEqual([
      'connectivity',
      'warning',
      [
        'warning: no workload clusters are registered; run relayctl register <cluster> --kubecontext mgmt --remote-context <workload-context>',
      ],
    ]);
  });

  it.each([
    {
      name: 'all connected',
      clusters: [
        { name: 'cluster-2', status: connected() },
        { name: 'cluster-1', status: connected() },
      ],
      ok: true,
      health: 'ok',
      findings: [],
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: ['cluster-1', 'cluster-2'] }],
    },
    {
      name: 'one not connected, one never connected',
      clusters: [
        { name: 'cluster-1', status: connected() },
        { name: 'cluster-2', status: disconnectedBehind },
        { name: 'new', status: undefined },
      ],
      ok: false,
      health: 'error',
      findings: [
        'error: cluster-2: agent not connected (last heartbeat 5m ago); check the agent in that cluster and its credentials Secret',
        'error: new: agent not connected (it never connected); check the agent in that cluster and its credentials Secret',
      ],
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: ['cluster-1'] }],
    },
    {
      name: 'connected to a replica whose Lease is stale',
      clusters: [{ name: 'cluster-1', status: connected({ connectedPod: 'gloo-mesh/old-0' }) }],
      leases: [freshLease, staleLease],
      ok: false,
      health: 'error',
      findings: [
        'error: cluster-1: not connected: its status says connected to gloo-mesh/old-0, but that server replica is not running (no fresh Lease); the agent should reconnect to another replica',
      ],
      pods: [],
    },
    {
      name: 'behind on acknowledgements, with failures',
      clusters: [
        {
          name: 'cluster-1',
          status: connected({
            sentVersion: '12',
            ackedVersion: '11',
            counts: { applied: 3, failed: 2, conflict: 1, pending: 0 },
            lastRejectedAttempt: { version: '12', message: 'digest mismatch', time: '2026-01-01T00:09:00Z' },
            conditions: [
              {
                type: 'UpToDate',
                status: 'False',
                reason: 'Nacked',
                message: 'the agent rejected version 12',
                lastTransitionTime: '2026-01-01T00:09:00Z',
              },
            ],
          }),
        },
      ],
      ok: false,
      health: 'error',
      findings: [
        'error: cluster-1: behind: the agent has not acknowledged the current desired state (sent 12, acknowledged 11): the agent rejected version 12; last rejected version 12: digest mismatch',
        'warning: cluster-1: 2 copies failed, 1 in conflict (relayctl status shows which)',
      ],
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: ['cluster-1'] }],
    },
    {
      name: 'status written by an earlier process of the same pod (server restarted, agent not back)',
      clusters: [{ name: 'cluster-1', status: connected({ serverInstance: `${POD}/old` }) }],
      leases: [{ ...freshLease, spec: { ...freshLease.spec, holderIdentity: `${POD}/new` } }],
      ok: false,
      health: 'error',
      findings: [
        `error: cluster-1: not connected: its status was written by server process ${POD}/old, which is gone (${POD} now runs ${POD}/new), and the agent has not reconnected since`,
      ],
      pods: [],
    },
    {
      name: 'the same process still holds the Lease',
      clusters: [{ name: 'cluster-1', status: connected({ serverInstance: `${POD}/new` }) }],
      leases: [{ ...freshLease, spec: { ...freshLease.spec, holderIdentity: `${POD}/new` } }],
      ok: true,
      health: 'ok',
      findings: [],
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: ['cluster-1'] }],
    },
    {
      name: 'a heartbeat the holder stopped refreshing',
      clusters: [{ name: 'cluster-1', status: connected({ lastHeartbeat: '2026-01-01T00:08:59Z' }) }],
      ok: false,
      health: 'error',
      findings: [
        'error: cluster-1: not connected: its last heartbeat in status is 61s old (refreshed every 30s while connected): the server holding it is stuck',
      ],
      pods: [],
    },
    {
      name: 'a connected agent with no UpToDate condition yet is behind',
      clusters: [{ name: 'cluster-1', status: connected({ conditions: [] }) }],
      ok: false,
      health: 'error',
      findings: [
        'error: cluster-1: behind: the agent has not acknowledged the current desired state (sent -, acknowledged -)',
      ],
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: ['cluster-1'] }],
    },
    {
      name: 'a copy of a deleted source the agent could not delete',
      clusters: [
        {
          name: 'cluster-1',
          status: connected({
            counts: { applied: 3, failed: 0, conflict: 0, pending: 0, warnings: 0, notPruned: 1 },
          }),
        },
      ],
      ok: false,
      health: 'error',
      findings: [
        'error: cluster-1: 1 copy whose source is gone could not be deleted (the agent retries); relayctl status lists them under "Orphaned copies"',
      ],
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: ['cluster-1'] }],
    },
    {
      name: 'applied with warnings (an older workload schema)',
      clusters: [
        {
          name: 'cluster-1',
          status: connected({ counts: { applied: 3, failed: 0, conflict: 0, pending: 0, warnings: 2 } }),
        },
      ],
      ok: true,
      health: 'warning',
      findings: [
        'warning: cluster-1: 2 applied copies differ from the source where the workload cluster dropped or changed fields (an older CRD?); relayctl status names them',
      ],
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: ['cluster-1'] }],
    },
  ])('$name', ({ clusters, leases, ok, health, findings, pods }) => {
    const report = buildCheckReport(input({ clusters, ...(leases ? { leases } : {}) }));
    expect(report.ok).toBe(ok);
    expect(report.sections[1]?.health).toBe(health);
    expect(report.sections[1]?.findings.map((f) => `${f.health}: ${f.message}`)).toEqual(findings);
    expect(report.connectedPods).toEqual(pods);
    expect(report.clusters.map((c) => c.name)).toEqual([...clusters.map((c) => c.name)].sort());
  });

  it('lists refused agents as warnings without failing the check', () => {
    const report = buildCheckReport(
      input({
        clusters: [{ name: 'cluster-1', status: connected() }],
        rejected: decodeRejectedAgents({
          'cluster-9': JSON.stringify({
            lastAttempt: '2026-01-01T00:08:00Z',
            reason: 'cluster cluster-9 is not registered',
            code: 'PERMISSION_DENIED',
            peer: '10.1.2.3:5555',
            count: 4,
          }),
          'cluster-1': '{not json',
        }),
      }),
    );
    expect(report.ok).toBe(true);
    expect(report.rejectedAgents).toEqual([
      {
        cluster: 'cluster-1',
        registered: true,
        lastAttempt: null,
        reason: 'not valid JSON',
        code: null,
        peer: null,
        count: null,
      },
      {
        cluster: 'cluster-9',
        registered: false,
        lastAttempt: '2026-01-01T00:08:00Z',
        reason: 'cluster cluster-9 is not registered',
        code: 'PERMISSION_DENIED',
        peer: '10.1.2.3:5555',
        count: 4,
      },
    ]);
    expect(report.sections[2]?.findings.map((f) => f.message)).toEqual([
      'agent claiming "cluster-1": unreadable record (not valid JSON)',
      'agent claiming "cluster-9" (not registered) was refused 4 time(s), last from 10.1.2.3:5555: PERMISSION_DENIED: cluster cluster-9 is not registered; if it should connect, run relayctl register cluster-9',
    ]);
  });
});

describe('renderCheckReport', () => {
  it('prints meshctl-style sections and tables', () => {
    const report = buildCheckReport(
      input({
        clusters: [
          { name: 'cluster-1', status: connected() },
          { name: 'cluster-2', status: disconnected },
        ],
      }),
    );
    expect(renderCheckReport(report, { now })).toBe(
      [
        '🟢 Mgmt server',
        `  🟢 replica ${POD}: running (Lease renewed 5s ago); gRPC 10.0.0.7:9900`,
        '',
        '🔴 Mgmt server connectivity to workload agents',
        'Cluster   | Registered | Connected Pod',
        `cluster-1 | true       | gloo-mesh/${POD}`,
        'cluster-2 | true       | -',
        '',
        'Connected Pod                        | Clusters',
        `gloo-mesh/${POD} | 1`,
        '  🔴 cluster-2: agent not connected (last heartbeat 5m ago); check the agent in that cluster and its credentials Secret',
        '',
        '🟢 Agents refused by the mgmt server',
        '  no agent was refused',
        '',
      ].join('\n'),
    );
  });
});
