import { type DesiredState, ErrorCode, type ObjectRef, objectKey } from '@kuberelay/shared';

/** Event reasons on sources (design.md "Status"). Success is never recorded. */
export const EventReason = {
  DistributionInvalid: 'DistributionInvalid',
  UnregisteredCluster: 'UnregisteredCluster',
  UnresolvedReference: 'UnresolvedReference',
  CopyCollision: 'CopyCollision',
  CopyFailed: 'CopyFailed',
  CopyConflict: 'CopyConflict',
  /** A copy differs from its source, which says `kuberelay.dev/drift: report` (fields named). */
  CopyDrifted: 'CopyDrifted',
  /** The source carries `kuberelay.dev/paused: "true"`: its copies are frozen. One per source,
   * not per copy: a paused copy is the pause doing what was asked. */
  SourcePaused: 'SourcePaused',
  /** Applied, but the workload cluster's schema dropped fields (named in the message). */
  FieldsPrunedByWorkloadSchema: ErrorCode.FieldsPrunedByWorkloadSchema,
  /** Applied, but the workload API server stored other values (named in the message). */
  FieldsChangedByWorkloadServer: ErrorCode.FieldsChangedByWorkloadServer,
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

/** One outcome that is not plain success, about one source, possibly in one cluster. */
export interface Outcome {
  readonly source: ObjectRef;
  readonly reason: EventReason;
  readonly code: string;
  readonly message: string;
  readonly cluster?: string | undefined;
}

/** An Event to record on a source. */
export interface EventToRecord {
  readonly source: ObjectRef;
  readonly reason: EventReason;
  readonly message: string;
}

/** Most cluster names spelled out in one Event message. */
const NAMED_CLUSTERS = 10;
const CLUSTER_PLACEHOLDER = '<cluster>';

export function reasonForCode(code: string): EventReason {
  switch (code) {
    case ErrorCode.UnregisteredCluster:
      return EventReason.UnregisteredCluster;
    case ErrorCode.UnresolvedReference:
    case ErrorCode.AmbiguousReference:
      return EventReason.UnresolvedReference;
    case ErrorCode.CopyCollision:
      return EventReason.CopyCollision;
    case ErrorCode.Paused:
      return EventReason.SourcePaused;
    default:
      return EventReason.DistributionInvalid;
  }
}

/** The outcomes of a desired state's reports (invalid sources, unregistered names, references). */
export function desiredOutcomes(state: DesiredState): Outcome[] {
  const outcomes: Outcome[] = [];
  for (const report of state.reports.values()) {
    for (const item of report.items) {
      outcomes.push({
        source: report.source,
        reason: reasonForCode(item.code),
        code: item.code,
        message: item.message,
        cluster: item.cluster,
      });
    }
  }
  return outcomes;
}

interface Group {
  readonly source: ObjectRef;
  readonly reason: EventReason;
  readonly template: string;
  readonly clusters: Set<string>;
  /** The message of the first outcome, used as it is when only one cluster (or none) is involved. */
  readonly sample: string;
}

/**
 * Decides which Events to record, so that an outcome gives one Event when it first appears (or
 * changes), not one per recompute and not one per cluster (docs/spec.md §8; design.md "Status").
 *
 * Outcomes that differ only by cluster are one group: the cluster name is replaced by a
 * placeholder in the message, and the Event lists the clusters (the first few by name). A group
 * that already has an Event stays quiet while clusters join or leave it; once it disappears
 * entirely (everything fixed), its next appearance is recorded again. Pure and synchronous.
 */
export class OutcomeEvents {
  #desired: readonly Outcome[] = [];
  readonly #byCluster = new Map<string, readonly Outcome[]>();
  #recorded = new Set<string>();

  setDesired(outcomes: readonly Outcome[]): void {
    this.#desired = outcomes;
  }

  /** Replaces the per-copy outcomes (failures, conflicts) one cluster reported. */
  setCluster(cluster: string, outcomes: readonly Outcome[]): void {
    if (outcomes.length === 0) this.#byCluster.delete(cluster);
    else this.#byCluster.set(cluster, outcomes);
  }

  removeCluster(cluster: string): void {
    this.#byCluster.delete(cluster);
  }

  /** The Events due now: groups that appeared since the last flush. */
  flush(): EventToRecord[] {
    const groups = new Map<string, Group>();
    const add = (outcome: Outcome) => {
      const template =
        outcome.cluster === undefined
          ? outcome.message
          : replaceWord(outcome.message, outcome.cluster, CLUSTER_PLACEHOLDER);
      const id = `${objectKey(outcome.source)}\u0000${outcome.reason}\u0000${outcome.code}\u0000${template}`;
      let group = groups.get(id);
      if (group === undefined) {
        group = {
          source: outcome.source,
          reason: outcome.reason,
          template,
          clusters: new Set(),
          sample: outcome.message,
        };
        groups.set(id, group);
      }
      if (outcome.cluster !== undefined) group.clusters.add(outcome.cluster);
    };
    for (const outcome of this.#desired) add(outcome);
    for (const outcomes of this.#byCluster.values()) for (const outcome of outcomes) add(outcome);

    const due: EventToRecord[] = [];
    for (const [id, group] of groups) {
      if (!this.#recorded.has(id)) {
        due.push({ source: group.source, reason: group.reason, message: groupMessage(group) });
      }
    }
    this.#recorded = new Set(groups.keys());
    return due;
  }
}

/** The group's message with the clusters named where the cluster stood (the first 10, then a
 * count): `copy x in clusters a, b and 3 more: …`, never the placeholder itself. */
function groupMessage(group: Group): string {
  if (group.clusters.size <= 1) return group.sample;
  const names = [...group.clusters].sort();
  const shown = names.slice(0, NAMED_CLUSTERS).join(', ');
  const more = names.length > NAMED_CLUSTERS ? ` and ${names.length - NAMED_CLUSTERS} more` : '';
  const list = `${shown}${more}`;
  return group.template
    .replaceAll(`cluster "${CLUSTER_PLACEHOLDER}"`, `clusters ${list}`)
    .replaceAll(`cluster ${CLUSTER_PLACEHOLDER}`, `clusters ${list}`)
    .replaceAll(CLUSTER_PLACEHOLDER, list);
}

/** Replaces `word` where it stands alone (not inside a longer name such as `qa-2` for `qa`). */
function replaceWord(text: string, word: string, by: string): string {
  if (word === '') return text;
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`(?<![A-Za-z0-9-])${escaped}(?![A-Za-z0-9-])`, 'g'), by);
}
