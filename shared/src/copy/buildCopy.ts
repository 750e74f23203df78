import { ApiGroup, KindName, splitApiVersion } from '../kinds/kindInfo.js';
import { Annotation, KUBERELAY_PREFIX, Label, MANAGED_BY_AGENT } from '../source/annotations.js';
import { formatSourceUri } from '../source/sourceUri.js';
import { compareStrings } from '../util/compare.js';
import { deepFreeze } from './immutable.js';
import { isJsonObject, type KubeObject, type ObjectMeta } from './kubeObject.js';

/** GatewayClass names swapped in Gateway copies: source class → class in workload clusters. */
export type GatewayClassMapping = Readonly<Record<string, string>>;

/** docs/spec.md §3 transform 1 default. */
export const DEFAULT_CLASS_MAPPING: GatewayClassMapping = Object.freeze({
  'gloo-gateway-distribute': 'gloo-gateway',
});

export interface BuildCopyOptions {
  readonly source: KubeObject;
  /** Namespace of the copy; undefined for a cluster-scoped kind. */
  readonly targetNamespace: string | undefined;
  /** Name of the management cluster, for the relay label and the distributed-source URI. */
  readonly mgmtCluster: string;
  readonly classMapping: GatewayClassMapping;
}

/** Top-level fields never copied: metadata is rebuilt, status belongs to each cluster. */
const NOT_COPIED = new Set(['apiVersion', 'kind', 'metadata', 'status']);

/**
 * The copy of `source` for one target namespace, before reference rewriting (docs/spec.md §3).
 *
 * - metadata is rebuilt from an allow-list (name, namespace, labels, annotations), so uid,
 *   resourceVersion, generation, timestamps, managedFields, ownerReferences and finalizers can
 *   never leak into a workload cluster, whatever new fields the API adds;
 * - labels: the source's plus the two relay labels (which win over source labels of that name);
 * - annotations: the source's minus distribute-to, kubectl's last-applied configuration and every
 *   `kuberelay.dev/` annotation (that prefix is reserved for what the relay itself puts on copies;
 *   a source's `conflict-resolution` is a directive to the relay, carried in `DesiredCopy.overwrite`),
 *   plus distributed-source. The URI has a namespace exactly when the source has one;
 * - label and annotation keys are sorted, so equal sources give byte-identical copies;
 * - `status` is dropped; every other top-level field is deep-copied;
 * - GatewayClass swap (transform 1) for `gateway.networking.k8s.io` Gateways.
 *
 * The result is deeply frozen and shares nothing with `source`.
 */
export function buildCopy(options: BuildCopyOptions): KubeObject {
  const { source, targetNamespace } = options;
  const body: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(source)) {
    if (!NOT_COPIED.has(field)) {
      body[field] = structuredClone(value);
    }
  }
  const metadata: ObjectMeta = {
    name: source.metadata.name,
    ...(targetNamespace === undefined ? {} : { namespace: targetNamespace }),
    labels: copyLabels(source, options.mgmtCluster),
    annotations: copyAnnotations(source, options.mgmtCluster),
  };
  const copy: KubeObject = { apiVersion: source.apiVersion, kind: source.kind, metadata, ...body };
  return deepFreeze(swapGatewayClass(copy, options.classMapping));
}

function copyLabels(source: KubeObject, mgmtCluster: string): Readonly<Record<string, string>> {
  return sortedRecord([
    ...Object.entries(source.metadata.labels ?? {}).filter(
      ([key]) => key !== Label.RelayCluster && key !== Label.ManagedBy,
    ),
    [Label.RelayCluster, mgmtCluster],
    [Label.ManagedBy, MANAGED_BY_AGENT],
  ]);
}

const DROPPED_ANNOTATIONS = new Set<string>([
  Annotation.DistributeTo,
  Annotation.LastAppliedConfiguration,
  Annotation.DistributedSource,
]);

function copyAnnotations(source: KubeObject, mgmtCluster: string): Readonly<Record<string, string>> {
  const { namespace, name } = source.metadata;
  const uri = formatSourceUri({ mgmtCluster, namespace, kind: source.kind, name });
  return sortedRecord([
    ...Object.entries(source.metadata.annotations ?? {}).filter(
      ([key]) => !DROPPED_ANNOTATIONS.has(key) && !key.startsWith(KUBERELAY_PREFIX),
    ),
    [Annotation.DistributedSource, uri],
  ]);
}

/** Object.fromEntries defines own properties, so keys such as `__proto__` stay plain data. */
function sortedRecord(entries: readonly (readonly [string, string])[]): Readonly<Record<string, string>> {
  return Object.fromEntries([...entries].sort(([a], [b]) => compareStrings(a, b)));
}

function swapGatewayClass(copy: KubeObject, mapping: GatewayClassMapping): KubeObject {
  if (copy.kind !== KindName.Gateway || splitApiVersion(copy.apiVersion).group !== ApiGroup.GatewayApi) {
    return copy;
  }
  const spec = copy.spec;
  if (!isJsonObject(spec) || typeof spec.gatewayClassName !== 'string') {
    return copy;
  }
  // Own properties only: a class named `constructor` must not find Object.prototype's.
  const replacement = Object.hasOwn(mapping, spec.gatewayClassName)
    ? mapping[spec.gatewayClassName]
    : undefined;
  return replacement === undefined ? copy : { ...copy, spec: { ...spec, gatewayClassName: replacement } };
}
