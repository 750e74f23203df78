import { DEFAULT_CLASS_MAPPING, DEFAULT_KINDS, type KubeObject } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { explain } from './explainReport.js';
import { computePlan } from './planReport.js';

// relayctl explain's core: the state of each copy from the cluster's status and the live copy.

const up = (port: number): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: {
    name: 'web',
    namespace: 'gloo-mesh',
    annotations: { 'gloo.solo.io/distribute-to': 'qa/httpbin,prod-*/httpbin,!prod-b' },
  },
  spec: { kube: { serviceName: 'web', servicePort: port } },
});
const KEY = 'gloo.solo.io/Upstream/httpbin/web';
const status = (outcome: 'Applied' | 'Failed') => ({
  connected: true,
  ackedVersion: '7',
  lastHeartbeat: '2026-12-04T00:00:00Z',
  conditions: [
    {
      type: 'UpToDate' as const,
      status: 'True' as const,
      reason: 'Acknowledged',
      message: '',
      lastTransitionTime: '2026-12-03T23:00:00Z',
    },
  ],
  copies: [
    {
      key: KEY,
      outcome,
      ...(outcome === 'Failed' ? { code: 'NamespaceNotFound', message: 'no httpbin' } : {}),
    },
  ],
});

function explained(live: KubeObject | null | undefined, outcome: 'Applied' | 'Failed' = 'Applied') {
  const input = {
    proposed: [up(8000)],
    current: [up(8000)],
    clusters: [
      { name: 'prod-a', status: status(outcome) },
      { name: 'prod-b', status: undefined },
    ],
    settings: { mgmtCluster: 'mgmt', classMapping: DEFAULT_CLASS_MAPPING, kinds: DEFAULT_KINDS },
  };
  const liveMap = new Map(live === undefined ? [] : [['prod-a', new Map([[KEY, live]])]]);
  return explain({
    sourceUri: 'gloo://mgmt/ns/gloo-mesh/kind/Upstream/name/web',
    source: up(8000),
    plan: computePlan({ ...input, live: liveMap }),
    clusters: input.clusters,
    live: liveMap,
    sourceEvents: [],
    copyEvents: new Map(),
  }).copies;
}

const desiredCopy = () => {
  const after = computePlan({
    proposed: [up(8000)],
    current: [],
    clusters: [{ name: 'prod-a', status: undefined }],
    settings: { mgmtCluster: 'mgmt', classMapping: DEFAULT_CLASS_MAPPING, kinds: DEFAULT_KINDS },
  }).copies[0]?.after;
  if (after === undefined) throw new Error('no copy');
  return after;
};

describe('explain', () => {
  it('a copy its agent applied: current, selected by the first entry that names its cluster', () => {
    const [copy] = explained(undefined);
    expect(explained(undefined).map((c) => c.cluster)).toEqual(['prod-a']);
    expect(copy).toMatchObject({
      state: 'current',
      selectedBy: 'prod-*/httpbin',
      ackedVersion: '7',
      live: 'not-read',
    });
    expect(copy?.upToDateSince).toBe('2026-12-03T23:00:00Z');
  });

  it('a live copy someone edited: drifted, naming the field; server defaults on top are not drift', () => {
    const live = desiredCopy();
    const edited = {
      ...live,
      spec: { kube: { serviceName: 'web', servicePort: 9999, defaulted: true } },
    } as KubeObject;
    expect(explained(edited)[0]).toMatchObject({
      state: 'drifted',
      live: 'differs',
      driftFields: ['spec.kube.servicePort'],
    });
    const defaulted = {
      ...live,
      metadata: { ...live.metadata, uid: 'u', resourceVersion: '1' },
      spec: { kube: { serviceName: 'web', servicePort: 8000, defaulted: true } },
    } as KubeObject;
    expect(explained(defaulted)[0]).toMatchObject({ state: 'current', live: 'matches', driftFields: [] });
  });

  it('a failed copy says why; a missing one is pending', () => {
    expect(explained(undefined, 'Failed')[0]).toMatchObject({
      state: 'failed',
      detail: 'NamespaceNotFound: no httpbin',
    });
    expect(explained(null)[0]).toMatchObject({ state: 'pending', live: 'missing' });
  });
});
