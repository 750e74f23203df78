import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { copyOf, referenceExample, upstream } from '../support/examples.js';
import { type Obj, RelayFixture } from '../support/relayFixture.js';

// relayctl plan and explain against a running relay (server and two agents on the lab). What plan
// says would happen is then applied, and must be what happens: the copies it says are created
// appear with exactly its rendered content, the updates, the prunes, and the conflict. What
// explain says of a copy must be so: current, drifted in the field someone edited, an orphan.

let f: RelayFixture;
let dir: string;
beforeAll(async () => {
  f = await RelayFixture.start({ name: 'relayctl-plan-explain' });
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

interface ExplainJson {
  sourceExists: boolean;
  copies: {
    cluster: string;
    key: string;
    state: string;
    detail: string;
    selectedBy: string | null;
    ackedVersion: string | null;
    live: string;
    driftFields: string[];
    lastWrittenByAgent: string | null;
  }[];
}
async function explainJson(args: readonly string[]): Promise<{ code: number; json: ExplainJson }> {
  const r = await f.relayctl(['explain', ...args, '-o', 'json']);
  if (r.code !== 0 && r.code !== 3) throw new Error(`relayctl explain failed (${r.code}): ${r.err}`);
  return { code: r.code, json: JSON.parse(r.out) as ExplainJson };
}

describe('relayctl explain', () => {
  const src = upstream('explained', 'cluster-1/httpbin,cluster-2/httpbin');
  const key = 'gloo.solo.io/Upstream/httpbin/explained';
  beforeAll(async () => {
    await f.apply(src);
    for (const cluster of ['cluster-1', 'cluster-2'])
      await f.waitFor(cluster, copyOf(src, 'httpbin'), (o) => o !== undefined, 20_000);
  });

  it('a source: each copy current, the entry that selected it, what the agent acknowledged and wrote', async () => {
    const deadline = Date.now() + 20_000;
    let result = await explainJson([
      'upstream/explained',
      '--source-namespace',
      'gloo-mesh',
      '--workload-context',
      'cluster-1,cluster-2',
    ]);
    while (result.json.copies.some((c) => c.state !== 'current') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      result = await explainJson([
        'upstream/explained',
        '--source-namespace',
        'gloo-mesh',
        '--workload-context',
        'cluster-1,cluster-2',
      ]);
    }
    expect(result.code).toBe(0);
    expect(result.json.copies.map((c) => [c.cluster, c.key, c.state, c.live, c.selectedBy])).toEqual([
      ['cluster-1', key, 'current', 'matches', 'cluster-1/httpbin'],
      ['cluster-2', key, 'current', 'matches', 'cluster-2/httpbin'],
    ]);
    for (const c of result.json.copies) {
      expect(Number(c.ackedVersion)).toBeGreaterThan(0);
      expect(c.lastWrittenByAgent).not.toBeNull();
    }
    const text = await f.relayctl(['explain', 'upstream/explained', '--source-namespace', 'gloo-mesh']);
    expect(text.out).toContain('current: applied as its source says');
    expect(text.out).toContain('live copy: not read');
  });

  it('a copy edited while its agent is away: drifted, in the field that was edited; current again once repaired', async () => {
    await f.stopAgent('cluster-2');
    await f.workload('cluster-2').request({
      method: 'PATCH',
      path: '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams/explained',
      contentType: 'application/merge-patch+json',
      body: { spec: { kube: { servicePort: 1234 } } },
    });
    const drifted = await explainJson([
      'upstream/explained',
      '--copy-in',
      'cluster-2',
      '--copy-namespace',
      'httpbin',
    ]);
    const copy = drifted.json.copies.find((c) => c.cluster === 'cluster-2');
    expect(copy).toMatchObject({ state: 'drifted', live: 'differs', driftFields: ['spec.kube.servicePort'] });
    await f.startAgent('cluster-2');
    await f.waitFor(
      'cluster-2',
      copyOf(src, 'httpbin'),
      (o) => (o?.spec?.kube as { servicePort?: number } | undefined)?.servicePort === 8000,
      20_000,
    );
    const repaired = await explainJson([
      'upstream/explained',
      '--copy-in',
      'cluster-2',
      '--copy-namespace',
      'httpbin',
    ]);
    expect(repaired.json.copies.find((c) => c.cluster === 'cluster-2')).toMatchObject({ live: 'matches' });
  });

  it('a copy whose source is gone, its agent away: an orphan, exit 3, saying what deletes it', async () => {
    await f.stopAgent('cluster-1');
    await f.remove(src);
    const { code, json } = await explainJson([
      'upstream/explained',
      '--copy-in',
      'cluster-1',
      '--copy-namespace',
      'httpbin',
    ]);
    expect(code).toBe(3);
    expect(json.sourceExists).toBe(false);
    expect(json.copies).toEqual([
      expect.objectContaining({
        cluster: 'cluster-1',
        key,
        state: 'orphan',
        detail: expect.stringContaining('its source no longer exists'),
      }),
    ]);
    await f.startAgent('cluster-1');
    await f.waitFor('cluster-1', copyOf(src, 'httpbin'), (o) => o === undefined, 20_000);
  });

  it('refuses an object the relay does not own, and a copy of another management cluster', async () => {
    const r = await f.relayctl([
      'explain',
      'upstream/taken',
      '--copy-in',
      'cluster-2',
      '--copy-namespace',
      'httpbin',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('is not a copy');
    const elsewhere = await f.relayctl([
      'explain',
      'gloo://other-mgmt/ns/gloo-mesh/kind/Upstream/name/httpbin',
    ]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.err).toContain('is from management cluster "other-mgmt"');
    const two = await f.relayctl(['explain', 'upstream/taken', '--copy-in', 'cluster-1,cluster-2']);
    expect(two.code).toBe(2);
    expect(two.err).toContain('--copy-in takes one CLUSTER[=CONTEXT]');
  });
});

async function written(objects: readonly Obj[]): Promise<string> {
  const file = join(dir, `plan-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
  return file;
}
