import type { KubeObject } from '@kuberelay/shared';
import { createTwoFilesPatch } from 'diff';
import { stringify } from 'yaml';
import { type Plan, PlanAction, type PlannedCopy, type PlannedSource } from './planReport.js';
import { HEALTH_EMOJI, Health, renderTable, truncateText } from './render.js';

// `relayctl plan` as text: per proposed source where it goes and what is wrong with it, a table
// of what would happen to each copy, then the rendered copies (created) and unified diffs
// (updated), each identical content printed once for all the clusters that get it.

const ACTION_HEALTH: Readonly<Record<PlanAction, Health>> = {
  create: Health.ok,
  update: Health.ok,
  unchanged: Health.ok,
  prune: Health.warning,
  conflict: Health.error,
  paused: Health.warning,
};

export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  for (const source of plan.sources) out.push(renderSource(source));
  if (plan.copies.length === 0) {
    out.push('No copy would change.\n');
  } else {
    out.push(
      renderTable(
        ['CLUSTER', 'COPY', 'ACTION', 'AGAINST', 'DETAIL'],
        plan.copies.map((c) => [
          c.cluster,
          c.key,
          `${HEALTH_EMOJI[ACTION_HEALTH[c.action]]} ${c.action}`,
          c.against === 'live' ? 'live object' : 'agent',
          truncateText(c.reason ?? ''),
        ]),
      ),
    );
  }
  out.push(...renderContents(plan.copies));
  out.push(
    plan.problems === 0
      ? 'Nothing would conflict or fail.\n'
      : `${plan.problems} problem${plan.problems === 1 ? '' : 's'}: see the errors and conflicts above.\n`,
  );
  return out.join('\n');
}

function renderSource(s: PlannedSource): string {
  const where = s.namespace === undefined ? s.name : `${s.namespace}/${s.name}`;
  const lines = [
    `${s.kind} ${where}: ${s.distributeTo === undefined ? 'no distribute-to annotation (its copies are pruned)' : `distribute-to "${truncateText(s.distributeTo)}"`}`,
  ];
  const byCluster = new Map<string, string[]>();
  for (const t of s.targets)
    byCluster.set(t.cluster, [...(byCluster.get(t.cluster) ?? []), t.namespace ?? '(cluster-scoped)']);
  lines.push(
    byCluster.size === 0
      ? '  selects no registered cluster'
      : `  selects ${[...byCluster].map(([c, ns]) => `${c} (${ns.join(', ')})`).join(', ')}`,
  );
  for (const e of s.errors)
    lines.push(`  ${HEALTH_EMOJI.error} ${e.code}: ${truncateText(e.message)}${at(e)}`);
  for (const w of s.warnings)
    lines.push(`  ${HEALTH_EMOJI.warning} ${w.code}: ${truncateText(w.message)}${at(w)}`);
  return `${lines.join('\n')}\n`;
}

const at = (i: { cluster?: string; namespace?: string }) =>
  i.cluster === undefined ? '' : ` (${i.cluster}${i.namespace === undefined ? '' : `/${i.namespace}`})`;

/** Created copies in full, updated ones as diffs; identical text once, naming its clusters. */
function renderContents(copies: readonly PlannedCopy[]): string[] {
  const texts = new Map<string, string[]>();
  for (const c of copies) {
    const body = contentOf(c);
    if (body === undefined) continue;
    texts.set(body, [...(texts.get(body) ?? []), c.cluster]);
  }
  return [...texts].map(([body, clusters]) => `# ${clusters.join(', ')}\n${body}`);
}

function contentOf(c: PlannedCopy): string | undefined {
  const title = `${c.key}`;
  if (c.action === PlanAction.create && c.after !== undefined) {
    return `--- ${title}: created as\n${yaml(c.after)}`;
  }
  if ((c.action === PlanAction.update || c.action === PlanAction.conflict) && c.after !== undefined) {
    const was = c.before === undefined ? '' : yaml(c.before);
    const from = c.against === 'live' ? 'live' : 'as the agent holds it';
    return createTwoFilesPatch(
      `${title} (${from})`,
      `${title} (planned)`,
      was,
      yaml(c.after),
      undefined,
      undefined,
      {
        context: 3,
      },
    )
      .split('\n')
      .filter((line) => !line.startsWith('====='))
      .join('\n');
  }
  return undefined;
}

/** Keys sorted, as kubectl prints objects: a live object and a copy then differ only where they differ. */
const yaml = (object: KubeObject) => stringify(object, { lineWidth: 0, sortMapEntries: true });
