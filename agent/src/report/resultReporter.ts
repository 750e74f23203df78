import { CopyOutcome, type CopyResult as ProtoCopyResult } from '@kuberelay/proto';
import type { Clock } from '@kuberelay/shared';
import { type AgentCopyResult, Outcome, sameResult } from '../apply/copyResult.js';

/** Delay that coalesces result changes into one Report. */
export const REPORT_COALESCE_MS = 100;

export interface ResultReporterOptions {
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** The current result of a copy (the reconciler's), if any. */
  readonly resultOf: (key: string) => AgentCopyResult | undefined;
  /** Sends a Report on the open stream; false when there is none (nothing is marked as told). */
  readonly send: (results: readonly AgentCopyResult[]) => boolean;
}

/**
 * Tells the server about results that change between versions (drift repaired, a namespace that
 * appeared, ...) with `Report`s coalesced over 100 ms, and only what the server has not heard on
 * the current stream (docs/spec.md §5: status stays true). While a version is being applied it
 * holds back: the version's Ack carries every result.
 */
export class ResultReporter {
  readonly #o: ResultReporterOptions;
  /** What the server has been told of each copy (via Ack or Report) on the current stream. */
  readonly #told = new Map<string, AgentCopyResult>();
  readonly #pending = new Set<string>();
  #scheduled = false;
  #holding = false;

  constructor(options: ResultReporterOptions) {
    this.#o = options;
  }

  /** A new stream: the server knows nothing yet. */
  reset(): void {
    this.#told.clear();
  }

  /** A copy's result changed: report it soon. */
  changed(key: string): void {
    this.#pending.add(key);
    this.#schedule();
  }

  /** A version is being applied: its Ack will say everything. */
  hold(): void {
    this.#holding = true;
  }

  /** The version's Ack carried these results (and removals); reporting goes on. */
  release(acked: {
    readonly results: readonly AgentCopyResult[];
    readonly removed: readonly AgentCopyResult[];
  }): void {
    for (const result of acked.results) this.#told.set(result.key, result);
    for (const result of acked.removed) this.#told.delete(result.key);
    this.#holding = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#holding || this.#pending.size === 0) return;
    this.#scheduled = true;
    this.#o.clock.sleep(REPORT_COALESCE_MS, this.#o.signal).then(
      () => {
        this.#scheduled = false;
        this.#flush();
      },
      () => {
        this.#scheduled = false;
      },
    );
  }

  #flush(): void {
    if (this.#holding) return;
    const keys = [...this.#pending];
    this.#pending.clear();
    const changed = keys
      .map((key) => this.#o.resultOf(key))
      .filter((r): r is AgentCopyResult => r !== undefined && !sameResult(this.#told.get(r.key), r));
    if (changed.length === 0) return;
    if (this.#o.send(changed)) {
      for (const result of changed) this.#told.set(result.key, result);
    }
  }
}

const PROTO_OUTCOME = {
  [Outcome.Applied]: CopyOutcome.COPY_OUTCOME_APPLIED,
  [Outcome.Failed]: CopyOutcome.COPY_OUTCOME_FAILED,
  [Outcome.Conflict]: CopyOutcome.COPY_OUTCOME_CONFLICT,
  [Outcome.Removed]: CopyOutcome.COPY_OUTCOME_REMOVED,
  [Outcome.Drifted]: CopyOutcome.COPY_OUTCOME_DRIFTED,
  [Outcome.Paused]: CopyOutcome.COPY_OUTCOME_PAUSED,
} as const;

/** A result as the protocol carries it (the one place the two are converted). */
export function toProtoResult(result: AgentCopyResult): ProtoCopyResult {
  return {
    key: result.key,
    hash: result.hash,
    outcome: PROTO_OUTCOME[result.outcome],
    code: result.code,
    message: result.message,
    ...(result.repairs === undefined
      ? {}
      : { repairs: result.repairs.count, lastRepairMs: result.repairs.lastAt }),
  };
}
