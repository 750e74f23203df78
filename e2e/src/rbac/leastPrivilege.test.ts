import { AGENT_CREDENTIALS_SECRET, DEFAULT_RELAY_NAMESPACE, KUBERNETES_CLUSTER } from '@kuberelay/shared';
import { KubeApiError, KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import { createOrReplace, type Obj, pathOf } from '../support/objects.js';
import { grantAgentIdentity, grantServerIdentity } from '../support/relayIdentities.js';

// The relay e2e tests (e2e/src/relay, the demo) show the generated RBAC is enough: the server and
// the agents run with nothing else. These show it is no more: each identity, minted exactly as the
// fixture mints it, is refused (403) what its program never does.

const NS = DEFAULT_RELAY_NAMESPACE;
const GW = 'gateway.networking.k8s.io/v1';

let lab: Lab;
let server: KubeRest;
let agent: KubeRest;
let confined: KubeRest;
const cleanup: { rest: KubeRest; obj: Obj }[] = [];

beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  const admin = (cluster: string) => new KubeRest(lab.kubeConfig(cluster));
  server = new KubeRest(
    await lab.mintIdentity(await grantServerIdentity({ cluster: 'mgmt', admin: admin('mgmt') })),
  );
  agent = new KubeRest(
    await lab.mintIdentity(await grantAgentIdentity({ cluster: 'cluster-1', admin: admin('cluster-1') })),
  );
  confined = new KubeRest(
    await lab.mintIdentity(
      await grantAgentIdentity({
        cluster: 'cluster-2',
        admin: admin('cluster-2'),
        user: 'kuberelay-agent-confined',
        writableNamespaces: ['httpbin'],
      }),
    ),
  );
  // Secrets the identities must not see, and the agents' own credentials, made by the admin.
  for (const cluster of ['mgmt', 'cluster-1', 'cluster-2']) {
    for (const [namespace, name] of [
      ['httpbin', 'rbac-test-elsewhere'],
      [NS, 'rbac-test-neighbour'],
      [NS, AGENT_CREDENTIALS_SECRET],
    ] as const) {
      await createOrReplace(admin(cluster), secret(namespace, name));
    }
  }
  // RBAC bindings take effect at once on a single API server, but give the cache a moment.
  await eventually(() => agent.request({ method: 'GET', path: secretPath(NS, AGENT_CREDENTIALS_SECRET) }));
}, 60_000);

afterAll(async () => {
  for (const { rest, obj } of cleanup.reverse()) {
    await rest.request({ method: 'DELETE', path: pathOf({ ...obj, ...obj.metadata }) }).catch(() => {});
  }
});

function secret(namespace: string, name: string): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    stringData: { value: 'not for the relay' },
  };
}

const gateway = (namespace: string, name: string): Obj => ({
  apiVersion: GW,
  kind: 'Gateway',
  metadata: { name, namespace },
  spec: { gatewayClassName: 'gloo-gateway', listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
});

const upstream = (namespace: string, name: string): Obj => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name, namespace },
  spec: { static: { hosts: [{ addr: 'httpbin.org', port: 80 }] } },
});

const kubernetesCluster: Obj = {
  apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
  kind: KUBERNETES_CLUSTER.kind,
  metadata: { name: 'rbac-test-cluster', namespace: NS },
  spec: {},
};

/** Creates `obj` as `rest`; resolves to the HTTP status (201, or the refusal's). */
async function create(rest: KubeRest, obj: Obj, admin?: KubeRest): Promise<number> {
  try {
    await rest.request({
      method: 'POST',
      path: pathOf({ ...obj, namespace: obj.metadata.namespace }),
      body: obj,
    });
    if (admin) cleanup.push({ rest: admin, obj });
    return 201;
  } catch (error) {
    return statusOf(error);
  }
}

/**
 * GETs `path` as `rest`; resolves to the HTTP status. A 429 (the lab's watch cache of a CRD that
 * was just established is still "(re)initializing") is retried, as the relay's informers do.
 */
