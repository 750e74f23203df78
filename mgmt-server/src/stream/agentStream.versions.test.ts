import { NackReason } from '@kuberelay/proto';
import { type KubeObject, stateDigest } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { GATEWAY, GW_KEY, settle, setup, state, UP_KEY, UPSTREAM } from './agentStream.testkit.js';

// The versions a stream sends: Welcome, the first set against the agent's Hello, one version in
// flight, Acks and Nacks (replace or back off), distribution off, waiting for a complete view.

describe('agent stream: versions', () => {
  it('Welcome, then the whole set against an empty Hello, then only changes after the Ack', async () => {
    const { open, cache, events } = setup();
    const { agent, done } = open();
    agent.hello('qa');
    await settle();
    expect(agent.cases()).toEqual(['welcome', 'delta']);
    expect(agent.sent[0]?.message).toEqual({
      $case: 'welcome',
      value: {
        cluster: 'qa',
        mgmtCluster: 'mgmt',
        serverPod: 'gloo-mesh/server-0',
        distributionEnabled: true,
        heartbeatSeconds: 5,
        digestFormat: 1,
      },
    });
    const first = agent.deltas()[0];
    expect(first?.upserts.map((c) => c.key)).toEqual([GW_KEY, UP_KEY]);
    expect(first?.removes).toEqual([]);
    expect(first?.replace).toBe(false);
    const gw = JSON.parse(first?.upserts[0]?.manifest.toString('utf8') ?? '{}') as KubeObject;
    expect(gw.spec).toEqual({ gatewayClassName: 'gloo-gateway' });
    expect(first?.digest).toBe(cache.get('qa')?.digest);

    agent.say({
      $case: 'ack',
      value: { version: first?.version ?? 0, digest: first?.digest ?? '', results: [] },
    });
    await settle();
    expect(agent.deltas()).toHaveLength(1);

    // The Upstream stops going anywhere: the next version only removes it.
    cache.publish(state([GATEWAY, { ...UPSTREAM, metadata: { ...UPSTREAM.metadata, annotations: {} } }]));
    await settle();
    const second = agent.deltas()[1];
    expect(second?.upserts).toEqual([]);
    expect(second?.removes).toEqual([UP_KEY]);
    expect(second?.version).toBeGreaterThan(first?.version ?? 0);
    expect(events.map((e) => e.type)).toEqual(['connected', 'sent', 'acked', 'sent']);
    agent.close();
    expect(await done).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ type: 'disconnected', wasCurrent: true, code: 'Closed' });
  });

  it('an agent that does not know copy policies gets none, and digests it can match (docs/spec.md D10.4)', async () => {
    const { open, cache } = setup();
    const paused = {
      ...UPSTREAM,
      metadata: {
        ...UPSTREAM.metadata,
        annotations: { ...UPSTREAM.metadata.annotations, 'kuberelay.dev/paused': 'true' },
      },
    };
    cache.publish(state([GATEWAY, paused], ['qa', 'prod'], state([GATEWAY, UPSTREAM])));
    const snapshot = cache.get('qa');
    if (snapshot === undefined) throw new Error('no snapshot');
    // An agent from before policies, then a current one, on the same cluster.
    const { agent: old, done } = open();
    old.hello('qa', [], 0, []);
    await settle();
    old.close();
    await done;
    const { agent: current } = open();
    current.hello('qa');
    await settle();
    const [blind] = old.deltas();
    const [aware] = current.deltas();
    expect(aware?.upserts.find((c) => c.key === UP_KEY)?.policy).toMatchObject({ paused: true });
    expect(aware?.digest).toBe(snapshot.digest);
    expect(blind?.upserts.map((c) => c.policy)).toEqual([undefined, undefined]);
    const held = new Map(
      [...snapshot.copies].map(([key, c]) => [key, { key, hash: c.hash, overwrite: c.overwrite }]),
    );
    expect(blind?.digest).toBe(stateDigest(held));
    expect(blind?.digest).not.toBe(snapshot.digest);
  });

  it('an agent that already holds everything gets one empty version', async () => {
    const { open, cache } = setup();
    const snapshot = cache.get('qa');
    const have = [...(snapshot?.copies.values() ?? [])].map((c) => ({ key: c.key, hash: c.hash }));
    const { agent } = open();
    agent.hello('qa', have, 5);
    await settle();
    const [delta] = agent.deltas();
    expect(delta).toMatchObject({ upserts: [], removes: [], chunk: 1, chunks: 1 });
    expect(delta?.version).toBeGreaterThan(5);
  });

  it('copies the agent holds but should not are removed; changed ones are resent', async () => {
    const { open } = setup();
    const { agent } = open();
    agent.hello('qa', [
      { key: GW_KEY, hash: 'stale' },
      { key: 'gloo.solo.io/Upstream/httpbin/old', hash: 'x' },
    ]);
    await settle();
    const [delta] = agent.deltas();
    expect(delta?.upserts.map((c) => c.key)).toEqual([GW_KEY, UP_KEY]);
    expect(delta?.removes).toEqual(['gloo.solo.io/Upstream/httpbin/old']);
  });

  it('keeps one version in flight: edits during it coalesce into the next', async () => {
    const { open, cache } = setup();
    const { agent } = open();
    agent.hello('qa');
    await settle();
    let previous = cache.state;
    for (const port of [1, 2, 3]) {
      previous = state(
        [GATEWAY, { ...UPSTREAM, spec: { kube: { serviceName: 'httpbin', servicePort: port } } }],
        undefined,
        previous,
      );
      cache.publish(previous);
    }
    await settle();
    expect(agent.deltas()).toHaveLength(1);
    const first = agent.deltas()[0];
    agent.say({
      $case: 'ack',
      value: { version: first?.version ?? 0, digest: first?.digest ?? '', results: [] },
    });
    await settle();
    const deltas = agent.deltas();
    expect(deltas).toHaveLength(2);
    const upstream = JSON.parse(deltas[1]?.upserts[0]?.manifest.toString('utf8') ?? '{}') as {
      spec: unknown;
    };
    expect(upstream.spec).toEqual({ kube: { serviceName: 'httpbin', servicePort: 3 } });
  });

  it('DIGEST_MISMATCH → a replacing version with the full set, at once', async () => {
    const { open } = setup();
    const { agent } = open();
    agent.hello('qa');
    await settle();
    const first = agent.deltas()[0];
    agent.say({
      $case: 'nack',
      value: {
        version: first?.version ?? 0,
        reason: NackReason.NACK_REASON_DIGEST_MISMATCH,
        message: 'digest',
      },
    });
    await settle();
    const second = agent.deltas()[1];
    expect(second?.replace).toBe(true);
    expect(second?.upserts.map((c) => c.key)).toEqual([GW_KEY, UP_KEY]);
  });

  it('another Nack keeps the last acked state and retries after a backoff', async () => {
    const { open, clock } = setup({
      settings: { retryBackoff: { minMs: 1_000, maxMs: 1_000, random: () => 0.5 } },
    });
    const { agent } = open();
    agent.hello('qa');
    await settle();
    const first = agent.deltas()[0];
    agent.say({
      $case: 'nack',
      value: {
        version: first?.version ?? 0,
        reason: NackReason.NACK_REASON_INVALID_MANIFEST,
        message: 'bad json',
      },
    });
    await settle();
    expect(agent.deltas()).toHaveLength(1);
    await clock.advance(600);
    const retry = agent.deltas()[1];
    expect(retry?.replace).toBe(false);
    expect(retry?.upserts.map((c) => c.key)).toEqual([GW_KEY, UP_KEY]);
    expect(retry?.version).toBeGreaterThan(first?.version ?? 0);
  });

  it('distribution off: Welcome says so and no Delta follows', async () => {
    const { open } = setup({ settings: { distributionEnabled: false } });
    const { agent } = open();
    agent.hello('qa');
    await settle();
    expect(agent.cases()).toEqual(['welcome']);
    expect(agent.sent[0]?.message).toMatchObject({ $case: 'welcome', value: { distributionEnabled: false } });
  });

  it('says nothing before the server has a complete view', async () => {
    const { open, cache } = setup({ publish: false });
    const { agent } = open();
    agent.hello('qa');
    await settle();
    expect(agent.sent).toEqual([]);
    cache.publish(state([GATEWAY]));
    await settle();
    expect(agent.cases()).toEqual(['welcome', 'delta']);
  });
});
