import { CopyOutcome, type CopyResult } from '@kuberelay/proto';
import {
  type Clock,
  type ClusterCondition,
  CopyOutcomeName,
  type DesiredState,
  ErrorCode,
} from '@kuberelay/shared';
import type { SnapshotCache } from '../snapshot/snapshotCache.js';
import type { StreamEvent } from '../stream/streamEvents.js';
import { type AgentState, buildClusterStatus, copyOutcome } from './buildClusterStatus.js';
import { EventReason, type Outcome } from './outcomeEvents.js';
import type { StatusWriter } from './statusWriter.js';

export interface ClusterStatusReporterOptions {
  readonly cache: SnapshotCache;
  readonly writer: StatusWriter;
  readonly serverPod: string;
  readonly serverInstance: string;
  readonly distributionEnabled: boolean;
  readonly clock: Clock;
  /** Per-copy failures and conflicts of a cluster changed (for Events). */
  readonly onCopyOutcomes: (cluster: string, outcomes: readonly Outcome[]) => void;
  /** Ends the deferred rebuilds' timer. */
  readonly signal?: AbortSignal;
}

/**
 * A new desired state's status is built this long after it (unless an Ack builds it first), in
 * slices of REBUILD_SLICE clusters per macrotask. The StatusWriter writes a change only once it
 * has lasted 1 s, counted from the state itself, so nothing is written later for it; but an edit
 * its agents acknowledge within the delay costs one build per cluster instead of two, and never
 * 1,000 builds in one turn of the event loop (65-120 ms at 1,000 agents, issue 10).
 */
const REBUILD_DELAY_MS = 500;
const REBUILD_SLICE = 100;

type MutableAgent = { -readonly [K in keyof AgentState]: AgentState[K] } & {
  streamId: string;
  results: Map<string, CopyResult>;
  /** Since when (ms) its desired state may differ from what it acknowledged; undefined: not since. */
  behindSince: number | undefined;
  /** Counts of heldClusters, and what they were counted from (reused while neither changed). */
  counted:
    | {
        revision: number | undefined;
        results: number;
        copies: Record<CopyOutcomeName, number>;
        notPruned: number;
      }
    | undefined;
  /** Bumped whenever `results` changes. */
  resultsVersion: number;
};

/** What the per-cluster metrics say of one cluster whose stream this replica holds. */
export interface HeldClusterFacts {
  readonly cluster: string;
  /** Desired copies by outcome (all four always present). */
  readonly copies: Readonly<Record<CopyOutcomeName, number>>;
  /** Copies no longer desired that the agent could not delete (PruneFailed). */
  readonly notPruned: number;
  /**
   * Seconds since the cluster's desired state first differed from what its agent acknowledged
   * (edits that followed do not restart the count); 0 when up to date, or when distribution is off.
   */
  readonly behindSeconds: number;
}

/**
 * Keeps, per cluster whose agent this replica serves, what status should say, and hands it to the
 * StatusWriter (which decides when to write). Fed by stream events and by new desired states
 * (pending counts change when the desired set does). Clusters served by other replicas are left
 * alone: only the replica holding a stream writes that cluster's status.
 */
export class ClusterStatusReporter {
  readonly #o: ClusterStatusReporterOptions;
  readonly #agents = new Map<string, MutableAgent>();
  readonly #conditions = new Map<string, readonly ClusterCondition[]>();
  /** Clusters whose desired state changed and whose status is not built since, with when. */
  readonly #stale = new Map<string, number>();
  #rebuildPending = false;

  constructor(options: ClusterStatusReporterOptions) {
    this.#o = options;
  }

