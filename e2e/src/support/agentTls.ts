import { KUBERNETES_CLUSTER, RELAY_CA_SECRET, RelayCaKey } from '@kuberelay/shared';
import { type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import {
  type CertificateAndKey,
  clusterSpiffeId,
  clusterUidUri,
  createCsr,
  signCsr,
} from '@kuberelay/shared/pki';
import type { AgentTls } from '../mgmt-server/fakeAgent.js';

const secretText = (data: Record<string, string> | undefined, key: string) =>
  Buffer.from(data?.[key] ?? '', 'base64').toString('utf8');

/**
 * A client certificate for `cluster` as Bootstrap would issue it (signed with the relay CA the
 * server created in `namespace`, for the cluster's current uid), or one signed by `rogueCa`, and
 * the trust bundle: what a scripted agent needs to speak to a real server. mtls.test.ts covers
 * Bootstrap itself.
 */
export async function issueAgentTls(
  rest: KubeRest,
  namespace: string,
  cluster: string,
  rogueCa?: CertificateAndKey,
): Promise<AgentTls> {
  const secret = await rest.request<{ data?: Record<string, string> }>({
    method: 'GET',
    path: `/api/v1/namespaces/${namespace}/secrets/${RELAY_CA_SECRET}`,
  });
  const kc = await rest.request<{ metadata: { uid: string } }>({
    method: 'GET',
    path: resourcePath({ ...KUBERNETES_CLUSTER, namespace, name: cluster }),
  });
  const ca = rogueCa ?? {
    certPem: secretText(secret.data, RelayCaKey.cert),
    keyPem: secretText(secret.data, RelayCaKey.key),
  };
  const { csrPem, keyPem } = await createCsr({ commonName: cluster });
  const certPem = await signCsr({
    ca,
    csrPem,
    commonName: cluster,
    usage: 'client',
    uris: [clusterSpiffeId(cluster), clusterUidUri(kc.metadata.uid)],
    validityMs: 86_400_000,
    now: Date.now(),
  });
  return { caPem: secretText(secret.data, RelayCaKey.bundle), keyPem, certPem };
}
