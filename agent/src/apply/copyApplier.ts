import type { KubeObject, Logger } from '@kuberelay/shared';
import {
  isConflict,
  isNotFound,
  KubeApiError,
  type KubeRest,
  kindServed,
  resourcePath,
} from '@kuberelay/shared/kube';
import { CopyCode, type CopyResult, Outcome } from './copyResult.js';
import type { CopyTarget, DesiredCopy } from './desiredCopy.js';
import type { Drift } from './findDrift.js';
import {
  type Judgment,
  planWrite,
  resourceVersionOf,
  type StoredDifference,
  storedDifference,
  UpdateReason,
  wouldChange,
} from './planWrite.js';
import { creationBody, replacementBody } from './writeBodies.js';

export const WriteVerb = { Create: 'create', Update: 'update', Delete: 'delete' } as const;
export type WriteVerb = (typeof WriteVerb)[keyof typeof WriteVerb];

/** When the caller should look at the copy again without an event telling it to. */
export const RetryHint = {
  /** Settled (applied, or waiting for a watch to say something changed). */
  None: 'none',
  /** Lost a race with another writer: look again at once. */
  Soon: 'soon',
  /** Failed: look again after a growing delay. */
  Backoff: 'backoff',
} as const;
export type RetryHint = (typeof RetryHint)[keyof typeof RetryHint];

export interface ApplyOutcome {
  readonly result: CopyResult;
  /** The write made, if any. */
  readonly wrote: WriteVerb | undefined;
  /** Why an update was made (or refused). */
  readonly reason?: UpdateReason;
  /** The drift found in the live object (what an update reverted, or was refused to revert). */
  readonly drift: readonly Drift[];
  /** After a write: the API server stored other values than the copy's (mutation; not pruning). */
  readonly rewrittenByServer?: boolean;
  /** After an update: whether it changed the stored object (a new resourceVersion). */
  readonly changed?: boolean;
  /** What to remember about the live object, so an unchanged one costs no further request. */
  readonly judgment?: Judgment;
  readonly retry: RetryHint;
}

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
 * Never throws for API errors: every failure is a CopyResult, so one bad copy never stops the
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

  async apply(copy: DesiredCopy, options: ApplyCopyOptions): Promise<ApplyOutcome> {
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
    copy: DesiredCopy,
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
    }
    if (live === undefined) return 'raced'; // unreachable: only 'create' has no live object
    const body = replacementBody(copy, live, this.#fieldManager);
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
      if (!wouldChange(live, dryRun)) {
        return settled(copy, storedDifference(copy.object, dryRun, this.#fieldManager), live, options.schema);
      }
      reason = UpdateReason.Drift;
    } else {
      reason = plan.reason;
    }
    const drift = plan.drift;
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
    const changed = resourceVersionOf(stored) !== resourceVersionOf(live);
    if (changed) options.logger.info({ drift, reason }, updateMessage(reason));
    // The API server stored other values than the copy's (a mutating webhook): that, not a person
    // editing the copy again later, is the loop to break. Fields an older schema drops are no loop:
    // the verify step never writes for them again.
    const difference = storedDifference(copy.object, stored, this.#fieldManager);
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
    copy: DesiredCopy,
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
      if (isNotFound(error)) return this.#notFound(copy, plural, error, options.signal);
      return apiFailure(copy, error);
    }
    this.#onWrite(WriteVerb.Create);
    const difference = storedDifference(copy.object, stored, this.#fieldManager);
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

  /** A 404 on create: tell a missing kind from a missing namespace, the two reasons docs/spec.md §4 names. */
  async #notFound(
    copy: DesiredCopy,
    plural: string,
    error: unknown,
    signal: AbortSignal,
  ): Promise<ApplyOutcome> {
    const { target } = copy;
    if (!(await this.#kindServed(target, plural, signal))) {
      return failed(
        copy,
        CopyCode.KindNotInstalled,
        `kind ${target.kind} (${target.group}/${target.version}, resource ${plural}) is not installed in the workload cluster`,
        RetryHint.Backoff,
      );
    }
    if (target.namespace !== undefined) {
      const ns = await this.#get(
        { group: '', version: 'v1', plural: 'namespaces', name: target.namespace },
        signal,
      );
      if (ns === undefined) {
        return failed(
          copy,
          CopyCode.NamespaceNotFound,
          `namespace ${target.namespace} does not exist in the workload cluster`,
          RetryHint.Backoff,
        );
      }
    }
    return apiFailure(copy, error);
  }

  async #kindServed(target: CopyTarget, plural: string, signal: AbortSignal): Promise<boolean> {
    return kindServed({ rest: this.#rest, kind: { ...target, plural }, signal });
  }
}

/**
 * Applied, possibly with a warning: the API server stores the copy with differences it makes
 * itself (fields an older schema prunes, values it rewrites). The judgment lets the next look at
 * an unchanged object skip every request but the GET.
 */
function settled(
  copy: DesiredCopy,
  difference: StoredDifference | undefined,
  object: KubeObject | undefined,
  schema: string | undefined,
): ApplyOutcome {
  const judgment: Judgment | undefined =
    object === undefined
      ? undefined
      : { hash: copy.hash, resourceVersion: resourceVersionOf(object), schema, difference };
  return {
    result: { key: copy.key, hash: copy.hash, ...warningOf(difference) },
    wrote: undefined,
    drift: [],
    retry: RetryHint.None,
    ...(judgment === undefined ? {} : { judgment }),
  };
}

/** Most field paths named in one warning; the rest are counted. */
const WARNING_PATHS = 10;

function warningOf(
  difference: StoredDifference | undefined,
): Pick<CopyResult, 'outcome' | 'code' | 'message'> {
  if (difference === undefined) return { outcome: Outcome.Applied, code: CopyCode.Ok, message: '' };
  const parts: string[] = [];
  if (difference.pruned.length > 0) {
    parts.push(`the workload cluster's schema dropped ${listPaths(difference.pruned)}`);
  }
  if (difference.changed.length > 0) {
    parts.push(`the workload API server stored other values for ${listPaths(difference.changed)}`);
  }
  return {
    outcome: Outcome.Applied,
    code:
      difference.pruned.length > 0
        ? CopyCode.FieldsPrunedByWorkloadSchema
        : CopyCode.FieldsChangedByWorkloadServer,
    message: `${parts.join('; ')} (the copy is otherwise applied; not written again until the source or the workload schema changes)`,
  };
}

function listPaths(paths: readonly string[]): string {
  const shown = paths.slice(0, WARNING_PATHS).join(', ');
  return paths.length > WARNING_PATHS ? `${shown} and ${paths.length - WARNING_PATHS} more` : shown;
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

function failed(
  copy: DesiredCopy,
  code: CopyCode,
  message: string,
  retry: RetryHint,
  outcome: Outcome = Outcome.Failed,
): ApplyOutcome {
  return {
    result: { key: copy.key, hash: copy.hash, outcome, code, message },
    wrote: undefined,
    drift: [],
    retry,
  };
}

/** The API server refused the copy (validation, admission, RBAC, ...): its message says why. */
function apiFailure(copy: DesiredCopy, error: unknown): ApplyOutcome {
  return failed(copy, CopyCode.ApplyFailed, describe(error), RetryHint.Backoff);
}

export function describeTarget(target: CopyTarget): string {
  return `${target.kind} ${target.namespace === undefined ? '' : `${target.namespace}/`}${target.name}`;
}

function describe(error: unknown): string {
  if (error instanceof KubeApiError) return `${error.status} ${error.reason}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
