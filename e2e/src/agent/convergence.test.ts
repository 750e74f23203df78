import { CopyOutcome } from '@kuberelay/proto';
import { DEFAULT_KINDS, type KindInfo, type KubeObject } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { unique } from '../support/testing.js';
import {
  applied,
  type Live,
  sleep,
  stateFile,
  upstream,
  upstreamPath,
  useAgentHarness,
  writes,
} from './agentHarness.js';
import { buildTestCopy } from './relayTestServer.js';

// A copy converges to exactly its desired object (docs/design.md, "Agent write strategy"): what
// the source removes disappears from the copy; a repair never touches status, even on a kind
// whose status is written through the main resource; and what the workload API server itself
// drops (an older schema) is reported once and never written again until something changes.

const h = useAgentHarness();
const { createNamespace, mustGet, edit, startServer, startTestAgent } = h;

/** Waits until `done` holds for the live object (10 s at most). */
async function until(path: string, done: (live: Live) => boolean): Promise<Live> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const live = await h.get(path);
    if (live !== undefined && done(live)) return live;
    if (Date.now() > deadline) throw new Error(`${path} did not converge within 10 s`);
    await sleep(20);
  }
}

describe('a copy converges to exactly its source', () => {
  it('removes a field, a label and an annotation the source removed, in one write, then stays quiet', async () => {
    const ns = unique('removal');
    await createNamespace(ns);
    const server = await startServer();
    const base = upstream('u1', ns);
    const before: KubeObject = {
      ...base,
      metadata: { ...base.metadata, labels: { team: 'edge' }, annotations: { 'example.com/note': 'old' } },
      spec: { static: { hosts: [{ addr: 'u1.example.com', port: 80 }], useTls: true } },
    };
    const first = buildTestCopy({ object: before });
    server.publish([first]);
    const agent = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    expect((await server.ackOf(0)).results).toEqual([applied(first)]);
    const path = upstreamPath(ns, 'u1');
    const created = await mustGet(path);
    expect(created.spec).toEqual(before.spec);
    expect(created.metadata.labels?.team).toBe('edge');
    expect(created.metadata.annotations?.['example.com/note']).toBe('old');

    // The source loses its label, its annotation and spec.static.useTls.
    const second = buildTestCopy({ object: base });
    const version = server.publish([second]);
    expect((await server.ackOf(version)).results).toEqual([applied(second)]);
    const live = await until(
      path,
      (o) => o.metadata.annotations?.['kuberelay.dev/copy-hash'] === second.hash,
    );
    expect(live.spec).toEqual(base.spec);
    expect(live.metadata.labels?.team).toBeUndefined();
    expect(live.metadata.annotations?.['example.com/note']).toBeUndefined();
    expect(live.metadata.uid).toBe(created.metadata.uid);
    expect(await writes(agent)).toEqual({ create: 1, update: 1, delete: 0 });

    await sleep(3_000);
    expect(await writes(agent)).toEqual({ create: 1, update: 1, delete: 0 });
    expect((await mustGet(path)).metadata.resourceVersion).toBe(live.metadata.resourceVersion);
  });

  it('keeps a status another manager wrote through the main resource when it reverts drift', async () => {
    const ns = unique('status');
    await createNamespace(ns);
    const server = await startServer();
    const copy = buildTestCopy({ object: upstream('u1', ns) });
    server.publish([copy]);
    const agent = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    await server.ackOf(0);
    const path = upstreamPath(ns, 'u1');

    // Gloo's Upstream has no status subresource: its controller writes status on the object.
    const status = { statuses: { 'gloo-system': { state: 'Accepted', reportedBy: 'gloo' } } };
    await edit(path, { status }, 'gloo');
    const written = await mustGet(path);
    expect(written.status).toEqual(status); // the fixture's fact: no status subresource

    await edit(path, { spec: { static: { hosts: [{ addr: 'evil.example.com', port: 1 }] } } });
    const repaired = await until(
      path,
      (o) => JSON.stringify(o.spec) === JSON.stringify(manifestSpec(copy.manifest)),
    );
    expect(repaired.status).toEqual(status);
    const gloo = repaired.metadata.managedFields?.find((m) => m.manager === 'gloo');
    expect(gloo?.fieldsV1).toEqual(
      written.metadata.managedFields?.find((m) => m.manager === 'gloo')?.fieldsV1,
    );
    expect(repaired.metadata.managedFields?.some((m) => m.manager === 'e2e-editor')).toBe(false);
    expect(await writes(agent)).toEqual({ create: 1, update: 1, delete: 0 });
  });
});

