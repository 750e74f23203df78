import { credentials, status as GrpcStatus, Metadata, type ServiceError } from '@grpc/grpc-js';
import { type ConnectResponse, RelayServiceClient } from '@kuberelay/proto';
import {
  generateAgentToken,
  hashAgentToken,
  REJECTED_AGENTS_CONFIGMAP,
  RegistrationLabel,
  TOKEN_SECRET_HASH_KEY,
  TOKEN_SECRET_TYPE,
  tokenSecretName,
} from '@kuberelay/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOf, referenceExample, upstream } from '../support/examples.js';
import { createOrReplace, type Obj, RelayFixture } from '../support/relayFixture.js';

// SPEC §4, §5, §7: who may connect, and that restarts, outages and the feature gate never churn
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

/** Opens a raw stream with a token and a Hello, and returns how the server ended it. */
async function connectRaw(options: {
  token: string;
  cluster: string;
}): Promise<{ code: number; details: string; welcome: boolean }> {
  const client = new RelayServiceClient(f.serverAddress, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${options.token}`);
  const call = client.connect(metadata);
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
  it('refuses a wrong token with UNAUTHENTICATED', async () => {
    const result = await connectRaw({ token: generateAgentToken(), cluster: 'cluster-1' });
    expect(result).toMatchObject({ code: GrpcStatus.UNAUTHENTICATED, welcome: false });
  });

  it("refuses cluster-1's token claiming to be cluster-2 with PERMISSION_DENIED", async () => {
    const result = await connectRaw({ token: f.tokens.get('cluster-1') ?? '', cluster: 'cluster-2' });
    expect(result).toMatchObject({ code: GrpcStatus.PERMISSION_DENIED, welcome: false });
  });

  it('refuses an agent whose cluster is not registered, and records the attempt for relayctl check', async () => {
    const token = generateAgentToken();
    await createOrReplace(f.mgmt, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: tokenSecretName('rogue'),
        namespace: f.namespace,
        labels: { [RegistrationLabel.cluster]: 'rogue' },
      },
      type: TOKEN_SECRET_TYPE,
      stringData: { [TOKEN_SECRET_HASH_KEY]: hashAgentToken(token) },
    });
    // The server may see the Secret a moment after it exists.
    await expect
      .poll(async () => (await connectRaw({ token, cluster: 'rogue' })).code, { timeout: 10_000 })
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
