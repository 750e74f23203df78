import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART_ARGS } from '../deploy/chartValues.js';
import { pick, renderChart } from '../deploy/helm.js';
import { DASHBOARD_FILE, RULE_FILES } from './shippedQueries.js';

// What the chart makes of its monitoring files: each release gets the alerts of the parts it
// installs (a workload cluster's Prometheus must not alert that no management server is ready),
// the dashboard exactly as shipped, and a ServiceMonitor per part. That the objects meet the
// prometheus-operator's schemas: chart.test.ts (strict dry run against its real CRDs).

const { server: SERVER, agent: AGENT, monitoring: MONITORING } = CHART_ARGS;

const groupsOf = (file: string) => (parse(readFileSync(file, 'utf8')) as { groups: unknown[] }).groups;

async function monitoring(args: readonly string[]) {
  const objects = await renderChart({ namespace: 'gloo-mesh', args: [...args, ...MONITORING] });
  const rule = pick<{ spec: { groups: unknown[] } }>(objects, 'PrometheusRule', 'kuberelay');
  const dashboard = pick<{ data: Record<string, string> }>(
    objects,
    'ConfigMap',
    'kuberelay-grafana-dashboard',
  );
  return {
    groups: rule.spec.groups,
    dashboard: JSON.parse(dashboard.data['kuberelay.json'] ?? 'null') as unknown,
    dashboardLabels: dashboard.metadata.labels,
    serviceMonitors: objects.filter((o) => o.kind === 'ServiceMonitor').map((o) => o.metadata.name),
  };
}

describe("the chart's monitoring objects", () => {
  it("give the management cluster the server's alerts, the dashboard and its ServiceMonitor", async () => {
    const m = await monitoring(SERVER);
    expect(m.groups).toEqual(groupsOf(RULE_FILES['mgmt-server']));
    expect(m.dashboard).toEqual(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
    // The label Grafana's dashboard sidecar looks for, by default.
    expect(m.dashboardLabels).toMatchObject({ grafana_dashboard: '1' });
    expect(m.serviceMonitors).toEqual(['kuberelay-mgmt-server']);
  });

  it("give a workload cluster only the agent's alerts", async () => {
    const m = await monitoring(AGENT);
    expect(m.groups).toEqual(groupsOf(RULE_FILES.agent));
    expect(m.serviceMonitors).toEqual(['kuberelay-agent']);
  });

  it('give a cluster that is its own workload both', async () => {
    const m = await monitoring([...SERVER, ...AGENT]);
    expect(m.groups).toEqual([...groupsOf(RULE_FILES['mgmt-server']), ...groupsOf(RULE_FILES.agent)]);
    expect(m.serviceMonitors).toEqual(['kuberelay-mgmt-server', 'kuberelay-agent']);
  });
});
