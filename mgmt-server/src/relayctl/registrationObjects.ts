import {
  AGENT_CREDENTIALS_SECRET,
  AgentCredentialsKey,
  KUBERNETES_CLUSTER,
  RegistrationLabel,
} from '@kuberelay/shared';

// The objects `relayctl register` writes, as pure values (docs/design.md, "Identity and
// registration", "Mutual TLS"). Only the agent credentials Secret ever holds a token; the bootstrap
// Secret (pki/bootstrapRecord.ts) holds its hash.

const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'relayctl' } as const;

export function kubernetesClusterManifest(options: { cluster: string; namespace: string }) {
  return {
    apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
    kind: KUBERNETES_CLUSTER.kind,
    metadata: { name: options.cluster, namespace: options.namespace, labels: { ...MANAGED_BY } },
    spec: {},
  };
}

/** The agent's credentials in the workload cluster. `stringData`, so the printed YAML is readable. */
export function credentialsSecretManifest(options: {
  cluster: string;
  namespace: string;
  bootstrapToken: string;
  caBundlePem: string;
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
      [AgentCredentialsKey.bootstrapToken]: options.bootstrapToken,
      [AgentCredentialsKey.caBundle]: options.caBundlePem,
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
