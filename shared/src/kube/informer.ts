import type { Logger } from 'pino';
import { type Backoff, createBackoff } from '../timing/backoff.js';
import { type Clock, systemClock } from '../timing/clock.js';
import { isGone, KubeApiError, type KubeRest, type ResourceRef, resourcePath } from './kubeRest.js';

/** The part of a Kubernetes object the informer relies on. */
export interface ObjectWithMeta {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly uid?: string;
  };
}

export type InformerEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface InformerEvent<T> {
  readonly type: InformerEventType;
  readonly object: T;
}

export interface InformerOptions<T> {
  readonly rest: KubeRest;
  /** The collection to list and watch (no `name`); `namespace` absent = all namespaces. */
  readonly resource: ResourceRef;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Keep only metadata (PartialObjectMetadata, as client-go's metadata informers): for watching
   * kinds whose content is not needed, at a fraction of the memory and bandwidth.
   */
  readonly metadataOnly?: boolean;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Called in order for every change, including the differences a relist finds. */
  readonly onEvent?: (event: InformerEvent<T>) => void;
  /** Called after every complete list (the first one, and each relist after 410 Gone). */
  readonly onSynced?: () => void;
  /** Delays between failed list/watch attempts; reset after progress. Default: informerBackoff(). */
  readonly backoff?: Backoff;
  /** Waits out those delays; tests inject one so they need no real sleeps. Default: systemClock. */
  readonly clock?: Clock;
  /** Objects per list page. */
  readonly pageSize?: number;
}

/** What the API server is asked for in metadata-only mode; JSON as the fallback. */
const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const METADATA_WATCH = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

/** Identity of an object inside one collection ("namespace/name"); not the relay-wide objectKey. */
export const namespacedNameOf = (o: ObjectWithMeta): string =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/**
 * List-then-watch for one collection that never gives up until its signal aborts.
 *
 * Why not client-node's informer: it stops on errors other than 410, and its Watch ends after 30 s
 * without data. This loop keeps a local store, resumes watches from the last resourceVersion it saw
 * (bookmarks included), relists on 410 Gone (emitting DELETED for what vanished meanwhile, so no
 * delete is ever missed), retries 429 (a custom resource's cache warming up) and network errors
 * with jittered backoff, and reports `synced` only after a complete list: consumers must not act
 * on a partial view.
 */
export class Informer<T extends ObjectWithMeta> {
  readonly #options: InformerOptions<T>;
  readonly #store = new Map<string, T>();
  #resourceVersion = '';
  #synced = false;
  readonly #syncedPromise: Promise<void>;
  #resolveSynced: () => void = () => {};
  #done: Promise<void> | undefined;

