import type { KubeObject, Logger } from '@kuberelay/shared';
import { isConflict, isNotFound, KubeApiError, type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { CopyCode, type CopyResult, Outcome } from './copyResult.js';
import { type CopyTarget, type DesiredCopy, sourceUriOf } from './desiredCopy.js';
import { type Drift, findDrift } from './findDrift.js';

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
  /** The drift found in the live object (what an update reverted, or was refused to revert). */
  readonly drift: readonly Drift[];
  /** After an update: the API server stored something other than the copy (admission mutation). */
  readonly rewrittenByServer?: boolean;
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
}

/** How many times a lost race (409) is retried inside one apply before giving the copy back. */
const MAX_RACES = 3;

type LiveObject = KubeObject & { readonly metadata: { readonly resourceVersion?: string } };

/**
 * The per-copy write strategy of docs/design.md: create if missing; leave an object that is not
 * ours alone (conflict) unless the copy may overwrite it; otherwise compare with the pure
 * findDrift and, only if something drifted, replace the object with the copy (PUT with the live
 * resourceVersion). No drift, no write: that is what keeps the steady state write-free.
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
    const live = await this.#get({ ...ref, name: target.name }, options.signal);
    if (live === undefined) {
      try {
        await this.#rest.request({
          method: 'POST',
          path: resourcePath(ref),
          query: { fieldManager: this.#fieldManager },
          body: writable(copy.object),
          signal: options.signal,
        });
      } catch (error) {
        if (isConflict(error)) return 'raced'; // AlreadyExists: someone created it meanwhile; re-read
        if (isNotFound(error)) return this.#notFound(copy, plural, error, options.signal);
        return apiFailure(copy, error);
      }
      this.#onWrite(WriteVerb.Create);
      return { result: applied(copy), wrote: WriteVerb.Create, drift: [], retry: RetryHint.None };
    }

    const liveSource = sourceUriOf(live);
    const ours = liveSource !== undefined && liveSource === sourceUriOf(copy.object);
    if (!ours && !copy.overwrite) {
      const owner =
        liveSource === undefined ? 'not distributed by the relay' : `distributed from ${liveSource}`;
      return failed(
        copy,
        CopyCode.Conflict,
        `${describeTarget(target)} already exists and is ${owner}; left untouched (set kuberelay.dev/conflict-resolution: overwrite on the source to take it over)`,
        RetryHint.Backoff,
        Outcome.Conflict,
      );
    }

    const drift = findDrift(copy.object, live, { fieldManager: this.#fieldManager });
    if (drift.length === 0) {
      return { result: applied(copy), wrote: undefined, drift, retry: RetryHint.None };
    }
    if (!options.allowUpdate(drift)) {
      return {
        result: {
          key: copy.key,
          hash: copy.hash,
          outcome: Outcome.Failed,
          code: CopyCode.MutationLoop,
          message: `the API server changes the copy again after every write (${drift.map((d) => d.path).join(', ')}); stopped writing it`,
        },
        wrote: undefined,
        drift,
        retry: RetryHint.None,
      };
    }
    let stored: LiveObject;
    try {
      stored = await this.#rest.request<LiveObject>({
        method: 'PUT',
        path: resourcePath({ ...ref, name: target.name }),
        query: { fieldManager: this.#fieldManager },
        body: this.#replacement(copy, live),
        signal: options.signal,
      });
    } catch (error) {
      if (isConflict(error)) return 'raced'; // resourceVersion moved on: re-read and compare again
      if (isNotFound(error)) return 'raced'; // deleted meanwhile: re-read creates it
      return apiFailure(copy, error);
    }
    this.#onWrite(WriteVerb.Update);
    options.logger.info({ drift }, ours ? 'reverted drift' : 'took over an existing object (overwrite)');
    // What the API server stored already differs from the copy: admission or defaulting rewrote
    // our write. That (not a person editing the copy again later) is the loop to break.
    const rewritten = findDrift(copy.object, stored, { fieldManager: this.#fieldManager }).length > 0;
    return {
      result: applied(copy),
      wrote: WriteVerb.Update,
      drift,
      retry: RetryHint.None,
      rewrittenByServer: rewritten,
    };
  }

  /**
   * The body of a drift repair: the copy, pinned to the live resourceVersion. If other managers
   * own fields of the main resource, their entries are dropped from managedFields: once we
   * replaced the whole object, what they set no longer exists, and defaults the server re-applies
   * must not stay attributed to them (findDrift would take those for added fields, forever).
   */
  #replacement(copy: DesiredCopy, live: LiveObject): KubeObject {
    const managed = Array.isArray(live.metadata.managedFields)
      ? (live.metadata.managedFields as readonly Record<string, unknown>[])
      : [];
    const isForeign = (e: Record<string, unknown>) =>
      e.manager !== this.#fieldManager && (typeof e.subresource !== 'string' || e.subresource === '');
    const body = writable(copy.object);
    const metadata: Record<string, unknown> = {
      ...body.metadata,
      resourceVersion: live.metadata.resourceVersion,
    };
    if (managed.some(isForeign)) {
      const kept = managed.filter((e) => !isForeign(e));
      // An empty list would mean "keep what is live"; claim the ownership marker instead.
      metadata.managedFields = kept.some((e) => e.manager === this.#fieldManager)
        ? kept
        : [...kept, ownershipMarker(this.#fieldManager, copy.object.apiVersion)];
    }
    return { ...body, metadata: metadata as KubeObject['metadata'] };
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
    const path = target.group === '' ? `/api/${target.version}` : `/apis/${target.group}/${target.version}`;
    try {
      const list = await this.#rest.request<{ resources?: { name?: string }[] }>({
        method: 'GET',
        path,
        signal,
      });
      return (list.resources ?? []).some((r) => r.name === plural);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}

/** What we send: never status (docs/spec.md §4), never server-owned metadata. */
function writable(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = object;
  return rest as KubeObject;
}

function ownershipMarker(manager: string, apiVersion: string): Record<string, unknown> {
  return {
    manager,
    operation: 'Update',
    apiVersion,
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:gloo.solo.io/distributed-source': {} } } },
  };
}

function applied(copy: DesiredCopy): CopyResult {
  return { key: copy.key, hash: copy.hash, outcome: Outcome.Applied, code: CopyCode.Ok, message: '' };
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
