import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { groupKindOf } from '../kinds/kindInfo.js';
import { type ObjectRef, objectKey } from '../source/objectRef.js';
import { setIn } from './immutable.js';
import { formatPath, type KubeObject } from './kubeObject.js';
import { type FoundReference, isLocalReference, referencedSources } from './references.js';

/**
 * Where distributed sources land in ONE workload cluster. The same placement is used for every
 * copy of that cluster, so a reference resolves the same way whichever object holds it.
 */
export interface Placement {
  /** Namespaces (sorted, unique) of the copies of `source` in this cluster; empty when the
   * source is not distributed to it. For cluster-scoped sources the list holds `''`. */
  landingNamespaces(source: ObjectRef): readonly string[];
}

export interface RewriteReferencesOptions {
  /** Namespace of the source the copy was built from: the namespace of references without one. */
  readonly sourceNamespace: string | undefined;
  readonly placement: Placement;
}

export interface RewriteResult {
  /** The copy with references rewritten; the very same object when nothing changed. */
  readonly object: KubeObject;
  /** UnresolvedReference / AmbiguousReference, one per reference left as it was. */
  readonly warnings: readonly RelayError[];
}

/**
 * docs/spec.md §3 transform 2. For each reference to a distributed kind, the referenced source (the
 * reference's namespace, or the referring source's when it has none) is looked up in `placement`:
 *
 * - it lands in exactly one namespace L: the reference must resolve to L in the copy. An explicit
 *   namespace is set to L; an implicit one resolves to the copy's own namespace, so it is made
 *   explicit only when L differs from that (and otherwise left implicit, byte for byte);
 * - it is not distributed to this cluster, or lands in several namespaces: the reference is left
 *   as it is and a warning says why.
 *
 * A local reference (no namespace field) always resolves in the copy's own namespace, so it is
 * never rewritten: it only gets an UnresolvedReference warning when the referenced source does not
 * land in that namespace of this cluster.
 *
 * Only objects on the path to a changed reference are copied; everything else is shared with
 * `copy`, which is never modified.
 */
export function rewriteReferences(copy: KubeObject, options: RewriteReferencesOptions): RewriteResult {
  let object = copy;
  const warnings: RelayError[] = [];
  for (const { found, target } of referencedSources(copy, options)) {
    const landing = options.placement.landingNamespaces(target);
    if (isLocalReference(found.role)) {
      const here = copy.metadata.namespace ?? '';
      if (!landing.includes(here)) warnings.push(notBeside(found, target, here, landing));
      continue;
    }
    const [only] = landing;
    if (only === undefined || landing.length > 1) {
      warnings.push(unresolved(found.path, target, landing));
      continue;
    }
    const current = found.namespace ?? copy.metadata.namespace;
    if (only !== current) {
      object = withNamespace(object, found.path, only);
    }
  }
  return { object, warnings };
}

function withNamespace(object: KubeObject, path: Parameters<typeof setIn>[1], namespace: string): KubeObject {
  const [field, ...rest] = path;
  if (typeof field !== 'string') {
    throw new TypeError('reference paths start with a field name');
  }
  return Object.freeze({ ...object, [field]: setIn(object[field], [...rest, 'namespace'], namespace) });
}

function unresolved(
  path: Parameters<typeof formatPath>[0],
  target: ObjectRef,
  landing: readonly string[],
): RelayError {
  const where = formatPath(path);
  const what = `${groupKindOf(target)} ${target.namespace ?? ''}/${target.name}`;
  const details = { path: where, reference: objectKey(target) };
  return landing.length === 0
    ? new RelayError({
        code: ErrorCode.UnresolvedReference,
        message: `${where} refers to ${what}, which is not distributed to this cluster; the reference is left as it is`,
        details,
      })
    : new RelayError({
        code: ErrorCode.AmbiguousReference,
        message: `${where} refers to ${what}, which lands in several namespaces of this cluster (${landing.join(', ')}); the reference is left as it is`,
        details,
      });
}

function notBeside(
  found: FoundReference,
  target: ObjectRef,
  here: string,
  landing: readonly string[],
): RelayError {
  const where = formatPath(found.path);
  const what = `${groupKindOf(target)} ${target.name}`;
  const elsewhere =
    landing.length === 0
      ? 'which is not distributed to this cluster'
      : `whose copies land in ${landing.join(', ')}, not beside it`;
  return new RelayError({
    code: ErrorCode.UnresolvedReference,
    message: `${where} is a local reference to ${what} in the copy's namespace ${here}, ${elsewhere}; distribute ${what} to the same clusters and namespace`,
    details: { path: where, reference: objectKey(target) },
  });
}
