import { isNotFound, type KubeRest } from '@kuberelay/shared/kube';
import type { LeaseRead, LeaseRecord } from './leaseDecision.js';

/** A `coordination.k8s.io/v1` Lease as the agent reads and writes it. */
export interface LeaseObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly acquireTime?: string;
    readonly renewTime?: string;
    readonly leaseTransitions?: number;
  };
}

/** Lease `renewTime` format: RFC 3339 with microseconds (metav1.MicroTime). */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export const leasesPath = (namespace: string): string =>
  `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;

/** The fields the election decides on; absent ones read as a free Lease would. */
export function recordOf(lease: LeaseObject): LeaseRecord {
  return {
    holderIdentity: lease.spec?.holderIdentity ?? '',
    leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? 0,
    renewTime: lease.spec?.renewTime ?? '',
    leaseTransitions: lease.spec?.leaseTransitions ?? 0,
    resourceVersion: lease.metadata.resourceVersion ?? '',
  };
}

/**
 * Thin I/O over one named Lease: reads never throw (a failure is `unreadable`, logged by the
 * caller), writes throw the API server's error (409 when the resourceVersion moved on).
 */
export class LeaseApi {
  readonly #rest: KubeRest;
  readonly #namespace: string;

  constructor(options: { readonly rest: KubeRest; readonly namespace: string }) {
    this.#rest = options.rest;
    this.#namespace = options.namespace;
  }

  async read(
    name: string,
    options: { readonly signal: AbortSignal; readonly timeoutMs: number },
  ): Promise<{ read: LeaseRead; object: LeaseObject | undefined; error: unknown }> {
    try {
      const object = await this.#rest.request<LeaseObject>({
        method: 'GET',
        path: `${leasesPath(this.#namespace)}/${encodeURIComponent(name)}`,
        signal: options.signal,
        timeoutMs: options.timeoutMs,
      });
      return { read: { kind: 'found', record: recordOf(object) }, object, error: undefined };
    } catch (error) {
      if (isNotFound(error)) return { read: { kind: 'missing' }, object: undefined, error: undefined };
      return { read: { kind: 'unreadable' }, object: undefined, error };
    }
  }

  async list(options: {
    readonly labelSelector: string;
    readonly signal: AbortSignal;
    readonly timeoutMs: number;
  }): Promise<readonly LeaseObject[]> {
    const list = await this.#rest.request<{ items?: LeaseObject[] }>({
      method: 'GET',
      path: leasesPath(this.#namespace),
      query: { labelSelector: options.labelSelector },
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    return list.items ?? [];
  }

  create(body: LeaseObject, options: { readonly signal: AbortSignal; readonly timeoutMs: number }) {
    return this.#rest.request<LeaseObject>({
      method: 'POST',
      path: leasesPath(this.#namespace),
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...body },
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
  }

  /** A compare-and-swap: `body.metadata.resourceVersion` must be the one read (409 otherwise). */
  replace(body: LeaseObject, options: { readonly signal: AbortSignal; readonly timeoutMs: number }) {
    return this.#rest.request<LeaseObject>({
      method: 'PUT',
      path: `${leasesPath(this.#namespace)}/${encodeURIComponent(body.metadata.name)}`,
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...body },
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
  }

  delete(
    name: string,
    options: { readonly resourceVersion: string; readonly signal: AbortSignal; readonly timeoutMs: number },
  ) {
    return this.#rest.request({
      method: 'DELETE',
      path: `${leasesPath(this.#namespace)}/${encodeURIComponent(name)}`,
      body: { preconditions: { resourceVersion: options.resourceVersion } },
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
  }
}