// A kind of this test's own, so its schema can change without disturbing other tests.
const WIDGET: KindInfo = {
  group: 'e2e.kuberelay.dev',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
};
const widgetCrd = (fields: readonly string[]) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.e2e.kuberelay.dev' },
  spec: {
    group: WIDGET.group,
    scope: 'Namespaced',
    names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: Object.fromEntries(fields.map((f) => [f, { type: 'string' }])),
              },
            },
          },
        },
      },
    ],
  },
});
const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

describe('schema skew in the workload cluster', () => {
  it('reports fields the workload schema prunes, writes nothing more, and writes once the schema knows them', async () => {
    await h.rest.request({ method: 'POST', path: CRDS, body: widgetCrd(['size']) });
    h.cleanups.push(async () => {
      await h.rest.request({ method: 'DELETE', path: `${CRDS}/widgets.e2e.kuberelay.dev` });
    });
    await until(`${CRDS}/widgets.e2e.kuberelay.dev`, (crd) =>
      JSON.stringify(crd.status ?? {}).includes('"Established"'),
    );
    const ns = unique('skew');
    await createNamespace(ns);
    const server = await startServer();
    const widget: KubeObject = {
      apiVersion: 'e2e.kuberelay.dev/v1',
      kind: 'Widget',
      metadata: { name: 'w1', namespace: ns },
      spec: { size: 'large', colour: 'blue' },
    };
    const copy = buildTestCopy({ object: widget });
    server.publish([copy]);
    const agent = await startTestAgent({
      serverAddress: server.address,
      stateFile: await stateFile(),
      kinds: [...DEFAULT_KINDS, WIDGET],
      resyncIntervalMs: 1_000,
    });
    const [result] = (await server.ackOf(0)).results;
    expect(result).toMatchObject({
      key: copy.key,
      outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
      code: 'FieldsPrunedByWorkloadSchema',
    });
    expect(result?.message).toContain('spec.colour');
    const path = `/apis/e2e.kuberelay.dev/v1/namespaces/${ns}/widgets/w1`;
    const stored = await mustGet(path);
    expect(stored.spec).toEqual({ size: 'large' });

    // Several periodic re-checks (every second here), and a watch event from another manager's
    // change elsewhere on the object: nothing is written, the object never moves.
    await sleep(3_500);
    await edit(path, { metadata: { labels: { unrelated: 'x' } } }, 'someone');
    await sleep(3_500);
    expect(await writes(agent)).toEqual({ create: 1, update: 0, delete: 0 });
    expect(server.reports.flatMap((r) => r.results)).toEqual([]);

    // A person editing the skewed copy again and again is reverted every time: a write whose
    // stored result lacks the pruned field is no write loop.
    for (let i = 0; i < 4; i++) {
      await edit(path, { spec: { size: `edited-${i}` } });
      await until(path, (o) => o.spec.size === 'large');
    }
    expect(await writes(agent)).toEqual({ create: 1, update: 4, delete: 0 });
    expect(server.reports.flatMap((r) => r.results).some((r) => r.code === 'MutationLoop')).toBe(false);

    // The workload cluster's CRD learns the field: the copy is written once, the warning clears.
    const crd = await mustGet(`${CRDS}/widgets.e2e.kuberelay.dev`);
    await h.rest.request({
      method: 'PUT',
      path: `${CRDS}/widgets.e2e.kuberelay.dev`,
      body: { ...widgetCrd(['size', 'colour']), metadata: crd.metadata },
    });
    const fixed = await until(path, (o) => o.spec.colour === 'blue');
    expect(fixed.spec).toEqual(widget.spec);
    await until(path, () =>
      server.reports.some((r) => r.results.some((x) => x.key === copy.key && x.code === '')),
    );
    expect(await writes(agent)).toEqual({ create: 1, update: 5, delete: 0 });
  });
});

function manifestSpec(manifest: Buffer): unknown {
  return (JSON.parse(manifest.toString('utf8')) as { spec: unknown }).spec;
}
