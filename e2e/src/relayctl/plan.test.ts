import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { copyOf, referenceExample, upstream } from '../support/examples.js';
import { type Obj, RelayFixture } from '../support/relayFixture.js';

// relayctl plan against a running relay (server and two agents on the lab): what it says would
// happen is then applied, and must be what happens: the copies it says are created appear with
// exactly its rendered content, the updates, the prunes, and the conflict.

let f: RelayFixture;
let dir: string;
beforeAll(async () => {
  f = await RelayFixture.start({ name: 'relayctl-plan' });
  dir = await mkdtemp(join(tmpdir(), 'kuberelay-plan-'));
  const { gateway, upstream: up, route } = referenceExample();
  for (const o of [gateway, up, route]) await f.apply(o);
  for (const cluster of ['cluster-1', 'cluster-2'])
    await f.waitFor(cluster, copyOf(route, 'httpbin'), (o) => o !== undefined, 20_000);
}, 180_000);
afterAll(async () => {
  await f?.stop();
});

interface PlannedCopy {
  cluster: string;
  key: string;
  action: string;
  against: string;
  after?: Obj;
  before?: Obj;
}
interface PlanJson {
  kind: string;
  sources: { targets: { cluster: string; namespace: string }[]; warnings: { code: string }[] }[];
  copies: PlannedCopy[];
  problems: number;
}

async function plan(args: readonly string[]): Promise<{ code: number; json: PlanJson; err: string }> {
  const r = await f.relayctl(['plan', ...args, '-o', 'json']);
  if (r.code !== 0 && r.code !== 3) throw new Error(`relayctl plan failed (${r.code}): ${r.err}`);
  return { code: r.code, json: JSON.parse(r.out) as PlanJson, err: r.err };
}
async function planFile(objects: readonly Obj[], more: readonly string[] = []) {
  const file = join(dir, `plan-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
  return plan(['-f', file, ...more]);
}
const actions = (p: PlanJson) => p.copies.map((c) => `${c.cluster} ${c.key} ${c.action}`).sort();
const spec = (o: Obj | undefined) => JSON.stringify(o?.spec);

describe('relayctl plan', () => {
  it('a new source: says where it is created and how, and that is what the agents write', async () => {
    const web = upstream('planned-web', 'cluster-1/httpbin,cluster-7/httpbin', { port: 8080 });
    const key = 'gloo.solo.io/Upstream/httpbin/planned-web';
    const { code, json } = await planFile([web], ['--workload-context', 'cluster-1,cluster-2']);
    expect(code).toBe(0);
    expect(actions(json)).toEqual([`cluster-1 ${key} create`]);
    expect(json.copies[0]?.against).toBe('live');
    expect(json.sources[0]?.warnings.map((w) => w.code)).toContain('UnregisteredCluster');
    await f.apply(web);
    const live = await f.waitFor('cluster-1', copyOf(web, 'httpbin'), (o) => o !== undefined, 20_000);
    expect(spec(live)).toBe(spec(json.copies[0]?.after));
    expect(live?.metadata.annotations?.['gloo.solo.io/distributed-source']).toBe(
      json.copies[0]?.after?.metadata.annotations?.['gloo.solo.io/distributed-source'],
    );
    expect(await f.get('cluster-2', copyOf(web, 'httpbin'))).toBeUndefined();
  });

  it('an edit of the reference Gateway: the update it plans (and nothing else) is what lands', async () => {
    const { gateway } = referenceExample();
    const edited = structuredClone(gateway);
    (edited.spec as { listeners: { port: number }[] }).listeners[0] = {
      ...(edited.spec as { listeners: { port: number }[] }).listeners[0],
      port: 9080,
    } as { port: number };
    const key = 'gateway.networking.k8s.io/Gateway/gloo-system/distributed-gateway';
    const { code, json } = await planFile([edited], ['--workload-context', 'cluster-1,cluster-2']);
    expect(code).toBe(0);
    expect(actions(json)).toEqual([`cluster-1 ${key} update`, `cluster-2 ${key} update`]);
    // Against the live copy, defaults and all: the port is the one difference.
    const r = await f.relayctl(['plan', '-f', await written([edited]), '--workload-context', 'cluster-1']);
    expect(r.out).toMatch(/-\s+port: 8080/);
    expect(r.out).toMatch(/\+\s+port: 9080/);
    await f.apply(edited);
    for (const cluster of ['cluster-1', 'cluster-2']) {
      const live = await f.waitFor(
        cluster,
        copyOf(gateway, 'gloo-system'),
        (o) => (o?.spec as { listeners: { port: number }[] } | undefined)?.listeners[0]?.port === 9080,
        20_000,
      );
      expect((live?.spec as { gatewayClassName?: string } | undefined)?.gatewayClassName).toBe(
        'gloo-gateway',
      );
    }
  });

  it('--no-distribute plans the prunes, and the copies then go', async () => {
    const { upstream: up } = referenceExample();
    const { code, json } = await plan([
      'upstream/httpbin',
      '--source-namespace',
      'gloo-mesh',
      '--no-distribute',
    ]);
    expect(code).toBe(0);
    const key = 'gloo.solo.io/Upstream/httpbin/httpbin';
    expect(actions(json)).toEqual([`cluster-1 ${key} prune`, `cluster-2 ${key} prune`]);
    const without = structuredClone(up);
    delete without.metadata.annotations?.['gloo.solo.io/distribute-to'];
    await f.apply(without);
    for (const cluster of ['cluster-1', 'cluster-2'])
      await f.waitFor(cluster, copyOf(up, 'httpbin'), (o) => o === undefined, 20_000);
  });

  it('an object the relay does not own: a conflict, exit 3, and the agent then reports that conflict', async () => {
    const foreign = upstream('taken', undefined, { namespace: 'httpbin' });
    await f.workload('cluster-2').request({
      method: 'POST',
      path: '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams',
      body: foreign,
    });
    const src = upstream('taken', '*/httpbin');
    const key = 'gloo.solo.io/Upstream/httpbin/taken';
    const { code, json } = await planFile([src], ['--workload-context', 'cluster-1,cluster-2']);
    expect(code).toBe(3);
    expect(actions(json)).toEqual([`cluster-1 ${key} create`, `cluster-2 ${key} conflict`]);
    expect(json.problems).toBe(1);
    await f.apply(src);
    await f.waitFor('cluster-1', copyOf(src, 'httpbin'), (o) => o !== undefined, 20_000);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const copies = (await f.clusterStatus('cluster-2'))?.copies ?? [];
      if (copies.some((c) => c.key === key && c.outcome === 'Conflict')) break;
      if (Date.now() > deadline)
        throw new Error(`cluster-2 never reported the conflict: ${JSON.stringify(copies)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Without live access, plan knows the conflict from what the agent reported.
    const again = await planFile([
      { ...src, spec: { kube: { serviceName: 'taken', serviceNamespace: 'httpbin', servicePort: 8001 } } },
    ]);
    expect(actions(again.json)).toContain(`cluster-2 ${key} conflict`);
    expect(again.code).toBe(3);
  });

  it('refuses what it cannot plan, with a clear message', async () => {
    const r = await f.relayctl([
      'plan',
      '-f',
      await written([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }]),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('ConfigMap (v1) is not a kind the relay distributes');
    const missing = await f.relayctl(['plan', 'upstream/nope', '--source-namespace', 'gloo-mesh']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('Upstream gloo-mesh/nope not found');
  });
});

async function written(objects: readonly Obj[]): Promise<string> {
  const file = join(dir, `plan-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
  return file;
}
