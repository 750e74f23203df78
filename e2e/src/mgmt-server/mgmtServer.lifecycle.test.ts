import { status as grpcStatus } from '@grpc/grpc-js';
import { type KubeObject, RELAY_CA_SECRET, RelayCaKey, serverLeaseName } from '@kuberelay/shared';
import { createCa } from '@kuberelay/shared/pki';
import { describe, expect, it } from 'vitest';
import { unique } from '../support/testing.js';
import { get, useMgmtServerLab } from './mgmtServer.testkit.js';

// The management server against the lab's real management API server, before and beside its
// work: not ready and silent to agents until its view is complete; two processes on one Lease.

const { m, register, startServer, certifiedAgent } = useMgmtServerLab();
const { createNamespace, create } = m;

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
});
