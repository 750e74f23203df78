import {
  computeDesiredState,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  type DesiredState,
  type KubeObject,
} from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { type ClusterSnapshot, SnapshotCache } from './snapshotCache.js';

const upstream = (name: string, to: string, port = 80): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name, namespace: 'gloo-mesh', annotations: { 'gloo.solo.io/distribute-to': to } },
  spec: { static: { hosts: [{ addr: name, port }] } },
});

const compute = (sources: KubeObject[], clusters: string[], previous?: DesiredState) =>
  computeDesiredState({
    sources,
    clusters,
    mgmtCluster: 'mgmt',
    classMapping: DEFAULT_CLASS_MAPPING,
    kinds: DEFAULT_KINDS,
    previous,
  });

function watching(cache: SnapshotCache, cluster: string) {
  const seen: (ClusterSnapshot | undefined)[] = [];
  cache.watch(cluster, (s) => seen.push(s));
  return seen;
}

describe('SnapshotCache', () => {
  it('is not ready and knows no cluster before the first state', async () => {
    const cache = new SnapshotCache();
    expect(cache.isReady()).toBe(false);
    expect(cache.get('qa')).toBeUndefined();
    cache.publish(compute([upstream('a', '*')], ['qa']));
    await cache.ready;
    expect(cache.get('qa')?.copies.size).toBe(1);
    expect(cache.get('qa')?.changedAt).toBeUndefined();
  });

  it('notifies only the clusters whose content changed, with a new revision', () => {
    const cache = new SnapshotCache();
    const first = compute([upstream('a', 'qa'), upstream('b', 'prod')], ['qa', 'prod']);
    cache.publish(first);
    const qa = watching(cache, 'qa');
    const prod = watching(cache, 'prod');
    const second = compute([upstream('a', 'qa', 81), upstream('b', 'prod')], ['qa', 'prod'], first);
    cache.publish(second, { changedAt: 42 });
    expect(qa.map((s) => s?.revision)).toEqual([2]);
    expect(qa[0]?.changedAt).toBe(42);
    expect(prod).toEqual([]);
    // Same content again (a no-op recompute): nobody hears anything.
    cache.publish(compute([upstream('a', 'qa', 81), upstream('b', 'prod')], ['qa', 'prod']));
    expect(qa).toHaveLength(1);
  });

  it('tells watchers of a deregistered cluster undefined', () => {
    const cache = new SnapshotCache();
    cache.publish(compute([upstream('a', '*')], ['qa', 'prod']));
    const prod = watching(cache, 'prod');
    cache.publish(compute([upstream('a', '*')], ['qa']));
    expect(prod).toEqual([undefined]);
    expect(cache.get('prod')).toBeUndefined();
  });

  it('encodes each copy once, shares the bytes, and forgets unused ones', () => {
    const cache = new SnapshotCache({ sweepSlack: 0 });
    const state = compute([upstream('a', '*')], ['qa', 'prod']);
    cache.publish(state);
    const qa = [...(cache.get('qa')?.copies.values() ?? [])][0];
    const prod = [...(cache.get('prod')?.copies.values() ?? [])][0];
    if (qa === undefined || prod === undefined) throw new Error('copies expected');
    const bytes = cache.encoded.manifest(qa);
    expect(cache.encoded.manifest(prod)).toBe(bytes);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(qa.object);
    cache.publish(compute([upstream('a', '*', 99)], ['qa', 'prod'], state));
    expect(cache.encoded.size).toBe(0);
  });

  it('sweeps only once the encodings have doubled past the live ones, and stays within that', () => {
    const cache = new SnapshotCache({ sweepSlack: 2 });
    let state = compute([upstream('a', '*')], ['qa']);
    const sizes: number[] = [];
    for (let port = 1; port <= 12; port++) {
      cache.publish(state);
      const copy = [...(cache.get('qa')?.copies.values() ?? [])][0];
      if (copy === undefined) throw new Error('copy expected');
      cache.encoded.manifest(copy);
      sizes.push(cache.encoded.size);
      state = compute([upstream('a', '*', port)], ['qa'], state);
    }
    // One live copy at a time: the dead encodings pile up to 2 x live + slack, then go at once.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2 * 1 + 2 + 1);
    expect(sizes).toContain(1);
    expect(sizes.some((size, i) => i > 0 && size < (sizes[i - 1] ?? 0))).toBe(true);
  });
});
