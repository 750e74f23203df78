import { status as grpcStatus } from '@grpc/grpc-js';
import type { MgmtServer, MgmtServerOptions } from '@kuberelay/mgmt-server';
import { CopyOutcome } from '@kuberelay/proto';
import {
  KUBERNETES_CLUSTER,
  type KubeObject,
  type KubernetesClusterStatus,
  REJECTED_AGENTS_CONFIGMAP,
  RELAY_CA_SECRET,
  RelayCaKey,
  serverLeaseName,
} from '@kuberelay/shared';
import { isNotFound, resourcePath } from '@kuberelay/shared/kube';
import {
  type CertificateAndKey,
  clusterSpiffeId,
  clusterUidUri,
  createCa,
  createCsr,
  signCsr,
} from '@kuberelay/shared/pki';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { example } from '../support/examples.js';
import { useMgmtLab } from '../support/mgmtLab.js';
import { startTestServer, unique } from '../support/testing.js';
import { type AgentTls, ScriptedAgent } from './fakeAgent.js';

// The management server against the lab's real management API server, with a scripted agent on a
// real gRPC socket: readiness, authentication, the copies of the reference example, status, Events.

const logger = pino({ level: process.env.MGMT_TEST_LOG ?? 'silent' });
const GW_KEY = 'gateway.networking.k8s.io/Gateway/gloo-system/distributed-gateway';
const ROUTE_KEY = 'gateway.networking.k8s.io/HTTPRoute/httpbin/httpbin-mydomain';
const UPSTREAM_KEY = 'gloo.solo.io/Upstream/httpbin/httpbin';

const m = useMgmtLab();
const { createNamespace, create, cleanups } = m;

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

const secretText = (data: Record<string, string> | undefined, key: string) =>
  Buffer.from(data?.[key] ?? '', 'base64').toString('utf8');

/**
 * A client certificate for `cluster` as Bootstrap would issue it (signed with the relay CA the
 * server created in `namespace`, for the cluster's current uid), or one signed by `rogueCa`.
 * mtls.test.ts covers Bootstrap itself.
 */
