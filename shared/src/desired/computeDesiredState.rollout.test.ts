import { describe, expect, it } from 'vitest';
import { DEFAULT_CLASS_MAPPING } from '../copy/buildCopy.js';
import type { KubeObject } from '../copy/kubeObject.js';
import { DEFAULT_KINDS } from '../kinds/kindInfo.js';
import { rolloutRevision } from '../rollout/rollout.js';
import { CLUSTERS, upstream } from './computeDesiredState.testkit.js';
import { DesiredStateEngine, type RolloutAdmission } from './desiredStateEngine.js';

// kuberelay.dev/rollout in the pure core (docs/spec.md D10.5): the clusters of waves a version has
// not reached keep the copy they have, marked held (paused, with the reason), and get nothing new;
// an admission counts only for the revision it names, so an edit starts again from the first wave.

const KEY = 'gloo.solo.io/Upstream/httpbin/u';
const SOURCE_KEY = 'gloo.solo.io/Upstream/gloo-mesh/u';
const ROLLOUT = { 'kuberelay.dev/rollout': 'canary; prod-*' };

let rv = 0;
function source(port: number, annotations: Record<string, string> = ROLLOUT): KubeObject {
  const base = upstream('u', 'gloo-mesh', '*/httpbin');
  rv += 1;
  return {
    ...base,
    metadata: {
      ...base.metadata,
      resourceVersion: String(rv),
      annotations: { ...base.metadata.annotations, ...annotations },
    },
    spec: { kube: { serviceName: 'u', serviceNamespace: 'httpbin', servicePort: port } },
  };
}

function engine() {
  const e = new DesiredStateEngine({
    mgmtCluster: 'mgmt',
    classMapping: DEFAULT_CLASS_MAPPING,
    kinds: DEFAULT_KINDS,
  });
  return (sources: KubeObject[], rollouts?: ReadonlyMap<string, RolloutAdmission>) =>
    e.update({ sources, clusters: CLUSTERS, rollouts }).state;
}

type State = ReturnType<ReturnType<typeof engine>>;
/** cluster → `port` of its copy, `held` when paused by the rollout. */
const view = (state: State) =>
  Object.fromEntries(
    CLUSTERS.map((cluster) => {
      const copy = state.clusters.get(cluster)?.get(KEY);
      const port = (copy?.object.spec as { kube: { servicePort: number } } | undefined)?.kube.servicePort;
      return [cluster, copy === undefined ? 'none' : `${port}${copy.policy.paused ? ' held' : ''}`];
    }),
  );
const admit = (src: KubeObject, admitted: number) =>
  new Map([[SOURCE_KEY, { revision: rolloutRevision(src), admitted }]]);

describe('kuberelay.dev/rollout', () => {
  it('a new source reaches its first wave; the others get it held, so their agents create nothing yet', () => {
    const update = engine();
    const state = update([source(8000)]);
    // qa is in no wave: it goes with the last (implicit) one.
    expect(view(state)).toEqual({
      qa: '8000 held',
      canary: '8000',
      'prod-eu': '8000 held',
      'prod-us': '8000 held',
    });
    expect(state.clusters.get('prod-eu')?.get(KEY)?.policy.holdReason).toBe(
      'kuberelay.dev/rollout: wave 2 has not been reached yet',
    );
    expect(state.clusters.get('qa')?.get(KEY)?.policy.holdReason).toContain('the last wave');
  });

  it('an edit reaches the first wave only; later waves keep the version they have until admitted', () => {
    const update = engine();
    const v1 = source(8000);
    update([v1], admit(v1, 3));
    const v2 = source(9000);
    // The admission is for v1: v2 starts again at wave 1.
    expect(view(update([v2], admit(v1, 3)))).toEqual({
      qa: '8000 held',
      canary: '9000',
      'prod-eu': '8000 held',
      'prod-us': '8000 held',
    });
    expect(view(update([v2], admit(v2, 2)))).toEqual({
      qa: '8000 held',
      canary: '9000',
      'prod-eu': '9000',
      'prod-us': '9000',
    });
    expect(view(update([v2], admit(v2, 3)))).toEqual({
      qa: '9000',
      canary: '9000',
      'prod-eu': '9000',
      'prod-us': '9000',
    });
  });

  it('a pause holds every cluster as it is, whatever the rollout says', () => {
    const update = engine();
    const v1 = source(8000);
    update([v1], admit(v1, 3));
    const paused = source(9000, { ...ROLLOUT, 'kuberelay.dev/paused': 'true' });
    const state = update([paused], admit(paused, 3));
    expect(view(state)).toEqual({
      qa: '8000 held',
      canary: '8000 held',
      'prod-eu': '8000 held',
      'prod-us': '8000 held',
    });
    expect(state.clusters.get('canary')?.get(KEY)?.policy.holdReason).toBe('');
  });

  it('a bad rollout annotation is an invalid source: its copies are kept as they were', () => {
    const update = engine();
    update([source(8000, {})]);
    const state = update([source(9000, { 'kuberelay.dev/rollout': 'a;;b' })]);
    expect(view(state)).toEqual({ qa: '8000', canary: '8000', 'prod-eu': '8000', 'prod-us': '8000' });
    expect([...state.invalidSources]).toEqual([SOURCE_KEY]);
  });
});
