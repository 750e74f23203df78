import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writes } from '../agent/agentHarness.js';
import { copyOf, example, referenceExample } from '../support/examples.js';
import { type Obj, RelayFixture } from '../support/relayFixture.js';

// A copy is exactly its source, seen end to end as a user sees it: what the source removes
// disappears from every copy; a workload cluster one Gateway API release behind (v1.1.0: no
// HTTPRoute rules[].timeouts) gets the copy without the field, says so everywhere status is
// shown, and is not written again, not even by the periodic re-check.

const RESYNC_MS = 10_000;
let f: RelayFixture;

beforeAll(async () => {
  f = await RelayFixture.start({
    name: 'relay-convergence',
    gatewayApiVersions: { 'cluster-2': 'v1.1.0' },
    connect: false,
  });
  for (const cluster of ['cluster-1', 'cluster-2']) {
    await f.register(cluster);
    await f.startAgent(cluster, { resyncIntervalMs: RESYNC_MS });
  }
  for (const obj of example('mgmt-gatewayclass.yaml')) await f.apply(obj);
}, 180_000);
afterAll(async () => {
  await f?.stop();
});

type Listener = { hostname?: string };
const listenersOf = (o: Obj | undefined) => (o?.spec?.listeners ?? []) as Listener[];
const rulesOf = (o: Obj | undefined) => (o?.spec?.rules ?? []) as { timeouts?: unknown }[];

describe('the reference example, edited in the management cluster', () => {
  it('removes a field, a label and an annotation from every copy when the source drops them', async () => {
    const { gateway } = referenceExample();
    const annotated: Obj = {
      ...gateway,
      metadata: {
        ...gateway.metadata,
        labels: { ...gateway.metadata.labels, team: 'edge' },
        annotations: { ...gateway.metadata.annotations, 'example.com/owner': 'edge-team' },
      },
    };
    await f.apply(annotated);
    const target = copyOf(gateway, 'gloo-system');
    const uids = new Map<string, string | undefined>();
    for (const cluster of ['cluster-1', 'cluster-2']) {
      const copy = await f.waitFor(
        cluster,
        target,
        (o) =>
          o?.metadata.labels?.team === 'edge' && o.metadata.annotations?.['example.com/owner'] !== undefined,
      );
      expect(listenersOf(copy)[0]?.hostname).toBe('mydomain.com');
      uids.set(cluster, copy?.metadata.uid as string | undefined);
    }

    // The reproduction: the listener's hostname goes, and the label and annotation too.
    const listeners = listenersOf(gateway).map(({ hostname: _h, ...rest }) => rest);
    await f.apply({ ...gateway, spec: { ...gateway.spec, listeners } });
    for (const cluster of ['cluster-1', 'cluster-2']) {
      const copy = await f.waitFor(
        cluster,
        target,
        (o) => o !== undefined && listenersOf(o)[0]?.hostname === undefined,
      );
      expect(copy?.metadata.labels?.team).toBeUndefined();
      expect(copy?.metadata.annotations?.['example.com/owner']).toBeUndefined();
      expect(copy?.metadata.uid).toBe(uids.get(cluster));
    }
  });
});

describe('a workload cluster one Gateway API release behind', () => {
  const route: Obj = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name: 'with-timeouts',
      namespace: 'gloo-mesh',
      annotations: { 'gloo.solo.io/distribute-to': '*/httpbin' },
    },
    spec: {
      hostnames: ['timeouts.example.com'],
      rules: [
        {
          timeouts: { request: '10s' },
          backendRefs: [{ group: 'gloo.solo.io', kind: 'Upstream', name: 'httpbin', port: 8000 }],
        },
      ],
    },
  };
  const target = copyOf(route, 'httpbin');
  const key = 'gateway.networking.k8s.io/HTTPRoute/httpbin/with-timeouts';

  it('reports the pruned field in status, relayctl status and an Event, and writes nothing more', async () => {
    await f.apply(referenceExample().upstream); // the route's backend, so no other warning shows
    await f.apply(route);
    const current = await f.waitFor('cluster-1', target, (o) => o !== undefined);
    expect(rulesOf(current)[0]?.timeouts).toEqual({ request: '10s' });
    const behind = await f.waitFor('cluster-2', target, (o) => o !== undefined);
    expect(rulesOf(behind)[0]?.timeouts).toBeUndefined();

    // What the operator sees: the cluster's status, relayctl, the source's Events.
    const deadline = Date.now() + 15_000;
    let entry: { code?: string; message?: string; outcome?: string } | undefined;
    for (;;) {
      const status = await f.clusterStatus('cluster-2');
      entry = status?.copies?.find((c) => c.key === key);
      if ((status?.counts?.warnings ?? 0) > 0 && entry?.code !== undefined) break;
      if (Date.now() > deadline)
        throw new Error(`no warning in cluster-2's status: ${JSON.stringify(status)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(entry).toMatchObject({ outcome: 'Applied', code: 'FieldsPrunedByWorkloadSchema' });
    expect(entry?.message).toContain('spec.rules[0].timeouts');
    expect((await f.clusterStatus('cluster-1'))?.copies?.find((c) => c.key === key)?.code).toBeUndefined();

    // Each cluster's status is written on its own (at most once a second): wait for both.
    const statusOut = async () =>
      (await f.relayctl(['status', 'httproute/with-timeouts', '-n', 'gloo-mesh'])).out;
    await expect.poll(statusOut, { timeout: 15_000 }).toMatch(/cluster-1\s+httpbin\s+applied\s*\n/);
    expect(await statusOut()).toMatch(
      /cluster-2\s+httpbin\s+applied\s+FieldsPrunedByWorkloadSchema: .*spec\.rules\[0\]\.timeouts/,
    );

    const check = await f.relayctl(['check']);
    expect(check.out).toContain('cluster-2: 1 applied copy differs from the source');

    await waitUntil(async () =>
      (await f.eventsFor({ ...route.metadata, kind: route.kind })).some(
        (e) => e.reason === 'FieldsPrunedByWorkloadSchema',
      ),
    );
    const event = (await f.eventsFor({ ...route.metadata, kind: route.kind })).find(
      (e) => e.reason === 'FieldsPrunedByWorkloadSchema',
    );
    expect(event).toMatchObject({ type: 'Warning' });
    expect(event?.message).toContain('cluster-2');

    // Zero writes afterwards: over 30 s, three periodic re-checks of every copy (10 s here).
    const agent = f.agents.get('cluster-2');
    if (agent === undefined) throw new Error('no agent for cluster-2');
    const before = await writes(agent);
    const rv = behind?.metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 3 * RESYNC_MS + 1_000));
    expect(await writes(agent)).toEqual(before);
    expect((await f.get('cluster-2', target))?.metadata.resourceVersion).toBe(rv);
  }, 90_000);
});

async function waitUntil(done: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
