import { describe, expect, it } from 'vitest';
import { DEFAULT_CLASS_MAPPING } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import { DEFAULT_KINDS } from '../kinds/kindInfo.js';
import { DEFAULT_POLICY, DriftMode } from '../policy/copyPolicy.js';
import { CLUSTERS, compute, layout, reportsOf, upstream } from './computeDesiredState.testkit.js';
import { DesiredStateEngine } from './desiredStateEngine.js';
import { DigestFormat, stateDigest } from './stateDigest.js';

// Per-source policy (docs/spec.md §10): kuberelay.dev/paused, drift and ignore-fields. A pause
// holds the copies that landed, whatever the source does meanwhile; the others travel with
// every copy and change its digest line, never its content.

const KEY = 'gloo.solo.io/Upstream/httpbin/u';
const MOVED_KEY = 'gloo.solo.io/Upstream/other/u';

let rv = 0;
function source(distributeTo: string, annotations: Record<string, string> = {}, port = 8000): KubeObject {
  const base = upstream('u', 'gloo-mesh', distributeTo);
  rv += 1;
  return {
    ...base,
    metadata: {
      ...base.metadata,
      uid: 'uid-u',
      resourceVersion: String(rv),
      annotations: { ...base.metadata.annotations, ...annotations },
    },
    spec: { kube: { serviceName: 'u', serviceNamespace: 'httpbin', servicePort: port } },
  };
}

const PAUSED = { 'kuberelay.dev/paused': 'true' };

function engine() {
  const e = new DesiredStateEngine({
    mgmtCluster: 'mgmt',
    classMapping: DEFAULT_CLASS_MAPPING,
    kinds: DEFAULT_KINDS,
  });
  return (sources: KubeObject[], clusters: readonly string[] = CLUSTERS) =>
    e.update({ sources, clusters }).state;
}

const portIn = (state: ReturnType<typeof compute>, cluster: string, key = KEY) =>
  (state.clusters.get(cluster)?.get(key)?.object.spec as { kube: { servicePort: number } } | undefined)?.kube
    .servicePort;

describe('kuberelay.dev/paused', () => {
  it('holds the copies in place: an edit, a new selection and a new namespace reach no cluster', () => {
    const update = engine();
    const before = update([source('{qa,canary}/httpbin')]);
    const paused = update([source('{qa,canary}/httpbin', PAUSED)]);
    // Same content, same hash; only the policy says paused.
    expect(paused.clusters.get('qa')?.get(KEY)?.hash).toBe(before.clusters.get('qa')?.get(KEY)?.hash);
    expect(paused.clusters.get('qa')?.get(KEY)?.policy.paused).toBe(true);
    const edited = update([source('qa/other', PAUSED, 9999)]);
    // The held copies stay; the newly selected slot gets a paused copy, which the agent does not
    // create (its status says so).
    expect(layout(edited).qa).toEqual([KEY, MOVED_KEY]);
    expect(layout(edited).canary).toEqual([KEY]);
    expect(portIn(edited, 'qa')).toBe(8000);
    expect(edited.clusters.get('canary')?.get(KEY)?.policy.paused).toBe(true);
    expect(edited.clusters.get('qa')?.get(MOVED_KEY)?.policy.paused).toBe(true);
    // Lifting the pause applies the source as it is now: the move, the port, the prune.
    const resumed = update([source('qa/other', {}, 9999)]);
    expect(layout(resumed).qa).toEqual([MOVED_KEY]);
    expect(layout(resumed).canary).toEqual([]);
    expect(portIn(resumed, 'qa', MOVED_KEY)).toBe(9999);
    expect(resumed.clusters.get('qa')?.get(MOVED_KEY)?.policy).toBe(DEFAULT_POLICY);
  });

  it('is a warning on the source, shown wherever its status is', () => {
    const state = compute({ sources: [source('qa/httpbin', PAUSED)] });
    expect(reportsOf(state)['gloo.solo.io/Upstream/gloo-mesh/u']).toEqual([
      expect.objectContaining({ code: 'Paused', severity: 'warning' }),
    ]);
    expect(state.invalidSources.size).toBe(0);
  });

  it('places a source paused before any copy landed, each copy marked paused (the agent writes none)', () => {
    const state = compute({ sources: [source('qa/httpbin', PAUSED)] });
    expect(layout(state).qa).toEqual([KEY]);
    expect(state.clusters.get('qa')?.get(KEY)?.policy.paused).toBe(true);
  });

  it('deleting a paused source prunes its copies: the pause went with it', () => {
    const update = engine();
    update([source('qa/httpbin')]);
    update([source('qa/httpbin', PAUSED)]);
    expect(layout(update([])).qa).toEqual([]);
  });

  it('a cluster registered during the pause gets a paused copy of the source as it is', () => {
    const update = engine();
    update([source('*/httpbin')], ['qa']);
    const state = update([source('*/httpbin', PAUSED, 7000)], ['qa', 'canary']);
    expect(portIn(state, 'qa')).toBe(8000);
    expect(portIn(state, 'canary')).toBe(7000);
    expect(state.clusters.get('canary')?.get(KEY)?.policy.paused).toBe(true);
  });
});

describe('kuberelay.dev/drift and ignore-fields', () => {
  it('travel with each copy without changing its content, and change its digest', () => {
    const plain = compute({ sources: [source('qa/httpbin')] });
    const report = compute({
      sources: [
        source('qa/httpbin', {
          'kuberelay.dev/drift': 'report',
          'kuberelay.dev/ignore-fields': 'spec.kube.servicePort',
        }),
      ],
    });
    const a = plain.clusters.get('qa')?.get(KEY);
    const b = report.clusters.get('qa')?.get(KEY);
    expect(b?.hash).toBe(a?.hash);
    expect(b?.policy).toEqual({
      paused: false,
      drift: DriftMode.Report,
      ignoreFields: ['spec.kube.servicePort'],
      holdReason: '',
    });
    for (const format of [DigestFormat.sortedLines, DigestFormat.entrySum]) {
      expect(stateDigest(report.clusters.get('qa') ?? new Map(), format)).not.toBe(
        stateDigest(plain.clusters.get('qa') ?? new Map(), format),
      );
    }
  });

  it('a bad value makes the source invalid, and its copies are kept as they were', () => {
    const update = engine();
    update([source('qa/httpbin')]);
    const state = update([source('qa/httpbin', { 'kuberelay.dev/ignore-fields': 'status.x' }, 1234)]);
    expect(state.invalidSources.has('gloo.solo.io/Upstream/gloo-mesh/u')).toBe(true);
    expect(portIn(state, 'qa')).toBe(8000);
    expect(reportsOf(state)['gloo.solo.io/Upstream/gloo-mesh/u']?.[0]).toMatchObject({
      code: 'InvalidAnnotation',
      severity: 'error',
    });
  });
});
