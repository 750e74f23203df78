import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOf, upstream } from '../support/examples.js';
import { createOrReplace, type Obj, RelayFixture, resourceVersions } from '../support/relayFixture.js';

// docs/spec.md §4: changes made to a copy in a workload cluster are reverted, promptly and without a
// write loop; objects the relay does not own are never touched unless the source opts in; one
// cluster missing a namespace or a CRD fails only those copies.

let f: RelayFixture;
beforeAll(async () => {
  f = await RelayFixture.start({ name: 'relay-drift' });
}, 120_000);
afterAll(async () => {
  await f?.stop();
});

const merge = (cluster: string, o: Obj, body: unknown) =>
  f.workload(cluster).request({
    method: 'PATCH',
    path: `/apis/gloo.solo.io/v1/namespaces/${o.metadata.namespace}/upstreams/${o.metadata.name}`,
    contentType: 'application/merge-patch+json',
    body,
  });

/** Waits `ms` and returns whether any copy in the namespace was written meanwhile. */
async function writesDuring(
  cluster: string,
  namespace: string,
  kind: { apiVersion: string; kind: string },
  ms: number,
) {
  const before = await resourceVersions(f.workload(cluster), { ...kind, namespace });
  await new Promise((r) => setTimeout(r, ms));
  const after = await resourceVersions(f.workload(cluster), { ...kind, namespace });
  return { before, after };
}

describe('drift repair', () => {
  const src = upstream('drifty', '*/httpbin', { port: 8000 });
  const copy = copyOf(src, 'httpbin');

  beforeAll(async () => {
    await f.apply(src);
    await f.waitFor('cluster-1', copy, (o) => o !== undefined);
  });

  it.each([
    {
      what: 'a spec field edited',
      change: { spec: { kube: { servicePort: 1234 } } },
      repaired: (o?: Obj) => (o?.spec?.kube as { servicePort?: number })?.servicePort === 8000,
    },
    {
      what: 'a field added under spec',
      change: { spec: { addedBySomeone: { x: 1 } } },
      repaired: (o?: Obj) => o !== undefined && !('addedBySomeone' in (o.spec ?? {})),
    },
    {
      what: 'a managed label edited',
      change: { metadata: { labels: { 'relay.solo.io/cluster': 'someone-else' } } },
      repaired: (o?: Obj) => o?.metadata.labels?.['relay.solo.io/cluster'] === 'mgmt',
    },
  ])('reverts $what', async ({ change, repaired }) => {
    // How fast is measured by `pnpm bench:latency`; here only that it happens.
    await merge('cluster-1', { ...src, metadata: { ...src.metadata, namespace: 'httpbin' } }, change);
    await f.waitFor('cluster-1', copy, repaired);
  });

  it('recreates a deleted copy', async () => {
    const before = await f.get('cluster-1', copy);
    await f
      .workload('cluster-1')
      .request({ method: 'DELETE', path: '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams/drifty' });
    const after = await f.waitFor(
      'cluster-1',
      copy,
      (o) => o !== undefined && o.metadata.uid !== before?.metadata.uid,
    );
    expect(after?.spec).toEqual(src.spec);
  });

  it('reverts a copy edited again and again, every time (only API-server rewrites count as a loop)', async () => {
    for (let i = 1; i <= 6; i++) {
      await merge(
        'cluster-1',
        { ...src, metadata: { ...src.metadata, namespace: 'httpbin' } },
        { spec: { kube: { servicePort: 5000 + i } } },
      );
      await f.waitFor(
        'cluster-1',
        copy,
        (o) => (o?.spec?.kube as { servicePort?: number })?.servicePort === 8000,
      );
    }
  });

  it('then makes no writes at all', async () => {
    const { before, after } = await writesDuring(
      'cluster-1',
      'httpbin',
      { apiVersion: 'gloo.solo.io/v1', kind: 'Upstream' },
      3_000,
    );
    expect(before.drifty).toBeTruthy();
    expect(after).toEqual(before);
  });

  it('does not fight server-side defaults (HTTPRoute rules, parentRefs and backendRefs get defaulted)', async () => {
    const route: Obj = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: 'defaulted',
        namespace: 'gloo-mesh',
        annotations: { 'gloo.solo.io/distribute-to': 'cluster-1/httpbin' },
      },
      spec: {
        parentRefs: [{ name: 'gw' }],
        rules: [{ backendRefs: [{ group: 'gloo.solo.io', kind: 'Upstream', name: 'drifty' }] }],
      },
    };
    await f.apply(route);
    const live = await f.waitFor('cluster-1', copyOf(route, 'httpbin'), (o) => o !== undefined);
    // The server added defaults the copy never set...
    expect((live?.spec?.rules as { matches?: unknown }[] | undefined)?.[0]?.matches).toEqual([
      { path: { type: 'PathPrefix', value: '/' } },
    ]);
    // ...and the agent leaves them be.
    const { before, after } = await writesDuring(
      'cluster-1',
      'httpbin',
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' },
      3_000,
    );
    expect(after).toEqual(before);
  });
});

