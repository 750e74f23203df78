import { CopyOutcome } from '@kuberelay/proto';
import { isNotFound } from '@kuberelay/shared/kube';
import { describe, expect, it } from 'vitest';
import { unique } from '../support/testing.js';
import { sleep, stateFile, upstream, upstreamPath, useAgentHarness, writes } from './agentHarness.js';
import { buildTestCopy } from './relayTestServer.js';

// Orphan-proof pruning (docs/design.md "Pruning"): what the agent owns is read from the workload
// cluster (objects with its management cluster's relay label), not only from its memory and state
// file, so a copy created just before a crash or one whose delete failed is still found and
// deleted; a failed delete is retried on its own timer. The failing delete is real: a
// ValidatingAdmissionPolicy of the lab's API server refuses it until the test removes it.

const h = useAgentHarness();
const { createNamespace, get, mustGet, startServer, startTestAgent } = h;

/** Refuses DELETE of the Upstream `namespace/name` until the returned function is called. */
async function refuseDeletesOf(namespace: string, name: string): Promise<() => Promise<void>> {
  const policy = unique('refuse-delete');
  const base = '/apis/admissionregistration.k8s.io/v1';
  await h.rest.request({
    method: 'POST',
    path: `${base}/validatingadmissionpolicies`,
    body: {
      metadata: { name: policy },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['gloo.solo.io'],
              apiVersions: ['*'],
              operations: ['DELETE'],
              resources: ['upstreams'],
            },
          ],
        },
        validations: [
          {
            expression: `!(oldObject.metadata.namespace == '${namespace}' && oldObject.metadata.name == '${name}')`,
            message: 'the e2e test refuses this delete',
          },
        ],
      },
    },
  });
  await h.rest.request({
    method: 'POST',
    path: `${base}/validatingadmissionpolicybindings`,
    body: { metadata: { name: policy }, spec: { policyName: policy, validationActions: ['Deny'] } },
  });
  // The API server loads policies asynchronously: wait until a dry-run delete is refused.
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await h.rest.request({
        method: 'DELETE',
        path: upstreamPath(namespace, name),
        query: { dryRun: 'All' },
      });
    } catch (error) {
      if (!isNotFound(error)) break;
      throw error;
    }
    if (Date.now() > deadline) throw new Error('the admission policy never took effect');
    await sleep(200);
  }
  const lift = async () => {
    await h.rest.request({ method: 'DELETE', path: `${base}/validatingadmissionpolicybindings/${policy}` });
    await h.rest.request({ method: 'DELETE', path: `${base}/validatingadmissionpolicies/${policy}` });
    // Unloaded asynchronously too: wait until a dry-run delete passes (or the object is gone).
    const until = Date.now() + 20_000;
    for (;;) {
      try {
        await h.rest.request({
          method: 'DELETE',
          path: upstreamPath(namespace, name),
          query: { dryRun: 'All' },
        });
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        if (Date.now() > until) throw error;
      }
      await sleep(200);
    }
  };
  h.cleanups.push(() => lift().catch(() => {}));
  return lift;
}

async function waitGone(path: string, withinMs: number): Promise<number> {
  const started = Date.now();
  while ((await get(path)) !== undefined) {
    if (Date.now() - started > withinMs) throw new Error(`${path} still exists after ${withinMs} ms`);
    await sleep(100);
  }
  return Date.now() - started;
}

