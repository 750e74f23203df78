import {
  bootstrapSecretName,
  DEFAULT_BOOTSTRAP_TOKEN_TTL_MS,
  ErrorCode,
  issueBootstrapToken,
  KUBERNETES_CLUSTER,
  RELAY_CA_SECRET,
  RelayError,
} from '@kuberelay/shared';
import { isConflict, type KubeRest } from '@kuberelay/shared/kube';
import { type CaSecret, relayCaOf } from '@kuberelay/shared/pki';

export interface IssueAgentBootstrapOptions {
  readonly rest: KubeRest;
  /** The management server's namespace. */
  readonly namespace: string;
  /** A registered cluster: its KubernetesCluster must exist. */
  readonly cluster: string;
  /** Default 24 h, at most 30 d. */
  readonly ttlMs?: number;
  /** Epoch milliseconds (default Date.now()). */
  readonly now?: number;
}

export interface AgentBootstrap {
  /** The one-time token. Secret: hand it to the agent only. */
  readonly token: string;
  /** The relay CA bundle the agent must trust (its `ca.crt`). */
  readonly caBundlePem: string;
  readonly expiresAt: Date;
}

/**
 * Issues a bootstrap token for an already registered cluster, replacing any earlier one, and
 * returns what the agent needs besides the server address: the token and the CA bundle. Needs
 * the relay CA Secret (the server creates it at first start). For tests and tools that register
 * clusters without relayctl; relayctl register does the same through its own client.
 */
export async function issueAgentBootstrap(options: IssueAgentBootstrapOptions): Promise<AgentBootstrap> {
  const ttlMs = options.ttlMs ?? DEFAULT_BOOTSTRAP_TOKEN_TTL_MS;
  const { rest, namespace, cluster } = options;
  const { group, version, plural } = KUBERNETES_CLUSTER;
  const kc = await rest.request<{ metadata?: { uid?: string } }>({
    method: 'GET',
    path: `/apis/${group}/${version}/namespaces/${namespace}/${plural}/${cluster}`,
  });
  const clusterUid = kc.metadata?.uid;
  if (clusterUid === undefined) {
    throw new RelayError({
      code: ErrorCode.InvalidObject,
      message: `KubernetesCluster ${namespace}/${cluster} has no uid`,
      details: { cluster },
    });
  }
  const caSecret = await rest.request<CaSecret>({
    method: 'GET',
    path: `/api/v1/namespaces/${namespace}/secrets/${RELAY_CA_SECRET}`,
  });
  const ca = relayCaOf(caSecret);
  if (!ca.ok) throw ca.errors[0];
  const {
    token,
    expiresAt,
    secret: body,
  } = issueBootstrapToken({
    cluster,
    namespace,
    clusterUid,
    issuedAt: new Date(options.now ?? Date.now()),
    ttlMs,
  });
  try {
    await rest.request({ method: 'POST', path: `/api/v1/namespaces/${namespace}/secrets`, body });
  } catch (error) {
    if (!isConflict(error)) throw error;
    await rest.request({
      method: 'PUT',
      path: `/api/v1/namespaces/${namespace}/secrets/${bootstrapSecretName(cluster)}`,
      body,
    });
  }
  return { token, caBundlePem: ca.value.bundlePem, expiresAt };
}
