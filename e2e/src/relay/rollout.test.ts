import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyOf, upstream } from '../support/examples.js';
import { type Obj, RelayFixture } from '../support/relayFixture.js';
import { eventually } from '../support/testing.js';

// kuberelay.dev/rollout end to end (docs/spec.md D10.5): a three-wave rollout over four workload
// clusters with real agents, one of which refuses the new revision (a ValidatingAdmissionPolicy of
// its own API server, as a cluster's policy engine would). The change reaches the canary, soaks,
// reaches the second wave, halts there on the refusal while the last wave keeps the previous
// revision, and goes on once resumed. Every "not yet" is asserted after something later in the
// same rollout was seen (an Event, a copy), never after a bare sleep.

const CLUSTERS = ['canary-1', 'prod-eu-1', 'prod-eu-2', 'prod-us-1'];
const WAVES = 'canary-*; prod-eu-*; *';
let f: RelayFixture;

beforeAll(async () => {
  f = await RelayFixture.start({
    name: 'rollout',
    workloads: CLUSTERS,
    server: { dashboardListen: '127.0.0.1:0' },
  });
  await refusePort(f, 'prod-eu-2', 9999);
}, 240_000);
afterAll(async () => {
  await f?.stop();
});

const port = (o: Obj | undefined) => (o?.spec?.kube as { servicePort?: number } | undefined)?.servicePort;

function waved(servicePort: number): Obj {
  const o = upstream('waved', '*/httpbin', { port: servicePort });
  o.metadata.annotations = {
    ...o.metadata.annotations,
    'kuberelay.dev/rollout': WAVES,
    'kuberelay.dev/rollout-soak': '2s',
  };
  return o;
}

const events = () => f.eventsFor({ kind: 'Upstream', namespace: 'gloo-mesh', name: 'waved' });
const ports = async () =>
  Object.fromEntries(
    await Promise.all(CLUSTERS.map(async (c) => [c, port(await f.get(c, copyOf(waved(0), 'httpbin')))])),
  );

interface RolloutJson {
  revision: string;
  phase: string | null;
  phaseMessage: string | null;
  clusters: { cluster: string; wave: number; state: string; message: string | null }[];
}
async function status(): Promise<{ code: number; json: RolloutJson }> {
  const r = await f.relayctl([
    'rollout',
    'status',
    'upstream/waved',
    '--source-namespace',
    'gloo-mesh',
    '-o',
    'json',
  ]);
  if (r.code !== 0 && r.code !== 3) throw new Error(`relayctl rollout status failed (${r.code}): ${r.err}`);
  return { code: r.code, json: JSON.parse(r.out) as RolloutJson };
}

async function dashboardSource(): Promise<{
  rollout: {
    phase: string;
    revision: string;
    byWave: { wave: string; clusters: string[]; reached: boolean }[];
  } | null;
}> {
  const port = f.server?.dashboardPort;
  const key = encodeURIComponent('gloo.solo.io/Upstream/gloo-mesh/waved');
  const response = await fetch(`http://127.0.0.1:${port}/api/source?key=${key}`);
  if (!response.ok) throw new Error(`the dashboard answered ${response.status}`);
  return (await response.json()) as Awaited<ReturnType<typeof dashboardSource>>;
}

