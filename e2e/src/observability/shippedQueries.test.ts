import { describe, expect, it } from 'vitest';
import { missingMetrics } from './metricsCoverage.js';
import {
  dashboardQueries,
  parseQuery,
  RULE_FILES,
  ruleQueries,
  type ShippedQuery,
} from './shippedQueries.js';

// Every query the chart ships parses as PromQL, reads only Kuberelay's and Node's metrics, and
// every alert's annotations name only labels its expression keeps. That the metrics exist on a
// running server and agent, with those labels: chartProcesses.test.ts.

const all: ShippedQuery[] = [
  ...dashboardQueries(),
  ...ruleQueries(RULE_FILES['mgmt-server']),
  ...ruleQueries(RULE_FILES.agent),
];

describe('the PromQL the chart ships', () => {
  it('is there: a dashboard with panels and alerts for both parts', () => {
    expect(dashboardQueries().length).toBeGreaterThan(20);
    expect(ruleQueries(RULE_FILES['mgmt-server']).length).toBeGreaterThan(5);
    expect(ruleQueries(RULE_FILES.agent).length).toBeGreaterThan(3);
  });

  it.each(all.map((q) => [q.where, q] as const))('%s parses and reads our metrics', (_, query) => {
    const parsed = parseQuery(query.expr);
    expect(parsed.errors).toEqual([]);
    expect(parsed.uses.length).toBeGreaterThan(0);
    for (const use of parsed.uses) {
      expect(use.metric).toMatch(/^(kuberelay_(mgmt|agent)_|nodejs_|process_)/);
    }
  });

  it.each(all.filter((q) => q.annotationLabels !== undefined).map((q) => [q.where, q] as const))(
    '%s: its annotations name only labels its result keeps',
    (_, query) => {
      const { resultLabels } = parseQuery(query.expr);
      for (const label of query.annotationLabels ?? []) {
        if (resultLabels !== 'all') expect([...resultLabels], `{{ $labels.${label} }}`).toContain(label);
      }
    },
  );

  it('finds what a wrong query gets wrong', () => {
    expect(parseQuery('sum by (cluster (kuberelay_mgmt_ready)').errors).not.toEqual([]);
    expect(parseQuery('max by (cluster) (kuberelay_mgmt_cluster_copies{outcome="Failed"})')).toMatchObject({
      uses: [{ metric: 'kuberelay_mgmt_cluster_copies', labels: ['cluster', 'outcome'] }],
      resultLabels: new Set(['cluster']),
    });
  });
});

describe('missingMetrics', () => {
  const exposition = [
    '# HELP kuberelay_mgmt_cluster_copies x',
    'kuberelay_mgmt_cluster_copies{cluster="a",outcome="Applied"} 3',
    'kuberelay_mgmt_edit_to_ack_seconds_bucket{le="0.1"} 1',
    '',
  ].join('\n');
  const query = (expr: string) => ({ where: 'q', expr });

  it('passes what the exposition has, target labels included', () => {
    expect(
      missingMetrics(
        [
          query('sum by (pod, outcome) (kuberelay_mgmt_cluster_copies{cluster=~".*"})'),
          query('histogram_quantile(0.9, sum by (le) (rate(kuberelay_mgmt_edit_to_ack_seconds_bucket[5m])))'),
        ],
        [exposition],
      ),
    ).toEqual([]);
  });

  it('names a series or a label the exposition lacks', () => {
    expect(
      missingMetrics(
        [query('max by (reason) (kuberelay_mgmt_cluster_copies)'), query('kuberelay_mgmt_nacks_total')],
        [exposition],
      ),
    ).toEqual([
      'q: kuberelay_mgmt_cluster_copies has no label reason (it has cluster, outcome)',
      'q: no kuberelay_mgmt_nacks_total in /metrics',
    ]);
  });
});