describe('conflicts', () => {
  it('treats a copy whose distributed-source annotation someone removed as theirs: left alone, reported', async () => {
    // docs/spec.md §4: the agent writes only objects that carry its distributed-source annotation.
    const src = upstream('unmarked', '*/httpbin');
    await f.apply(src);
    await f.waitFor('cluster-1', copyOf(src, 'httpbin'), (o) => o !== undefined);
    await merge(
      'cluster-1',
      { ...src, metadata: { ...src.metadata, namespace: 'httpbin' } },
      {
        metadata: { annotations: { 'gloo.solo.io/distributed-source': null } },
        spec: { kube: { servicePort: 4321 } },
      },
    );
    await expect
      .poll(
        async () =>
          (await f.clusterStatus('cluster-1'))?.copies?.find((c) =>
            c.key.endsWith('/Upstream/httpbin/unmarked'),
          )?.outcome,
        {
          timeout: 10_000,
        },
      )
      .toBe('Conflict');
    const live = await f.get('cluster-1', copyOf(src, 'httpbin'));
    expect((live?.spec?.kube as { servicePort?: number } | undefined)?.servicePort).toBe(4321);
  });

  it('leaves an object it does not own untouched and reports it, then takes it over when the source opts in', async () => {
    const theirs: Obj = { ...upstream('taken', undefined, { namespace: 'httpbin', port: 7777 }) };
    await createOrReplace(f.workload('cluster-2'), theirs);
    const src = upstream('taken', '*/httpbin', { port: 8000 });
    await f.apply(src);

    await f.waitFor('cluster-1', copyOf(src, 'httpbin'), (o) => o !== undefined);
    await expect
      .poll(
        async () =>
          (await f.clusterStatus('cluster-2'))?.copies?.find((c) => c.key.endsWith('/Upstream/httpbin/taken'))
            ?.outcome,
        {
          timeout: 10_000,
        },
      )
      .toBe('Conflict');
    const untouched = await f.get('cluster-2', copyOf(src, 'httpbin'));
    expect((untouched?.spec?.kube as { servicePort?: number } | undefined)?.servicePort).toBe(7777);
    expect(untouched?.metadata.annotations?.['gloo.solo.io/distributed-source']).toBeUndefined();
    await expect
      .poll(
        async () =>
          (await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'taken' })).map(
            (e) => e.reason,
          ),
        {
          timeout: 10_000,
        },
      )
      .toContain('CopyConflict');

    await f.apply({
      ...src,
      metadata: {
        ...src.metadata,
        annotations: { ...src.metadata.annotations, 'kuberelay.dev/conflict-resolution': 'overwrite' },
      },
    });
    const taken = await f.waitFor(
      'cluster-2',
      copyOf(src, 'httpbin'),
      (o) =>
        o?.metadata.annotations?.['gloo.solo.io/distributed-source'] ===
        'gloo://mgmt/ns/gloo-mesh/kind/Upstream/name/taken',
    );
    expect((taken?.spec?.kube as { servicePort?: number } | undefined)?.servicePort).toBe(8000);
  });
});

describe('partial failures', () => {
  it('a namespace missing in one cluster fails only that copy, and the copy follows once it exists', async () => {
    await createOrReplace(f.workload('cluster-1'), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'only-here' },
    });
    const src = upstream('ns-missing', '*/only-here');
    const other = upstream('ns-present', '*/httpbin');
    await f.apply(src);
    await f.apply(other);
    await f.waitFor('cluster-1', copyOf(src, 'only-here'), (o) => o !== undefined);
    await f.waitFor('cluster-2', copyOf(other, 'httpbin'), (o) => o !== undefined);
    await expect
      .poll(
        async () => {
          const entry = (await f.clusterStatus('cluster-2'))?.copies?.find((c) =>
            c.key.endsWith('/Upstream/only-here/ns-missing'),
          );
          return entry && { outcome: entry.outcome, code: entry.code };
        },
        { timeout: 10_000 },
      )
      .toEqual({ outcome: 'Failed', code: 'NamespaceNotFound' });

    await createOrReplace(f.workload('cluster-2'), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'only-here' },
    });
    await f.waitFor('cluster-2', copyOf(src, 'only-here'), (o) => o !== undefined, 15_000);
  });

  it('a kind not installed in one cluster fails only those copies', async () => {
    await f.workload('cluster-2').request({
      method: 'DELETE',
      path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/routeoptions.gateway.solo.io',
    });
    const option: Obj = {
      apiVersion: 'gateway.solo.io/v1',
      kind: 'RouteOption',
      metadata: {
        name: 'timeouts',
        namespace: 'gloo-mesh',
        annotations: { 'gloo.solo.io/distribute-to': '*/httpbin' },
      },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'defaulted' }],
        options: { timeout: '5s' },
      },
    };
    const sibling = upstream('kind-sibling', '*/httpbin');
    await f.apply(option);
    await f.apply(sibling);
    await f.waitFor('cluster-1', copyOf(option, 'httpbin'), (o) => o !== undefined);
    await f.waitFor('cluster-2', copyOf(sibling, 'httpbin'), (o) => o !== undefined);
    await expect
      .poll(
        async () => {
          const entry = (await f.clusterStatus('cluster-2'))?.copies?.find((c) =>
            c.key.endsWith('/RouteOption/httpbin/timeouts'),
          );
          return entry && { outcome: entry.outcome, code: entry.code };
        },
        { timeout: 10_000 },
      )
      .toEqual({ outcome: 'Failed', code: 'KindNotInstalled' });
  });
});
