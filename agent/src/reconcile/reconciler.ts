import {
  type Backoff,
  type Clock,
  createBackoff,
  type KindRegistry,
  type Logger,
  samePolicy,
} from '@kuberelay/shared';
import type { KubeRest } from '@kuberelay/shared/kube';
import { CopyApplier, RetryHint, WriteVerb } from '../apply/copyApplier.js';
import { type AgentCopyResult, CopyCode, Outcome, sameResult } from '../apply/copyResult.js';
import { driftSignature } from '../apply/findDrift.js';
import { type Judgment, UpdateReason } from '../apply/planWrite.js';
import { type ReceivedCopy, sourceUriOf } from '../apply/receivedCopy.js';
import { KindWatches } from './kindWatches.js';
import { LoopBreaker } from './loopBreaker.js';
import { WorkQueue } from './workQueue.js';

export interface ReconcilerOptions {
  readonly rest: KubeRest;
  readonly kinds: KindRegistry;
  /** Copies carry this management cluster's label and distributed-source; watches select on it. */
  readonly mgmtCluster: string;
  readonly fieldManager: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly onWrite: (verb: WriteVerb) => void;
  readonly onDriftRepaired: () => void;
  /** A copy's result changed (the caller decides whether and when to report it). */
  readonly onResult: (result: AgentCopyResult) => void;
  /** Every copy is checked again this often, events or not. Default 5 minutes. */
  readonly resyncIntervalMs?: number;
  /** Copies applied at the same time. Default 4. */
  readonly concurrency?: number;
  /** Start the watches (tests of the pure parts may not want them). Default true. */
  readonly watch?: boolean;
}

/**
 * Keeps the workload cluster equal to a desired set of copies: applies new and changed copies,
 * repairs drift as soon as a watch reports a change to a copy (and again on every resync), retries
 * failed copies (growing delays; at once when the missing namespace or CRD appears), and stops
 * writing a copy the API server keeps rewriting (LoopBreaker). It never deletes: pruning is the
 * caller's decision, made only on a complete version from a connected server.
 */
export class Reconciler {
  readonly mgmtCluster: string;
  readonly #options: ReconcilerOptions;
  readonly #applier: CopyApplier;
  readonly #breaker: LoopBreaker;
  readonly #queue: WorkQueue;
  readonly #controller = new AbortController();
  readonly #signal: AbortSignal;
  readonly #retries = new Map<string, Backoff>();
  /** The last judgment per copy (planWrite): an unchanged live object costs one GET, no write. */
  readonly #judgments = new Map<string, Judgment>();
  #watches: KindWatches | undefined;
  #desired: ReadonlyMap<string, ReceivedCopy> = new Map();
  readonly #results = new Map<string, AgentCopyResult>();
  /** Drift repairs per copy key since this reconciler started (what the results report). */
  readonly #repairs = new Map<string, { readonly count: number; readonly lastAt: number }>();

