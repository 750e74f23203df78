import { decodeRejectedAgents, type KubernetesClusterStatus } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { buildCheckReport } from './checkReport.js';
import {
  connected,
  disconnected,
  freshLease,
  input,
  POD,
  staleLease,
  summary,
} from './checkReport.testkit.js';

// relayctl check's agent sections: the registered clusters' agents (none registered, connected,
// behind, stale status, copies failed or not pruned) and the agents the server refused.

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

describe('buildCheckReport', () => {
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
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: [] }],
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
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: [] }],
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
      pods: [{ pod: `gloo-mesh/${POD}`, clusters: [] }],
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