  observe(event: StreamEvent): void {
    const now = this.#o.clock.now();
    switch (event.type) {
      case 'rejected':
        return;
      case 'connected':
        this.#agents.set(event.cluster, {
          streamId: event.streamId,
          connected: true,
          agentVersion: event.agentVersion,
          agentPod: event.agentPod,
          connectedAt: now,
          agentReplicas: replicasOf(event.agentReplicas) ?? 1,
          lastHeartbeatAt: now,
          sentVersion: undefined,
          ackedVersion: undefined,
          ackedDigest: undefined,
          results: new Map(),
          lastRejected: undefined,
          behindSince: now,
          counted: undefined,
          resultsVersion: 0,
        });
        break;
      case 'disconnected': {
        const agent = this.#agents.get(event.cluster);
        if (!event.wasCurrent || agent?.streamId !== event.streamId) return;
        agent.connected = false;
        agent.results.clear();
        agent.resultsVersion += 1;
        this.#o.onCopyOutcomes(event.cluster, []);
        break;
      }
      default: {
        const agent = this.#agents.get(event.cluster);
        if (agent === undefined || !agent.connected) return;
        agent.lastHeartbeatAt = now;
        const lastHeartbeat = new Date(now).toISOString();
        if (event.type === 'heartbeat') {
          const replicas = replicasOf(event.agentReplicas) ?? agent.agentReplicas;
          // Only the heartbeat time changed: no status to build (what an idle fleet sends).
          if (replicas === agent.agentReplicas && this.#o.writer.touch(event.cluster, { lastHeartbeat }))
            return;
          agent.agentReplicas = replicas;
        }
        if (event.type === 'sent') {
          agent.sentVersion = event.version;
          const sentVersion = String(event.version);
          if (this.#o.writer.touch(event.cluster, { lastHeartbeat, sentVersion })) return;
        }
        if (event.type === 'acked') {
          agent.ackedVersion = event.version;
          agent.ackedDigest = event.snapshot.digest;
          if (agent.ackedDigest === this.#o.cache.get(event.cluster)?.digest) agent.behindSince = undefined;
          this.#merge(agent, event.results, event.snapshot.copies);
        }
        if (event.type === 'reported') this.#merge(agent, event.results, undefined);
        if (event.type === 'nacked') {
          agent.lastRejected = {
            version: event.version,
            message: event.message || `reason ${event.reason}`,
            at: now,
          };
        }
      }
    }
    this.#update(event.cluster);
  }

  /**
   * A new desired state: refresh the clusters we serve whose snapshot changed (`touched`; all of
   * them when not given), forget deregistered ones. Only touched ones: rebuilding 1,000 statuses
   * for an edit that reached none of them was most of a publish's cost (issue 10).
   */
  onState(state: DesiredState, touched?: ReadonlySet<string>): void {
    const clusters = touched ?? this.#agents.keys();
    const now = this.#o.clock.now();
    for (const cluster of [...clusters]) {
      const agent = this.#agents.get(cluster);
      if (agent === undefined) continue;
      if (agent.connected) agent.behindSince ??= now;
      if (!state.clusters.has(cluster)) {
        this.#agents.delete(cluster);
        this.#conditions.delete(cluster);
        this.#o.writer.forget(cluster);
        this.#o.onCopyOutcomes(cluster, []);
      } else if (!this.#stale.has(cluster)) {
        this.#stale.set(cluster, this.#o.clock.now());
      }
    }
    this.#scheduleRebuild();
  }

  #scheduleRebuild(): void {
    if (this.#rebuildPending || this.#stale.size === 0) return;
    this.#rebuildPending = true;
    this.#o.clock.sleep(REBUILD_DELAY_MS, this.#o.signal).then(
      () => this.#rebuildSlice(),
      () => {},
    );
  }

  #rebuildSlice(): void {
    const dueBefore = this.#o.clock.now() - REBUILD_DELAY_MS;
    let built = 0;
    for (const [cluster, since] of this.#stale) {
      if (since > dueBefore) continue;
      if (built === REBUILD_SLICE) {
        setImmediate(() => this.#rebuildSlice());
        return;
      }
      this.#update(cluster, since);
      built += 1;
    }
    this.#rebuildPending = false;
    this.#scheduleRebuild();
  }

  /** The latest result the agent of a cluster this process holds reported for a copy. */
  copyResult(cluster: string, key: string): CopyResult | undefined {
    const agent = this.#agents.get(cluster);
    return agent?.connected === true ? agent.results.get(key) : undefined;
  }

  /** This process holds a live stream of `cluster`'s agent. */
  holds(cluster: string): boolean {
    return this.#agents.get(cluster)?.connected === true;
  }

  /**
   * What this replica knows of `cluster`'s agent, read-only and live (not a copy): the dashboard
   * reads it at page time instead of keeping a second copy of every result.
   */
  agent(cluster: string): (AgentState & { readonly behindSince: number | undefined }) | undefined {
    return this.#agents.get(cluster);
  }

