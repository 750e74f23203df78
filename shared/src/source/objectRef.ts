import type { KindInfo } from '../kinds/kindInfo.js';
import { splitApiVersion } from '../kinds/kindInfo.js';

/**
 * Identity of a Kubernetes object independent of version: group, kind, namespace (undefined for
 * cluster-scoped objects) and name. Used both for sources in the management cluster and for the
 * objects references point to.
 */
export interface ObjectRef {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
}

/** A source object in the management cluster. */
export type SourceRef = ObjectRef;

/**
 * `<group>/<Kind>/<namespace or "">/<name>`: a stable, unique, human-readable key. Unique because
 * no segment but the group may contain `/` and the group is always followed by exactly three more
 * segments. Used as the copy key in desired sets and as the source key in reports and logs.
 */
export function objectKey(ref: ObjectRef): string {
  return `${ref.group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** The ref of an object given its apiVersion, kind and metadata. */
export function objectRefOf(object: {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string | undefined };
}): ObjectRef {
  const namespace = object.metadata.namespace;
  return {
    group: splitApiVersion(object.apiVersion).group,
    kind: object.kind,
    namespace: namespace === undefined || namespace === '' ? undefined : namespace,
    name: object.metadata.name,
  };
}

/** Same as objectRefOf, but drops a namespace the API would ignore for a cluster-scoped kind. */
export function sourceRefOf(
  object: Parameters<typeof objectRefOf>[0],
  kind: Pick<KindInfo, 'namespaced'>,
): SourceRef {
  const ref = objectRefOf(object);
  return kind.namespaced ? ref : { ...ref, namespace: undefined };
}
