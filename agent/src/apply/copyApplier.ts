import { DriftMode, type KubeObject, type Logger } from '@kuberelay/shared';
import { isConflict, isNotFound, type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import {
  type ApplyOutcome,
  apiFailure,
  describe,
  drifted,
  failed,
  paused,
  RetryHint,
  settled,
  WriteVerb,
} from './applyOutcome.js';
import { CopyCode, Outcome } from './copyResult.js';
import type { Drift } from './findDrift.js';
import { diagnoseNotFound } from './notFoundDiagnosis.js';
import {
  type Judgment,
  planWrite,
  resourceVersionOf,
  storedDifference,
  UpdateReason,
  wouldChange,
} from './planWrite.js';
import type { CopyTarget, ReceivedCopy } from './receivedCopy.js';
import { creationBody, replacementBody } from './writeBodies.js';

// Other modules import these from here, where they were first defined.
export { type ApplyOutcome, RetryHint, WriteVerb } from './applyOutcome.js';

export interface CopyApplierOptions {
  readonly rest: KubeRest;
  readonly fieldManager: string;
  /** Called after every successful write (metrics). */
  readonly onWrite?: (verb: WriteVerb) => void;
}

export interface ApplyCopyOptions {
  readonly signal: AbortSignal;
  /** Bound to the copy (and its source), for the lines this apply logs. */
  readonly logger: Logger;
  /**
   * Asked before an update that would revert `drift`; false refuses the write (the write-loop
   * breaker). Creates are always allowed: a deleted copy must come back.
   */
  readonly allowUpdate: (drift: readonly Drift[]) => boolean;
  /** The kind's schema generation in the workload cluster, when known (see Judgment). */
  readonly schema?: string | undefined;
  /** The last judgment returned for this copy. */
  readonly judged?: Judgment | undefined;
}

/** How many times a lost race (409) is retried inside one apply before giving the copy back. */
const MAX_RACES = 3;

type LiveObject = KubeObject & { readonly metadata: { readonly resourceVersion?: string } };

/**
 * The per-copy write strategy of docs/design.md: the pure planWrite decides (create; conflict;
 * nothing to do; verify with a dry-run; replace), this class does the I/O. A replace is a PUT of
 * the whole copy with the live resourceVersion, so the copy becomes exactly the desired object,
 * including fields the source removed; status is never touched. No difference, no write: that is
 * what keeps the steady state write-free.
 *
 * Never throws for API errors: every failure is a AgentCopyResult, so one bad copy never stops the
 * others. It throws only when `signal` is aborted.
 */
export class CopyApplier {
  readonly #rest: KubeRest;
  readonly #fieldManager: string;
  readonly #onWrite: (verb: WriteVerb) => void;

  constructor(options: CopyApplierOptions) {
    this.#rest = options.rest;
    this.#fieldManager = options.fieldManager;
    this.#onWrite = options.onWrite ?? (() => {});
  }

  async apply(copy: ReceivedCopy, options: ApplyCopyOptions): Promise<ApplyOutcome> {
    const { target } = copy;
    if (target.plural === undefined) {
      return failed(
        copy,
        CopyCode.KindNotDistributable,
        `kind ${target.kind}.${target.group} is not one of the agent's distributable kinds`,
        RetryHint.None,
      );
    }
    try {
      for (let race = 0; race < MAX_RACES; race += 1) {
        const step = await this.#applyOnce(copy, target.plural, options);
        if (step !== 'raced') return step;
      }
      return failed(
        copy,
        CopyCode.ApplyFailed,
        'the object kept changing while being written',
        RetryHint.Soon,
      );
    } catch (error) {
      if (options.signal.aborted) throw error;
      return failed(copy, CopyCode.ApplyFailed, describe(error), RetryHint.Backoff);
    }
  }

  async #applyOnce(
    copy: ReceivedCopy,
    plural: string,
    options: ApplyCopyOptions,
  ): Promise<ApplyOutcome | 'raced'> {
    const { target } = copy;
    const ref = { group: target.group, version: target.version, plural, namespace: target.namespace };
    const objectPath = resourcePath({ ...ref, name: target.name });
    const live = await this.#get({ ...ref, name: target.name }, options.signal);
    const plan = planWrite({
      copy,
      live,
      fieldManager: this.#fieldManager,
      schema: options.schema,
      judged: options.judged,
    });
    switch (plan.action) {
      case 'create':
        return this.#create(copy, plural, resourcePath(ref), options);
      case 'conflict':
        return failed(
          copy,
          CopyCode.Conflict,
          `${describeTarget(target)} already exists and is ${plan.owner}; left untouched (set kuberelay.dev/conflict-resolution: overwrite on the source to take it over)`,
          RetryHint.Backoff,
          Outcome.Conflict,
        );
      case 'none':
        return settled(copy, plan.difference, live, options.schema);
      case 'paused':
        return paused(copy, plan);
    }
    const { live: current } = plan;
    const body = replacementBody(copy, current, this.#fieldManager);
    let reason: UpdateReason;
    if (plan.action === 'verify') {
      // We wrote this desired copy before: write again only if that would change the object.
      let dryRun: LiveObject;
      try {
        dryRun = await this.#put(objectPath, body, options.signal, true);
      } catch (error) {
        if (isConflict(error) || isNotFound(error)) return 'raced';
        return apiFailure(copy, error);
      }
      if (!wouldChange(current, dryRun)) {
        return settled(
          copy,
          storedDifference(copy.object, dryRun, this.#fieldManager, copy.ignored),
          current,
          options.schema,
        );
      }
      reason = UpdateReason.Drift;
    } else {
      reason = plan.reason;
    }
    const drift = plan.drift;
    // kuberelay.dev/drift: report: found (and, above, confirmed by a dry run), never reverted.
    if (reason === UpdateReason.Drift && copy.policy.drift === DriftMode.Report) return drifted(copy, drift);
    if (reason === UpdateReason.Drift && !options.allowUpdate(drift)) {
      return {
        result: {
          key: copy.key,
          hash: copy.hash,
          outcome: Outcome.Failed,
          code: CopyCode.MutationLoop,
          message: `the API server changes the copy again after every write (${drift.map((d) => d.path).join(', ')}); stopped writing it`,
        },
        wrote: undefined,
        reason,
        drift,
        retry: RetryHint.None,
      };
    }
    let stored: LiveObject;
    try {
      stored = await this.#put(objectPath, body, options.signal, false);
    } catch (error) {
      if (isConflict(error)) return 'raced'; // resourceVersion moved on: re-read and compare again
      if (isNotFound(error)) return 'raced'; // deleted meanwhile: re-read creates it
      return apiFailure(copy, error);
    }
    this.#onWrite(WriteVerb.Update);
    const changed = resourceVersionOf(stored) !== resourceVersionOf(current);
    if (changed) options.logger.info({ drift, reason }, updateMessage(reason));
    // The API server stored other values than the copy's (a mutating webhook): that, not a person
    // editing the copy again later, is the loop to break. Fields an older schema drops are no loop:
    // the verify step never writes for them again.
    const difference = storedDifference(copy.object, stored, this.#fieldManager, copy.ignored);
    return {
      ...settled(copy, difference, stored, options.schema),
      wrote: WriteVerb.Update,
      reason,
      drift,
      changed,
      rewrittenByServer: (difference?.changed.length ?? 0) > 0,
    };
  }

  async #create(
    copy: ReceivedCopy,
    plural: string,
    collectionPath: string,
    options: ApplyCopyOptions,
  ): Promise<ApplyOutcome | 'raced'> {
    let stored: LiveObject;
    try {
      stored = await this.#rest.request<LiveObject>({
        method: 'POST',
        path: collectionPath,
        query: { fieldManager: this.#fieldManager },
        body: creationBody(copy),
        signal: options.signal,
      });
    } catch (error) {
      if (isConflict(error)) return 'raced'; // AlreadyExists: someone created it meanwhile; re-read
      if (isNotFound(error)) {
        return diagnoseNotFound({
          rest: this.#rest,
          copy,
          plural,
          error,
          signal: options.signal,
          read: (ref, signal) => this.#get(ref, signal),
        });
      }
      return apiFailure(copy, error);
    }
    this.#onWrite(WriteVerb.Create);
    const difference = storedDifference(copy.object, stored, this.#fieldManager, copy.ignored);
    return {
      ...settled(copy, difference, stored, options.schema),
      wrote: WriteVerb.Create,
      changed: true,
      rewrittenByServer: (difference?.changed.length ?? 0) > 0,
    };
  }

  #put(path: string, body: KubeObject, signal: AbortSignal, dryRun: boolean): Promise<LiveObject> {
    return this.#rest.request<LiveObject>({
      method: 'PUT',
      path,
      query: dryRun
        ? { fieldManager: this.#fieldManager, dryRun: 'All' }
        : { fieldManager: this.#fieldManager },
      body,
      signal,
    });
  }

  async #get(ref: Parameters<typeof resourcePath>[0], signal: AbortSignal): Promise<LiveObject | undefined> {
    try {
      return await this.#rest.request<LiveObject>({ method: 'GET', path: resourcePath(ref), signal });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

function updateMessage(reason: UpdateReason): string {
  switch (reason) {
    case UpdateReason.DesiredChanged:
      return 'updated copy';
    case UpdateReason.Drift:
      return 'reverted drift';
    case UpdateReason.TakeOver:
      return 'took over an existing object (overwrite)';
  }
}

export function describeTarget(target: CopyTarget): string {
  return `${target.kind} ${target.namespace === undefined ? '' : `${target.namespace}/`}${target.name}`;
}
