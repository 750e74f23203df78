import {
  type ClusterCopies,
  type DesiredState,
  type DigestEntry,
  DigestFormat,
  isDefaultPolicy,
  stateDigest,
} from '@kuberelay/shared';
import { EncodedCopyCache } from './encodedCopies.js';

/**
 * What one registered cluster should hold, as an immutable value. `revision` increases by one each
 * time the cluster's content changes on this server (it is not the wire version: streams number
 * their own versions). `changedAt` is when the earliest source change that went into this content
 * was observed, for the edit-to-ack latency; undefined for content computed at start-up.
 */
export interface ClusterSnapshot {
  readonly cluster: string;
  readonly copies: ClusterCopies;
  readonly digest: string;
  readonly revision: number;
  readonly changedAt: number | undefined;
}

/** Called after a publish with the state and the clusters whose snapshot changed or went. */
export type StateListener = (state: DesiredState, touched: ReadonlySet<string>) => void;

/** Encodings kept beyond twice the live ones before a sweep is worth its pass. */
const SWEEP_SLACK = 1_024;

/** Called with the new snapshot, or undefined when the cluster is no longer registered. */
export type SnapshotListener = (snapshot: ClusterSnapshot | undefined) => void;

export interface PublishOptions {
  /** Clock time of the earliest source change this state includes. */
  readonly changedAt?: number | undefined;
}

/**
 * One snapshot per registered cluster, and the watchers of each (the go-control-plane cache,
 * without gRPC). The one place that decides "this cluster's content did not change": publishing a
 * state whose copies for a cluster have the same digest notifies nobody.
 *
 * Until the first `publish` the cache is not ready: `get` answers undefined for every cluster and
 * streams must wait on `ready` before deciding whether a cluster is registered (docs/spec.md §4).
 */
export class SnapshotCache {
  readonly encoded = new EncodedCopyCache();
  readonly #snapshots = new Map<string, ClusterSnapshot>();
  readonly #watchers = new Map<string, Set<SnapshotListener>>();
  readonly #stateListeners = new Set<StateListener>();
  /** Encoded entries live at the last sweep: the next sweep waits until the cache doubles. */
  #liveAtSweep = 0;
  #state: DesiredState | undefined;
  #resolveReady: () => void = () => {};
  readonly ready: Promise<void>;

  readonly #sweepSlack: number;

  constructor(options: { readonly sweepSlack?: number } = {}) {
    this.#sweepSlack = options.sweepSlack ?? SWEEP_SLACK;
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
  }

  isReady(): boolean {
    return this.#state !== undefined;
  }

  /** The last published desired state (reports included), or undefined before the first. */
  get state(): DesiredState | undefined {
    return this.#state;
  }

  get(cluster: string): ClusterSnapshot | undefined {
    return this.#snapshots.get(cluster);
  }

