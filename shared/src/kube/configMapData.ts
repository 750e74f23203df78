import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { isConflict, isNotFound, type KubeRest } from './kubeRest.js';

export interface UpdateConfigMapDataOptions {
  readonly rest: KubeRest;
  readonly namespace: string;
  readonly name: string;
  readonly signal?: AbortSignal;
  /**
   * The data to write, from the data there now (undefined: no ConfigMap yet); undefined when
   * nothing needs writing (another writer already wrote the same facts).
   */
  readonly merge: (data: Readonly<Record<string, string>> | undefined) => Record<string, string> | undefined;
}

interface ConfigMap {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly data?: Record<string, string>;
}

/**
 * Read, merge, write one ConfigMap's data, optimistically: the write carries the resourceVersion
 * read, so a concurrent writer (another server replica) makes it read and merge again, up to three
 * times. Creates the ConfigMap when there is none. What the server's small shared records
 * (rejected agents, rollout revisions) are written with.
 */
export async function updateConfigMapData(options: UpdateConfigMapDataOptions): Promise<void> {
  const { rest, namespace, name, signal } = options;
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  for (let attempt = 0; attempt < 3; attempt++) {
    let current: ConfigMap | undefined;
    try {
      current = await rest.request<ConfigMap>({ method: 'GET', path: `${path}/${name}`, signal });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const data = options.merge(current?.data);
    if (data === undefined) return;
    const resourceVersion = current?.metadata?.resourceVersion;
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      data,
    };
    try {
      await rest.request(
        current === undefined
          ? { method: 'POST', path, body, signal }
          : { method: 'PUT', path: `${path}/${name}`, body, signal },
      );
      return;
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }
  throw new RelayError({
    code: ErrorCode.Internal,
    message: `the ConfigMap ${name} kept changing while it was written (3 conflicts in a row)`,
  });
}
