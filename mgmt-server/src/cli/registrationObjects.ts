import {
  AGENT_CREDENTIALS_SECRET,
  AgentCredentialsKey,
  KUBERNETES_CLUSTER,
  RegistrationAnnotation,
  RegistrationLabel,
  TOKEN_SECRET_HASH_KEY,
  TOKEN_SECRET_TYPE,
  tokenSecretName,
} from '@kuberelay/shared';

// The objects `relayctl register` writes, as pure values (docs/design.md, "Identity and
// registration"). Only the agent credentials Secret ever holds a token.

const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'relayctl' } as const;

export function kubernetesClusterManifest(options: { cluster: string; namespace: string }) {
  return {
    apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
    kind: KUBERNETES_CLUSTER.kind,
    metadata: { name: options.cluster, namespace: options.namespace, labels: { ...MANAGED_BY } },
    spec: {},
  };
}

/**
 * The Secret holding the SHA-256 of a cluster's token. Owned by its KubernetesCluster, so
 * deleting the cluster with kubectl also removes it (where the garbage collector runs).
 */
export function tokenSecretManifest(options: {
  cluster: string;
  namespace: string;
  tokenHash: string;
  issuedAt: Date;
  owner?: { readonly uid: string } | undefined;
}) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: TOKEN_SECRET_TYPE,
    metadata: {
      name: tokenSecretName(options.cluster),
      namespace: options.namespace,
      labels: { [RegistrationLabel.cluster]: options.cluster, ...MANAGED_BY },
      annotations: { [RegistrationAnnotation.issuedAt]: options.issuedAt.toISOString() },
      ...(options.owner
        ? {
            ownerReferences: [
              {
                apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
                kind: KUBERNETES_CLUSTER.kind,
                name: options.cluster,
                uid: options.owner.uid,
              },
            ],
          }
        : {}),
    },
    data: { [TOKEN_SECRET_HASH_KEY]: Buffer.from(options.tokenHash, 'utf8').toString('base64') },
  };
}

/** The agent's credentials in the workload cluster. `stringData`, so the printed YAML is readable. */
export function credentialsSecretManifest(options: {
  cluster: string;
  namespace: string;
  token: string;
  server: string;
  mgmtCluster: string;
}) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: {
      name: AGENT_CREDENTIALS_SECRET,
      namespace: options.namespace,
      labels: { [RegistrationLabel.cluster]: options.cluster, ...MANAGED_BY },
    },
    stringData: {
      [AgentCredentialsKey.token]: options.token,
      [AgentCredentialsKey.cluster]: options.cluster,
      [AgentCredentialsKey.server]: options.server,
      [AgentCredentialsKey.mgmtCluster]: options.mgmtCluster,
    },
  };
}

/** A value of a Secret's `data` (base64), decoded; undefined when absent. */
export function secretValue(
  data: Readonly<Record<string, string>> | undefined,
  key: string,
): string | undefined {
  const value = data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
}