  clusters(): string[] {
    return [...this.#snapshots.keys()];
  }

  /**
   * Takes a newly computed state: every cluster whose content changed gets a new snapshot and its
   * watchers are told; clusters that disappeared (deregistered) are told `undefined`.
   */
  publish(state: DesiredState, options: PublishOptions = {}): void {
    const changed: ClusterSnapshot[] = [];
    const removed: string[] = [];
    for (const [cluster, copies] of state.clusters) {
      const before = this.#snapshots.get(cluster);
      // The engine hands back the very same set for a cluster nothing changed in; a CopySet's
      // digest costs nothing, so the loop is O(clusters) plus what changed.
      if (before !== undefined && before.copies === copies) continue;
      const digest = stateDigest(copies);
      if (before !== undefined && before.digest === digest) continue;
      const snapshot: ClusterSnapshot = Object.freeze({
        cluster,
        copies,
        digest,
        revision: (before?.revision ?? 0) + 1,
        // The first snapshot of a server is not caused by an edit: no latency to measure.
        changedAt: this.#state === undefined ? undefined : options.changedAt,
      });
      this.#snapshots.set(cluster, snapshot);
      changed.push(snapshot);
    }
    for (const cluster of this.#snapshots.keys()) {
      if (!state.clusters.has(cluster)) removed.push(cluster);
    }
    for (const cluster of removed) this.#snapshots.delete(cluster);
    const first = this.#state === undefined;
    this.#state = state;
    this.#sweepEncoded();
    if (first) this.#resolveReady();
    for (const snapshot of changed) this.#notify(snapshot.cluster, snapshot);
    for (const cluster of removed) this.#notify(cluster, undefined);
    const touched = new Set([...changed.map((snapshot) => snapshot.cluster), ...removed]);
    for (const listener of this.#stateListeners) listener(state, touched);
  }

  /** Watches one cluster's snapshot; returns the function that stops watching. */
  watch(cluster: string, listener: SnapshotListener): () => void {
    let set = this.#watchers.get(cluster);
    if (set === undefined) {
      set = new Set();
      this.#watchers.set(cluster, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#watchers.delete(cluster);
    };
  }

  /** Called after every publish with the whole state (for Events and status) and the clusters
   * whose snapshot changed or went. */
  onState(listener: StateListener): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  #notify(cluster: string, snapshot: ClusterSnapshot | undefined): void {
    for (const listener of this.#watchers.get(cluster) ?? []) listener(snapshot);
  }

  /**
   * Drops encodings no snapshot refers to. A full pass over every copy of every cluster (10⁶ at
   * 1,000 × 1,000), so it runs only once the cache has grown to twice what was live at the last
   * one (plus slack): memory stays within 2× the live encodings, the pass costs O(1) per publish.
   */
  #sweepEncoded(): void {
    if (this.encoded.size <= 2 * this.#liveAtSweep + this.#sweepSlack) return;
    const live = new Set<string>();
    for (const snapshot of this.#snapshots.values()) {
      for (const copy of snapshot.copies.values()) live.add(copy.hash);
    }
    this.encoded.retainOnly(live);
    this.#liveAtSweep = this.encoded.size;
  }
}

const sortedLinesDigests = new WeakMap<ClusterSnapshot, string>();
/** Per snapshot, its policy-blind digests by format ('' when it has no policy to leave out). */
const policyBlindDigests = new WeakMap<ClusterSnapshot, Map<DigestFormat, string>>();

/** How a stream's digests are computed: what its Hello offered and the Welcome agreed. */
export interface StreamDialect {
  readonly digestFormat: DigestFormat;
  /** The agent knows Copy.policy (AGENT_FEATURE_COPY_POLICY): its digests include the policies. */
  readonly copyPolicy: boolean;
}

/**
 * A snapshot's digest in a stream's dialect. `digest` is the entrySum one with policies (O(changes)
 * to keep); the others, for agents from before the format was negotiated or before per-source
 * policy (docs/spec.md D10.4), are computed on first use per snapshot and shared by every such
 * stream. A snapshot without a non-default policy has one policy-blind digest: the usual one.
 */
export function snapshotDigest(snapshot: ClusterSnapshot, dialect: StreamDialect): string {
  if (!dialect.copyPolicy) {
    let byFormat = policyBlindDigests.get(snapshot);
    if (byFormat === undefined) {
      byFormat = new Map();
      policyBlindDigests.set(snapshot, byFormat);
    }
    let digest = byFormat.get(dialect.digestFormat);
    if (digest === undefined) {
      digest = hasPolicy(snapshot) ? policyBlindDigest(snapshot, dialect.digestFormat) : '';
      byFormat.set(dialect.digestFormat, digest);
    }
    if (digest !== '') return digest;
  }
  if (dialect.digestFormat === DigestFormat.entrySum) return snapshot.digest;
  let digest = sortedLinesDigests.get(snapshot);
  if (digest === undefined) {
    digest = stateDigest(snapshot.copies, DigestFormat.sortedLines);
    sortedLinesDigests.set(snapshot, digest);
  }
  return digest;
}

/** Whether any copy of the snapshot carries a policy an agent must know about. */
export function hasPolicy(snapshot: ClusterSnapshot): boolean {
  for (const copy of snapshot.copies.values()) if (!isDefaultPolicy(copy.policy)) return true;
  return false;
}

function policyBlindDigest(snapshot: ClusterSnapshot, format: DigestFormat): string {
  const entries = new Map<string, DigestEntry>();
  for (const [key, copy] of snapshot.copies) {
    entries.set(key, { key: copy.key, hash: copy.hash, overwrite: copy.overwrite });
  }
  return stateDigest(entries, format);
}
