import {
  type Clock,
  completeRejectedAgent,
  decodeRejectedAgents,
  encodeRejectedAgents,
  type Logger,
  REJECTED_AGENTS_CONFIGMAP,
  type RejectedAgent,
  rejectedAgentKey,
} from '@kuberelay/shared';
import { type KubeRest, updateConfigMapData } from '@kuberelay/shared/kube';

export interface RejectedAgentsOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Least time between two writes (default 1 s). */
  readonly minIntervalMs?: number;
}

export interface RejectionRecord {
  readonly claimedCluster: string | undefined;
  readonly reason: string;
  /** gRPC status code name, e.g. UNAUTHENTICATED. */
  readonly code: string;
  readonly peer: string;
}

/** Most keys kept; the oldest attempts are evicted first. */
export const MAX_REJECTED_KEYS = 100;

/**
 * Merges refusals into `entries` (pure): counts repeat attempts, keeps at most MAX_REJECTED_KEYS,
 * evicting the oldest `lastAttempt`.
 */
export function mergeRejections(
  entries: ReadonlyMap<string, RejectedAgent>,
  records: readonly (RejectionRecord & { readonly at: string })[],
): Map<string, RejectedAgent> {
  const next = new Map(entries);
  for (const record of records) {
    const key = rejectedAgentKey(record.claimedCluster);
    const before = next.get(key);
    next.set(key, {
      lastAttempt: record.at,
      reason: record.reason,
      code: record.code,
      peer: record.peer,
      count: (before?.count ?? 0) + 1,
    });
  }
  if (next.size > MAX_REJECTED_KEYS) {
    const byAge = [...next.entries()].sort(([, a], [, b]) => a.lastAttempt.localeCompare(b.lastAttempt));
    for (const [key] of byAge.slice(0, next.size - MAX_REJECTED_KEYS)) next.delete(key);
  }
  return next;
}

/**
 * The entries of the ConfigMap's data that decode completely. A hand-edited or truncated value is
 * dropped: counting on from a half-readable entry would report a wrong count, and the next attempt
 * under that key writes a fresh one.
 */
export function readableEntries(
  data: Readonly<Record<string, string>> | undefined,
): Map<string, RejectedAgent> {
  const entries = new Map<string, RejectedAgent>();
  for (const record of decodeRejectedAgents(data)) {
    const entry = completeRejectedAgent(record);
    if (entry !== undefined) entries.set(record.cluster, entry);
  }
  return entries;
}

/**
 * Records refused agents in ConfigMap `kuberelay-rejected-agents` (design.md "Identity and
 * registration"), batched: at most one read-modify-write per second, whatever the rate of refusals
 * (a misconfigured fleet retrying must not hammer the API server). The write is optimistic
 * (resourceVersion): another replica's concurrent write makes us re-read and merge again.
 */
export class RejectedAgentsRecorder {
  readonly #o: RejectedAgentsOptions;
  #pending: (RejectionRecord & { at: string })[] = [];
  #scheduled = false;
  #lastWriteAt = 0;

  constructor(options: RejectedAgentsOptions) {
    this.#o = options;
  }

  record(record: RejectionRecord): void {
    this.#pending.push({ ...record, at: new Date(this.#o.clock.now()).toISOString() });
    if (this.#scheduled || this.#o.signal.aborted) return;
    this.#scheduled = true;
    const wait = Math.max(0, this.#lastWriteAt + (this.#o.minIntervalMs ?? 1_000) - this.#o.clock.now());
    this.#o.clock.sleep(wait, this.#o.signal).then(
      () => void this.#flush(),
      () => {},
    );
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    try {
      await this.#write(batch);
    } catch (error) {
      if (this.#o.signal.aborted) return;
      this.#o.logger.warn(
        { err: error, attempts: batch.length },
        'recording rejected agents failed; will retry',
      );
      this.#pending = [...batch, ...this.#pending];
    } finally {
      this.#lastWriteAt = this.#o.clock.now();
      this.#scheduled = false;
      if (this.#pending.length > 0 && !this.#o.signal.aborted) {
        const [first, ...rest] = this.#pending;
        this.#pending = rest;
        if (first !== undefined) this.record(first);
      }
    }
  }

  async #write(batch: readonly (RejectionRecord & { at: string })[]): Promise<void> {
    await updateConfigMapData({
      rest: this.#o.rest,
      namespace: this.#o.namespace,
      name: REJECTED_AGENTS_CONFIGMAP,
      signal: this.#o.signal,
      merge: (data) => encodeRejectedAgents(mergeRejections(readableEntries(data), batch)),
    });
  }
}