describe('kuberelay.dev/rollout', () => {
  it('a new source reaches every wave in order', async () => {
    await f.apply(waved(8000));
    const first = await eventually('the canary has the copy', ports, (p) => p['canary-1'] === 8000);
    // The canary soaks for 2 s: the later waves have nothing yet.
    expect(first).toMatchObject({ 'prod-eu-1': undefined, 'prod-eu-2': undefined, 'prod-us-1': undefined });
    await eventually('every cluster has it', ports, (p) => CLUSTERS.every((c) => p[c] === 8000));
    const done = await eventually('the rollout is complete', status, (s) => s.json.phase === 'complete');
    expect(done.json.clusters.map((c) => `${c.wave} ${c.cluster} ${c.state}`)).toEqual([
      '1 canary-1 applied',
      '2 prod-eu-1 applied',
      '2 prod-eu-2 applied',
      '3 prod-us-1 applied',
    ]);
    expect(done.code).toBe(0);
  });

  it('an edit halts at the cluster that refuses it; the last wave keeps the previous revision until resumed', async () => {
    await f.apply(waved(9999));
    const canary = await eventually('the canary has the edit', ports, (p) => p['canary-1'] === 9999);
    expect(canary).toMatchObject({ 'prod-eu-1': 8000, 'prod-eu-2': 8000, 'prod-us-1': 8000 });
    // The canary's soak ends, wave 2 gets it: prod-eu-1 applies it, prod-eu-2's API server refuses.
    await eventually('prod-eu-1 has the edit', ports, (p) => p['prod-eu-1'] === 9999);
    const halted = await eventually('the halt is recorded', events, (es) =>
      es.some((e) => e.reason === 'RolloutHalted'),
    );
    expect(halted.find((e) => e.reason === 'RolloutHalted')?.message).toMatch(
      /wave 2 of 3: prod-eu-2 failed: .*port 9999 is not allowed/,
    );
    expect(await ports()).toMatchObject({ 'prod-eu-2': 8000, 'prod-us-1': 8000 });

    const { code, json } = await eventually('status says halted', status, (s) => s.json.phase === 'halted');
    expect(code).toBe(3);
    expect(json.clusters.map((c) => `${c.wave} ${c.cluster} ${c.state}`)).toEqual([
      '1 canary-1 applied',
      '2 prod-eu-1 applied',
      '2 prod-eu-2 failed',
      '3 prod-us-1 held',
    ]);
    expect(json.clusters.find((c) => c.cluster === 'prod-us-1')?.message).toContain(
      'kuberelay.dev/rollout: wave 3 has not been reached yet',
    );
    const text = await f.relayctl(['rollout', 'status', 'upstream/waved', '--source-namespace', 'gloo-mesh']);
    expect(text.out).toContain('Phase: halted: wave 2 of 3: prod-eu-2 failed');
    // The dashboard's source page says the same, from the server's memory.
    const page = await dashboardSource();
    expect(page.rollout).toMatchObject({ phase: 'halted', revision: json.revision });
    expect(page.rollout?.byWave.map((w) => `${w.wave} ${w.clusters.join(',')} ${w.reached}`)).toEqual([
      '1 canary-1 true',
      '2 prod-eu-1,prod-eu-2 true',
      '3 prod-us-1 false',
    ]);

    const resumed = await f.relayctl([
      'rollout',
      'resume',
      'upstream/waved',
      '--source-namespace',
      'gloo-mesh',
    ]);
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain(
      `the rollout of revision ${json.revision} goes on past its failed clusters`,
    );
    await eventually('the last wave has the edit', ports, (p) => p['prod-us-1'] === 9999);
    expect((await ports())['prod-eu-2']).toBe(8000);
  });

  it('undo puts the source back to the revision before, which rolls out in waves', async () => {
    // The resumed revision completed (prod-eu-2 accepted as failed): undo goes back to 8000.
    await eventually('the resumed rollout is complete', status, (s) => s.json.phase === 'complete');
    const undone = await eventually(
      'the server recorded the complete revision',
      () => f.relayctl(['rollout', 'undo', 'upstream/waved', '--source-namespace', 'gloo-mesh']),
      (r) => r.code === 0,
    );
    expect(undone.out).toMatch(
      /back to revision \w{16} \(applied by every wave at .*\), from \w{16}; it rolls out in waves/,
    );
    const source = await f.get('mgmt', {
      apiVersion: 'gloo.solo.io/v1',
      kind: 'Upstream',
      namespace: 'gloo-mesh',
      name: 'waved',
    });
    expect(port(source)).toBe(8000);
    expect(source?.metadata.annotations?.['kuberelay.dev/rollout-resume']).toBeUndefined();
    expect(source?.metadata.annotations?.['kuberelay.dev/rollout']).toBe(WAVES);
    const back = await eventually('the canary is back first', ports, (p) => p['canary-1'] === 8000);
    expect(back['prod-us-1']).toBe(9999);
    await eventually('every cluster is back', ports, (p) => CLUSTERS.every((c) => p[c] === 8000));
  });

  it('refuses a bad wave list with a clear error, and changes nothing', async () => {
    const bad = waved(7000);
    bad.metadata.annotations = { ...bad.metadata.annotations, 'kuberelay.dev/rollout': 'canary-*;; *' };
    await f.apply(bad);
    const es = await eventually('the error is recorded', events, (list) =>
      list.some((e) => e.message.includes('names no cluster')),
    );
    expect(es.find((e) => e.message.includes('names no cluster'))?.message).toContain(
      'kuberelay.dev/rollout: wave 2 names no cluster',
    );
    expect((await ports())['canary-1']).toBe(8000);
  });
});

/** A ValidatingAdmissionPolicy in one cluster refusing Upstreams on `refused`, active once it denies. */
async function refusePort(fixture: RelayFixture, cluster: string, refused: number): Promise<void> {
  const rest = fixture.workload(cluster);
  const name = `refuse-port-${refused}`;
  await rest.request({
    method: 'POST',
    path: '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies',
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: {
        failurePolicy: 'Fail',
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: ['gloo.solo.io'],
              apiVersions: ['*'],
              operations: ['CREATE', 'UPDATE'],
              resources: ['upstreams'],
            },
          ],
        },
        validations: [
          {
            expression: `!has(object.spec.kube) || !has(object.spec.kube.servicePort) || object.spec.kube.servicePort != ${refused}`,
            message: `port ${refused} is not allowed in this cluster`,
          },
        ],
      },
    },
  });
  await rest.request({
    method: 'POST',
    path: '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings',
    body: {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: { policyName: name, validationActions: ['Deny'] },
    },
  });
  // The API server loads policies asynchronously: wait until a dry run is refused.
  const probe = upstream('probe', undefined, { namespace: 'httpbin', port: refused });
  await eventually(
    `${cluster}: the policy refuses port ${refused}`,
    () =>
      rest
        .request({
          method: 'POST',
          path: '/apis/gloo.solo.io/v1/namespaces/httpbin/upstreams',
          query: { dryRun: 'All' },
          body: probe,
        })
        .then(
          () => 'admitted',
          (error: unknown) => String(error),
        ),
    (answer) => answer.includes(`port ${refused} is not allowed`),
    30_000,
  );
}
