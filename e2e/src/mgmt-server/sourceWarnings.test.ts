import type { MgmtServer, MgmtServerOptions } from '@kuberelay/mgmt-server';
import { KUBERNETES_CLUSTER, type KubeObject } from '@kuberelay/shared';
import { resourcePath } from '@kuberelay/shared/kube';
import { describe, expect, it } from 'vitest';
import { relayctl } from '../relayctl/harness.js';
import { useMgmtLab } from '../support/mgmtLab.js';
import { REFERENCE_GRANT, referenceGrant } from '../support/referenceGrant.js';
import { startTestServer } from '../support/testing.js';

// Warnings a person sees on a source without reading logs (docs/spec.md §8): Warning Events recorded by a
// real management server against the lab, and relayctl status showing them.

const m = useMgmtLab();
const namespaceNamed = m.createNamespace;
const create = (object: KubeObject, plural: string) => m.create(object, { plural });

async function registerCluster(namespace: string, cluster: string): Promise<void> {
  await create(
    {
      apiVersion: `${KUBERNETES_CLUSTER.group}/${KUBERNETES_CLUSTER.version}`,
      kind: KUBERNETES_CLUSTER.kind,
      metadata: { name: cluster, namespace },
    },
    KUBERNETES_CLUSTER.plural,
  );
}

async function startServer(
  namespace: string,
  overrides: Partial<MgmtServerOptions> = {},
): Promise<MgmtServer> {
  const server = await startTestServer(m.lab, namespace, overrides);
  m.cleanups.push(() => server.stop());
  await server.ready;
  return server;
}

interface EventSeen {
  readonly on: string;
  readonly kind: string;
  readonly reason: string;
  readonly type: string;
  readonly message: string;
  readonly count: number;
}

async function events(namespace: string): Promise<EventSeen[]> {
  const list = await m.rest.request<{
    items: {
      involvedObject: { name: string; kind: string };
      reason: string;
      type: string;
      message: string;
      count: number;
    }[];
  }>({ method: 'GET', path: `/api/v1/namespaces/${namespace}/events` });
  return list.items.map((e) => ({
    on: e.involvedObject.name,
    kind: e.involvedObject.kind,
    reason: e.reason,
    type: e.type,
    message: e.message,
    count: e.count,
  }));
}

describe('local references', () => {
  it("warns on a Gateway whose infrastructure parametersRef does not land beside the Gateway's copy", async () => {
    const namespace = await namespaceNamed('warn-ref');
    await registerCluster(namespace, 'alpha');
    await startServer(namespace);
    // The GatewayParameters goes to gloo-system, the Gateway to edge: the local reference breaks.
    await create(
      {
        apiVersion: 'gateway.gloo.solo.io/v1alpha1',
        kind: 'GatewayParameters',
        metadata: {
          name: 'params',
          namespace,
          annotations: { 'gloo.solo.io/distribute-to': 'alpha/gloo-system' },
        },
        spec: { kube: {} },
      },
      'gatewayparameters',
    );
    await create(
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'gw', namespace, annotations: { 'gloo.solo.io/distribute-to': 'alpha/edge' } },
        spec: {
          gatewayClassName: 'gloo-gateway',
          infrastructure: {
            parametersRef: { group: 'gateway.gloo.solo.io', kind: 'GatewayParameters', name: 'params' },
          },
          listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
        },
      },
      'gateways',
    );

    await expect
      .poll(async () => (await events(namespace)).filter((e) => e.on === 'gw'), { timeout: 15_000 })
      .toEqual([
        expect.objectContaining({
          kind: 'Gateway',
          reason: 'UnresolvedReference',
          type: 'Warning',
          message: expect.stringContaining(
            "spec.infrastructure.parametersRef is a local reference to GatewayParameters.gateway.gloo.solo.io params in the copy's namespace edge, whose copies land in gloo-system, not beside it",
          ),
        }),
      ]);
    const status = await relayctl(m.lab, [
      'status',
      'gateway/gw',
      '--kubecontext',
      'mgmt',
      '-n',
      namespace,
      '-o',
      'json',
    ]);
    expect(status.code).toBe(0);
    const [source] = (JSON.parse(status.out) as { sources: { events: { reason: string }[] }[] }).sources;
    expect(source?.events.map((e) => e.reason)).toEqual(['UnresolvedReference']);
  }, 40_000);
});

describe('annotated objects of a kind that is not distributed', () => {
  it('get one KindNotDistributable Warning Event per annotation value', async () => {
    const namespace = await namespaceNamed('warn-kind');
    await registerCluster(namespace, 'alpha');
    await startServer(namespace);
    await create(referenceGrant({ name: 'grant', namespace, distributeTo: 'alpha' }), REFERENCE_GRANT.plural);
    await create(
      {
        ...referenceGrant({ name: 'quiet', namespace, distributeTo: '' }),
        metadata: { name: 'quiet', namespace },
      },
      REFERENCE_GRANT.plural,
    );

    const onGrant = async () => (await events(namespace)).filter((e) => e.on !== 'alpha');
    await expect.poll(onGrant, { timeout: 15_000 }).toEqual([
      {
        on: 'grant',
        kind: 'ReferenceGrant',
        reason: 'KindNotDistributable',
        type: 'Warning',
        message:
          "ReferenceGrant.gateway.networking.k8s.io is not one of the kinds this management server distributes (GatewayClass, Gateway, HTTPRoute, GatewayParameters, HttpListenerOption, ListenerOption, RouteOption, VirtualHostOption, Upstream); its gloo.solo.io/distribute-to annotation is ignored. Add the kind to the server's --kinds to distribute it.",
        count: 1,
      },
    ]);

    // Another edit records nothing new; a new annotation value is reported again (count 2).
    const path = `${resourcePath({ ...REFERENCE_GRANT, namespace })}/grant`;
    const patch = (body: object) =>
      m.rest.request({ method: 'PATCH', path, body, contentType: 'application/merge-patch+json' });
    await patch({ metadata: { labels: { edited: 'yes' } } });
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await onGrant()).map((e) => e.count)).toEqual([1]);
    await patch({ metadata: { annotations: { 'gloo.solo.io/distribute-to': 'alpha, beta' } } });
    await expect.poll(async () => (await onGrant()).map((e) => e.count), { timeout: 10_000 }).toEqual([2]);
  }, 60_000);
});