  constructor(options: InformerOptions<T>) {
    this.#options = options;
    this.#syncedPromise = new Promise((resolve) => {
      this.#resolveSynced = resolve;
    });
  }

  /** Starts the loop (once). Resolves when the signal aborts. */
  start(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  /** Resolves after the first complete list. */
  get synced(): Promise<void> {
    return this.#syncedPromise;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(`${namespace ?? ''}/${name}`);
  }

  async #run(): Promise<void> {
    const { signal, logger } = this.#options;
    const delays = this.#options.backoff ?? informerBackoff();
    const clock = this.#options.clock ?? systemClock;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#relist();
          needList = false;
          delays.reset();
        }
        const progressed = await this.#watchOnce();
        if (progressed) delays.reset();
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          logger.info({ resource: this.#options.resource.plural }, 'watch expired (410 Gone); relisting');
          needList = true;
          continue;
        }
        const wait = delays.next();
        logger.warn(
          { resource: this.#options.resource.plural, err: describeError(error), retryInMs: wait },
          'list/watch failed; retrying',
        );
        // Rejects only when `signal` aborts, which ends the loop.
        await clock.sleep(wait, signal).catch(() => {});
      }
    }
  }

  async #relist(): Promise<void> {
    const { rest, resource, signal } = this.#options;
    const fresh = new Map<string, T>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await rest.request<{
        items?: T[];
        metadata?: { resourceVersion?: string; continue?: string };
      }>({
        method: 'GET',
        path: resourcePath(resource),
        query: {
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
          limit: this.#options.pageSize ?? 500,
          continue: continueToken,
        },
        ...(this.#options.metadataOnly ? { accept: METADATA_LIST } : {}),
        signal,
      });
      for (const item of page.items ?? []) fresh.set(namespacedNameOf(item), item);
      continueToken = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (continueToken);

    // Replace the store, telling consumers what changed while we were not watching.
    for (const [key, old] of this.#store) {
      if (!fresh.has(key)) this.#emit({ type: 'DELETED', object: old });
    }
    for (const [key, obj] of fresh) {
      const old = this.#store.get(key);
      if (!old) this.#emit({ type: 'ADDED', object: obj });
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        this.#emit({ type: 'MODIFIED', object: obj });
    }
    this.#store.clear();
    for (const [key, obj] of fresh) this.#store.set(key, obj);
    this.#resourceVersion = resourceVersion;
    // Synced before telling anyone, so a consumer may call hasSynced() from onSynced.
    const first = !this.#synced;
    this.#synced = true;
    this.#options.onSynced?.();
    if (first) this.#resolveSynced();
  }

  /** Watches from the last resourceVersion until the stream ends. Returns whether any event arrived. */
  async #watchOnce(): Promise<boolean> {
    const { rest, resource, signal } = this.#options;
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let progressed = false;
    try {
      const stream = await rest.stream({
        path: resourcePath(resource),
        query: {
          watch: true,
          resourceVersion: this.#resourceVersion,
          allowWatchBookmarks: true,
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
          // Like client-go: the server ends the watch after 5-10 minutes and we resume, so a
          // half-dead connection is never trusted for long.
          timeoutSeconds: 300 + Math.floor(Math.random() * 300),
        },
        ...(this.#options.metadataOnly ? { accept: METADATA_WATCH } : {}),
        signal: controller.signal,
      });
      for await (const line of lines(stream.body)) {
        const event = JSON.parse(line) as {
          type: string;
          object: T & { code?: number; reason?: string; message?: string };
        };
        if (event.type === 'ERROR') {
          const status = event.object;
          throw new KubeApiError({
            status: status.code ?? 500,
            reason: status.reason ?? 'Unknown',
            message: status.message ?? 'watch error',
          });
        }
        progressed = true;
        const rv = event.object.metadata?.resourceVersion;
        if (rv) this.#resourceVersion = rv;
        if (event.type === 'BOOKMARK') continue;
        this.#apply(event.type as InformerEventType, event.object);
      }
      return progressed;
    } finally {
      signal.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }

  #apply(type: InformerEventType, object: T): void {
    const key = namespacedNameOf(object);
    if (type === 'DELETED') this.#store.delete(key);
    else this.#store.set(key, object);
    this.#emit({ type, object });
  }

  #emit(event: InformerEvent<T>): void {
    try {
      this.#options.onEvent?.(event);
    } catch (error) {
      // A consumer bug must not kill the watch of everyone else; it is reported, not swallowed.
      this.#options.logger.error(
        { err: describeError(error), resource: this.#options.resource.plural },
        'informer handler failed',
      );
    }
  }
}

/** Splits a byte stream into lines (a watch sends one JSON event per line). */
async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
      newline = buffer.indexOf('\n');
    }
  }
  const rest = (buffer + decoder.decode()).trim();
  if (rest) yield rest;
}

function describeError(error: unknown): string {
  if (error instanceof KubeApiError) return `${error.status} ${error.reason}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The informer's retry delays: full jitter from 100 ms, at most 10 s (less than the agents'
 * reconnect ceiling: an informer retries one API server it already knows to exist).
 */
export function informerBackoff(): Backoff {
  return createBackoff({ minMs: 100, maxMs: 10_000 });
}
