import {
  type Clock,
  decodeRevisions,
  encodeRevisions,
  type Logger,
  type RecordedRevision,
  ROLLOUT_REVISIONS_CONFIGMAP,
  recordComplete,
  revisionKey,
} from '@kuberelay/shared';
import { type KubeRest, updateConfigMapData } from '@kuberelay/shared/kube';

// Keeps, per rollout source, the last revision every wave applied and the one before it, in
// ConfigMap ROLLOUT_REVISIONS_CONFIGMAP (docs/spec.md D10.5): what `relayctl rollout undo` puts
// the source back to. Written as the rejected-agents record is: batched (at most one
// read-modify-write a second), optimistic (resourceVersion), every replica merging the same facts.

export interface RevisionStoreOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

export class RevisionStore {
  readonly #o: RevisionStoreOptions;
  /** Revisions seen complete, not written yet, by source key (the latest wins). */
  #pending = new Map<string, RecordedRevision>();
  #scheduled = false;

  constructor(options: RevisionStoreOptions) {
    this.#o = options;
  }

  /** Every wave of `sourceKey`'s rollout applied `complete`. */
  complete(sourceKey: string, complete: RecordedRevision): void {
    this.#pending.set(sourceKey, complete);
    if (this.#scheduled || this.#o.signal.aborted) return;
    this.#scheduled = true;
    this.#o.clock.sleep(1_000, this.#o.signal).then(
      () => void this.#flush(),
      () => {},
    );
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.#write(batch);
    } catch (error) {
      if (this.#o.signal.aborted) return;
      this.#o.logger.warn(
        { err: error, sources: batch.size },
        'recording complete rollout revisions failed; will retry',
      );
      for (const [key, value] of batch) if (!this.#pending.has(key)) this.#pending.set(key, value);
    } finally {
      this.#scheduled = false;
      const again = [...this.#pending];
      this.#pending = new Map();
      for (const [key, value] of again) this.complete(key, value);
    }
  }

  async #write(batch: ReadonlyMap<string, RecordedRevision>): Promise<void> {
    await updateConfigMapData({
      rest: this.#o.rest,
      namespace: this.#o.namespace,
      name: ROLLOUT_REVISIONS_CONFIGMAP,
      signal: this.#o.signal,
      merge: (data) => {
        const records = decodeRevisions(data);
        let changed = false;
        for (const [sourceKey, complete] of batch) {
          const key = revisionKey(sourceKey);
          const before = records.get(key);
          const after = recordComplete(before, sourceKey, complete);
          if (after !== before) {
            records.set(key, after);
            changed = true;
          }
        }
        // Another replica wrote the same facts first: nothing to write.
        return changed ? encodeRevisions(records) : undefined;
      },
    });
  }
}
