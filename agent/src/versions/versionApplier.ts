import type { NackReason, VersionContent } from '@kuberelay/proto';
import {
  type Backoff,
  type Clock,
  createBackoff,
  type DigestFormat,
  FieldManager,
  isDefaultPolicy,
  type KindRegistry,
  type Logger,
} from '@kuberelay/shared';
import type { KubeRest } from '@kuberelay/shared/kube';
import type { WriteVerb } from '../apply/copyApplier.js';
import { type AgentCopyResult, CopyCode, Outcome } from '../apply/copyResult.js';
import { parseReceivedCopy, type ReceivedCopy } from '../apply/receivedCopy.js';
import { nextDesiredSet } from '../connection/nextDesiredSet.js';
import { findUntracked, type InventoryEntry } from '../prune/findUntracked.js';
import { pruneCopies } from '../prune/pruneCopies.js';
import { Reconciler } from '../reconcile/reconciler.js';
import { loadState, type PersistedState, saveState } from '../state/stateFile.js';

/** The acknowledged version: what the agent told (or will tell) the server it holds. */
export interface HeldState {
  readonly version: number;
  readonly digest: string;
  readonly copies: ReadonlyMap<string, ReceivedCopy>;
}

export interface VersionApplierOptions {
  readonly rest: KubeRest;
  readonly kinds: KindRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly stateFile: string;
  /** The configured management cluster, if any (a saved state of another one is ignored). */
  readonly mgmtCluster: string | undefined;
  readonly resyncIntervalMs: number | undefined;
  readonly onWrite: (verb: WriteVerb) => void;
  readonly onDriftRepaired: () => void;
  /** A copy no longer wanted could not be deleted (each failed attempt; metrics). */
  readonly onPruneFailed: () => void;
  /** A copy's result changed between versions. */
  readonly onResult: (result: AgentCopyResult) => void;
  /** The version the agent now holds (metrics). */
  readonly onHeld: (version: number) => void;
}

export type ApplyVersionResult =
  | {
      readonly ok: true;
      readonly digest: string;
      /** A result for every copy of the held set. */
      readonly results: readonly AgentCopyResult[];
      /** `Removed` for each copy pruned. */
      readonly removed: readonly AgentCopyResult[];
    }
  | { readonly ok: false; readonly reason: NackReason; readonly message: string };

/**
 * What the agent holds and how a version becomes it (docs/design.md, "Versions", "Pruning",
 * "Persisted state"): the held set and its saved copy on disk, the inventory of copies the agent
 * may have to delete, and the Reconciler that enforces the held set. A version is checked whole
 * before anything is applied; pruning happens only after a complete, digest-verified version and
 * only when the caller says it may (an open stream, distribution on).
 */
export class VersionApplier {
  readonly #o: VersionApplierOptions;
  #held: HeldState = { version: 0, digest: '', copies: new Map() };
  /** Copies this agent applied and may have to delete: the held set plus failed deletions. */
  readonly #inventory = new Map<string, InventoryEntry>();
  #reconciler: Reconciler | undefined;
  #savedStateLoaded = false;
  #savedMgmtCluster: string | undefined;
  /** Versions and prune retries run one at a time: a retry judged against the held set must
   * never delete a copy the version being applied has just created. */
  #exclusive: Promise<unknown> = Promise.resolve();
  /** Between prune passes while a delete fails or the live view is incomplete. */
  readonly #pruneBackoff: Backoff = createBackoff({ minMs: 1_000, maxMs: 60_000 });
  #pruneRetry: AbortController | undefined;
  /**
   * Results of copies no longer wanted whose delete failed (`Failed`, `PruneFailed`), or that a
   * retry deleted since the last version (`Removed`): the server shows orphans until they are
   * gone, so they travel in Acks and Reports like the results of desired copies.
   */
  readonly #pruneResults = new Map<string, AgentCopyResult>();

  constructor(options: VersionApplierOptions) {
    this.#o = options;
  }

  get held(): HeldState {
    return this.#held;
  }

  get reconciler(): Reconciler | undefined {
    return this.#reconciler;
  }

  /** The current result of `key`: a desired copy's, or a pruned or not-yet-pruned one's. */
  resultOf(key: string): AgentCopyResult | undefined {
    return this.#reconciler?.result(key) ?? this.#pruneResults.get(key);
  }

