import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { ApiGroup, groupKindOf, type KindInfo, KindName } from '../kinds/kindInfo.js';
import { dnsLabelProblem } from '../names/kubeNames.js';
import type { KubeObject } from './kubeObject.js';
import { formatPath } from './kubeObject.js';
import { findReferences, ReferenceRole } from './references.js';

/**
 * Why `source` must not be distributed at all (docs/spec.md §3), independently of its distribute-to value;
 * empty when it may be. Every problem is returned, not only the first.
 *
 * - the name must be a DNS-1123 label of at most 63 characters (copies keep the source's name, and
 *   the most restrictive kinds need a label);
 * - a namespaced kind must have a namespace (the copy's default namespace comes from it);
 * - every backend of an HTTPRoute (backendRefs and request mirrors) must be a `gloo.solo.io`
 *   Upstream; a backendRef without kind is a Service and is refused.
 */
export function validateSource(source: KubeObject, kind: KindInfo): readonly RelayError[] {
  const errors: RelayError[] = [];
  const { name, namespace } = source.metadata;
  const problem = dnsLabelProblem(name);
  if (problem !== undefined) {
    errors.push(
      new RelayError({
        code: ErrorCode.InvalidName,
        message: `name "${name}" cannot be used for copies: it ${problem}`,
        details: { name },
      }),
    );
  }
  if (kind.namespaced && (namespace === undefined || namespace === '')) {
    errors.push(
      new RelayError({
        code: ErrorCode.InvalidObject,
        message: `a ${kind.kind} is namespaced but the source has no namespace`,
      }),
    );
  }
  if (kind.group === ApiGroup.GatewayApi && kind.kind === KindName.HTTPRoute) {
    errors.push(...backendErrors(source));
  }
  return errors;
}

function backendErrors(route: KubeObject): RelayError[] {
  return findReferences(route)
    .filter(
      (ref) =>
        ref.role === ReferenceRole.Backend &&
        !(ref.group === ApiGroup.Gloo && ref.kind === KindName.Upstream),
    )
    .map((ref) => {
      const path = formatPath(ref.path);
      const kind = ref.kind ?? 'unknown';
      const what = ref.group === '' ? `${kind} (core API group)` : groupKindOf({ group: ref.group, kind });
      return new RelayError({
        code: ErrorCode.NonUpstreamBackend,
        message: `backend ${path} ("${ref.name}") is of kind ${what}: a distributed HTTPRoute may only use Upstreams (group: gloo.solo.io, kind: Upstream; no kind means Service)`,
        details: { path },
      });
    });
}
