import { status as grpcStatus } from '@grpc/grpc-js';
import { CopyOutcome, DigestFormat } from '@kuberelay/proto';
import {
  KUBERNETES_CLUSTER,
  type KubeObject,
  REJECTED_AGENTS_CONFIGMAP,
  serverLeaseName,
} from '@kuberelay/shared';
import { isNotFound, resourcePath } from '@kuberelay/shared/kube';
import { createCa } from '@kuberelay/shared/pki';
import { describe, expect, it } from 'vitest';
import { clusterStatusIn, get, referenceExampleIn, useMgmtServerLab } from './mgmtServer.testkit.js';

// The management server against the lab's real management API server, with scripted agents on a
// real gRPC socket: the reference example served and its status kept; who is refused and recorded.

const GW_KEY = 'gateway.networking.k8s.io/Gateway/gloo-system/distributed-gateway';
const ROUTE_KEY = 'gateway.networking.k8s.io/HTTPRoute/httpbin/httpbin-mydomain';
const UPSTREAM_KEY = 'gloo.solo.io/Upstream/httpbin/httpbin';

const { m, register, startServer, agent, certifiedAgent, clientTls } = useMgmtServerLab();
const { createNamespace, create } = m;

const referenceExample = referenceExampleIn;

const clusterStatus = (namespace: string, cluster: string) => clusterStatusIn(m.rest, namespace, cluster);

describe('management server on a real API server', () => {
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
      // The fake agent offers no digest format, as agents from before the negotiation.
      digestFormat: DigestFormat.DIGEST_FORMAT_UNSPECIFIED,
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
        counts: {
          applied: 3,
          failed: 0,
          conflict: 0,
          drifted: 0,
          paused: 0,
          pending: 0,
          warnings: 0,
          notPruned: 0,
        },
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
});
