import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { copyOf, upstream } from '../support/examples.js';
import { type Obj, RelayFixture } from '../support/relayFixture.js';

// The operator's controls on a source (docs/spec.md D10.1-D10.3), end to end on the lab: a paused
// source's copies are frozen (no update, no prune, no drift repair) and shown paused; report-only
// drift is found, reported and left, and reverted at once when the source says enforce again;
// fields another controller manages in the workload cluster, named in ignore-fields, survive the
// agent's writes and are never drift. A negative ("the agent did not touch it") is only asserted
// after something the agent demonstrably did later in the same watch stream, never after a sleep.

let f: RelayFixture;
beforeAll(async () => {
  f = await RelayFixture.start({ name: 'operator-control' });
}, 180_000);
afterAll(async () => {
  await f?.stop();
});

const BOTH = 'cluster-1/httpbin,cluster-2/httpbin';
const port = (o: Obj | undefined) => (o?.spec?.kube as { servicePort?: number } | undefined)?.servicePort;
const serviceName = (o: Obj | undefined) =>
  (o?.spec?.kube as { serviceName?: string } | undefined)?.serviceName;
const keyOf = (name: string) => `gloo.solo.io/Upstream/httpbin/${name}`;

function withAnnotations(o: Obj, annotations: Record<string, string>): Obj {
  const out = structuredClone(o);
  out.metadata.annotations = { ...out.metadata.annotations, ...annotations };
  return out;
}

/** Edits a copy in a workload cluster as a person with kubectl edit would (merge patch). */
async function editCopy(cluster: string, name: string, kube: Record<string, unknown>): Promise<void> {
  await f.workload(cluster).request({
    method: 'PATCH',
    path: `/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams/${name}`,
    contentType: 'application/merge-patch+json',
    body: { spec: { kube } },
  });
}

