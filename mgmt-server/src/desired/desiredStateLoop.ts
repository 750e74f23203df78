import {
  type Clock,
  DesiredStateEngine,
  type GatewayClassMapping,
  type KindInfo,
  type KubeObject,
  type Logger,
  type RolloutAdmission,
} from '@kuberelay/shared';
import type { SnapshotCache } from '../snapshot/snapshotCache.js';

/** What the loop reads: a possibly incomplete view of the management cluster. */
export interface DesiredInputs {
  isComplete(): boolean;
  sources(): readonly KubeObject[];
  clusters(): readonly string[];
}

export interface DesiredStateLoopOptions {
  readonly inputs: DesiredInputs;
  readonly cache: SnapshotCache;
  readonly mgmtCluster: string;
  readonly classMapping: GatewayClassMapping;
  readonly kinds: readonly KindInfo[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called with how long each recompute took, in seconds. */
  readonly onComputed?: (seconds: number) => void;
}

/**
 * Turns change notifications into new desired states (design.md "Flow", step 2). A burst of
 * informer events (a relist, `kubectl apply -f` of many files) schedules one recompute on the next
 * macrotask (setImmediate), never a fixed delay: the latency of a single edit is one event-loop
 * turn, and a burst delivered in one turn costs one recompute.
 *
 * Invariant: nothing is computed or published until the inputs are complete (docs/spec.md §4).
 */
export class DesiredStateLoop {
  readonly #o: DesiredStateLoopOptions;
  #scheduled: NodeJS.Immediate | undefined;
  /** When the earliest change not yet published was seen (edit-to-ack latency starts here). */
  #firstChangeAt: number | undefined;
  #stopped = false;
  /** Keeps the state between changes, so each recompute costs what changed (issue 10). */
  readonly #engine: DesiredStateEngine;
  #rollouts: ReadonlyMap<string, RolloutAdmission> | undefined;

  constructor(options: DesiredStateLoopOptions) {
    this.#o = options;
    this.#engine = new DesiredStateEngine({
      mgmtCluster: options.mgmtCluster,
      classMapping: options.classMapping,
      kinds: options.kinds,
      previous: options.cache.state,
    });
  }

  /** How far each source's rollout may go (the RolloutController's answer): recomputes with it. */
  setRollouts(rollouts: ReadonlyMap<string, RolloutAdmission>): void {
    this.#rollouts = rollouts;
    this.notify();
  }

  /** Something in the inputs changed. Cheap; call it from every informer event. */
  notify(): void {
    if (this.#stopped) return;
    this.#firstChangeAt ??= this.#o.clock.now();
    this.#scheduled ??= setImmediate(() => {
      this.#scheduled = undefined;
      this.#recompute();
    });
  }

  stop(): void {
    this.#stopped = true;
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
  }

  #recompute(): void {
    const { inputs, cache, logger } = this.#o;
    if (!inputs.isComplete()) return;
    const started = performance.now();
    const changedAt = this.#firstChangeAt;
    this.#firstChangeAt = undefined;
    try {
      const { state } = this.#engine.update({
        sources: inputs.sources(),
        clusters: inputs.clusters(),
        rollouts: this.#rollouts,
      });
      cache.publish(state, { changedAt });
      const seconds = (performance.now() - started) / 1000;
      this.#o.onComputed?.(seconds);
      logger.debug(
        { clusters: state.clusters.size, reports: state.reports.size, seconds },
        'desired state computed',
      );
    } catch (error) {
      // computeDesiredState is pure and total; reaching this is a bug. Keep serving the last state.
      logger.error({ err: error }, 'computing the desired state failed; keeping the previous one');
    }
  }
}
