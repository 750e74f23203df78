import {
  KUBERNETES_CLUSTER,
  type KubernetesClusterStatus,
  REJECTED_AGENTS_CONFIGMAP,
  ROLLOUT_REVISIONS_CONFIGMAP,
  tokenSecretName,
} from '@kuberelay/shared';
import type { ResourceRef } from '@kuberelay/shared/kube';

/**
 * The shapes relayctl reads, as the API returns them (plain JSON, timestamps as strings). Only
 * the fields relayctl uses are declared; the rest is carried along untyped.
 */
export interface Metadata {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
}

export interface KubernetesClusterObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: Metadata;
  readonly status?: KubernetesClusterStatus;
}

export interface LeaseObject {
  readonly metadata: Metadata;
  readonly spec?: {
    readonly holderIdentity?: string;
    readonly leaseDurationSeconds?: number;
    readonly renewTime?: string;
    readonly acquireTime?: string;
  };
}

export interface SecretObject {
  readonly metadata: Metadata;
  readonly type?: string;
  /** Values are base64. */
  readonly data?: Readonly<Record<string, string>>;
}

export interface ConfigMapObject {
  readonly metadata: Metadata;
  readonly data?: Readonly<Record<string, string>>;
}

/** A core/v1 Event (events.k8s.io/v1 events are served through it too). */
export interface EventObject {
  readonly metadata: Metadata;
  readonly involvedObject?: {
    readonly apiVersion?: string;
    readonly kind?: string;
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
  };
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly firstTimestamp?: string | null;
  readonly lastTimestamp?: string | null;
  readonly eventTime?: string | null;
  readonly series?: { readonly count?: number; readonly lastObservedTime?: string } | null;
}

export const kubernetesClusterRef = (namespace: string, name?: string): ResourceRef => ({
  group: KUBERNETES_CLUSTER.group,
  version: KUBERNETES_CLUSTER.version,
  plural: KUBERNETES_CLUSTER.plural,
  namespace,
  name,
});

export const secretRef = (namespace: string, name?: string): ResourceRef => ({
  group: '',
  version: 'v1',
  plural: 'secrets',
  namespace,
  name,
});

export const tokenSecretRef = (namespace: string, cluster: string): ResourceRef =>
  secretRef(namespace, tokenSecretName(cluster));

export const namespaceRef = (name?: string): ResourceRef => ({
  group: '',
  version: 'v1',
  plural: 'namespaces',
  name,
});

export const leaseRef = (namespace: string, name?: string): ResourceRef => ({
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  namespace,
  name,
});

export const rejectedAgentsRef = (namespace: string): ResourceRef => ({
  group: '',
  version: 'v1',
  plural: 'configmaps',
  namespace,
  name: REJECTED_AGENTS_CONFIGMAP,
});

export const rolloutRevisionsRef = (namespace: string): ResourceRef => ({
  group: '',
  version: 'v1',
  plural: 'configmaps',
  namespace,
  name: ROLLOUT_REVISIONS_CONFIGMAP,
});

/** Events of one namespace, or of every namespace when `namespace` is undefined. */
export const eventsRef = (namespace: string | undefined): ResourceRef => ({
  group: '',
  version: 'v1',
  plural: 'events',
  namespace,
});