/** Waits until the cluster's status reports the copy with `outcome` (and a message saying `says`). */
async function reported(cluster: string, key: string, outcome: string, says = '') {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const copies = (await f.clusterStatus(cluster))?.copies ?? [];
    const entry = copies.find((c) => c.key === key);
    if (entry?.outcome === outcome && (entry.message ?? '').includes(says)) return entry;
    if (Date.now() > deadline)
      throw new Error(`${cluster} never reported ${key} ${outcome}; last: ${JSON.stringify(entry)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** relayctl plan -f for one proposed source, as JSON. */
async function planOf(o: Obj) {
  const file = join(await mkdtemp(join(tmpdir(), 'kuberelay-plan-')), 'source.yaml');
  await writeFile(file, stringify(o));
  const r = await f.relayctl(['plan', '-f', file, '-o', 'json']);
  if (r.code !== 0) throw new Error(`relayctl plan failed (${r.code}): ${r.err}`);
  return JSON.parse(r.out) as { copies: { cluster: string; action: string; reason?: string }[] };
}

async function statusJson(name: string) {
  const r = await f.relayctl(['status', `upstream/${name}`, '--source-namespace', 'gloo-mesh', '-o', 'json']);
  const json = JSON.parse(r.out) as {
    sources: { health: string; targets: { cluster: string; result: string; message: string | null }[] }[];
  };
  return { code: r.code, source: json.sources[0] };
}

describe('kuberelay.dev/paused', () => {
  const src = upstream('paused-web', BOTH);
  // The control: same kind, same clusters, not paused. Its copy's repair, which the agent makes
  // after handling the paused copy's edit (one watch stream, in order), proves it looked.
  const control = upstream('control-web', BOTH);
  beforeAll(async () => {
    for (const o of [src, control]) await f.apply(o);
    for (const cluster of ['cluster-1', 'cluster-2'])
      for (const o of [src, control])
        await f.waitFor(cluster, copyOf(o, 'httpbin'), (c) => c !== undefined, 20_000);
  });

  it('freezes the copies: an edit of the source, a drifted copy and a deselected cluster are all left', async () => {
    const paused = withAnnotations(src, { 'kuberelay.dev/paused': 'true' });
    await f.apply(paused);
    await reported('cluster-1', keyOf('paused-web'), 'Paused');
    // Now the source changes, one cluster leaves its selection, and someone edits a copy.
    const edited = withAnnotations(paused, { 'gloo.solo.io/distribute-to': 'cluster-1/httpbin' });
    (edited.spec as { kube: { servicePort: number } }).kube.servicePort = 9100;
    // What plan says of that change is what then happens: nothing is written anywhere.
    const planned = await planOf(edited);
    expect(planned.copies.map((c) => `${c.cluster} ${c.action} ${c.reason ?? ''}`)).toEqual([
      'cluster-1 unchanged the source is paused',
      'cluster-2 unchanged the source is paused',
    ]);
    await f.apply(edited);
    await editCopy('cluster-1', 'paused-web', { serviceName: 'hand-edited' });
    await editCopy('cluster-1', 'control-web', { serviceName: 'hand-edited' });
    await f.waitFor('cluster-1', copyOf(control, 'httpbin'), (c) => serviceName(c) === 'control-web', 20_000);
    const held = await f.get('cluster-1', copyOf(src, 'httpbin'));
    expect(serviceName(held)).toBe('hand-edited');
    expect(port(held)).toBe(8000);
    expect(port(await f.get('cluster-2', copyOf(src, 'httpbin')))).toBe(8000);

    // Status says how the paused copy stands: the agent saw the edit, and left it.
    const entry = await reported('cluster-1', keyOf('paused-web'), 'Paused', 'differs from its source');
    expect(entry.message).toContain('in spec.kube.serviceName (not reverted while paused)');
    const { source } = await statusJson('paused-web');
    expect(source?.targets.find((t) => t.cluster === 'cluster-1')?.result).toBe('paused');
    const table = await f.relayctl(['status', 'upstream/paused-web', '--source-namespace', 'gloo-mesh']);
    expect(table.out).toContain('paused');
    const events = await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'paused-web' });
    expect(events.map((e) => e.reason)).toContain('SourcePaused');
  });

  it('resumes when the annotation goes: the edit lands, the drift is repaired, the deselected copy is pruned', async () => {
    const resumed = structuredClone(src);
    resumed.metadata.annotations = { 'gloo.solo.io/distribute-to': 'cluster-1/httpbin' };
    (resumed.spec as { kube: { servicePort: number } }).kube.servicePort = 9100;
    await f.apply(resumed);
    await f.waitFor(
      'cluster-1',
      copyOf(src, 'httpbin'),
      (c) => port(c) === 9100 && serviceName(c) === 'paused-web',
      20_000,
    );
    await f.waitFor('cluster-2', copyOf(src, 'httpbin'), (c) => c === undefined, 20_000);
    await reported('cluster-1', keyOf('paused-web'), 'Applied');
  });

  it('refuses a bad value with a clear error and changes nothing', async () => {
    await f.apply(withAnnotations(control, { 'kuberelay.dev/paused': 'yes' }));
    const deadline = Date.now() + 20_000;
    let events = await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'control-web' });
    while (!events.some((e) => e.message.includes('kuberelay.dev/paused')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      events = await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'control-web' });
    }
    expect(events.find((e) => e.message.includes('kuberelay.dev/paused'))?.message).toContain(
      'kuberelay.dev/paused "yes" is not one of "true", "false"',
    );
    // An invalid source is held, never pruned: its copies stay.
    for (const cluster of ['cluster-1', 'cluster-2'])
      expect(await f.get(cluster, copyOf(control, 'httpbin'))).toBeDefined();
    await f.apply(control);
  });
});

describe('kuberelay.dev/drift: report', () => {
  const src = withAnnotations(upstream('reported-web', BOTH), { 'kuberelay.dev/drift': 'report' });
  beforeAll(async () => {
    await f.apply(src);
    for (const cluster of ['cluster-1', 'cluster-2'])
      await f.waitFor(cluster, copyOf(src, 'httpbin'), (c) => c !== undefined, 20_000);
  });

  it('reports an edited copy as drifted, in the field edited, and leaves it so', async () => {
    await editCopy('cluster-2', 'reported-web', { servicePort: 1234 });
    const entry = await reported('cluster-2', keyOf('reported-web'), 'Drifted');
    expect(entry.message).toContain('spec.kube.servicePort');
    expect(port(await f.get('cluster-2', copyOf(src, 'httpbin')))).toBe(1234);
    expect(port(await f.get('cluster-1', copyOf(src, 'httpbin')))).toBe(8000);

    const { source } = await statusJson('reported-web');
    expect(source?.targets.find((t) => t.cluster === 'cluster-2')).toMatchObject({ result: 'drifted' });
    const explain = await f.relayctl([
      'explain',
      'upstream/reported-web',
      '--source-namespace',
      'gloo-mesh',
      '--workload-context',
      'cluster-2',
      '-o',
      'json',
    ]);
    const copy = (
      JSON.parse(explain.out) as { copies: { cluster: string; state: string; driftFields: string[] }[] }
    ).copies.find((c) => c.cluster === 'cluster-2');
    expect(copy).toMatchObject({ state: 'drifted', driftFields: ['spec.kube.servicePort'] });
    const deadline = Date.now() + 20_000;
    let events = await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'reported-web' });
    while (!events.some((e) => e.reason === 'CopyDrifted') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      events = await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'reported-web' });
    }
    expect(events.find((e) => e.reason === 'CopyDrifted')?.message).toContain('spec.kube.servicePort');
  });

  it('reverts at once when the source says enforce again', async () => {
    await f.apply(withAnnotations(src, { 'kuberelay.dev/drift': 'enforce' }));
    await f.waitFor('cluster-2', copyOf(src, 'httpbin'), (c) => port(c) === 8000, 20_000);
    await reported('cluster-2', keyOf('reported-web'), 'Applied');
  });
});

describe('kuberelay.dev/ignore-fields', () => {
  const src = withAnnotations(upstream('ignoring-web', 'cluster-1/httpbin'), {
    'kuberelay.dev/ignore-fields': 'spec.kube.servicePort, spec.discoveryMetadata',
  });
  beforeAll(async () => {
    await f.apply(src);
    await f.waitFor('cluster-1', copyOf(src, 'httpbin'), (c) => c !== undefined, 20_000);
  });

  it('what a second field manager writes there is not drift, survives the agent writing the copy, and the rest still is', async () => {
    // A controller in the workload cluster, by server-side apply under its own field manager: one
    // field the source sets (taken over with force), one it does not, and one that is not ignored.
    await f.workload('cluster-1').request({
      method: 'PATCH',
      path: '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams/ignoring-web',
      query: { fieldManager: 'discovery-controller', force: 'true' },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'gloo.solo.io/v1',
        kind: 'Upstream',
        metadata: { name: 'ignoring-web', namespace: 'httpbin' },
        spec: {
          kube: { servicePort: 9999, serviceName: 'controller-set' },
          discoveryMetadata: { labels: { app: 'discovered' } },
        },
      },
    });
    // The field not ignored is reverted; the ignored ones stay, and the copy is applied, not drifted.
    const live = await f.waitFor(
      'cluster-1',
      copyOf(src, 'httpbin'),
      (c) => serviceName(c) === 'ignoring-web',
      20_000,
    );
    expect(port(live)).toBe(9999);
    expect(live?.spec?.discoveryMetadata).toEqual({ labels: { app: 'discovered' } });
    await reported('cluster-1', keyOf('ignoring-web'), 'Applied');

    // A change of the source makes the agent write the copy: the ignored fields keep their values.
    const relabelled = structuredClone(src);
    relabelled.metadata.labels = { ...relabelled.metadata.labels, team: 'edge' };
    (relabelled.spec as { kube: { servicePort: number } }).kube.servicePort = 8500;
    await f.apply(relabelled);
    const rewritten = await f.waitFor(
      'cluster-1',
      copyOf(src, 'httpbin'),
      (c) => c?.metadata.labels?.team === 'edge',
      20_000,
    );
    expect(port(rewritten)).toBe(9999);
    expect(rewritten?.spec?.discoveryMetadata).toEqual({ labels: { app: 'discovered' } });
    const copies = (await f.clusterStatus('cluster-1'))?.copies ?? [];
    expect(copies.find((c) => c.key === keyOf('ignoring-web'))?.outcome).not.toBe('Drifted');
  });

  it('refuses a path it cannot honour, naming it', async () => {
    const bad = withAnnotations(upstream('bad-ignore', 'cluster-1/httpbin'), {
      'kuberelay.dev/ignore-fields': 'spec.kube.servicePort, metadata.name',
    });
    await f.apply(bad);
    const deadline = Date.now() + 20_000;
    let events = await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'bad-ignore' });
    while (!events.some((e) => e.message.includes('ignore-fields')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      events = await f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'bad-ignore' });
    }
    expect(events.find((e) => e.message.includes('ignore-fields'))?.message).toContain('metadata.name');
    expect(await f.get('cluster-1', copyOf(bad, 'httpbin'))).toBeUndefined();
  });
});
