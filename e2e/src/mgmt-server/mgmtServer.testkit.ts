import type { MgmtServer, MgmtServerOptions } from '@kuberelay/mgmt-server';
import { KUBERNETES_CLUSTER, type KubeObject, type KubernetesClusterStatus } from '@kuberelay/shared';
import { type KubeRest, resourcePath } from '@kuberelay/shared/kube';
import type { CertificateAndKey } from '@kuberelay/shared/pki';
import { pino } from 'pino';
import { issueAgentTls } from '../support/agentTls.js';
import { example } from '../support/examples.js';
import { useMgmtLab } from '../support/mgmtLab.js';
import { startTestServer } from '../support/testing.js';
import { type AgentTls, ScriptedAgent } from './fakeAgent.js';

// What the mgmtServer*.test.ts files share: the lab's management cluster, in-process servers
// stopped after each test, registered clusters and scripted agents with certificates.

const logger = pino({ level: process.env.MGMT_TEST_LOG ?? 'silent' });

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

  /** A client certificate for `cluster` and the trust bundle (support/agentTls.ts). */
  const clientTls = (namespace: string, cluster: string, rogueCa?: CertificateAndKey): Promise<AgentTls> =>
    issueAgentTls(m.rest, namespace, cluster, rogueCa);

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
