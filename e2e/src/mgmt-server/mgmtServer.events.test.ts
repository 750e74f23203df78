import { describe, expect, it } from 'vitest';
import { useMgmtServerLab } from './mgmtServer.testkit.js';

// The management server against the lab's real management API server: Warning Events on invalid
// sources, recorded once however often it recomputes and however many replicas run.

const { m, register, startServer } = useMgmtServerLab();
const { createNamespace, create } = m;

describe('management server on a real API server', () => {
  it('records an Event on a source whose annotation is invalid, once, whatever the replicas', async () => {
    const namespace = await createNamespace('mst-events');
    await register(namespace, 'alpha');
    await register(namespace, 'beta');
    const server = await startServer(namespace);
    await server.ready;
    await create({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'broken', namespace, annotations: { 'gloo.solo.io/distribute-to': 'a/b/c' } },
      spec: { static: { hosts: [{ addr: 'x', port: 80 }] } },
    });
    await create({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'typo', namespace, annotations: { 'gloo.solo.io/distribute-to': 'alpha, gamma' } },
      spec: { static: { hosts: [{ addr: 'x', port: 80 }] } },
    });
    const events = async () => {
      const list = await m.rest.request<{
        items: {
          involvedObject: { name: string };
          reason: string;
          message: string;
          count: number;
          type: string;
        }[];
      }>({ method: 'GET', path: `/api/v1/namespaces/${namespace}/events` });
      return list.items.map((e) => ({
        on: e.involvedObject.name,
        reason: e.reason,
        type: e.type,
        count: e.count,
      }));
    };
    await expect.poll(events, { timeout: 10_000 }).toEqual(
      expect.arrayContaining([
        { on: 'broken', reason: 'DistributionInvalid', type: 'Warning', count: 1 },
        { on: 'typo', reason: 'UnregisteredCluster', type: 'Warning', count: 1 },
      ]),
    );
    // Recomputes caused by unrelated changes do not repeat the Events. A repeat would not add an
    // Event (same name: the API bumps `count`), so `count` is what must stay 1. The Event on
    // `later`, created after the unrelated change, shows recomputes and an Event batch ran since.
    await register(namespace, 'delta');
    await create({
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      metadata: { name: 'later', namespace, annotations: { 'gloo.solo.io/distribute-to': 'x/y/z' } },
      spec: { static: { hosts: [{ addr: 'x', port: 80 }] } },
    });
    await expect
      .poll(async () => (await events()).some((e) => e.on === 'later'), { timeout: 10_000 })
      .toBe(true);
    // A second replica sees the same sources and the same outcomes: one Event each, still.
    const second = await startServer(namespace, { podName: 'mgmt-server-1' });
    await second.ready;
    await new Promise((r) => setTimeout(r, 2_500));
    const repeated = (await events()).filter((e) => e.on === 'broken' || e.on === 'typo');
    expect(repeated.sort((a, b) => a.on.localeCompare(b.on))).toEqual([
      { on: 'broken', reason: 'DistributionInvalid', type: 'Warning', count: 1 },
      { on: 'typo', reason: 'UnregisteredCluster', type: 'Warning', count: 1 },
    ]);
  });
});
