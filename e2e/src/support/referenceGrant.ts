import type { KindInfo, KubeObject } from '@kuberelay/shared';

/**
 * ReferenceGrant as the Gateway API serves it (v1beta1; the lab installs the real standard-channel
 * CRDs): a kind outside the default set.
 */
export const REFERENCE_GRANT: KindInfo = Object.freeze({
  group: 'gateway.networking.k8s.io',
  version: 'v1beta1',
  kind: 'ReferenceGrant',
  plural: 'referencegrants',
  namespaced: true,
});

/** A valid ReferenceGrant (Upstreams of `namespace` may be referenced from HTTPRoutes anywhere). */
export function referenceGrant(options: {
  readonly name: string;
  readonly namespace: string;
  readonly distributeTo: string;
}): KubeObject {
  return {
    apiVersion: `${REFERENCE_GRANT.group}/${REFERENCE_GRANT.version}`,
    kind: REFERENCE_GRANT.kind,
    metadata: {
      name: options.name,
      namespace: options.namespace,
      annotations: { 'gloo.solo.io/distribute-to': options.distributeTo },
    },
    spec: {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: options.namespace }],
      to: [{ group: 'gloo.solo.io', kind: 'Upstream' }],
    },
  };
}
