import { AgentIdentity } from '@kuberelay/agent';
import { type Copy, CopyOutcome } from '@kuberelay/proto';
import { DEFAULT_KINDS, type KindInfo } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { unique } from '../support/testing.js';
import {
  applied,
  CLUSTER,
  logger,
  MemoryCredentialsStore,
  manifestOf,
  metric,
  route,
  routePath,
  sleep,
  stateFile,
  upstream,
  upstreamPath,
  useAgentHarness,
  WATCH_REACTION_MS,
  writes,
} from './agentHarness.js';
import { buildTestCopy, createTestPki, MGMT, RelayTestServer } from './relayTestServer.js';

// The agent against a real kube-apiserver (lab cluster-1), driven by a small RelayService that
// plays the management server. Each test uses its own namespaces; the agent's metrics count its
// writes, so "no writes in steady state" is checked as the operator would see it.

const h = useAgentHarness();
const { createNamespace, get, mustGet, edit, startServer, startTestAgent, timeRepair, clientMaterial } = h;

describe('agent on a real API server', () => {
  it('applies copies exactly, reverts every kind of drift within a second, then writes nothing', async () => {
    const ns = unique('drift');
    await createNamespace(ns);
    const server = await startServer();
    const copy = buildTestCopy({ object: upstream('u1', ns) });
    server.publish([copy]);
    const agent = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    const ack = await server.ackOf(0);
    expect(ack.results).toEqual([applied(copy)]);
    expect(server.hellos[0]).toMatchObject({
      cluster: CLUSTER,
      agentPod: 'e2e-agent',
      haveVersion: 0,
      have: [],
    });

    const path = upstreamPath(ns, 'u1');
    const wanted = manifestOf(copy);
    const live = await mustGet(path);
    expect(live.metadata.labels).toEqual(wanted.metadata.labels);
    // Exactly the copy's annotations, plus the hash of the copy it was written from.
    expect(live.metadata.annotations).toEqual({
      ...wanted.metadata.annotations,
      'kuberelay.dev/copy-hash': copy.hash,
    });
    expect(live.spec).toEqual(wanted.spec);
    expect(await writes(agent)).toEqual({ create: 1, update: 0, delete: 0 });

    const repairs = {
      specEdit: await timeRepair(
        path,
        () => edit(path, { spec: { static: { hosts: [{ addr: 'evil.example.com', port: 1 }] } } }),
        (o) => JSON.stringify(o?.spec) === JSON.stringify(wanted.spec),
      ),
      // A field the copy does not set, added by someone else. (spec.static.useTls is in the
      // schema: the lab's CRD installer drops x-kubernetes-preserve-unknown-fields, so a truly
      // unknown field would be pruned by the API server before we could see it.)
      addedField: await timeRepair(
        path,
        () => edit(path, { spec: { static: { useTls: true } } }),
        (o) => o !== undefined && JSON.stringify(o.spec) === JSON.stringify(wanted.spec),
      ),
      labelEdit: await timeRepair(
        path,
        () => edit(path, { metadata: { labels: { 'relay.solo.io/cluster': 'someone-else' } } }),
        (o) => o?.metadata.labels?.['relay.solo.io/cluster'] === MGMT,
      ),
      deletion: await timeRepair(
        path,
        () => h.rest.request({ method: 'DELETE', path }),
        (o) =>
          o !== undefined &&
          o.metadata.uid !== live.metadata.uid &&
          o.metadata.deletionTimestamp === undefined,
      ),
    };
    for (const ms of Object.values(repairs)) expect(ms).toBeLessThan(WATCH_REACTION_MS);

    // Steady state: once the four repairs are counted, nothing changes, nothing is written.
    await expect.poll(() => metric(agent, 'kuberelay_agent_drift_repairs_total'), { timeout: 5_000 }).toBe(4);
    const settled = await mustGet(path);
    const before = await writes(agent);
    expect(before).toEqual({ create: 2, update: 3, delete: 0 });
    await sleep(4_000);
    expect(await writes(agent)).toEqual(before);
    expect((await mustGet(path)).metadata.resourceVersion).toBe(settled.metadata.resourceVersion);
    expect(await metric(agent, 'kuberelay_agent_copies', { outcome: 'Applied' })).toBe(1);
    expect(await metric(agent, 'kuberelay_agent_connected')).toBe(1);
    expect(await metric(agent, 'kuberelay_agent_acked_version')).toBe(ack.version);
    expect((await fetch(`http://127.0.0.1:${agent.httpPort}/readyz`)).status).toBe(200);
  });

  it('does not fight server-side defaults (HTTPRoute), and reverts an edit to one exactly once', async () => {
    const ns = unique('defaults');
    await createNamespace(ns);
    const server = await startServer();
    const copy = buildTestCopy({ object: route('r1', ns) });
    server.publish([copy]);
    const agent = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    expect((await server.ackOf(0)).results).toEqual([applied(copy)]);
    const path = routePath(ns, 'r1');
    const created = await mustGet(path);
    // The API server filled in defaults the copy does not have.
    expect(created.spec).toMatchObject({
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }],
    });
    await sleep(3_000);
    expect(await writes(agent)).toEqual({ create: 1, update: 0, delete: 0 });
    expect((await mustGet(path)).metadata.resourceVersion).toBe(created.metadata.resourceVersion);

    const ms = await timeRepair(
      path,
      () => edit(path, { spec: { hostnames: ['evil.example.com'] } }),
      (o) => JSON.stringify(o?.spec.hostnames) === '["www.example.com"]',
    );
    expect(ms).toBeLessThan(WATCH_REACTION_MS);
    await sleep(3_000);
    expect(await writes(agent)).toEqual({ create: 1, update: 1, delete: 0 });
  });

  it('leaves an object it does not own alone (Conflict) and takes it over with overwrite, then stays quiet', async () => {
    const ns = unique('conflict');
    await createNamespace(ns);
    // Objects someone made by hand, without the distributed-source annotation.
    for (const [path, body] of [
      [`/apis/gloo.solo.io/v1/namespaces/${ns}/upstreams`, upstream('taken', ns, 1)],
      [`/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes`, route('taken-route', ns)],
    ] as const) {
      await h.rest.request({ method: 'POST', path, query: { fieldManager: 'someone' }, body });
    }
    const upstreamBefore = await mustGet(upstreamPath(ns, 'taken'));
    const routeBefore = await mustGet(routePath(ns, 'taken-route'));

    const server = await startServer();
    const copies = [
      buildTestCopy({ object: upstream('taken', ns) }),
      buildTestCopy({ object: route('taken-route', ns) }),
    ];
    server.publish(copies);
    const agent = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    const ack = await server.ackOf(0);
    expect(ack.results.map((r) => [r.key, r.outcome, r.code])).toEqual(
      copies.map((c) => [c.key, CopyOutcome.COPY_OUTCOME_CONFLICT, 'Conflict']),
    );
    expect(ack.results[0]?.message).toContain('not distributed by the relay');
    await sleep(1_500);
    expect((await mustGet(upstreamPath(ns, 'taken'))).metadata.resourceVersion).toBe(
      upstreamBefore.metadata.resourceVersion,
    );
    expect((await mustGet(routePath(ns, 'taken-route'))).metadata.resourceVersion).toBe(
      routeBefore.metadata.resourceVersion,
    );
    expect(await writes(agent)).toEqual({ create: 0, update: 0, delete: 0 });

    const overwriting = copies.map((c) => ({ ...c, overwrite: true }));
    const version = server.publish(overwriting);
    expect((await server.ackOf(version)).results).toEqual(overwriting.map(applied));
    const takenOver = await mustGet(upstreamPath(ns, 'taken'));
    expect(takenOver.metadata.uid).toBe(upstreamBefore.metadata.uid);
    expect(takenOver.spec).toEqual(manifestOf(copies[0] as Copy).spec);
    expect(takenOver.metadata.annotations?.['gloo.solo.io/distributed-source']).toContain(`gloo://${MGMT}/`);
    expect(await writes(agent)).toEqual({ create: 0, update: 2, delete: 0 });
    // The route's defaults were set by "someone": taking it over drops their field ownership, so
    // the defaults are not mistaken for fields someone added, and no write loop follows.
    const routeAfter = await mustGet(routePath(ns, 'taken-route'));
    const managers = (routeAfter.metadata.managedFields as { manager: string }[]).map((m) => m.manager);
    expect(managers).toEqual(['kuberelay-agent']);
    await sleep(3_000);
    expect(await writes(agent)).toEqual({ create: 0, update: 2, delete: 0 });
  });

  it('a removal deletes only copies it owns', async () => {
    const ns = unique('prune');
    await createNamespace(ns);
    await h.rest.request({
      method: 'POST',
      path: `/apis/gloo.solo.io/v1/namespaces/${ns}/upstreams`,
      body: upstream('foreign', ns),
    });
    const server = await startServer();
    const copies = ['owned', 'foreign', 'handed-over'].map((name) =>
      buildTestCopy({ object: upstream(name, ns) }),
    );
    server.publish(copies);
    const agent = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    const ack = await server.ackOf(0);
    expect(ack.results.map((r) => r.outcome)).toEqual([
      CopyOutcome.COPY_OUTCOME_APPLIED,
      CopyOutcome.COPY_OUTCOME_CONFLICT,
      CopyOutcome.COPY_OUTCOME_APPLIED,
    ]);
    // Someone hands "handed-over" to another management cluster: it is no longer ours.
    await edit(upstreamPath(ns, 'handed-over'), {
      metadata: {
        annotations: {
          'gloo.solo.io/distributed-source': `gloo://other-mgmt/ns/x/kind/Upstream/name/handed-over`,
        },
      },
    });
    const foreign = await mustGet(upstreamPath(ns, 'foreign'));
    const version = server.publish([]);
    const removal = await server.ackOf(version);
    expect(removal.results.map((r) => [r.key.split('/').at(-1), r.outcome])).toEqual(
      expect.arrayContaining([
        ['owned', CopyOutcome.COPY_OUTCOME_REMOVED],
        ['foreign', CopyOutcome.COPY_OUTCOME_REMOVED],
        ['handed-over', CopyOutcome.COPY_OUTCOME_REMOVED],
      ]),
    );
    expect(await get(upstreamPath(ns, 'owned'))).toBeUndefined();
    expect((await mustGet(upstreamPath(ns, 'foreign'))).metadata.uid).toBe(foreign.metadata.uid);
    expect(await mustGet(upstreamPath(ns, 'handed-over'))).toBeDefined();
    expect((await writes(agent)).delete).toBe(1);
  });

  it('fails a copy in a missing namespace (or of a missing kind) alone, and applies it when the namespace appears', async () => {
    const ns = unique('present');
    const missing = unique('missing');
    await createNamespace(ns);
    const widget: KindInfo = {
      group: 'example.kuberelay.dev',
      version: 'v1',
      kind: 'Widget',
      plural: 'widgets',
      namespaced: true,
    };
    const server = await startServer();
    const good = buildTestCopy({ object: upstream('u1', ns) });
    const lost = buildTestCopy({ object: upstream('u1', missing) });
    const strange = buildTestCopy({
      object: {
        apiVersion: 'example.kuberelay.dev/v1',
        kind: 'Widget',
        metadata: { name: 'w', namespace: ns },
      },
    });
    server.publish([good, lost, strange]);
    await startTestAgent({
      serverAddress: server.address,
      stateFile: await stateFile(),
      kinds: [...DEFAULT_KINDS, widget],
    });
    const ack = await server.ackOf(0);
    const byKey = new Map(ack.results.map((r) => [r.key, r]));
    expect(byKey.get(good.key)).toEqual(applied(good));
    expect(byKey.get(lost.key)).toMatchObject({
      outcome: CopyOutcome.COPY_OUTCOME_FAILED,
      code: 'NamespaceNotFound',
      message: `namespace ${missing} does not exist in the workload cluster`,
    });
    expect(byKey.get(strange.key)).toMatchObject({
      outcome: CopyOutcome.COPY_OUTCOME_FAILED,
      code: 'KindNotInstalled',
    });
    expect(await mustGet(upstreamPath(ns, 'u1'))).toBeDefined();

    await createNamespace(missing);
    await expect
      .poll(() => get(upstreamPath(missing, 'u1')), { timeout: WATCH_REACTION_MS, interval: 20 })
      .toBeDefined();
    await expect
      .poll(() => server.reports.flatMap((r) => r.results).find((r) => r.key === lost.key), {
        timeout: 5_000,
      })
      .toEqual(applied(lost));
  });

  it('a restart with the same state changes no UID and writes nothing', async () => {
    const ns = unique('restart');
    await createNamespace(ns);
    const server = await startServer();
    const copies = [
      buildTestCopy({ object: upstream('u1', ns) }),
      buildTestCopy({ object: upstream('u2', ns) }),
      buildTestCopy({ object: route('r1', ns) }),
    ];
    server.publish(copies);
    const file = await stateFile();
    const first = await startTestAgent({ serverAddress: server.address, stateFile: file });
    const firstAck = await server.ackOf(0);
    expect(firstAck.results).toHaveLength(3);
    const paths = [upstreamPath(ns, 'u1'), upstreamPath(ns, 'u2'), routePath(ns, 'r1')];
    const before = await Promise.all(paths.map(mustGet));
    await first.stop();

    const second = await startTestAgent({ serverAddress: server.address, stateFile: file });
    await expect.poll(() => server.hellos.length, { timeout: 10_000 }).toBe(2);
    expect(server.hellos[1]).toMatchObject({
      haveVersion: firstAck.version,
      have: expect.arrayContaining(copies.map((c) => ({ key: c.key, hash: c.hash }))),
    });
    const secondAck = await server.ackOf(firstAck.version + 1);
    expect(secondAck.results).toEqual(expect.arrayContaining(copies.map(applied)));
    await sleep(2_000);
    const after = await Promise.all(paths.map(mustGet));
    expect(after.map((o) => [o.metadata.uid, o.metadata.resourceVersion])).toEqual(
      before.map((o) => [o.metadata.uid, o.metadata.resourceVersion]),
    );
    expect(await writes(second)).toEqual({ create: 0, update: 0, delete: 0 });
    expect(second.ackedVersion()).toBe(secondAck.version);
  });

  it('enforces the saved state while the server is unreachable, without pruning', async () => {
    const ns = unique('offline');
    await createNamespace(ns);
    const server = await startServer();
    const copies = [
      buildTestCopy({ object: upstream('u1', ns) }),
      buildTestCopy({ object: upstream('u2', ns) }),
    ];
    server.publish(copies);
    const file = await stateFile();
    const first = await startTestAgent({ serverAddress: server.address, stateFile: file });
    await server.ackOf(0);
    await first.stop();
    await server.stop();

    // While no agent runs, someone deletes one copy and edits another.
    await h.rest.request({ method: 'DELETE', path: upstreamPath(ns, 'u1') });
    await edit(upstreamPath(ns, 'u2'), {
      spec: { static: { hosts: [{ addr: 'evil.example.com', port: 1 }] } },
    });

    // Nothing listens there any more; the agent knows the management cluster from its state file.
    const offline = await startTestAgent({ serverAddress: server.address, stateFile: file });
    await expect.poll(() => get(upstreamPath(ns, 'u1')), { timeout: 5_000, interval: 50 }).toBeDefined();
    await expect
      .poll(async () => (await mustGet(upstreamPath(ns, 'u2'))).spec, { timeout: 5_000, interval: 50 })
      .toEqual(manifestOf(copies[1] as Copy).spec);
    expect(offline.connected()).toBe(false);
    const ready = await fetch(`http://127.0.0.1:${offline.httpPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(await writes(offline)).toEqual({ create: 1, update: 1, delete: 0 });

    // The server comes back (same address) without u1: only now, connected and with a verified
    // version, is u1 pruned.
    const port = Number(server.address.split(':')[1]);
    const back = await RelayTestServer.start({ pki: h.pki, port });
    h.cleanups.push(() => back.stop());
    back.publish([copies[1] as Copy]);
    const ack = await back.ackOf(0, 30_000);
    expect(back.hellos[0]?.have.map((h) => h.key).sort()).toEqual(copies.map((c) => c.key).sort());
    expect(ack.results.map((r) => [r.key, r.outcome])).toEqual([
      [copies[1]?.key, CopyOutcome.COPY_OUTCOME_APPLIED],
      [copies[0]?.key, CopyOutcome.COPY_OUTCOME_REMOVED],
    ]);
    expect(await get(upstreamPath(ns, 'u1'))).toBeUndefined();
    expect(offline.connected()).toBe(true);
    expect(await writes(offline)).toEqual({ create: 1, update: 1, delete: 1 });
  });

  it('retries refused credentials slowly, not in a hot loop', async () => {
    const server = await startServer();
    // A certificate from another CA: the TLS handshake completes, the server refuses the stream.
    const otherCa = (await createTestPki()).ca;
    const agent = await startTestAgent({
      serverAddress: server.address,
      stateFile: await stateFile(),
      identity: new AgentIdentity({
        cluster: CLUSTER,
        serverAddress: server.address,
        auth: { kind: 'certificate', ...(await clientMaterial(otherCa)) },
        store: new MemoryCredentialsStore(),
        logger,
      }),
    });
    // Wait for the first refused attempt, then watch a window in which a hot loop would retry
    // many times.
    await expect.poll(() => server.connects, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await sleep(3_000);
    expect(agent.connected()).toBe(false);
    expect(server.hellos).toHaveLength(0);
    expect(server.connects).toBeLessThanOrEqual(2);
    expect((await fetch(`http://127.0.0.1:${agent.httpPort}/readyz`)).status).toBe(503);
  });
});
