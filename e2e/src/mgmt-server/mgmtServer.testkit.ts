import type { MgmtServer, MgmtServerOptions } from '@kuberelay/mgmt-server';
import {
  KUBERNETES_CLUSTER,
  type KubeObject,
  type KubernetesClusterStatus,
  RELAY_CA_SECRET,
  RelayCaKey,
} from '@kuberelay/shared';
import { type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import {
  type CertificateAndKey,
  clusterSpiffeId,
  clusterUidUri,
  createCsr,
  signCsr,
} from '@kuberelay/shared/pki';
import { pino } from 'pino';
import { example } from '../support/examples.js';
import { useMgmtLab } from '../support/mgmtLab.js';
import { startTestServer } from '../support/testing.js';
import { type AgentTls, ScriptedAgent } from './fakeAgent.js';

// What the mgmtServer*.test.ts files share: the lab's management cluster, in-process servers
// stopped after each test, registered clusters and scripted agents with certificates.

const logger = pino({ level: process.env.MGMT_TEST_LOG ?? 'silent' });

const secretText = (data: Record<string, string> | undefined, key: string) =>
  Buffer.from(data?.[key] ?? '', 'base64').toString('utf8');

/** deploy/examples/config-distro.yaml, with its sources in `namespace` instead of gloo-mesh. */
export function referenceExampleIn(namespace: string): KubeObject[] {
  return example('config-distro.yaml').map((object) => {
    const json = JSON.stringify(object).replaceAll('"namespace":"gloo-mesh"', `"namespace":"${namespace}"`);
    return JSON.parse(json) as KubeObject;
  });
}

/** A registered cluster's status as the API server has it now. */
export async function clusterStatusIn(
  rest: KubeRest,
  namespace: string,
  cluster: string,
): Promise<KubernetesClusterStatus | undefined> {
  const object = await rest.request<{ status?: KubernetesClusterStatus }>({
    method: 'GET',
    path: resourcePath({ ...KUBERNETES_CLUSTER, namespace, name: cluster }),
  });
  return object.status;
}

export const get = (server: MgmtServer, path: string) => fetch(`http://127.0.0.1:${server.httpPort}${path}`);

/**
 * The lab's management cluster (`useMgmtLab`, whose hooks it registers: call it once at the top of
 * a test file) and the helpers that start servers and agents against it.
 */
export function useMgmtServerLab() {
  const m = useMgmtLab();
  const { create, cleanups } = m;

  /** Registers `cluster`: its KubernetesCluster. Returns the name, for `agent(server, cluster)`. */
  async function register(namespace: string, cluster: string): Promise<string> {
    await create({
      apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
      kind: KUBERNETES_CLUSTER.kind,
      metadata: { name: cluster, namespace },
      spec: {},
    });
    return cluster;
  }

  /**
   * A client certificate for `cluster` as Bootstrap would issue it (signed with the relay CA the
   * server created in `namespace`, for the cluster's current uid), or one signed by `rogueCa`.
   * mtls.test.ts covers Bootstrap itself.
   */
  async function clientTls(
    namespace: string,
    cluster: string,
    rogueCa?: CertificateAndKey,
  ): Promise<AgentTls> {
    const secret = await m.rest.request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${namespace}/secrets/${RELAY_CA_SECRET}`,
    });
    const kc = await m.rest.request<{ metadata: { uid: string } }>({
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

  async function startServer(
    namespace: string,
    overrides: Partial<MgmtServerOptions> = {},
  ): Promise<MgmtServer> {
    const server = await startTestServer(m.lab, namespace, { logger, ...overrides });
    cleanups.push(() => server.stop());
    return server;
  }

  function agent(server: MgmtServer, tls: AgentTls): ScriptedAgent {
    const a = new ScriptedAgent({ port: server.grpcPort, tls });
    cleanups.push(async () => a.close());
    return a;
  }

  /** An agent of `cluster` with a valid certificate (cluster: registered in the server's namespace). */
  async function certifiedAgent(
    server: MgmtServer,
    namespace: string,
    cluster: string,
  ): Promise<ScriptedAgent> {
    return agent(server, await clientTls(namespace, cluster));
  }

  return { m, register, clientTls, startServer, agent, certifiedAgent };
}
