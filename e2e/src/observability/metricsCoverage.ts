import { parseExposition } from '../support/exposition.js';
import { parseQuery, type ShippedQuery } from './shippedQueries.js';

/**
 * Labels a series gets from Prometheus rather than from /metrics: the target labels the
 * prometheus-operator sets for a ServiceMonitor endpoint.
 */
export const TARGET_LABELS: readonly string[] = [
  'job',
  'instance',
  'pod',
  'namespace',
  'service',
  'endpoint',
  'container',
];

/**
 * What the shipped queries read that the scraped /metrics texts do not have: a series name no
 * text has a sample of, or a label none of that name's samples carry (target labels aside). One
 * line per problem; none when every panel and alert has data to work on.
 */
export function missingMetrics(queries: readonly ShippedQuery[], expositions: readonly string[]): string[] {
  const labelsByName = new Map<string, Set<string>>();
  for (const text of expositions) {
    for (const sample of parseExposition(text)) {
      const labels = labelsByName.get(sample.name) ?? new Set<string>();
      for (const label of Object.keys(sample.labels)) labels.add(label);
      labelsByName.set(sample.name, labels);
    }
  }
  const problems = new Set<string>();
  for (const query of queries) {
    for (const use of parseQuery(query.expr).uses) {
      const labels = labelsByName.get(use.metric);
      if (labels === undefined) {
        problems.add(`${query.where}: no ${use.metric} in /metrics`);
        continue;
      }
      for (const label of use.labels) {
        if (!labels.has(label) && !TARGET_LABELS.includes(label))
          problems.add(
            `${query.where}: ${use.metric} has no label ${label} (it has ${[...labels].join(', ')})`,
          );
      }
    }
  }
  return [...problems];
}
