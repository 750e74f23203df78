import type { CopyState, ExplainedCopy, ExplainedEvent, Explanation } from './explainReport.js';
import { ageMs, formatAge, HEALTH_EMOJI, Health, truncateText } from './render.js';

// `relayctl explain` as text: the source, then one block per copy, then the source's Events.

const STATE_HEALTH: Readonly<Record<CopyState, Health>> = {
  current: Health.ok,
  pending: Health.warning,
  drifted: Health.warning,
  'not-connected': Health.warning,
  paused: Health.warning,
  failed: Health.error,
  conflict: Health.error,
  orphan: Health.warning,
};

export function renderExplanation(e: Explanation, now: Date): string {
  const lines = [
    `Source ${e.sourceUri}${e.sourceExists ? '' : ' (gone: not in the management cluster)'}`,
    e.distributeTo === null
      ? '  no distribute-to annotation'
      : `  distribute-to "${truncateText(e.distributeTo)}"`,
    '',
  ];
  if (e.copies.length === 0) lines.push('No copies: the annotation selects no registered cluster.', '');
  for (const c of e.copies) lines.push(...renderCopy(c, now), '');
  if (e.sourceEvents.length > 0) {
    lines.push('Events on the source:');
    lines.push(...e.sourceEvents.map((ev) => `  ${event(ev, now)}`), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function renderCopy(c: ExplainedCopy, now: Date): string[] {
  const ago = (t: string | null) => {
    const ms = ageMs(t, now);
    return ms === undefined ? 'never' : `${formatAge(ms)} ago`;
  };
  const lines = [
    `${c.cluster}  ${c.key}`,
    `  ${HEALTH_EMOJI[STATE_HEALTH[c.state]]} ${c.state}: ${truncateText(c.detail)}`,
  ];
  if (c.selectedBy !== undefined) lines.push(`  selected by "${truncateText(c.selectedBy)}"`);
  lines.push(
    `  cluster: acknowledged version ${c.ackedVersion ?? '(none)'}; ${c.upToDateSince === null ? 'not up to date' : `up to date since ${c.upToDateSince}`}; last heartbeat ${ago(c.lastHeartbeat)}`,
  );
  switch (c.live) {
    case 'not-read':
      lines.push('  live copy: not read (--workload-context, or --copy-in, to read it)');
      break;
    case 'missing':
      lines.push('  live copy: not in the cluster');
      break;
    case 'foreign':
      lines.push('  live copy: an object the relay does not own');
      break;
    case 'matches':
      lines.push(`  live copy: matches its source; last written by the agent ${ago(c.lastWrittenByAgent)}`);
      break;
    case 'differs':
      lines.push(
        `  live copy: differs in ${c.driftFields.length === 0 ? 'its content' : c.driftFields.join(', ')}; last written by the agent ${ago(c.lastWrittenByAgent)}`,
      );
      break;
  }
  for (const ev of c.events) lines.push(`  ${event(ev, now)}`);
  return lines;
}

function event(ev: ExplainedEvent, now: Date): string {
  const ms = ageMs(ev.lastSeen, now);
  const when = ms === undefined ? '' : ` (${formatAge(ms)} ago)`;
  return `${ev.type} ${ev.reason}: ${truncateText(ev.message)}${ev.count > 1 ? ` x${ev.count}` : ''}${when}`;
}
