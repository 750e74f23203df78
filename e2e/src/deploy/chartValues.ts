import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../lab/paths.js';

export const chartDir = join(repoRoot, 'deploy', 'charts', 'kuberelay');

/** `helm template|install` arguments the chart tests share: each part, and every monitoring object. */
export const CHART_ARGS = {
  server: ['--set', 'mgmtServer.enabled=true', '--set', 'common.cluster=mgmt'],
  agent: ['--set', 'agent.enabled=true'],
  monitoring: [
    '--set',
    'metrics.serviceMonitor.enabled=true',
    '--set',
    'metrics.prometheusRule.enabled=true',
    '--set',
    'metrics.grafanaDashboard.enabled=true',
  ],
} as const;

/** The parts of the chart's default values that the lab's processes follow. */
interface PartValues {
  readonly resources: { readonly limits: { readonly memory: string } };
  readonly heapPercent: number;
  readonly heapMiB: number | null;
}

export type ChartPart = 'mgmtServer' | 'agent';

function partDefaults(part: ChartPart): PartValues {
  const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<ChartPart, PartValues>;
  return values[part];
}

/** resources.limits.memory of a part's default values, in MiB (Mi or Gi, as the chart accepts). */
export function memoryLimitMiB(part: ChartPart): number {
  const limit = partDefaults(part).resources.limits.memory;
  const match = /^(\d+)(Mi|Gi)$/.exec(limit);
  if (match === null) throw new Error(`${part}.resources.limits.memory ${limit} is not in Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/**
 * NODE_OPTIONS as the chart's Deployment sets it by default (templates/_helpers.tpl
 * "kuberelay.heapMiB": the heap capped at heapPercent of the memory limit), so the lab's
 * processes run as they run in a cluster and memory figures mean the same. chart.test.ts checks
 * this against what `helm template` renders.
 */
export function shippedNodeOptions(part: ChartPart): { NODE_OPTIONS: string } {
  const values = partDefaults(part);
  const heap = values.heapMiB ?? Math.floor((memoryLimitMiB(part) * values.heapPercent) / 100);
  return { NODE_OPTIONS: `--max-old-space-size=${heap}` };
}