async function get(rest: KubeRest, path: string, query?: Record<string, string>): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await rest.request({ method: 'GET', path, ...(query ? { query } : {}) });
      return 200;
    } catch (error) {
      const status = statusOf(error);
      if (status !== 429 || Date.now() > deadline) return status;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function statusOf(error: unknown): number {
  if (error instanceof KubeApiError) return error.status;
  throw error;
}

async function eventually(check: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function secretPath(namespace: string, name?: string): string {
  return resourcePath({ group: '', version: 'v1', plural: 'secrets', namespace, name });
}

describe('the management server identity', () => {
  it('reads sources everywhere and its own Secrets', async () => {
    expect(
      await get(
        server,
        resourcePath({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways' }),
      ),
    ).toBe(200);
    expect(await get(server, secretPath(NS), { fieldSelector: 'type=kuberelay.dev/agent-token' })).toBe(200);
  });

  it('is refused writing a Gateway (a source), in any namespace', async () => {
    expect(await create(server, gateway('httpbin', 'rbac-test-by-server'))).toBe(403);
    expect(await create(server, gateway(NS, 'rbac-test-by-server'))).toBe(403);
  });

  it('is refused reading a Secret in another namespace, or listing Secrets cluster-wide', async () => {
    expect(await get(server, secretPath('httpbin', 'rbac-test-elsewhere'))).toBe(403);
    expect(await get(server, secretPath('kube-system'))).toBe(403);
    expect(await get(server, resourcePath({ group: '', version: 'v1', plural: 'secrets' }))).toBe(403);
  });

  it('is refused creating a KubernetesCluster (registering is relayctl’s, with the operator’s rights)', async () => {
    expect(await create(server, kubernetesCluster)).toBe(403);
  });
});

describe('the agent identity', () => {
  it('reads its own credentials Secret', async () => {
    expect(await get(agent, secretPath(NS, AGENT_CREDENTIALS_SECRET))).toBe(200);
  });

  it('is refused reading any other Secret, even in its namespace, and listing Secrets', async () => {
    expect(await get(agent, secretPath(NS, 'rbac-test-neighbour'))).toBe(403);
    expect(await get(agent, secretPath('httpbin', 'rbac-test-elsewhere'))).toBe(403);
    expect(await get(agent, secretPath('httpbin', AGENT_CREDENTIALS_SECRET))).toBe(403);
    expect(await get(agent, secretPath(NS))).toBe(403);
  });

  it('is refused writing KubernetesClusters', async () => {
    expect(await create(agent, kubernetesCluster)).toBe(403);
  });

  it('keeps Leases in its own namespace only (leader election, presence), and never watches them', async () => {
    const lease = (namespace: string): Obj => ({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'rbac-test-lease', namespace },
      spec: { holderIdentity: 'rbac-test', leaseDurationSeconds: 10 },
    });
    const leases = (namespace: string, name?: string) =>
      resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace, name });
    expect(await create(agent, lease(NS), new KubeRest(lab.kubeConfig('cluster-1')))).toBe(201);
    expect(await get(agent, leases(NS, 'rbac-test-lease'))).toBe(200);
    expect(await get(agent, leases(NS))).toBe(200);
    expect(await get(agent, leases(NS), { watch: 'true', timeoutSeconds: '1' })).toBe(403);
    const deleted = await agent
      .request({ method: 'DELETE', path: leases(NS, 'rbac-test-lease') })
      .then(() => 200)
      .catch((error: unknown) => statusOf(error));
    expect(deleted).toBe(200);
    expect(await create(agent, lease('kube-system'))).toBe(403);
    expect(await get(agent, leases('kube-system'))).toBe(403);
    expect(
      await get(agent, resourcePath({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases' })),
    ).toBe(403);
  });

  it('writes copies in any namespace when not confined', async () => {
    expect(
      await create(
        agent,
        gateway('gloo-system', 'rbac-test-by-agent'),
        new KubeRest(lab.kubeConfig('cluster-1')),
      ),
    ).toBe(201);
  });
});

describe('an agent identity confined to writableNamespaces [httpbin]', () => {
  const admin = () => new KubeRest(lab.kubeConfig('cluster-2'));

  it('writes copies in httpbin', async () => {
    expect(await create(confined, upstream('httpbin', 'rbac-test-confined'), admin())).toBe(201);
  });

  it('is refused writing a copy outside its namespaces, or a cluster-scoped one', async () => {
    expect(await create(confined, gateway('gloo-system', 'rbac-test-confined'))).toBe(403);
    expect(await create(confined, upstream(NS, 'rbac-test-confined'))).toBe(403);
    expect(
      await create(confined, {
        apiVersion: GW,
        kind: 'GatewayClass',
        metadata: { name: 'rbac-test-confined' },
        spec: { controllerName: 'example.com/none' },
      }),
    ).toBe(403);
  });

  it('still lists and watches copies cluster-wide (its informers need it)', async () => {
    expect(
      await get(
        confined,
        resourcePath({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways' }),
      ),
    ).toBe(200);
  });
});
