import { CopyOutcome } from '@kuberelay/proto';
import {
  computeDesiredState,
  createManualClock,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  type DesiredState,
  type KubeObject,
  type KubernetesClusterStatus,
} from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { SnapshotCache } from '../snapshot/snapshotCache.js';
import { ClusterStatusReporter } from './clusterStatusReporter.js';
import type { StatusWriter } from './statusWriter.js';

// When the reporter builds a cluster's status: at once for what an agent says, a little later for
// a new desired state (an Ack arriving first makes that build unnecessary).

const upstream = (port: number): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name: 'up', namespace: 'gloo-mesh', annotations: { 'gloo.solo.io/distribute-to': 'qa' } },
  spec: { static: { hosts: [{ addr: 'up', port }] } },
});

const compute = (port: number, previous?: DesiredState) =>
  computeDesiredState({
    sources: [upstream(port)],
    clusters: ['qa'],
    mgmtCluster: 'mgmt',
    classMapping: DEFAULT_CLASS_MAPPING,
    kinds: DEFAULT_KINDS,
    previous,
  });

function setup() {
  const clock = createManualClock({ start: 1_000_000 });
  const cache = new SnapshotCache();
  const sets: { at: number; since: number | undefined; status: KubernetesClusterStatus }[] = [];
  const writer = {
    set: (_cluster: string, status: KubernetesClusterStatus, since?: number) =>
      sets.push({ at: clock.now(), since, status }),
    touch: () => true,
    forget: () => {},
  } as unknown as StatusWriter;
  const reporter = new ClusterStatusReporter({
    cache,
    writer,
    serverPod: 'gloo-mesh/mgmt-0',
    serverInstance: 'mgmt-0/a',
    distributionEnabled: true,
    clock,
    onCopyOutcomes: () => {},
  });
  cache.onState((state, touched) => reporter.onState(state, touched));
  let state = compute(80);
  cache.publish(state);
  reporter.observe({
    type: 'connected',
    streamId: 's1',
    cluster: 'qa',
    agentVersion: '1',
    agentPod: 'agent-0',
    agentReplicas: undefined,
    peer: '127.0.0.1',
  });
  const edit = (port: number) => {
    state = compute(port, state);
    cache.publish(state);
  };
  const ack = () => {
    const snapshot = cache.get('qa');
    if (snapshot === undefined) throw new Error('snapshot expected');
    const results = [...snapshot.copies.values()].map((c) => ({
      key: c.key,
      hash: c.hash,
      outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
      code: '',
      message: '',
    }));
    reporter.observe({ type: 'acked', cluster: 'qa', version: 2, snapshot, results });
  };
  return { clock, sets, edit, ack, reporter };
}

describe('ClusterStatusReporter', () => {
  it("builds a new desired state's status 500 ms later, dated from the state", async () => {
    const { clock, sets, edit } = setup();
    expect(sets).toHaveLength(1); // connected: at once
    const editedAt = clock.now();
    edit(81);
    await clock.advance(499);
    expect(sets).toHaveLength(1);
    await clock.advance(1);
    expect(sets).toHaveLength(2);
    expect(sets[1]).toMatchObject({ since: editedAt, status: { counts: { pending: 1 } } });
  });

  it('builds once when the Ack comes first, and not again for the state', async () => {
    const { clock, sets, edit, ack } = setup();
    edit(81);
    await clock.advance(100);
    ack();
    expect(sets).toHaveLength(2);
    expect(sets[1]?.status.counts).toMatchObject({ applied: 1, pending: 0 });
    await clock.advance(1_000);
    expect(sets).toHaveLength(2);
  });

  it('says how long a held cluster has been behind, from the first unacknowledged edit', async () => {
    const { clock, edit, ack, reporter } = setup();
    const behind = () => reporter.heldClusters().map((f) => [f.cluster, f.behindSeconds]);
    // Connected, nothing acknowledged yet: behind since the stream began.
    await clock.advance(2_000);
    expect(behind()).toEqual([['qa', 2]]);
    ack();
    expect(behind()).toEqual([['qa', 0]]);
    expect(reporter.heldClusters()[0]?.copies).toEqual({
      Applied: 1,
      Failed: 0,
      Conflict: 0,
      Drifted: 0,
      Paused: 0,
      Pending: 0,
    });
    edit(81);
    await clock.advance(3_000);
    // A second edit does not restart the count: the cluster is behind since the first.
    edit(82);
    await clock.advance(1_000);
    expect(behind()).toEqual([['qa', 4]]);
    expect(reporter.heldClusters()[0]?.copies).toMatchObject({ Applied: 0, Pending: 1 });
    ack();
    expect(behind()).toEqual([['qa', 0]]);
    // Acknowledged before any scrape: the next edit counts from itself, not from the last one.
    edit(83);
    await clock.advance(1_000);
    ack();
    edit(84);
    await clock.advance(500);
    expect(behind()).toEqual([['qa', 0.5]]);
  });

  it('counts the copies its agent could not prune, and forgets a cluster whose stream ended', () => {
    const { reporter } = setup();
    // Counted once here; the report below must be seen although the desired copies did not change.
    expect(reporter.heldClusters().map((f) => f.notPruned)).toEqual([0]);
    reporter.observe({
      type: 'reported',
      cluster: 'qa',
      version: 1,
      results: [
        {
          key: 'gloo.solo.io/Upstream/gloo-mesh/gone',
          hash: 'h',
          outcome: CopyOutcome.COPY_OUTCOME_FAILED,
          code: 'PruneFailed',
          message: 'forbidden',
        },
      ],
    });
    expect(reporter.heldClusters().map((f) => f.notPruned)).toEqual([1]);
    reporter.observe({
      type: 'disconnected',
      streamId: 's1',
      cluster: 'qa',
      wasCurrent: true,
      code: 'Closed',
    });
    expect(reporter.heldClusters()).toEqual([]);
  });
});
