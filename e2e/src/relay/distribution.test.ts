import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOf, example, referenceExample, upstream } from '../support/examples.js';
import { type Obj, RelayFixture } from '../support/relayFixture.js';

// What a person sees after annotating sources in the management cluster: copies in every
// selected workload cluster, edits and deletions following, bad input reported without losing
// anything. Real kube-apiservers, the real management server and agents, real gRPC.

const WORKLOADS = ['cluster-1', 'cluster-2'] as const;
let f: RelayFixture;

beforeAll(async () => {
  f = await RelayFixture.start({ name: 'relay-distribution' });
  for (const obj of example('mgmt-gatewayclass.yaml')) await f.apply(obj);
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

const sourceUri = (o: Obj) => `gloo://mgmt/ns/${o.metadata.namespace}/kind/${o.kind}/name/${o.metadata.name}`;

describe('the reference example', () => {
  it('lands in every cluster with the class swapped, labels kept and the route pointing at the Gateway copy', async () => {
    const { gateway, upstream: up, route } = referenceExample();
    for (const o of [gateway, up, route]) await f.apply(o);

    for (const cluster of WORKLOADS) {
      const gw = await f.waitFor(cluster, copyOf(gateway, 'gloo-system'), (o) => o !== undefined);
      expect(gw?.metadata.annotations?.['gloo.solo.io/distributed-source']).toBe(
        'gloo://mgmt/ns/gloo-mesh/kind/Gateway/name/distributed-gateway',
      );
      expect(gw?.metadata.annotations?.['gloo.solo.io/distribute-to']).toBeUndefined();
      expect(gw?.spec?.gatewayClassName).toBe('gloo-gateway');
      expect(gw?.metadata.labels).toMatchObject({
        example: 'config-distro',
        'relay.solo.io/cluster': 'mgmt',
        'app.kubernetes.io/managed-by': 'kuberelay-agent',
      });
      expect(gw?.spec?.listeners).toMatchObject([
        { name: 'http', port: 8080, hostname: 'mydomain.com', protocol: 'HTTP' },
      ]);

      const u = await f.waitFor(cluster, copyOf(up, 'httpbin'), (o) => o !== undefined);
      expect(u?.metadata.annotations?.['gloo.solo.io/distributed-source']).toBe(sourceUri(up));
      expect(u?.spec).toEqual(up.spec);

      const r = await f.waitFor(cluster, copyOf(route, 'httpbin'), (o) => o !== undefined);
      expect(r?.metadata.annotations?.['gloo.solo.io/distributed-source']).toBe(
        'gloo://mgmt/ns/gloo-mesh/kind/HTTPRoute/name/httpbin-mydomain',
      );
      const spec = r?.spec as {
        parentRefs: { name: string; namespace?: string }[];
        rules: { backendRefs: Record<string, unknown>[] }[];
      };
      expect(spec.parentRefs[0]).toMatchObject({ name: 'distributed-gateway', namespace: 'gloo-system' });
      // The Upstream lands in the route's own namespace, so its implicit namespace stays implicit.
      expect(spec.rules[0]?.backendRefs[0]).toMatchObject({
        name: 'httpbin',
        kind: 'Upstream',
        group: 'gloo.solo.io',
      });
      expect(spec.rules[0]?.backendRefs[0]?.namespace).toBeUndefined();
    }
    // Nothing lands in the management cluster's namespaces by accident.
    expect(await f.get('mgmt', copyOf(gateway, 'gloo-system'))).toBeUndefined();
  });

  it('shows each cluster connected, up to date and with every copy applied', async () => {
    for (const cluster of WORKLOADS) {
      await expect
        .poll(
          async () => {
            const s = await f.clusterStatus(cluster);
            return {
              connected: s?.connected,
              pod: s?.connectedPod,
              applied: s?.counts?.applied,
              upToDate: s?.conditions?.find((c) => c.type === 'UpToDate')?.status,
            };
          },
          { timeout: 10_000 },
        )
        .toEqual({
          connected: true,
          pod: expect.stringContaining('mgmt-server-0'),
          applied: 3,
          upToDate: 'True',
        });
    }
  });
});

describe('lifecycle', () => {
  it('an edit in the source follows to every copy', async () => {
    const src = upstream('follows', '*/httpbin', { port: 8000 });
    await f.apply(src);
    for (const c of WORKLOADS) await f.waitFor(c, copyOf(src, 'httpbin'), (o) => o !== undefined);
    await f.apply(upstream('follows', '*/httpbin', { port: 9000 }));
    for (const c of WORKLOADS) {
      await f.waitFor(
        c,
        copyOf(src, 'httpbin'),
        (o) => (o?.spec?.kube as { servicePort?: number })?.servicePort === 9000,
      );
    }
  });

  it('delete, un-annotate, empty annotation and deselect each remove exactly their copies', async () => {
    const names = ['deleted', 'unannotated', 'emptied', 'deselected', 'bystander'];
    for (const n of names) await f.apply(upstream(n, '*/httpbin'));
    const uids: Record<string, string | undefined> = {};
    for (const c of WORKLOADS) {
      for (const n of names) {
        const live = await f.waitFor(c, copyOf(upstream(n, ''), 'httpbin'), (o) => o !== undefined);
        uids[`${c}/${n}`] = live?.metadata.uid;
      }
    }

    await f.remove(upstream('deleted', '*/httpbin'));
    await f.apply(upstream('unannotated', undefined));
    await f.apply(upstream('emptied', ''));
    await f.apply(upstream('deselected', 'cluster-1/httpbin'));

    for (const c of WORKLOADS) {
      for (const n of ['deleted', 'unannotated', 'emptied']) {
        await f.waitFor(c, copyOf(upstream(n, ''), 'httpbin'), (o) => o === undefined);
      }
    }
    await f.waitFor('cluster-2', copyOf(upstream('deselected', ''), 'httpbin'), (o) => o === undefined);
    // What is still wanted was not touched: same objects (UIDs) as before.
    expect((await f.get('cluster-1', copyOf(upstream('deselected', ''), 'httpbin')))?.metadata.uid).toBe(
      uids['cluster-1/deselected'],
    );
    for (const c of WORKLOADS) {
      expect((await f.get(c, copyOf(upstream('bystander', ''), 'httpbin')))?.metadata.uid).toBe(
        uids[`${c}/bystander`],
      );
    }
  });
});

describe('bad input is reported and loses nothing', () => {
  it('an HTTPRoute backed by a Service is not distributed, and says why on the source', async () => {
    const route: Obj = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: 'to-a-service',
        namespace: 'gloo-mesh',
        annotations: { 'gloo.solo.io/distribute-to': '*/httpbin' },
      },
      spec: {
        parentRefs: [{ name: 'distributed-gateway' }],
        rules: [{ backendRefs: [{ name: 'httpbin', port: 8000 }] }],
      },
    };
    await f.apply(route);
    await expect
      .poll(
        async () =>
          (await f.eventsFor({ kind: 'HTTPRoute', namespace: 'gloo-mesh', name: 'to-a-service' })).map(
            (e) => e.type,
          ),
        {
          timeout: 10_000,
        },
      )
      .toContain('Warning');
    const events = await f.eventsFor({ kind: 'HTTPRoute', namespace: 'gloo-mesh', name: 'to-a-service' });
    expect(events.map((e) => e.message).join('\n')).toMatch(/Upstream/);
    for (const c of WORKLOADS) expect(await f.get(c, copyOf(route, 'httpbin'))).toBeUndefined();
  });

  it('an invalid annotation keeps the existing copies as they are, and is reported', async () => {
    const src = upstream('kept-on-error', '*/httpbin');
    await f.apply(src);
    const before: Record<string, Obj | undefined> = {};
    for (const c of WORKLOADS) before[c] = await f.waitFor(c, copyOf(src, 'httpbin'), (o) => o !== undefined);

    await f.apply(upstream('kept-on-error', 'a/b/c', { port: 9999 }));
    await expect
      .poll(
        async () =>
          (await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'kept-on-error' })).map(
            (e) => e.reason,
          ),
        {
          timeout: 10_000,
        },
      )
      .toContain('DistributionInvalid');
    const events = await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'kept-on-error' });
    expect(events.map((e) => e.message).join('\n')).toContain('a/b/c');
    // Give a wrong implementation every chance to delete or rewrite the copies.
    await new Promise((r) => setTimeout(r, 2_000));
    for (const c of WORKLOADS) {
      const now = await f.get(c, copyOf(src, 'httpbin'));
      expect(now?.metadata.uid).toBe(before[c]?.metadata.uid);
      expect(now?.metadata.resourceVersion).toBe(before[c]?.metadata.resourceVersion);
    }
  });

  it('a brace bomb in distribute-to is refused with the limit, at once, and the server goes on distributing', async () => {
    // 100 characters that would expand to 2^20 cluster patterns (spec D2.10).
    const bomb = upstream('brace-bomb', `${'{a,b}'.repeat(20)}/httpbin`);
    await f.apply(bomb);
    await expect
      .poll(
        async () =>
          (await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'brace-bomb' }))
            .map((e) => e.message)
            .join('\n'),
        { timeout: 10_000 },
      )
      .toContain('expand to more than 1024 patterns');
    // An unrelated source edited after it still reaches every cluster.
    const after = upstream('after-the-bomb', '*/httpbin');
    await f.apply(after);
    for (const c of WORKLOADS) {
      expect(await f.waitFor(c, copyOf(after, 'httpbin'), (o) => o !== undefined)).toBeDefined();
      expect(await f.get(c, copyOf(bomb, 'httpbin'))).toBeUndefined();
    }
    const status = await f.relayctl(['status', 'Upstream/brace-bomb']);
    expect(status.code).toBe(0);
    expect(status.out).toContain('expand to more than 1024 patterns');
    expect(Math.max(...status.out.split('\n').map((line) => line.length))).toBeLessThan(400);
  });
});
