import { credentials, status as GrpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import { issueAgentBootstrap } from '@kuberelay/mgmt-server';
import { type BootstrapResponse, type ConnectResponse, RelayServiceClient } from '@kuberelay/proto';
import { AGENT_CREDENTIALS_SECRET, REJECTED_AGENTS_CONFIGMAP } from '@kuberelay/shared';
import { createCsr } from '@kuberelay/shared/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOf, referenceExample, upstream } from '../support/examples.js';
import { createOrReplace, type Obj, RelayFixture } from '../support/relayFixture.js';

// docs/spec.md §4, §5, §7: who may connect, and that restarts, outages and the feature gate never churn
// or lose copies.

let f: RelayFixture;
beforeAll(async () => {
  f = await RelayFixture.start({ name: 'relay-resilience' });
  const { gateway, upstream: up, route } = referenceExample();
  for (const o of [gateway, up, route]) await f.apply(o);
  for (const c of ['cluster-1', 'cluster-2'])
    await f.waitFor(c, copyOf(route, 'httpbin'), (o) => o !== undefined);
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

interface ClientTls {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

/** What an agent keeps in its credentials Secret once bootstrapped (read here as admin). */
async function storedTls(cluster: string): Promise<Required<ClientTls>> {
  const secret = await f.workload(cluster).request<{ data?: Record<string, string> }>({
    method: 'GET',
    path: `/api/v1/namespaces/${f.namespace}/secrets/${AGENT_CREDENTIALS_SECRET}`,
  });
  const get = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  return { ca: get('ca.crt'), cert: get('tls.crt'), key: get('tls.key') };
}

const sslFor = (tls: ClientTls) =>
  credentials.createSsl(
    Buffer.from(tls.ca),
    tls.key === undefined ? null : Buffer.from(tls.key),
    tls.cert === undefined ? null : Buffer.from(tls.cert),
  );

/** Opens a raw stream with the given TLS identity and a Hello, and returns how the server ended it. */
async function connectRaw(options: {
  tls: ClientTls;
  cluster: string;
}): Promise<{ code: number; details: string; welcome: boolean }> {
  const client = new RelayServiceClient(f.serverAddress, sslFor(options.tls));
  const call = client.connect(new Metadata());
  let welcome = false;
  try {
    return await new Promise((resolve) => {
      call.on('data', (m: ConnectResponse) => {
        if (m.message?.$case === 'welcome') {
          welcome = true;
          call.cancel();
        }
      });
      call.on('error', (e: ServiceError) => resolve({ code: e.code, details: e.details, welcome }));
      call.on('end', () => resolve({ code: GrpcStatus.OK, details: '', welcome }));
      call.write({
        message: {
          $case: 'hello',
          value: {
            cluster: options.cluster,
            agentVersion: 'test',
            agentPod: 'raw',
            haveVersion: 0,
            have: [],
            digestFormats: [],
            features: [],
          },
        },
      });
    });
  } finally {
    client.close();
  }
}

/** Every copy's UID and resourceVersion in both workload clusters. */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const { gateway, upstream: up, route } = referenceExample();
  for (const c of ['cluster-1', 'cluster-2']) {
    for (const [o, ns] of [
      [gateway, 'gloo-system'],
      [up, 'httpbin'],
      [route, 'httpbin'],
    ] as [Obj, string][]) {
      const live = await f.get(c, copyOf(o, ns));
      out[`${c}/${o.kind}`] = `${live?.metadata.uid} rv=${live?.metadata.resourceVersion}`;
    }
  }
  return out;
}

describe('who may connect', () => {
  it('refuses a stream without a client certificate with UNAUTHENTICATED', async () => {
    const { ca } = await storedTls('cluster-1');
    expect(await connectRaw({ tls: { ca }, cluster: 'cluster-1' })).toMatchObject({
      code: GrpcStatus.UNAUTHENTICATED,
      welcome: false,
    });
  });

  it("refuses cluster-1's certificate claiming to be cluster-2 with PERMISSION_DENIED", async () => {
    const result = await connectRaw({ tls: await storedTls('cluster-1'), cluster: 'cluster-2' });
    expect(result).toMatchObject({ code: GrpcStatus.PERMISSION_DENIED, welcome: false });
  });

  it('refuses the certificate of a cluster no longer registered, and records the attempt for relayctl check', async () => {
    // Register "rogue", bootstrap a certificate for it, then deregister it.
    await createOrReplace(f.mgmt, {
      apiVersion: 'admin.gloo.solo.io/v2',
      kind: 'KubernetesCluster',
      metadata: { name: 'rogue', namespace: f.namespace },
      spec: {},
    });
    const { token, caBundlePem } = await issueAgentBootstrap({
      rest: f.mgmt,
      namespace: f.namespace,
      cluster: 'rogue',
    });
    const { csrPem, keyPem } = await createCsr({ commonName: 'rogue' });
    const client = new RelayServiceClient(f.serverAddress, sslFor({ ca: caBundlePem }));
    const issued = await new Promise<BootstrapResponse>((resolve, reject) =>
      client.bootstrap({ cluster: 'rogue', token, csrPem }, (e, r) => (e ? reject(e) : resolve(r))),
    );
    client.close();
    await f.mgmt.request({
      method: 'DELETE',
      path: `/apis/admin.gloo.solo.io/v2/namespaces/${f.namespace}/kubernetesclusters/rogue`,
    });

    const tls = { ca: caBundlePem, cert: issued.certificatePem, key: keyPem };
    await expect
      .poll(async () => (await connectRaw({ tls, cluster: 'rogue' })).code, { timeout: 10_000 })
      .toBe(GrpcStatus.PERMISSION_DENIED);
    await expect
      .poll(
        async () => {
          const cm = await f.mgmt
            .request<{ data?: Record<string, string> }>({
              method: 'GET',
              path: `/api/v1/namespaces/${f.namespace}/configmaps/${REJECTED_AGENTS_CONFIGMAP}`,
            })
            .catch(() => undefined);
          return Object.keys(cm?.data ?? {});
        },
        { timeout: 10_000 },
      )
      .toContain('rogue');
  });
});

describe('restarts never churn copies', () => {
  it('restarting the management server changes no copy (same UIDs, no writes)', async () => {
    const before = await fingerprint();
    await f.stopServer();
    await f.startServer();
    await expect
      .poll(() => [...f.agents.values()].every((a) => a.connected()), { timeout: 20_000 })
      .toBe(true);
    await expect
      .poll(async () => (await f.clusterStatus('cluster-1'))?.connected, { timeout: 10_000 })
      .toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await fingerprint()).toEqual(before);
  });

  it('restarting an agent changes no copy', async () => {
    const before = await fingerprint();
    await f.stopAgent('cluster-1');
    const agent = await f.startAgent('cluster-1');
    await expect.poll(() => agent.connected(), { timeout: 20_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await fingerprint()).toEqual(before);
  });

  it('an agent that starts while the server is down enforces its saved state, and prunes nothing', async () => {
    const { upstream: up, route } = referenceExample();
    await f.stopAgent('cluster-2');
    await f.stopServer();
    // Drift while everything is down: a copy deleted, another edited.
    await f
      .workload('cluster-2')
      .request({ method: 'DELETE', path: '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams/httpbin' });
    const routeBefore = await f.get('cluster-2', copyOf(route, 'httpbin'));

    const agent = await f.startAgent('cluster-2', { serverAddress: '127.0.0.1:1' });
    const restored = await f.waitFor('cluster-2', copyOf(up, 'httpbin'), (o) => o !== undefined, 15_000);
    expect(restored?.spec).toEqual(up.spec);
    expect(agent.connected()).toBe(false);
    expect((await f.get('cluster-2', copyOf(route, 'httpbin')))?.metadata.uid).toBe(
      routeBefore?.metadata.uid,
    );

    await f.stopAgent('cluster-2');
    await f.startServer();
    const again = await f.startAgent('cluster-2');
    await expect.poll(() => again.connected(), { timeout: 20_000 }).toBe(true);
  });
});

describe('ConfigDistribution feature gate', () => {
  it('off: sends nothing new and prunes nothing; on again: catches up', async () => {
    const existing = upstream('gate-existing', '*/httpbin');
    await f.apply(existing);
    for (const c of ['cluster-1', 'cluster-2'])
      await f.waitFor(c, copyOf(existing, 'httpbin'), (o) => o !== undefined);

    await f.stopServer();
    await f.startServer({ distributionEnabled: false });
    // The quiet window only means something once every agent is connected to the gated server:
    // its status says so (UpToDate reason DistributionDisabled is written by this server only).
    for (const c of ['cluster-1', 'cluster-2']) {
      await expect
        .poll(
          async () => {
            const status = await f.clusterStatus(c);
            const upToDate = status?.conditions?.find((cond) => cond.type === 'UpToDate');
            return f.agents.get(c)?.connected() === true && status?.connected === true && upToDate?.reason;
          },
          { timeout: 30_000 },
        )
        .toBe('DistributionDisabled');
    }
    const added = upstream('gate-added', '*/httpbin');
    await f.apply(added);
    await f.remove(existing);
    await new Promise((r) => setTimeout(r, 3_000));
    for (const c of ['cluster-1', 'cluster-2']) {
      expect(await f.get(c, copyOf(added, 'httpbin'))).toBeUndefined();
      expect(await f.get(c, copyOf(existing, 'httpbin'))).toBeDefined();
    }

    await f.stopServer();
    await f.startServer({ distributionEnabled: true });
    for (const c of ['cluster-1', 'cluster-2']) {
      await f.waitFor(c, copyOf(added, 'httpbin'), (o) => o !== undefined, 20_000);
      await f.waitFor(c, copyOf(existing, 'httpbin'), (o) => o === undefined, 20_000);
    }
  });
});
