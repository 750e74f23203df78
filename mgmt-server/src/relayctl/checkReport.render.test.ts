import { describe, expect, it } from 'vitest';
import { buildCheckReport, renderCheckReport } from './checkReport.js';
import { connected, disconnected, input, now, POD } from './checkReport.testkit.js';

// relayctl check's text output: meshctl-style sections and tables.

describe('renderCheckReport', () => {
  it('prints meshctl-style sections and tables', () => {
    const report = buildCheckReport(
      input({
        clusters: [
          { name: 'cluster-1', status: connected({ agentReplicas: 2 }) },
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
        'Cluster   | Registered | Connected Pod                        | Agent Replicas',
        `cluster-1 | true       | gloo-mesh/${POD} | 2`,
        'cluster-2 | true       | -                                    | -',
        '',
        'Connected Pod                        | Clusters',
        `gloo-mesh/${POD} | 1 (cluster-1)`,
        '  🔴 cluster-2: agent not connected (last heartbeat 5m ago); check the agent in that cluster and its credentials Secret',
        '',
        '🟢 Agents refused by the mgmt server',
        '  no agent was refused',
        '',
      ].join('\n'),
    );
  });

  it.each<[string, number | undefined, string]>([
    ['as the agent leader counted them', 3, '3'],
    ['unknown from an older server', undefined, '-'],
  ])('shows agent replicas %s', (_what, agentReplicas, shown) => {
    const status = connected(agentReplicas === undefined ? {} : { agentReplicas });
    const report = buildCheckReport(input({ clusters: [{ name: 'cluster-1', status }] }));
    expect(report.clusters[0]?.agentReplicas).toBe(agentReplicas ?? null);
    expect(renderCheckReport(report, { now })).toContain(
      `cluster-1 | true       | gloo-mesh/${POD} | ${shown}`,
    );
  });
});
