import { CopyOutcome } from '@kuberelay/proto';
import { describe, expect, it } from 'vitest';
import { HERE, input, keyOf, NOW, upstream } from './dashboard.testkit.js';
import { buildClusterPage, buildFleet } from './fleetView.js';

const a = upstream('a', '*/httpbin');
const b = upstream('b', 'cluster-1/httpbin');
const c = upstream('c', '*/httpbin');

describe('buildFleet', () => {
  it('shows each cluster with its stream facts and its copies counted by result', () => {
    const view = buildFleet(
      input([a, b, c], {
        'cluster-1': {
          stream: 'here',
          answers: { b: { outcome: CopyOutcome.COPY_OUTCOME_FAILED, code: 'NamespaceNotFound' } },
        },
        'cluster-2': { stream: 'gone' },
      }),
    );
    expect(view.totals).toEqual({
      clusters: 2,
      connected: 1,
      upToDate: 1,
      counts: { Failed: 1, NotConnected: 2, Applied: 2 },
    });
    expect(view.clusters).toEqual([
      {
        name: 'cluster-1',
        connected: true,
        heldBy: 'gloo-mesh/mgmt-server-0',
        agentVersion: '0.1.0',
        agentPod: 'agent-cluster-1-0',
        agentReplicas: 2,
        lastHeartbeat: new Date(NOW - 2_000).toISOString(),
        connectedSince: new Date(NOW - 60_000).toISOString(),
        sentVersion: 3,
        ackedVersion: 3,
        upToDate: true,
        behindSeconds: 0,
        copies: 3,
        counts: { Failed: 1, Applied: 2 },
        lastRejected: null,
      },
      expect.objectContaining({
        name: 'cluster-2',
        connected: false,
        heldBy: null,
        agentReplicas: 0,
        upToDate: false,
        copies: 2,
        counts: { NotConnected: 2 },
      }),
    ]);
  });

  it('says how long a cluster is behind, and that a stale result is Pending', () => {
    const view = buildFleet(
      input([a], {
        'cluster-1': {
          stream: 'here',
          acked: 'old',
          answers: { a: { outcome: CopyOutcome.COPY_OUTCOME_APPLIED, stale: true } },
        },
      }),
    );
    expect(view.clusters[0]).toMatchObject({ upToDate: false, behindSeconds: 30, counts: { Pending: 1 } });
  });

  it('reads a cluster another replica holds from the status that replica writes, unknown results included', () => {
    const inputs = input([a], {
      'cluster-9': {
        stream: 'elsewhere',
        status: {
          connected: true,
          connectedPod: 'gloo-mesh/mgmt-server-1',
          serverInstance: 'mgmt-server-1/xyz',
          agentVersion: '0.2.0',
          agentReplicas: 2,
          ackedVersion: '5',
          sentVersion: '5',
          conditions: [
            { type: 'UpToDate', status: 'True', reason: 'Acknowledged', message: '', lastTransitionTime: '' },
          ],
          // A result name this server version does not know yet: shown as is.
          copies: [{ key: 'gloo.solo.io/Upstream/httpbin/a', outcome: 'Shiny' as never, code: 'NewThing' }],
        },
      },
    });
    expect(buildFleet(inputs).clusters[0]).toMatchObject({
      connected: true,
      heldBy: 'gloo-mesh/mgmt-server-1',
      agentVersion: '0.2.0',
      ackedVersion: 5,
      upToDate: true,
      counts: { Shiny: 1 },
    });
  });

  it('a status this replica wrote before it lost the stream is no proof of a connection', () => {
    const inputs = input([a], {
      'cluster-1': {
        stream: 'gone',
        status: { connected: true, connectedPod: 'gloo-mesh/mgmt-server-0', serverInstance: HERE },
      },
    });
    expect(buildFleet(inputs).clusters[0]).toMatchObject({ connected: false, counts: { NotConnected: 1 } });
  });

  it.each([
    { filter: '', shown: ['cluster-1', 'cluster-2', 'prod-1'], problem: null },
    { filter: 'cluster-*', shown: ['cluster-1', 'cluster-2'], problem: null },
    { filter: '{prod-1,cluster-2}', shown: ['cluster-2', 'prod-1'], problem: null },
    { filter: 'prod-*, cluster-1', shown: ['cluster-1', 'prod-1'], problem: null },
    {
      filter: '{prod',
      shown: ['cluster-1', 'cluster-2', 'prod-1'],
      problem: expect.stringContaining('"{prod"'),
    },
  ])(
    'filters clusters by the annotation glob "$filter", totals still cover the fleet',
    ({ filter, shown, problem }) => {
      const view = buildFleet(
        input([a], {
          'cluster-1': { stream: 'here' },
          'cluster-2': { stream: 'here' },
          'prod-1': { stream: 'here' },
        }),
        filter,
      );
      expect(view.clusters.map((r) => r.name)).toEqual(shown);
      expect(view.filterProblem).toEqual(problem);
      expect(view.totals.clusters).toBe(3);
    },
  );
});

describe('buildClusterPage', () => {
  it('lists the copies worst first, with reasons, and orphans whose source is gone', () => {
    const page = buildClusterPage(
      input([a, c], {
        'cluster-1': {
          stream: 'here',
          answers: {
            c: { outcome: CopyOutcome.COPY_OUTCOME_CONFLICT, code: 'NotOwned', message: 'exists, not ours' },
            a: {
              outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
              repairs: { count: 2, lastAt: Date.UTC(2026, 11, 4, 11, 0) },
            },
          },
          orphans: ['gloo.solo.io/Upstream/httpbin/old'],
        },
      }),
      'cluster-1',
    );
    expect(page?.cluster.counts).toEqual({ Conflict: 1, Orphan: 1, Applied: 1 });
    expect(page?.copies).toEqual([
      {
        key: 'gloo.solo.io/Upstream/httpbin/c',
        source: keyOf(c),
        result: 'Conflict',
        code: 'NotOwned',
        message: 'exists, not ours',
        repairs: null,
      },
      {
        key: 'gloo.solo.io/Upstream/httpbin/old',
        source: null,
        result: 'Orphan',
        code: 'PruneFailed',
        message: 'delete refused: forbidden',
        repairs: null,
      },
      {
        key: 'gloo.solo.io/Upstream/httpbin/a',
        source: keyOf(a),
        result: 'Applied',
        code: null,
        message: null,
        // Repaired twice since its agent started: counted by the agent, told with the result.
        repairs: { count: 2, last: '2026-12-04T11:00:00.000Z' },
      },
    ]);
  });

  it('shows the streams this replica refused that claimed to be the cluster', () => {
    const refused = {
      at: '2026-12-04T11:59:00.000Z',
      reason: 'certificate of cluster-2',
      code: 'PermissionDenied',
      peer: '10.0.0.9:5000',
    };
    const page = buildClusterPage(
      input(
        [a],
        { 'cluster-1': { stream: 'here' } },
        {
          events: () => [],
          rejected: (cluster) => (cluster === 'cluster-1' ? [refused] : []),
        },
      ),
      'cluster-1',
    );
    expect(page?.rejected).toEqual([refused]);
  });

  it('is undefined for a cluster that is not registered', () => {
    expect(buildClusterPage(input([a], { 'cluster-1': { stream: 'here' } }), 'nope')).toBeUndefined();
  });
});