  /** Orphans whose delete failed and is being retried, for the Ack. */
  notPruned(): AgentCopyResult[] {
    return [...this.#pruneResults.values()].filter((r) => r.outcome === Outcome.Failed);
  }

  /** A saved state was loaded at start (so the agent has something to enforce while away). */
  get savedStateLoaded(): boolean {
    return this.#savedStateLoaded;
  }

  /** The management cluster the saved state belongs to. */
  get savedMgmtCluster(): string | undefined {
    return this.#savedMgmtCluster;
  }

  /**
   * `trust` says whether a saved version may be enforced: with replicas, a state file from this
   * replica's earlier term is older than what the last leader applied (agent.ts).
   */
  async loadSavedState(options: { readonly trust?: (version: number) => boolean } = {}): Promise<void> {
    const logger = this.#o.logger;
    const loaded = await loadState(this.#o.stateFile);
    if (loaded.status === 'corrupt') {
      logger.error({ err: loaded.error, code: loaded.error.code }, loaded.error.message);
      return;
    }
    if (loaded.status === 'missing') {
      logger.info({ path: this.#o.stateFile }, 'no saved state; starting empty');
      return;
    }
    const { state } = loaded;
    if (options.trust?.(state.version) === false) {
      logger.info(
        { path: this.#o.stateFile, version: state.version },
        'the saved state is not the one the last leader held; not enforcing it (the server sends the full set)',
      );
      return;
    }
    if (this.#o.mgmtCluster !== undefined && state.mgmtCluster !== this.#o.mgmtCluster) {
      logger.warn(
        { saved: state.mgmtCluster, configured: this.#o.mgmtCluster },
        'the saved state belongs to another management cluster; ignoring it',
      );
      return;
    }
    const copies = new Map<string, ReceivedCopy>();
    for (const saved of state.copies) {
      const parsed = parseReceivedCopy({
        ...saved,
        manifest: JSON.stringify(saved.manifest),
        kinds: this.#o.kinds,
      });
      if (parsed.ok) copies.set(saved.key, parsed.value);
      else logger.error({ copy: saved.key, err: parsed.errors[0].message }, 'ignoring an invalid saved copy');
    }
    this.#held = { version: state.version, digest: state.digest, copies };
    for (const copy of copies.values()) this.#inventory.set(copy.key, inventoryEntryOf(copy));
    this.#savedMgmtCluster = state.mgmtCluster;
    this.#savedStateLoaded = true;
    this.#o.onHeld(state.version);
  }

  /** The Reconciler for copies of `mgmtCluster`, enforcing the held set (a new one if it changed). */
  ensureReconciler(mgmtCluster: string): Reconciler {
    if (this.#reconciler?.mgmtCluster === mgmtCluster) return this.#reconciler;
    this.#reconciler?.stop();
    const reconciler = new Reconciler({
      rest: this.#o.rest,
      kinds: this.#o.kinds,
      mgmtCluster,
      fieldManager: FieldManager.agent,
      clock: this.#o.clock,
      logger: this.#o.logger,
      signal: this.#o.signal,
      onWrite: this.#o.onWrite,
      onDriftRepaired: this.#o.onDriftRepaired,
      onResult: this.#o.onResult,
      ...(this.#o.resyncIntervalMs === undefined ? {} : { resyncIntervalMs: this.#o.resyncIntervalMs }),
    });
    this.#reconciler = reconciler;
    reconciler.start();
    reconciler.setDesired(this.#held.copies);
    return reconciler;
  }

  /**
   * Applies a version: the complete next set is computed and its digest checked first (anything
   * wrong: nothing is applied, the caller Nacks); then every copy is applied (results are real,
   * not guesses), what the inventory holds and the set does not is pruned when `mayPrune`, and the
   * new held set is saved before the caller Acks.
   */
  apply(
    version: VersionContent,
    options: { readonly mayPrune: () => boolean; readonly digestFormat: DigestFormat },
  ): Promise<ApplyVersionResult> {
    return this.#serially(() => this.#apply(version, options));
  }

  #serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#exclusive.then(work, work);
    this.#exclusive = run.catch(() => {});
    return run;
  }

  async #apply(
    version: VersionContent,
    options: { readonly mayPrune: () => boolean; readonly digestFormat: DigestFormat },
  ): Promise<ApplyVersionResult> {
    const reconciler = this.#reconciler;
    if (reconciler === undefined)
      throw new Error('a version arrived before the management cluster was known');
    const next = nextDesiredSet({
      held: this.#held.copies,
      version,
      kinds: this.#o.kinds,
      digestFormat: options.digestFormat,
    });
    if (!next.ok) return { ok: false, reason: next.reason, message: next.message };
    const { applied } = reconciler.setDesired(next.copies);
    for (const copy of next.copies.values()) this.#inventory.set(copy.key, inventoryEntryOf(copy));
    await applied;
    // Copies this version did not change may still be on their first apply (a saved state being
    // enforced): the Ack reports real results.
    await reconciler.settled();
    // The version's Ack says where every orphan stands: Removed ones once, failed ones until gone.
    // A key the new set wants again is a copy, no longer an orphan: its result is the reconciler's.
    for (const [key, result] of this.#pruneResults) {
      if (result.outcome === Outcome.Removed || next.copies.has(key)) this.#pruneResults.delete(key);
    }
    const removed = options.mayPrune() ? await this.#prune(next.copies, reconciler, options.mayPrune) : [];
    this.#held = { version: version.version, digest: next.digest, copies: next.copies };
    this.#o.onHeld(version.version);
    await this.#persist(reconciler.mgmtCluster);
    return { ok: true, digest: next.digest, results: reconciler.results(), removed };
  }

  /**
   * Deletes what the inventory holds and the new set does not. Only after a complete,
   * digest-verified version, on an open stream, with distribution on (docs/spec.md §4, §7).
   */
  async #prune(
    desired: ReadonlyMap<string, ReceivedCopy>,
    reconciler: Reconciler,
    mayPrune: () => boolean,
  ): Promise<AgentCopyResult[]> {
    if (this.#o.signal.aborted) return [];
    this.#pruneRetry?.abort();
    this.#pruneRetry = undefined;
    // What the agent remembers it owns, and what the workload cluster says carries its label: a
    // copy created just before a crash, or whose delete failed before a restart, is in the second.
    // Either way the delete re-reads the object and only removes one that names this management
    // cluster as its source, UID-checked.
    const live = reconciler.liveCopies();
    for (const copy of live.copies) {
      if (!desired.has(copy.key) && !this.#inventory.has(copy.key)) {
        this.#inventory.set(copy.key, { ...copy, hash: '' });
      }
    }
    const untracked = findUntracked(this.#inventory, desired);
    const pruned =
      untracked.length === 0
        ? []
        : await pruneCopies({
            rest: this.#o.rest,
            kinds: this.#o.kinds,
            mgmtCluster: reconciler.mgmtCluster,
            entries: untracked,
            signal: this.#o.signal,
            logger: this.#o.logger,
            onWrite: this.#o.onWrite,
          });
    const removed: AgentCopyResult[] = [];
    let failed = 0;
    for (const result of pruned) {
      // A failed delete stays in the inventory and is tried again on its own timer (and with the
      // next version); after a restart the live view finds it again.
      const entry = this.#inventory.get(result.key);
      if (result.state === 'failed') {
        failed += 1;
        this.#o.onPruneFailed();
        this.#notePruneResult({
          key: result.key,
          hash: entry?.hash ?? '',
          outcome: Outcome.Failed,
          code: CopyCode.PruneFailed,
          message: `its source no longer wants it, but deleting it failed (retrying): ${result.message}`,
        });
        continue;
      }
      this.#inventory.delete(result.key);
      // An object found only by its label that turns out not to be ours was never a copy the
      // server knew of: there is nothing to tell it.
      if (result.state === 'released' && entry?.hash === '' && !this.#pruneResults.has(result.key)) continue;
      const gone: AgentCopyResult = {
        key: result.key,
        hash: entry?.hash ?? '',
        outcome: Outcome.Removed,
        code: CopyCode.Ok,
        message: result.message,
      };
      removed.push(gone);
      if (this.#pruneResults.has(result.key)) this.#notePruneResult(gone);
    }
    if (failed > 0 || !live.complete) {
      this.#schedulePruneRetry(mayPrune, { failed, complete: live.complete });
    } else {
      this.#pruneBackoff.reset();
    }
    return removed;
  }

  #notePruneResult(result: AgentCopyResult): void {
    this.#pruneResults.set(result.key, result);
    this.#o.onResult(result);
  }

  /**
   * Tries the prune again after a backoff, without waiting for a version: a copy whose source was
   * deleted must go even when nothing else changes. Stops when pruning is no longer allowed (the
   * stream closed, distribution off); the next version sweeps again anyway.
   */
  #schedulePruneRetry(mayPrune: () => boolean, why: { failed: number; complete: boolean }): void {
    const controller = new AbortController();
    this.#pruneRetry = controller;
    const delayMs = this.#pruneBackoff.next();
    this.#o.logger.info(
      { failedDeletes: why.failed, liveViewComplete: why.complete, retryInMs: delayMs },
      'pruning is not finished; trying again',
    );
    const signal = AbortSignal.any([this.#o.signal, controller.signal]);
    this.#o.clock.sleep(delayMs, signal).then(
      () =>
        this.#serially(async () => {
          const reconciler = this.#reconciler;
          if (signal.aborted || reconciler === undefined || !mayPrune()) return;
          // The server already dropped these keys with the version that stopped wanting them, so
          // a delete that succeeds now has nothing to report; failures show in the log and the
          // next pass.
          await this.#prune(this.#held.copies, reconciler, mayPrune);
        }).catch((error: unknown) => this.#o.logger.error({ err: error }, 'retrying the prune failed')),
      () => {},
    );
  }

  async #persist(mgmtCluster: string): Promise<void> {
    const state: PersistedState = {
      version: this.#held.version,
      digest: this.#held.digest,
      mgmtCluster,
      copies: [...this.#held.copies.values()].map((c) => ({
        key: c.key,
        hash: c.hash,
        overwrite: c.overwrite,
        ...(isDefaultPolicy(c.policy) ? {} : { policy: c.policy }),
        manifest: c.object,
      })),
    };
    try {
      await saveState(this.#o.stateFile, state);
    } catch (error) {
      // The Ack still goes out: the server's view is right, and a restart without the file only
      // means the server sends everything again.
      this.#o.logger.error({ err: error, path: this.#o.stateFile }, 'could not save the state file');
    }
  }
}

function inventoryEntryOf(copy: ReceivedCopy): InventoryEntry {
  return {
    key: copy.key,
    hash: copy.hash,
    apiVersion: copy.object.apiVersion,
    kind: copy.object.kind,
    namespace: copy.target.namespace,
    name: copy.target.name,
  };
}
