import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@prometheus-io/lezer-promql';
import { parse as parseYaml } from 'yaml';
import { chartDir } from '../deploy/chartValues.js';

// The PromQL the chart ships, read from its files, and what each expression needs of the metrics:
// which series (by name) and which labels on them. Parsed with Prometheus's own grammar
// (@prometheus-io/lezer-promql, the parser of the Prometheus UI), so a typo is a parse error here
// and not an empty panel in someone's Grafana.

export const DASHBOARD_FILE = join(chartDir, 'files', 'grafana-dashboard.json');
export const RULE_FILES = {
  'mgmt-server': join(chartDir, 'files', 'prometheus-rules-mgmt-server.yaml'),
  agent: join(chartDir, 'files', 'prometheus-rules-agent.yaml'),
} as const;

export interface ShippedQuery {
  /** Where it is, for messages: `dashboard "Panel" A` or `alert KuberelayX`. */
  readonly where: string;
  readonly expr: string;
  /** Alerts only: the labels their annotations use (`{{ $labels.x }}`). */
  readonly annotationLabels?: readonly string[];
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  annotations?: Record<string, string>;
}

/** Every alert and recording rule of a shipped rule file. */
export function ruleQueries(file: string): ShippedQuery[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((g) =>
    g.rules.map((r) => ({
      where: r.alert === undefined ? `record ${r.record ?? '?'}` : `alert ${r.alert}`,
      expr: r.expr,
      annotationLabels: [
        ...new Set(
          Object.values(r.annotations ?? {}).flatMap((text) =>
            [...text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1] ?? ''),
          ),
        ),
      ],
    })),
  );
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string; refId?: string }[];
}
interface Dashboard {
  panels: Panel[];
  templating?: { list: { name: string; query?: string | { query?: string } }[] };
}

/**
 * Every query of the shipped dashboard, with Grafana's variables replaced by what they expand to
 * (`$__rate_interval` a duration, `$cluster` the all-value regex). The `label_values(metric,
 * label)` of template variables is Grafana's, not PromQL: it becomes `group by (label) (metric)`,
 * which needs the same series and label.
 */
export function dashboardQueries(file = DASHBOARD_FILE): ShippedQuery[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
  const expand = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$cluster', '.*');
  const queries: ShippedQuery[] = [];
  const walk = (panels: readonly Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr === undefined) continue;
        queries.push({
          where: `dashboard "${panel.title ?? '?'}" ${target.refId ?? ''}`,
          expr: expand(target.expr),
        });
      }
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const labelValues = /^label_values\(\s*(.+?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(query ?? '');
    if (labelValues === null) continue;
    queries.push({
      where: `dashboard variable $${variable.name}`,
      expr: `group by (${labelValues[2] ?? ''}) (${expand(labelValues[1] ?? '')})`,
    });
  }
  return queries;
}

/** One series selector of an expression and the labels the expression needs on its series. */
export interface SeriesUse {
  readonly metric: string;
  /** Labels matched on the selector and grouped by in the aggregations around it. */
  readonly labels: readonly string[];
}

export interface ParsedQuery {
  readonly uses: readonly SeriesUse[];
  /** Labels the result carries (what `$labels.x` can name). */
  readonly resultLabels: ReadonlySet<string> | 'all';
  readonly errors: readonly string[];
}

/** Parses `expr` and lists what it reads; `errors` says where it does not parse. */
export function parseQuery(expr: string): ParsedQuery {
  const tree = parser.parse(expr);
  const errors: string[] = [];
  const uses: SeriesUse[] = [];
  const text = (n: SyntaxNode) => expr.slice(n.from, n.to);
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError)
        errors.push(`does not parse at ${ref.from}: ${JSON.stringify(expr.slice(ref.from))}`);
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const name = node.getChild('Identifier');
      if (name === null) return;
      const labels = new Set<string>();
      for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
        const label = matcher.getChild('LabelName');
        if (label !== null) labels.add(text(label));
      }
      for (let up = node.parent; up !== null; up = up.parent) {
        if (up.name === 'AggregateExpr') for (const label of groupingOf(up, text)) labels.add(label);
      }
      uses.push({ metric: text(name), labels: [...labels].sort() });
    },
  });
  return { uses, resultLabels: resultLabelsOf(tree.topNode, text), errors };
}

/** The `by (...)` labels of an aggregation (none for `without`, which keeps the others). */
function groupingOf(aggregate: SyntaxNode, text: (n: SyntaxNode) => string): string[] {
  const modifier = aggregate.getChild('AggregateModifier');
  if (modifier === null || modifier.getChild('By') === null) return [];
  return (modifier.getChild('GroupingLabels')?.getChildren('LabelName') ?? []).map(text);
}

/**
 * The labels an expression's result has, found from its top: a `by` aggregation keeps its
 * grouping labels; a binary operation keeps its left side's (our alerts compare to a number);
 * a plain selector or a function of one keeps whatever the series have ('all').
 */
function resultLabelsOf(node: SyntaxNode, text: (n: SyntaxNode) => string): ReadonlySet<string> | 'all' {
  switch (node.name) {
    case 'PromQL':
    case 'ParenExpr':
    case 'BinaryExpr': {
      const first = node.firstChild;
      return first === null ? new Set() : resultLabelsOf(first, text);
    }
    case 'AggregateExpr': {
      const modifier = node.getChild('AggregateModifier');
      if (modifier === null) return new Set();
      return modifier.getChild('By') === null ? 'all' : new Set(groupingOf(node, text));
    }
    default:
      return 'all';
  }
}
