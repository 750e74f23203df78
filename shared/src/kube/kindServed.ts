import { isJsonObject } from '../copy/kubeObject.js';
import { type CrdLike, crdNameOf, crdServes, type ServedKind } from '../kinds/crdServes.js';
import { isNotFound, type KubeRest, resourcePath } from './kubeRest.js';

export interface KindServedOptions {
  readonly rest: KubeRest;
  readonly kind: ServedKind;
  readonly signal?: AbortSignal;
}

/**
 * Asks the API server whether it serves `kind` now, by reading its CRD and judging it with
 * crdServes (the same rule the informers of both programs use). Core kinds (group "") have no CRD
 * and are always served. Errors other than NotFound are thrown: "cannot tell" is not "missing".
 */
export async function kindServed(options: KindServedOptions): Promise<boolean> {
  const { rest, kind, signal } = options;
  if (kind.group === '') return true;
  let crd: unknown;
  try {
    crd = await rest.request<unknown>({
      method: 'GET',
      path: resourcePath({
        group: 'apiextensions.k8s.io',
        version: 'v1',
        plural: 'customresourcedefinitions',
        name: crdNameOf(kind),
      }),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  // crdServes checks the type of every field it reads: any JSON object is a valid CrdLike.
  return isJsonObject(crd) && crdServes(crd as CrdLike, kind);
}