  constructor(options: ReconcilerOptions) {
    this.mgmtCluster = options.mgmtCluster;
    this.#options = options;
    this.#signal = AbortSignal.any([options.signal, this.#controller.signal]);
    this.#applier = new CopyApplier({
      rest: options.rest,
      fieldManager: options.fieldManager,
      onWrite: options.onWrite,
    });
    this.#breaker = new LoopBreaker({ clock: options.clock });
    this.#queue = new WorkQueue({
      process: (key) => this.#reconcileKey(key),
      concurrency: options.concurrency ?? 4,
      clock: options.clock,
      signal: this.#signal,
    });
  }

  /** The live objects with this management cluster's relay label (KindWatches.liveCopies);
   * without watches (tests that turn them off) nothing is known, so the view is incomplete. */
  liveCopies(): ReturnType<KindWatches['liveCopies']> {
    return this.#watches?.liveCopies() ?? { copies: [], complete: false };
  }

  /** Starts the watches and the periodic resync. */
  start(): void {
    if (this.#options.watch !== false) {
      this.#watches = new KindWatches({
        rest: this.#options.rest,
        kinds: this.#options.kinds,
        mgmtCluster: this.mgmtCluster,
        signal: this.#signal,
        logger: this.#options.logger,
        onCopyEvent: (key) => {
          if (this.#desired.has(key)) void this.#queue.add(key);
        },
        onKindInstalled: (kind) =>
          this.#retryWhere((c) => c.target.group === kind.group && c.target.kind === kind.kind),
        onNamespaceAdded: (namespace) => this.#retryWhere((c) => c.target.namespace === namespace),
        // A new schema may keep fields the old one pruned: look at every copy of the kind again
        // (their judgments name the old schema, so each is verified once more).
        onSchemaChanged: (kind) => {
          for (const copy of this.#desired.values()) {
            if (copy.target.group === kind.group && copy.target.kind === kind.kind)
              void this.#queue.add(copy.key);
          }
        },
      });
      this.#watches.start();
    }
    void this.#resyncLoop();
  }

  stop(): void {
    this.#controller.abort();
  }

  get desired(): ReadonlyMap<string, ReceivedCopy> {
    return this.#desired;
  }

  /**
   * Replaces the desired set. Copies that are new or whose hash, overwrite flag or policy changed are
   * queued; removed ones are forgotten (never deleted here). Unchanged copies are left alone: they
   * are already enforced, and re-checking them would only cost reads. `applied` resolves when
   * every queued copy has been applied once (its result is then current).
   */
  setDesired(next: ReadonlyMap<string, ReceivedCopy>): {
    readonly changed: string[];
    readonly applied: Promise<void>;
  } {
    const previous = this.#desired;
    this.#desired = next;
    for (const key of previous.keys()) {
      if (!next.has(key)) {
        this.#results.delete(key);
        this.#retries.delete(key);
        this.#judgments.delete(key);
        this.#repairs.delete(key);
        this.#breaker.forget(key);
      }
    }
    const changed: string[] = [];
    const runs: Promise<void>[] = [];
    for (const [key, copy] of next) {
      const before = previous.get(key);
      if (
        before === undefined ||
        before.hash !== copy.hash ||
        before.overwrite !== copy.overwrite ||
        !samePolicy(before.policy, copy.policy)
      ) {
        changed.push(key);
        this.#breaker.forget(key);
        runs.push(this.#queue.add(key));
      }
    }
    return { changed, applied: Promise.all(runs).then(() => {}) };
  }

  /** Resolves when every desired copy has a result (applied at least once since it was set). */
  async settled(): Promise<void> {
    await Promise.all(
      [...this.#desired.keys()].filter((key) => !this.#results.has(key)).map((key) => this.#queue.add(key)),
    );
  }

  /** Checks every copy again. */
  resync(): void {
    for (const key of this.#desired.keys()) void this.#queue.add(key);
  }

  result(key: string): AgentCopyResult | undefined {
    return this.#results.get(key);
  }

  /** The latest result of every desired copy; a copy not looked at yet is reported as pending. */
  results(): AgentCopyResult[] {
    return [...this.#desired.values()].map(
      (copy) =>
        this.#results.get(copy.key) ?? {
          key: copy.key,
          hash: copy.hash,
          outcome: Outcome.Failed,
          code: CopyCode.ApplyFailed,
          message: 'not applied yet',
        },
    );
  }

  countByOutcome(): Map<Outcome, number> {
    const counts = new Map<Outcome, number>();
    for (const result of this.#results.values())
      counts.set(result.outcome, (counts.get(result.outcome) ?? 0) + 1);
    return counts;
  }

  /** Resolves when no copy is queued or being applied. */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  #retryWhere(match: (copy: ReceivedCopy) => boolean): void {
    for (const copy of this.#desired.values()) {
      const result = this.#results.get(copy.key);
      if (result !== undefined && result.outcome !== Outcome.Applied && match(copy))
        void this.#queue.add(copy.key);
    }
  }

  async #reconcileKey(key: string): Promise<void> {
    const copy = this.#desired.get(key);
    if (copy === undefined || this.#signal.aborted) return;
    const logger = this.#options.logger.child({ copy: key, source: sourceUriOf(copy.object) });
    const cooling = this.#breaker.retryInMs(key);
    if (cooling !== undefined && cooling > 0) {
      this.#queue.addAfter(key, cooling);
      return;
    }
    const before = this.#results.get(key);
    let outcome: Awaited<ReturnType<CopyApplier['apply']>>;
    try {
      outcome = await this.#applier.apply(copy, {
        signal: this.#signal,
        logger,
        allowUpdate: (drift) => this.#breaker.allow(key, driftSignature(drift)),
        schema: this.#watches?.schemaOf(copy.target),
        judged: this.#judgments.get(key),
      });
    } catch (error) {
      if (this.#signal.aborted) return;
      logger.error({ err: error }, 'applying a copy failed unexpectedly');
      this.#queue.addAfter(key, this.#retryBackoff(key).next());
      return;
    }
    // The copy changed while we applied it: the newer one is queued and decides the result.
    if (this.#desired.get(key) !== copy) return;

    const { wrote, drift } = outcome;
    if (outcome.judgment === undefined) this.#judgments.delete(key);
    else this.#judgments.set(key, outcome.judgment);
    if (wrote === WriteVerb.Update) {
      // Only writes the API server itself rewrote count towards a loop: someone editing the copy
      // again and again is reverted every time.
      if (outcome.rewrittenByServer) this.#breaker.recordWrite(key, driftSignature(drift));
      // A repair is a write that changed something someone else had changed (our copy-hash
      // annotation included); a new desired copy is an update, not a repair.
      const repaired =
        outcome.reason === UpdateReason.Drift ||
        (outcome.reason === UpdateReason.DesiredChanged &&
          before?.hash === copy.hash &&
          before.outcome === Outcome.Applied);
      if (repaired && outcome.changed === true) this.#repaired(key);
    } else if (
      wrote === WriteVerb.Create &&
      before?.outcome === Outcome.Applied &&
      before.hash === copy.hash
    ) {
      logger.info('re-created a copy that was deleted in the workload cluster');
      this.#repaired(key);
    } else if (wrote === WriteVerb.Create) {
      logger.info('created copy');
    }
    const repairs = this.#repairs.get(key);
    const result = repairs === undefined ? outcome.result : { ...outcome.result, repairs };
    this.#results.set(key, result);
    if (!sameResult(before, result)) {
      if (result.outcome === Outcome.Applied && result.code !== CopyCode.Ok) {
        logger.warn({ code: result.code, reason: result.message }, 'copy applied with a warning');
      } else if (result.outcome !== Outcome.Applied) {
        logger.warn(
          { outcome: result.outcome, code: result.code, reason: result.message },
          'copy not applied',
        );
      }
      this.#options.onResult(result);
    }
    this.#scheduleRetry(key, outcome.retry, result);
  }

  #repaired(key: string): void {
    const count = (this.#repairs.get(key)?.count ?? 0) + 1;
    this.#repairs.set(key, { count, lastAt: this.#options.clock.now() });
    this.#options.onDriftRepaired();
  }

  #scheduleRetry(key: string, hint: RetryHint, result: AgentCopyResult): void {
    if (result.code === CopyCode.MutationLoop) {
      this.#queue.addAfter(key, this.#breaker.retryInMs(key) ?? 0);
      return;
    }
    switch (hint) {
      case RetryHint.None:
        this.#retries.delete(key);
        return;
      case RetryHint.Soon:
        this.#queue.addAfter(key, 100);
        return;
      case RetryHint.Backoff:
        this.#queue.addAfter(key, this.#retryBackoff(key).next());
        return;
    }
  }

  #retryBackoff(key: string): Backoff {
    let backoff = this.#retries.get(key);
    if (backoff === undefined) {
      // Full jitter from 1 s to 60 s: failed copies are re-read, never rewritten, so this is cheap,
      // and the watches retry at once when a namespace or CRD appears.
      backoff = createBackoff({ minMs: 1_000, maxMs: 60_000 });
      this.#retries.set(key, backoff);
    }
    return backoff;
  }

  async #resyncLoop(): Promise<void> {
    const interval = this.#options.resyncIntervalMs ?? 5 * 60_000;
    while (!this.#signal.aborted) {
      try {
        await this.#options.clock.sleep(interval, this.#signal);
      } catch {
        return;
      }
      this.resync();
    }
  }
}
