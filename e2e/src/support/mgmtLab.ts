import type { KubeObject } from '@kuberelay/shared';
import { KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { afterEach, beforeAll, inject } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import { unique } from './testing.js';

/**
 * The shared lab's management cluster for tests that run a management server in-process: an admin
 * client, namespaces of their own, objects created and deleted again after each test. Call
 * `useMgmtLab()` once at the top of a test file: it registers the hooks.
 */
export class MgmtLab {
  #lab: Lab | undefined;
  #rest: KubeRest | undefined;
  readonly cleanups: (() => Promise<unknown>)[] = [];

  get lab(): Lab {
    if (this.#lab === undefined) throw new Error('useMgmtLab: used before its beforeAll hook ran');
    return this.#lab;
  }

  get rest(): KubeRest {
    if (this.#rest === undefined) throw new Error('useMgmtLab: used before its beforeAll hook ran');
    return this.#rest;
  }

  attach(): void {
    this.#lab = attachLab(inject('labDir'));
    this.#rest = new KubeRest(this.#lab.kubeConfig('mgmt'));
  }

  async cleanUp(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  }

  /** A new namespace named after `prefix`. */
  readonly createNamespace = async (prefix: string): Promise<string> => {
    const name = unique(prefix);
    await this.rest.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } });
    return name;
  };

  /**
   * Creates `object` (plural: given, or the kind lower-cased plus s/es) and deletes it after the
   * test. Returns what the API server stored.
   */
  readonly create = async <T = KubeObject>(
    object: KubeObject & { type?: string; stringData?: object },
    options: { readonly plural?: string } = {},
  ): Promise<T> => {
    const slash = object.apiVersion.lastIndexOf('/');
    const ref = {
      group: slash < 0 ? '' : object.apiVersion.slice(0, slash),
      version: object.apiVersion.slice(slash + 1),
      plural: options.plural ?? `${object.kind.toLowerCase()}${object.kind.endsWith('s') ? 'es' : 's'}`,
      namespace: object.metadata.namespace,
    };
    const created = await this.rest.request<T>({ method: 'POST', path: resourcePath(ref), body: object });
    this.cleanups.push(() =>
      this.rest.request({ method: 'DELETE', path: resourcePath({ ...ref, name: object.metadata.name }) }),
    );
    return created;
  };
}

export function useMgmtLab(): MgmtLab {
  const mgmt = new MgmtLab();
  beforeAll(() => mgmt.attach());
  afterEach(() => mgmt.cleanUp());
  return mgmt;
}
