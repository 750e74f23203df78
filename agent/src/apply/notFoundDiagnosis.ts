import type { KubeObject } from '@kuberelay/shared';
import { type KubeRest, kindServed, type resourcePath } from '@kuberelay/shared/kube';
import { type ApplyOutcome, apiFailure, failed, RetryHint } from './applyOutcome.js';
import { CopyCode } from './copyResult.js';
import type { ReceivedCopy } from './receivedCopy.js';

// Why a create answered 404. Its own file because it asks the workload cluster further questions
// (is the kind served? does the namespace exist?) that have nothing to do with the write strategy.

export interface NotFoundDiagnosisOptions {
  readonly rest: KubeRest;
  readonly copy: ReceivedCopy;
  readonly plural: string;
  /** The 404 the create got: reported as is when neither reason below explains it. */
  readonly error: unknown;
  readonly signal: AbortSignal;
  /** GET of one object; undefined when it does not exist. */
  readonly read: (
    ref: Parameters<typeof resourcePath>[0],
    signal: AbortSignal,
  ) => Promise<KubeObject | undefined>;
}

/** A 404 on create: tell a missing kind from a missing namespace, the two reasons docs/spec.md §4 names. */
export async function diagnoseNotFound(options: NotFoundDiagnosisOptions): Promise<ApplyOutcome> {
  const { copy, plural, signal } = options;
  const { target } = copy;
  if (!(await kindServed({ rest: options.rest, kind: { ...target, plural }, signal }))) {
    return failed(
      copy,
      CopyCode.KindNotInstalled,
      `kind ${target.kind} (${target.group}/${target.version}, resource ${plural}) is not installed in the workload cluster`,
      RetryHint.Backoff,
    );
  }
  if (target.namespace !== undefined) {
    const ns = await options.read(
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
  return apiFailure(copy, options.error);
}