describe('orphan-proof pruning', () => {
  it('deletes copies the agent created but never recorded (a crash before the state was saved)', async () => {
    const ns = unique('orphans');
    await createNamespace(ns);
    const server = await startServer();
    const names = ['keep', 'orphan-1', 'orphan-2'];
    server.publish(names.map((name) => buildTestCopy({ object: upstream(name, ns) })));
    const first = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    await server.ackOf(0);
    const kept = await mustGet(upstreamPath(ns, 'keep'));
    // Another management cluster's copy carries a relay label too, with another source: never ours.
    await h.rest.request({
      method: 'POST',
      path: `/apis/gloo.solo.io/v1/namespaces/${ns}/upstreams`,
      body: {
        ...upstream('other-mgmt', ns),
        metadata: {
          name: 'other-mgmt',
          namespace: ns,
          labels: { 'relay.solo.io/cluster': 'mgmt-e2e' },
          annotations: {
            'gloo.solo.io/distributed-source': 'gloo://elsewhere/ns/x/kind/Upstream/name/other-mgmt',
          },
        },
      },
    });
    await first.stop();

    // The sources of the two orphans go while the agent is down, and it restarts without the
    // state that listed them (as after a crash between creating them and saving the state).
    server.publish([buildTestCopy({ object: upstream('keep', ns) })]);
    const second = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    await server.ackOf(server.acks.at(-1)?.version ?? 0);
    for (const name of ['orphan-1', 'orphan-2']) await waitGone(upstreamPath(ns, name), 10_000);
    expect((await mustGet(upstreamPath(ns, 'keep'))).metadata.uid).toBe(kept.metadata.uid);
    expect(await mustGet(upstreamPath(ns, 'other-mgmt'))).toBeDefined();
    expect((await writes(second)).delete).toBe(2);
  });

  it('retries a failed delete on its own timer, without waiting for another version', async () => {
    const ns = unique('stuck');
    await createNamespace(ns);
    const server = await startServer();
    server.publish(['keep', 'stuck'].map((name) => buildTestCopy({ object: upstream(name, ns) })));
    const agent = await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    await server.ackOf(0);
    const lift = await refuseDeletesOf(ns, 'stuck');

    const version = server.publish([buildTestCopy({ object: upstream('keep', ns) })]);
    const ack = await server.ackOf(version);
    // The orphan is reported, so the server can show it although its source is gone.
    const stuckKey = `gloo.solo.io/Upstream/${ns}/stuck`;
    expect(ack.results.find((r) => r.key === stuckKey)).toMatchObject({
      outcome: CopyOutcome.COPY_OUTCOME_FAILED,
      code: 'PruneFailed',
    });
    await sleep(2_000);
    expect(await get(upstreamPath(ns, 'stuck'))).toBeDefined();
    const versionsSent = server.acks.length;

    await lift();
    await waitGone(upstreamPath(ns, 'stuck'), 30_000);
    expect(server.acks.length).toBe(versionsSent); // no new version was needed
    expect((await writes(agent)).delete).toBe(1);
    // And its removal is reported between versions.
    const deadline = Date.now() + 5_000;
    while (
      !server.reports.some((r) =>
        r.results.some((x) => x.key === stuckKey && x.outcome === CopyOutcome.COPY_OUTCOME_REMOVED),
      )
    ) {
      if (Date.now() > deadline) throw new Error('the removal of the orphan was never reported');
      await sleep(50);
    }
  });

  it('deletes a copy whose delete failed before a restart, once the API allows it', async () => {
    const ns = unique('stuck-restart');
    await createNamespace(ns);
    const server = await startServer();
    server.publish(['keep', 'stuck'].map((name) => buildTestCopy({ object: upstream(name, ns) })));
    const file = await stateFile();
    const first = await startTestAgent({ serverAddress: server.address, stateFile: file });
    await server.ackOf(0);
    const lift = await refuseDeletesOf(ns, 'stuck');
    const version = server.publish([buildTestCopy({ object: upstream('keep', ns) })]);
    await server.ackOf(version);
    await first.stop();
    // The saved state no longer lists "stuck" (the acknowledged version does not want it): only
    // the workload cluster still knows it is there.
    await lift();
    const second = await startTestAgent({ serverAddress: server.address, stateFile: file });
    await waitGone(upstreamPath(ns, 'stuck'), 15_000);
    expect((await writes(second)).delete).toBe(1);
    expect(await mustGet(upstreamPath(ns, 'keep'))).toBeDefined();
  });

  it('stops calling a copy an orphan when its source wants it again', async () => {
    const ns = unique('wanted-again');
    await createNamespace(ns);
    const server = await startServer();
    const copies = ['keep', 'back'].map((name) => buildTestCopy({ object: upstream(name, ns) }));
    server.publish(copies);
    await startTestAgent({ serverAddress: server.address, stateFile: await stateFile() });
    await server.ackOf(0);
    const lift = await refuseDeletesOf(ns, 'back');
    const backKey = `gloo.solo.io/Upstream/${ns}/back`;
    const gone = await server.ackOf(server.publish(copies.slice(0, 1)));
    expect(gone.results.find((r) => r.key === backKey)?.code).toBe('PruneFailed');

    const again = await server.ackOf(server.publish(copies));
    expect(again.results.filter((r) => r.key === backKey)).toEqual([
      expect.objectContaining({ outcome: CopyOutcome.COPY_OUTCOME_APPLIED }),
    ]);
    await lift();
  });
});