  connectedCount(): number {
    let n = 0;
    for (const agent of this.#agents.values()) if (agent.connected) n += 1;
    return n;
  }

  /**
   * The facts of every cluster whose stream this replica holds, read at scrape time: one pass
   * over each cluster's desired copies (what status counts, without building it).
   */
  heldClusters(): HeldClusterFacts[] {
    const now = this.#o.clock.now();
    const facts: HeldClusterFacts[] = [];
    for (const [cluster, agent] of this.#agents) {
      if (!agent.connected) continue;
      const snapshot = this.#o.cache.get(cluster);
      // One pass over the copies only when they or the results changed: a steady fleet's scrape
      // costs O(clusters), not the 10^6 lookups (~290 ms) of 1,000 clusters x 1,000 sources.
      let counted = agent.counted;
      // Keyed by the snapshot's revision, not the snapshot: holding it would keep a whole past
      // desired state alive between scrapes (~25 MB at 1,000 clusters x 100 sources).
      const revision = snapshot?.revision;
      if (
        counted === undefined ||
        counted.revision !== revision ||
        counted.results !== agent.resultsVersion
      ) {
        const copies = emptyCounts();
        for (const copy of snapshot?.copies.values() ?? []) {
          copies[copyOutcome(agent.results.get(copy.key), copy.hash)] += 1;
        }
        let notPruned = 0;
        for (const result of agent.results.values()) {
          if (result.code === ErrorCode.PruneFailed && snapshot?.copies.has(result.key) !== true)
            notPruned += 1;
        }
        counted = { revision, results: agent.resultsVersion, copies, notPruned };
        agent.counted = counted;
      }
      const { copies, notPruned } = counted;
      const upToDate = snapshot !== undefined && agent.ackedDigest === snapshot.digest;
      if (upToDate || !this.#o.distributionEnabled) agent.behindSince = undefined;
      else agent.behindSince ??= now;
      const behindSeconds = agent.behindSince === undefined ? 0 : Math.max(0, now - agent.behindSince) / 1000;
      facts.push({ cluster, copies, notPruned, behindSeconds });
    }
    return facts;
  }

  #merge(
    agent: MutableAgent,
    results: readonly CopyResult[],
    acked: ReadonlyMap<string, unknown> | undefined,
  ): void {
    agent.resultsVersion += 1;
    for (const result of results) {
      if (result.outcome === CopyOutcome.COPY_OUTCOME_REMOVED) agent.results.delete(result.key);
      else agent.results.set(result.key, result);
    }
    if (acked !== undefined) {
      // Results of copies that are no longer wanted are history, except orphans the agent could
      // not delete: status shows those until the agent reports them removed.
      for (const [key, result] of [...agent.results]) {
        if (!acked.has(key) && result.code !== ErrorCode.PruneFailed) agent.results.delete(key);
      }
    }
  }

  /** Builds and hands over a cluster's status; `since`: when what it shows changed. */
  #update(cluster: string, since?: number): void {
    this.#stale.delete(cluster);
    const agent = this.#agents.get(cluster);
    if (agent === undefined) return;
    const snapshot = this.#o.cache.get(cluster);
    const status = buildClusterStatus({
      agent,
      desired: snapshot,
      serverPod: this.#o.serverPod,
      serverInstance: this.#o.serverInstance,
      distributionEnabled: this.#o.distributionEnabled,
      now: this.#o.clock.now(),
      previousConditions: this.#conditions.get(cluster),
    });
    this.#conditions.set(cluster, status.conditions);
    this.#o.writer.set(cluster, status, since);
    const outcomes: Outcome[] = [];
    for (const copy of snapshot?.copies.values() ?? []) {
      const result = agent.results.get(copy.key);
      const reason =
        result === undefined ? undefined : eventReasonOf(copyOutcome(result, copy.hash), result.code);
      if (result === undefined || reason === undefined) continue;
      outcomes.push({
        source: copy.source,
        reason,
        code: result.code,
        message: `copy ${copy.key} in cluster ${cluster}: ${result.code}${result.message ? `: ${result.message}` : ''}`,
        cluster,
      });
    }
    this.#o.onCopyOutcomes(cluster, outcomes);
  }
}

function emptyCounts(): Record<CopyOutcomeName, number> {
  return { Applied: 0, Failed: 0, Conflict: 0, Drifted: 0, Paused: 0, Pending: 0 };
}

/** The Event a copy's result deserves: failures, conflicts and warnings; plain success none. */
function eventReasonOf(outcome: CopyOutcomeName, code: string): EventReason | undefined {
  switch (outcome) {
    case CopyOutcomeName.failed:
      return EventReason.CopyFailed;
    case CopyOutcomeName.conflict:
      return EventReason.CopyConflict;
    case CopyOutcomeName.drifted:
      return EventReason.CopyDrifted;
    case CopyOutcomeName.paused:
      return undefined; // the source's own SourcePaused Event says it once
    case CopyOutcomeName.applied:
      return code === EventReason.FieldsPrunedByWorkloadSchema ||
        code === EventReason.FieldsChangedByWorkloadServer
        ? code
        : undefined;
    case CopyOutcomeName.pending:
      return undefined;
  }
}

/**
 * A count the agent said, bounded (a uint32 from the wire): undefined or 0 means not said, which
 * an agent without leader election does, and such an agent runs as exactly one replica.
 */
export function replicasOf(said: number | undefined): number | undefined {
  return said === undefined || said < 1 ? undefined : Math.min(said, 10_000);
}
