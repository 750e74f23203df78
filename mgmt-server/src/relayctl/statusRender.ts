import {
  ageMs,
  firstLines,
  formatAge,
  HEALTH_EMOJI,
  Health,
  healthLine,
  renderTable,
  truncateText,
} from './render.js';
import type { OrphanedCopy, SourceStatus, TargetStatus } from './statusReport.js';

// The text form of `relayctl status`: one block per source (its targets, problems and Events),
// then the orphaned copies. Lines of free text are cut with a count, so a hostile annotation
// cannot make a 20 KB line.

/** `HTTPRoute gloo-mesh/name` (cluster-scoped: `GatewayClass name`). */
export const sourceLabel = (s: Pick<SourceStatus, 'kind' | 'namespace' | 'name'>): string =>
  `${s.kind} ${s.namespace === null ? '' : `${s.namespace}/`}${s.name}`;

/** Errors and warnings shown per source in text; `-o json` has them all. */
const MAX_FINDINGS = 20;

export function renderSourceStatuses(sources: readonly SourceStatus[], options: { now: Date }): string {
  const out: string[] = [];
  for (const s of sources) {
    out.push(
      healthLine(
        s.health,
        `${sourceLabel(s)}  distribute-to: ${truncateText(JSON.stringify(s.distributeTo))}`,
      ),
    );
    if (s.targets.length > 0) {
      out.push(
        renderTable(
          ['CLUSTER', 'NAMESPACE', 'RESULT', 'REASON'],
          s.targets.map((t) => [t.cluster, t.namespace ?? '-', t.result, targetReason(t, s.valid)]),
          { indent: '   ', separator: '  ' },
        ).trimEnd(),
      );
    } else if (s.valid) {
      out.push('   no copies');
    }
    const finding = (health: Health, f: { code: string; message: string }) =>
      `   ${healthLine(health, truncateText(`${f.code}: ${f.message}`))}`;
    out.push(
      ...firstLines(
        s.errors.map((e) => finding(Health.error, e)),
        MAX_FINDINGS,
        'errors (relayctl status -o json lists them all)',
      ),
    );
    if (!s.valid) {
      out.push(
        `   ${healthLine(Health.error, 'not distributed as asked; copies that exist are kept as they are')}`,
      );
    }
    out.push(
      ...firstLines(
        s.warnings.map((w) => finding(Health.warning, w)),
        MAX_FINDINGS,
        'warnings (relayctl status -o json lists them all)',
      ),
    );
    for (const e of s.events) {
      const age = ageMs(e.lastSeen, options.now);
      const when = age === undefined ? '' : `, ${formatAge(age)} ago`;
      out.push(`   Warning ${e.reason} (x${e.count}${when}): ${e.message}`);
    }
    out.push('');
  }
  const by = (h: Health) => sources.filter((s) => s.health === h).length;
  out.push(
    `${sources.length} source${sources.length === 1 ? '' : 's'}: ${by(Health.ok)} ${HEALTH_EMOJI.ok}  ${by(Health.warning)} ${HEALTH_EMOJI.warning}  ${by(Health.error)} ${HEALTH_EMOJI.error}`,
  );
  return `${out.join('\n')}\n`;
}

function targetReason(t: TargetStatus, sourceValid: boolean): string {
  const detail = [t.code, t.message].filter((x): x is string => x !== null && x !== '').join(': ');
  if (t.selected) return detail;
  const why = sourceValid ? 'no longer selected' : 'kept (the source is invalid)';
  return detail === '' ? why : `${why}; ${detail}`;
}

export function renderOrphanedCopies(orphans: readonly OrphanedCopy[]): string {
  if (orphans.length === 0) return '';
  const table = renderTable(
    ['CLUSTER', 'COPY', 'REASON'],
    orphans.map((o) => [o.cluster, o.key, truncateText(o.message)]),
    { indent: '   ', separator: '  ' },
  ).trimEnd();
  return `${healthLine(Health.error, `Orphaned copies: ${orphans.length} ${orphans.length === 1 ? 'copy whose source is gone' : 'copies whose sources are gone'}, not deleted yet (the agents retry)`)}\n${table}\n`;
}
