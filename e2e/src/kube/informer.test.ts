import type { Clock } from '@kuberelay/shared';
import { Informer, type InformerEvent, KubeRest } from '@kuberelay/shared/kube';
import { pino } from 'pino';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';

// The informer is the relay's view of every API server; these tests run it against the lab's
// real kube-apiservers through outages, 410 Gone and deletes it could only learn of by relisting.

type Upstream = { metadata: { name: string; namespace: string; resourceVersion?: string }; spec?: unknown };
const UPSTREAMS = { group: 'gloo.solo.io', version: 'v1', plural: 'upstreams' } as const;
const logger = pino({ level: process.env.INFORMER_DEBUG ? 'debug' : 'silent' });

let lab: Lab;
const aborts: AbortController[] = [];
beforeAll(() => {
  lab = attachLab(inject('labDir'));
});
afterEach(() => {
  for (const a of aborts.splice(0)) a.abort();
});

const upstream = (name: string, namespace: string) => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name, namespace },
  spec: { static: { hosts: [{ addr: `${name}.example.com`, port: 80 }] } },
});

async function createNs(rest: KubeRest, name: string) {
  await rest.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } });
}

function startInformer(rest: KubeRest, namespace: string, sleep?: Clock['sleep']) {
  const abort = new AbortController();
  aborts.push(abort);
  const events: string[] = [];
  const informer = new Informer<Upstream>({
    rest,
    resource: { ...UPSTREAMS, namespace },
    signal: abort.signal,
    logger,
    onEvent: (e: InformerEvent<Upstream>) => events.push(`${e.type} ${e.object.metadata.name}`),
    // The informer waits out its retry delays on this clock: the test holds it there.
    ...(sleep ? { clock: { now: () => Date.now(), sleep } } : {}),
  });
  void informer.start();
  return { informer, events };
}

describe('Informer on a real API server', () => {
  it('lists what exists, then streams creates, updates and deletes in order', async () => {
    const rest = new KubeRest(lab.kubeConfig('mgmt'));
    await createNs(rest, 'inf-basic');
    const path = '/apis/gloo.solo.io/v1/namespaces/inf-basic/upstreams';
    await rest.request({ method: 'POST', path, body: upstream('before', 'inf-basic') });
    const { informer, events } = startInformer(rest, 'inf-basic');
    await informer.synced;
    expect(informer.list().map((u) => u.metadata.name)).toEqual(['before']);

    await rest.request({ method: 'POST', path, body: upstream('after', 'inf-basic') });
    await rest.request({
      method: 'PATCH',
      path: `${path}/after`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { edited: 'yes' } } },
    });
    await rest.request({ method: 'DELETE', path: `${path}/before` });
    await expect
      .poll(() => events, { timeout: 10_000 })
      .toEqual(['ADDED before', 'ADDED after', 'MODIFIED after', 'DELETED before']);
    expect(informer.list().map((u) => u.metadata.name)).toEqual(['after']);
  });

  it('relists after 410 Gone and reports the delete it missed during an outage', async () => {
    const rest = new KubeRest(lab.kubeConfig('cluster-1'));
    await createNs(rest, 'inf-gone');
    const path = '/apis/gloo.solo.io/v1/namespaces/inf-gone/upstreams';
    await rest.request({ method: 'POST', path, body: upstream('kept', 'inf-gone') });
    await rest.request({ method: 'POST', path, body: upstream('deleted-while-away', 'inf-gone') });

    // Hold the informer in its retry sleep until we say so, so the outage is deterministic.
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let retries = 0;
    const { informer, events } = startInformer(rest, 'inf-gone', async () => {
      retries++;
      await gate;
    });
    await informer.synced;
    // A list comes back in etcd key order.
    expect(events).toEqual(['ADDED deleted-while-away', 'ADDED kept']);

    await lab.stopApiServer('cluster-1');
    await expect.poll(() => retries, { timeout: 10_000 }).toBeGreaterThan(0);
    await lab.startApiServer('cluster-1');
    await rest.request({ method: 'DELETE', path: `${path}/deleted-while-away` });
    await rest.request({ method: 'POST', path, body: upstream('created-while-away', 'inf-gone') });
    await lab.compactEtcd('cluster-1');
    await lab.stopApiServer('cluster-1');
    await lab.startApiServer('cluster-1');
    release();

    await expect
      .poll(() => events.slice(2), { timeout: 15_000 })
      .toEqual(['DELETED deleted-while-away', 'ADDED created-while-away']);
    expect(
      informer
        .list()
        .map((u) => u.metadata.name)
        .sort(),
    ).toEqual(['created-while-away', 'kept']);
  });

  it('waits for a kind that is not served yet instead of giving up', async () => {
    const rest = new KubeRest(lab.kubeConfig('cluster-2'));
    let failures = 0;
    const abort = new AbortController();
    aborts.push(abort);
    const informer = new Informer({
      rest,
      resource: { group: 'example.kuberelay.dev', version: 'v1', plural: 'widgets' },
      signal: abort.signal,
      logger,
      // Every retry waits through the injected clock: counting its sleeps counts the failures.
      clock: {
        now: () => Date.now(),
        sleep: async () => {
          failures++;
          await new Promise((r) => setTimeout(r, 20));
        },
      },
    });
    void informer.start();
    await expect.poll(() => failures, { timeout: 5_000 }).toBeGreaterThan(2);
    expect(informer.hasSynced()).toBe(false);
  });
});
