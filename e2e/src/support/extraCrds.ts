import type { KindInfo, KubeObject } from '@kuberelay/shared';
import { isConflict, type KubeRest } from '@kuberelay/shared/kube';
import { waitEstablished } from '../lab/crds.js';

/** ReferenceGrant as the Gateway API serves it (v1beta1): a kind outside the default set. */
export const REFERENCE_GRANT: KindInfo = Object.freeze({
  group: 'gateway.networking.k8s.io',
  version: 'v1beta1',
  kind: 'ReferenceGrant',
  plural: 'referencegrants',
  namespaced: true,
});

/**
 * Makes the lab's management cluster serve ReferenceGrant. The lab installs deploy/crds, which may
 * or may not hold the Gateway API's own CRD for it; when it is missing, a minimal one (any spec)
 * is created. It is never deleted: other test files may rely on it, and an installed CRD is
 * harmless to servers that do not distribute the kind.
 */
export async function ensureReferenceGrantCrd(rest: KubeRest): Promise<void> {
  const name = `${REFERENCE_GRANT.plural}.${REFERENCE_GRANT.group}`;
  await rest
    .request({
      method: 'POST',
      path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        // The Gateway API group is protected: its CRDs must say where the API was approved.
        metadata: {
          name,
          annotations: {
            'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/2466',
          },
        },
        spec: {
          group: REFERENCE_GRANT.group,
          scope: 'Namespaced',
          names: {
            kind: 'ReferenceGrant',
            plural: 'referencegrants',
            singular: 'referencegrant',
            listKind: 'ReferenceGrantList',
          },
          versions: [
            {
              name: REFERENCE_GRANT.version,
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                },
              },
            },
          ],
        },
      },
    })
    .catch((error: unknown) => {
      if (!isConflict(error)) throw error;
    });
  await waitEstablished(rest, name, 30_000);
}

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
