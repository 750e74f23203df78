import { FieldManager } from '@kuberelay/shared';
import { ContentType, KubeApiError, KubeRest, type ResourceRef, resourcePath } from '@kuberelay/shared/kube';
import type { KubeConfig } from '@kubernetes/client-node';
import { CliError, CliErrorCode, oneLine } from './cliErrors.js';

/** A list response: only the items are read. */
export interface KubeList<T> {
  readonly items: readonly T[];
}

/** How many times a 429 (the API server initialising a watch cache, or throttling) is retried. */
const MAX_ATTEMPTS = 5;
const RETRY_DELAY_MS = 200;

/**
 * The Kubernetes operations relayctl needs, on one context, with errors that say where they
 * happened. 404 is an answer (`get` → undefined, `delete` → false, `create` → existed) rather
 * than an error where a command has something to do about it; everything else becomes a
 * one-line CliError naming the context.
 */
export class KubeClient {
  readonly context: string;
  readonly #rest: KubeRest;
  readonly #server: string;

  constructor(options: { readonly kubeConfig: KubeConfig; readonly context: string }) {
    this.context = options.context;
    this.#rest = new KubeRest(options.kubeConfig);
    this.#server = this.#rest.server;
  }

  async get<T>(ref: ResourceRef, what: string): Promise<T | undefined> {
    try {
      return await this.#request<T>({ method: 'GET', path: resourcePath(ref) });
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw this.#wrap(error, what);
    }
  }

  /** Lists a collection; a collection the server does not serve (CRD missing) is NotInstalled. */
  async list<T>(
    ref: ResourceRef,
    what: string,
    query: Readonly<Record<string, string>> = {},
  ): Promise<readonly T[]> {
    try {
      const list = await this.#request<KubeList<T>>({ method: 'GET', path: resourcePath(ref), query });
      return list.items ?? [];
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) {
        throw new CliError({
          code: CliErrorCode.NotInstalled,
          message: `${what}: the API server of context "${this.context}" does not serve ${ref.plural}.${ref.group || 'core'} (is the CRD installed?)`,
          cause: error,
        });
      }
      throw this.#wrap(error, what);
    }
  }

  /** Creates `body`; when it already exists, returns the existing object instead. */
  async createOrGet<T>(
    ref: ResourceRef,
    body: unknown,
    what: string,
  ): Promise<{ created: boolean; object: T }> {
    const created = await this.#create<T>(ref, body, what);
    if (created !== undefined) return { created: true, object: created };
    const object = await this.get<T>(ref, what);
    if (object === undefined)
      throw this.#wrap(new Error('it exists and vanished again; run the command again'), what);
    return { created: false, object };
  }

  /** Creates `body`, or replaces the object that exists (an unconditional update). */
  async createOrReplace<T>(
    ref: ResourceRef,
    body: unknown,
    what: string,
  ): Promise<{ created: boolean; object: T }> {
    const created = await this.#create<T>(ref, body, what);
    if (created !== undefined) return { created: true, object: created };
    return { created: false, object: await this.replace<T>(ref, body, what) };
  }

  /**
   * Replaces the object (PUT). With `metadata.resourceVersion` in `body` it is a compare-and-swap:
   * a change made meanwhile makes the API server answer 409, which is reported, never overwritten.
   */
  async replace<T>(ref: ResourceRef, body: unknown, what: string): Promise<T> {
    try {
      return await this.#request<T>({ method: 'PUT', path: resourcePath(ref), body, query: fieldManager });
    } catch (error) {
      throw this.#wrap(error, what);
    }
  }

  /** POSTs `body`; undefined when an object of that name already exists. */
  async #create<T>(ref: ResourceRef, body: unknown, what: string): Promise<T | undefined> {
    try {
      return await this.#request<T>({
        method: 'POST',
        path: resourcePath({ ...ref, name: undefined }),
        body,
        query: fieldManager,
      });
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 409 && error.reason === 'AlreadyExists')
        return undefined;
      throw this.#wrap(error, what);
    }
  }

  /** Deletes the object; false when it did not exist. */
  async delete(ref: ResourceRef, what: string): Promise<boolean> {
    try {
      await this.#request({ method: 'DELETE', path: resourcePath(ref) });
      return true;
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return false;
      throw this.#wrap(error, what);
    }
  }

  async #request<T>(req: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    path: string;
    body?: unknown;
    query?: Readonly<Record<string, string>>;
  }): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#rest.request<T>({
          ...req,
          ...(req.body === undefined ? {} : { contentType: ContentType.json }),
        });
      } catch (error) {
        const throttled = error instanceof KubeApiError && error.status === 429;
        if (!throttled || attempt >= MAX_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * attempt));
      }
    }
  }

  #wrap(error: unknown, what: string): CliError {
    if (error instanceof CliError) return error;
    if (error instanceof KubeApiError) {
      const hint = error.status === 401 || error.status === 403 ? ' (check your credentials and RBAC)' : '';
      return new CliError({
        code: CliErrorCode.KubeApi,
        message: `${what} (context "${this.context}"): ${oneLine(error)}${hint}`,
        cause: error,
      });
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
    return new CliError({
      code: CliErrorCode.Unreachable,
      message: `${what}: cannot reach the API server of context "${this.context}" (${this.#server}): ${oneLine(cause ?? error)}`,
      cause: error,
    });
  }
}

const fieldManager = { fieldManager: FieldManager.relayctl } as const;
