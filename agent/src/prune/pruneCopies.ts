import {
  Annotation,
  type KindRegistry,
  type Logger,
  parseSourceUri,
  splitApiVersion,
} from '@kuberelay/shared';
import { isConflict, isNotFound, KubeApiError, type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { WriteVerb } from '../apply/copyApplier.js';
import type { InventoryEntry } from './findUntracked.js';

export interface PruneOptions {
  readonly rest: KubeRest;
  readonly kinds: KindRegistry;
  readonly mgmtCluster: string;
  readonly entries: readonly InventoryEntry[];
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly onWrite?: (verb: WriteVerb) => void;
}

/** The fate of one copy that is no longer wanted. */
export interface PruneResult {
  readonly key: string;
  /** `deleted`: we deleted it; `gone`: it was already gone; `released`: it is not ours (any more). */
  readonly state: 'deleted' | 'gone' | 'released' | 'failed';
  readonly message: string;
}

/**
 * Deletes copies that left the desired set. Each DELETE carries the live UID as a precondition,
 * and is only sent when the live object still names this management cluster in its
 * distributed-source annotation: an object someone re-created by hand in the meantime, or took
 * over, is never deleted. Failures are values; the caller keeps those entries to try again.
 */
export async function pruneCopies(options: PruneOptions): Promise<PruneResult[]> {
  const results: PruneResult[] = [];
  for (const entry of options.entries) {
    results.push(await pruneOne(entry, options));
  }
  return results;
}

async function pruneOne(entry: InventoryEntry, options: PruneOptions): Promise<PruneResult> {
  const { group, version } = splitApiVersion(entry.apiVersion);
  const info = options.kinds.byGroupKind(group, entry.kind);
  const logger = options.logger.child({ copy: entry.key });
  if (info === undefined) {
    return {
      key: entry.key,
      state: 'released',
      message: `kind ${entry.kind} is not distributable; left in place`,
    };
  }
  const path = resourcePath({
    group,
    version,
    plural: info.plural,
    namespace: entry.namespace,
    name: entry.name,
  });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const live = await options.rest.request<{
        metadata?: { uid?: string; annotations?: Record<string, string> };
      }>({ method: 'GET', path, signal: options.signal });
      const source = live.metadata?.annotations?.[Annotation.DistributedSource];
      const parsed = source === undefined ? undefined : parseSourceUri(source);
      if (parsed === undefined || !parsed.ok || parsed.value.mgmtCluster !== options.mgmtCluster) {
        logger.info({ source }, 'copy no longer wanted, but the live object is not ours: left in place');
        return {
          key: entry.key,
          state: 'released',
          message: 'the live object is not distributed by this relay',
        };
      }
      await options.rest.request({
        method: 'DELETE',
        path,
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid: live.metadata?.uid },
          propagationPolicy: 'Background',
        },
        signal: options.signal,
      });
      options.onWrite?.(WriteVerb.Delete);
      logger.info({ uid: live.metadata?.uid }, 'deleted a copy that is no longer wanted');
      return { key: entry.key, state: 'deleted', message: '' };
    } catch (error) {
      if (options.signal.aborted) throw error;
      if (isNotFound(error)) return { key: entry.key, state: 'gone', message: '' };
      // 409: the UID precondition failed, a new object took the name: look at that one.
      if (isConflict(error) && attempt === 0) continue;
      const message =
        error instanceof KubeApiError ? `${error.status} ${error.reason}: ${error.message}` : String(error);
      logger.warn({ err: message }, 'could not delete a copy that is no longer wanted; will retry');
      return { key: entry.key, state: 'failed', message };
    }
  }
  return { key: entry.key, state: 'failed', message: 'the object kept changing identity' };
}
