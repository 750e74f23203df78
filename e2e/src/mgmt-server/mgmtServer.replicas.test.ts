import { CopyOutcome } from '@kuberelay/proto';
import type { KubernetesClusterStatus } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import type { ScriptedAgent } from './fakeAgent.js';
import { clusterStatusIn, referenceExampleIn, useMgmtServerLab } from './mgmtServer.testkit.js';

// Two server replicas writing one cluster's status on the lab's real management API server: the
// agent moved to another replica while its old stream still looks alive to the first one (its
// connection broke without a goodbye; the old replica notices only at its heartbeat timeout). The
// stale holder must not overwrite the new holder's status meanwhile (docs/design.md "Status").

const { m, register, startServer, certifiedAgent } = useMgmtServerLab();
const { createNamespace, create } = m;

const referenceExample = referenceExampleIn;

const clusterStatus = (namespace: string, cluster: string) => clusterStatusIn(m.rest, namespace, cluster);

const holderAndApplied = (s: KubernetesClusterStatus | undefined) => [s?.connectedPod, s?.counts?.applied];

/** Hello, then acknowledges the first version with every copy applied; returns that version. */
async function connectAndAck(agent: ScriptedAgent, cluster: string): Promise<number> {
  agent.hello(cluster);
  await agent.waitForMessages(3);
  const [delta] = agent.deltas();
  if (delta === undefined) throw new Error('no Delta');
  agent.send({
    $case: 'ack',
    value: {
      version: delta.version,
      digest: delta.digest,
      results: delta.upserts.map((c) => ({
        key: c.key,
        hash: c.hash,
        outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
        code: '',
        message: '',
      })),
    },
  });
  return delta.version;
}

describe('two server replicas and one cluster whose agent moved', () => {
  it("the replica holding the older stream never overwrites the newer holder's status", async () => {
    const namespace = await createNamespace('mst-replicas');
    await register(namespace, 'alpha');
    for (const source of referenceExample(namespace)) await create(source);
    // Long heartbeats: the old stream stays "alive" on replica 0 for the whole test, as a broken
    // connection does until the heartbeat timeout.
    const [first, second] = await Promise.all(
      ['mgmt-server-0', 'mgmt-server-1'].map((podName) =>
        startServer(namespace, { podName, heartbeatSeconds: 60 }),
      ),
    );
    if (first === undefined || second === undefined) throw new Error('servers not started');
    await Promise.all([first.ready, second.ready]);

    const old = await certifiedAgent(first, namespace, 'alpha');
    const version = await connectAndAck(old, 'alpha');
    // Settled: the Ack written (each replica writes a cluster at most once a second).
    await expect
      .poll(async () => holderAndApplied(await clusterStatus(namespace, 'alpha')), { timeout: 10_000 })
      .toEqual([`${namespace}/mgmt-server-0`, 3]);

    // The agent reconnects through the Service and lands on the other replica.
    const moved = await certifiedAgent(second, namespace, 'alpha');
    await connectAndAck(moved, 'alpha');
    await expect
      .poll(async () => holderAndApplied(await clusterStatus(namespace, 'alpha')), { timeout: 10_000 })
      .toEqual([`${namespace}/mgmt-server-1`, 3]);

    // Replica 0 still believes it holds alpha and has something new to say: a copy failed.
    const [someCopy] = old.deltas()[0]?.upserts ?? [];
    if (someCopy === undefined) throw new Error('no copy');
    old.send({
      $case: 'report',
      value: {
        version,
        results: [
          {
            key: someCopy.key,
            hash: someCopy.hash,
            outcome: CopyOutcome.COPY_OUTCOME_FAILED,
            code: 'ApplyFailed',
            message: 'from the stale stream',
          },
        ],
      },
    });
    // Its write would land within ~1 s (the per-cluster rate limit): watch for 3 s.
    const seen: (KubernetesClusterStatus | undefined)[] = [];
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      seen.push(await clusterStatus(namespace, 'alpha'));
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(seen.map((s) => s?.connectedPod).filter((pod) => pod !== `${namespace}/mgmt-server-1`)).toEqual(
      [],
    );
    expect(seen.map((s) => s?.counts?.failed)).not.toContain(1);
    const last = seen.at(-1);
    expect(last).toMatchObject({ connected: true, connectedPod: `${namespace}/mgmt-server-1` });
    expect(last?.serverInstance?.startsWith('mgmt-server-1/')).toBe(true);
    expect(Date.parse(last?.connectedSince ?? '')).toBeGreaterThan(0);

    // When the old stream finally ends, replica 0's "disconnected" is not written either.
    old.close();
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await clusterStatus(namespace, 'alpha')).toMatchObject({
      connected: true,
      connectedPod: `${namespace}/mgmt-server-1`,
    });
  }, 60_000);
});