async function clientTls(namespace: string, cluster: string, rogueCa?: CertificateAndKey): Promise<AgentTls> {
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

/** deploy/examples/config-distro.yaml, with its sources in `namespace` instead of gloo-mesh. */
function referenceExample(namespace: string): KubeObject[] {
  return example('config-distro.yaml').map((object) => {
    const json = JSON.stringify(object).replaceAll('"namespace":"gloo-mesh"', `"namespace":"${namespace}"`);
    return JSON.parse(json) as KubeObject;
  });
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

const get = (server: MgmtServer, path: string) => fetch(`http://127.0.0.1:${server.httpPort}${path}`);

async function clusterStatus(
  namespace: string,
  cluster: string,
): Promise<KubernetesClusterStatus | undefined> {
  const object = await m.rest.request<{ status?: KubernetesClusterStatus }>({
    method: 'GET',
    path: resourcePath({ ...KUBERNETES_CLUSTER, namespace, name: cluster }),
  });
  return object.status;
}

describe('management server on a real API server', () => {
  it('is not ready and says nothing to agents until its view is complete', async () => {
    const namespace = await createNamespace('mst-sync');
    await register(namespace, 'alpha');
    // An identity that may read the relay CA Secret and nothing else: the server starts (it has a
    // CA to serve TLS with), but every list is Forbidden, so no informer ever syncs.
    const ca = await createCa({ commonName: 'relay', validityMs: 86_400_000, now: Date.now() });
    await create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: RELAY_CA_SECRET, namespace },
      type: 'kubernetes.io/tls',
      stringData: {
        [RelayCaKey.cert]: ca.certPem,
        [RelayCaKey.key]: ca.keyPem,
        [RelayCaKey.bundle]: ca.certPem,
      },
    });
    const user = unique('ca-only');
    await create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: user, namespace },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [RELAY_CA_SECRET], verbs: ['get'] }],
    } as KubeObject);
    await create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: user, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: user },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
    } as KubeObject);
    const blind = await m.lab.mintIdentity({ cluster: 'mgmt', user });
    const server = await startServer(namespace, { kubeConfig: blind });
    let ready = false;
    void server.ready.then(() => {
      ready = true;
    });
    const a = await certifiedAgent(server, namespace, 'alpha');
    a.hello('alpha');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(ready).toBe(false);
    expect((await get(server, '/readyz')).status).toBe(503);
    expect((await get(server, '/healthz')).status).toBe(200);
    expect(a.received).toEqual([]);
    await server.stop();
    expect((await a.ended).code).toBe(grpcStatus.UNAVAILABLE);
  });

  it('serves the reference example to an authenticated agent and keeps its status', async () => {
    const namespace = await createNamespace('mst-flow');
    await register(namespace, 'alpha');
    await register(namespace, 'beta');
    for (const source of referenceExample(namespace)) await create(source);
    const server = await startServer(namespace);
    await server.ready;
    expect((await get(server, '/readyz')).status).toBe(200);

    const a = await certifiedAgent(server, namespace, 'alpha');
    a.hello('alpha');
    // Welcome, the trust bundle, the first version.
    await a.waitForMessages(3);
    expect(a.welcome()).toEqual({
      cluster: 'alpha',
      mgmtCluster: 'mgmt',
      serverPod: `${namespace}/mgmt-server-0`,
      distributionEnabled: true,
      heartbeatSeconds: 1,
    });
    const [delta] = a.deltas();
    if (delta === undefined) throw new Error('no Delta');
    expect(delta.upserts.map((c) => c.key).sort()).toEqual([GW_KEY, ROUTE_KEY, UPSTREAM_KEY]);
    const manifests = new Map(
      delta.upserts.map((c) => [c.key, JSON.parse(c.manifest.toString('utf8')) as KubeObject]),
    );
    expect(manifests.get(GW_KEY)?.spec).toMatchObject({ gatewayClassName: 'gloo-gateway' });
    expect(manifests.get(ROUTE_KEY)?.spec).toMatchObject({
      parentRefs: [{ name: 'distributed-gateway', namespace: 'gloo-system' }],
    });
    expect(manifests.get(UPSTREAM_KEY)?.metadata).toMatchObject({
      namespace: 'httpbin',
      labels: { 'relay.solo.io/cluster': 'mgmt', 'app.kubernetes.io/managed-by': 'kuberelay-agent' },
      annotations: {
        'gloo.solo.io/distributed-source': `gloo://mgmt/ns/${namespace}/kind/Upstream/name/httpbin`,
      },
    });

    a.send({
      $case: 'ack',
      value: {
        version: delta.version,
        digest: delta.digest,
        results: delta.upserts.map((c) => ({
          key: c.key,
          hash: c.hash,
          outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
          code: '',
          message: '',
        })),
      },
    });
    await expect
      .poll(
        async () => {
          const s = await clusterStatus(namespace, 'alpha');
          return {
            connected: s?.connected,
            connectedPod: s?.connectedPod,
            agentPod: s?.agentPod,
            ackedVersion: s?.ackedVersion,
            counts: s?.counts,
            conditions: s?.conditions?.map((c) => `${c.type}=${c.status}`),
          };
        },
        { timeout: 10_000 },
      )
      .toEqual({
        connected: true,
        connectedPod: `${namespace}/mgmt-server-0`,
        agentPod: 'e2e-agent',
        ackedVersion: String(delta.version),
        counts: { applied: 3, failed: 0, conflict: 0, pending: 0, warnings: 0, notPruned: 0 },
        conditions: ['Connected=True', 'UpToDate=True'],
      });
    const metrics = await (await get(server, '/metrics')).text();
    expect(metrics).toContain('kuberelay_mgmt_versions_acked_total{cluster="alpha"} 1');
    expect(metrics).toContain('kuberelay_mgmt_connected_agents 1');
    const lease = await m.rest.request<{ metadata: { annotations?: Record<string, string> } }>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${serverLeaseName('mgmt-server-0')}`,
    });
    expect(lease.metadata.annotations?.['kuberelay.dev/grpc-address']).toBe(`127.0.0.1:${server.grpcPort}`);

    // A new stream for the cluster takes over; the old one is told why.
    const again = await certifiedAgent(server, namespace, 'alpha');
    again.hello('alpha');
    expect((await a.ended).code).toBe(grpcStatus.FAILED_PRECONDITION);
    await again.waitForMessages(2);

    // Deregistering ends the stream within seconds, and stops status writes.
    await m.rest.request({
      method: 'DELETE',
      path: resourcePath({ ...KUBERNETES_CLUSTER, namespace, name: 'alpha' }),
    });
    const ended = await again.ended;
    expect(ended.code).toBe(grpcStatus.PERMISSION_DENIED);
    expect(ended.details).toContain('deregistered');

    await server.stop();
    await expect(
      m.rest.request({
        method: 'GET',
        path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${serverLeaseName('mgmt-server-0')}`,
      }),
    ).rejects.toSatisfy(isNotFound);
  });

  it('says on its Lease when a second process runs with the same --pod-name', async () => {
    const namespace = await createNamespace('mst-twins');
    await startServer(namespace, { instanceId: 'first' });
    await startServer(namespace, { instanceId: 'second' });
    const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${serverLeaseName('mgmt-server-0')}`;
    // Each renews every 10 s: by the second round each has seen the other's renewal.
    await expect
      .poll(
        async () =>
          (
            await m.rest.request<{ metadata: { annotations?: Record<string, string> } }>({
              method: 'GET',
              path: leasePath,
            })
          ).metadata.annotations?.['kuberelay.dev/shared-with'],
        { timeout: 40_000, interval: 500 },
      )
      .toMatch(/^mgmt-server-0\/(first|second)$/);
  }, 60_000);

  it('refuses unknown certificates and other clusters, and records who tried', async () => {
    const namespace = await createNamespace('mst-auth');
    await register(namespace, 'alpha');
    await register(namespace, 'beta');
    const server = await startServer(namespace);
    await server.ready;

    const rogue = await createCa({ commonName: 'rogue', validityMs: 86_400_000, now: Date.now() });
    const stranger = agent(server, await clientTls(namespace, 'alpha', rogue));
    stranger.hello('alpha');
    expect(await stranger.ended).toMatchObject({ code: grpcStatus.UNAUTHENTICATED });

    const noCertificate = agent(server, { caPem: server.caBundlePem() });
    noCertificate.hello('alpha');
    expect(await noCertificate.ended).toMatchObject({ code: grpcStatus.UNAUTHENTICATED });

    const impostor = await certifiedAgent(server, namespace, 'alpha');
    impostor.hello('beta');
    const denied = await impostor.ended;
    expect(denied.code).toBe(grpcStatus.PERMISSION_DENIED);
    expect(denied.details).toContain('"alpha", not "beta"');
    expect(stranger.received).toEqual([]);
    expect(impostor.received).toEqual([]);

    await expect
      .poll(
        async () => {
          const cm = await m.rest
            .request<{ data?: Record<string, string> }>({
              method: 'GET',
              path: `/api/v1/namespaces/${namespace}/configmaps/${REJECTED_AGENTS_CONFIGMAP}`,
            })
            .catch(() => undefined);
          return Object.fromEntries(
            Object.entries(cm?.data ?? {}).map(([k, v]) => {
              const entry = JSON.parse(v) as { code: string; count: number };
              return [k, `${entry.code}×${entry.count}`];
            }),
          );
        },
        { timeout: 10_000 },
      )
      .toEqual({ alpha: 'UNAUTHENTICATED×2', beta: 'PERMISSION_DENIED×1' });
  });

  it('records an Event on a source whose annotation is invalid, once, whatever the replicas', async () => {
    const namespace = await createNamespace('mst-events');
    await register(namespace, 'alpha');
    await register(namespace, 'beta');
    const server = await startServer(namespace);
    await server.ready;
    await create({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'broken', namespace, annotations: { 'gloo.solo.io/distribute-to': 'a/b/c' } },
      spec: { static: { hosts: [{ addr: 'x', port: 80 }] } },
    });
    await create({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'typo', namespace, annotations: { 'gloo.solo.io/distribute-to': 'alpha, gamma' } },
      spec: { static: { hosts: [{ addr: 'x', port: 80 }] } },
    });
    const events = async () => {
      const list = await m.rest.request<{
        items: {
          involvedObject: { name: string };
          reason: string;
          message: string;
          count: number;
          type: string;
        }[];
      }>({ method: 'GET', path: `/api/v1/namespaces/${namespace}/events` });
      return list.items.map((e) => ({
        on: e.involvedObject.name,
        reason: e.reason,
        type: e.type,
        count: e.count,
      }));
    };
    await expect.poll(events, { timeout: 10_000 }).toEqual(
      expect.arrayContaining([
        { on: 'broken', reason: 'DistributionInvalid', type: 'Warning', count: 1 },
        { on: 'typo', reason: 'UnregisteredCluster', type: 'Warning', count: 1 },
      ]),
    );
    // Recomputes caused by unrelated changes do not repeat the Events. A repeat would not add an
    // Event (same name: the API bumps `count`), so `count` is what must stay 1. The Event on
    // `later`, created after the unrelated change, shows recomputes and an Event batch ran since.
    await register(namespace, 'delta');
    await create({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'later', namespace, annotations: { 'gloo.solo.io/distribute-to': 'x/y/z' } },
      spec: { static: { hosts: [{ addr: 'x', port: 80 }] } },
    });
    await expect
      .poll(async () => (await events()).some((e) => e.on === 'later'), { timeout: 10_000 })
      .toBe(true);
    // A second replica sees the same sources and the same outcomes: one Event each, still.
    const second = await startServer(namespace, { podName: 'mgmt-server-1' });
    await second.ready;
    await new Promise((r) => setTimeout(r, 2_500));
    const repeated = (await events()).filter((e) => e.on === 'broken' || e.on === 'typo');
    expect(repeated.sort((a, b) => a.on.localeCompare(b.on))).toEqual([
      { on: 'broken', reason: 'DistributionInvalid', type: 'Warning', count: 1 },
      { on: 'typo', reason: 'UnregisteredCluster', type: 'Warning', count: 1 },
    ]);
  });
});
