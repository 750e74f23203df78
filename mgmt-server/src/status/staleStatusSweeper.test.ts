import { describe, expect, it } from 'vitest';
import { type ClusterFacts, type LeaseFacts, staleConnections } from './staleStatusSweeper.js';

const NOW = 1_000_000;
const lease = (pod: string, instance: string, ageMs: number): LeaseFacts => ({
  name: `kuberelay-mgmt-server-${pod}`,
  holderIdentity: instance,
  renewedAt: NOW - ageMs,
});
const cluster = (name: string, status: ClusterFacts['status']): ClusterFacts => ({
  name,
  resourceVersion: '7',
  status,
});
const connectedTo = (instance: string | undefined, pod: string) => ({
  connected: true,
  connectedPod: `gloo-mesh/${pod}`,
  ...(instance === undefined ? {} : { serverInstance: instance }),
});

function stale(clusters: ClusterFacts[], leases: LeaseFacts[], heldHere: string[] = []): string[] {
  return staleConnections({
    clusters,
    leases,
    now: NOW,
    self: 'mgmt-0/new',
    heldHere: (c) => heldHere.includes(c),
    staleAfterMs: 30_000,
  }).map((c) => c.name);
}

describe('staleConnections', () => {
  it('marks a cluster whose status names an earlier process of this pod (restart, same name)', () => {
    expect(
      stale([cluster('a', connectedTo('mgmt-0/old', 'mgmt-0'))], [lease('mgmt-0', 'mgmt-0/new', 0)]),
    ).toEqual(['a']);
  });

  it('leaves a cluster this process holds, whatever its status says', () => {
    expect(stale([cluster('a', connectedTo('mgmt-0/old', 'mgmt-0'))], [], ['a'])).toEqual([]);
  });

  it('marks a cluster held by another replica whose Lease went stale, not one whose Lease is fresh', () => {
    const leases = [lease('mgmt-1', 'mgmt-1/x', 31_000), lease('mgmt-2', 'mgmt-2/y', 29_000)];
    expect(
      stale(
        [cluster('a', connectedTo('mgmt-1/x', 'mgmt-1')), cluster('b', connectedTo('mgmt-2/y', 'mgmt-2'))],
        leases,
      ),
    ).toEqual(['a']);
  });

  it('marks a cluster held by a replica whose Lease now has another holder (that pod restarted)', () => {
    expect(
      stale([cluster('a', connectedTo('mgmt-1/x', 'mgmt-1'))], [lease('mgmt-1', 'mgmt-1/z', 0)]),
    ).toEqual(['a']);
  });

  it('judges a status from a server without instances by its pod Lease alone', () => {
    const leases = [lease('mgmt-1', 'mgmt-1', 0)];
    expect(
      stale(
        [cluster('a', connectedTo(undefined, 'mgmt-1')), cluster('b', connectedTo(undefined, 'mgmt-9'))],
        leases,
      ),
    ).toEqual(['b']);
  });

  it('leaves disconnected and never-connected clusters alone', () => {
    expect(stale([cluster('a', { connected: false }), cluster('b', undefined)], [])).toEqual([]);
  });
});
