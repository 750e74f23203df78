import { DEFAULT_KINDS } from '@kuberelay/shared';
import type { KubeRest } from '@kuberelay/shared/kube';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import {
  createKubernetesCluster,
  createNamespace,
  createRelayCa,
  decode,
  getJson,
  relayctl,
  rest,
  type Secret,
  unique,
  writeClusterStatus,
  writeServerLease,
} from './harness.js';

// relayctl status against the lab: sources in the management cluster, and the per-copy results
// the server would have written into each KubernetesCluster's status.

let lab: Lab;
let mgmt: KubeRest;
let ns: string;
let src: string;
let token: string;

const upstream = (name: string, distributeTo: string | undefined) => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: {
    name,
    namespace: src,
    ...(distributeTo === undefined ? {} : { annotations: { 'gloo.solo.io/distribute-to': distributeTo } }),
  },
  spec: { kube: { serviceName: name, serviceNamespace: 'httpbin', servicePort: 8000 } },
});
const uri = (kind: string, name: string) => `gloo://mgmt/ns/${src}/kind/${kind}/name/${name}`;
const now = () => new Date().toISOString();

beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  mgmt = rest(lab, 'mgmt');
  ns = unique('rctl-status');
  src = unique('rctl-src');
  await createNamespace(mgmt, ns);
  await createNamespace(mgmt, src);
  // The relay CA the management server creates at its first start: register needs it.
  await createRelayCa(mgmt, ns);

  // cluster-1 is registered with relayctl, so a real bootstrap token exists (and must never be
  // printed).
  const agentNs = unique('rctl-agent');
  const reg = await relayctl(lab, [
    ...['register', 'cluster-1', '--kubecontext', 'mgmt', '-n', ns, '--remote-context', 'cluster-1'],
    ...['--remote-namespace', agentNs, '--server', 'relay.example:9900', '--mgmt-cluster', 'mgmt'],
  ]);
  expect(reg.code).toBe(0);
  token = decode(
    await getJson<Secret>(
      rest(lab, 'cluster-1'),
      `/api/v1/namespaces/${agentNs}/secrets/kuberelay-agent-credentials`,
    ),
    'bootstrapToken',
  );
  expect(token).toMatch(/^krb_/);
  // A running server announces its kinds; without it relayctl would say it falls back to defaults.
  await writeServerLease(mgmt, {
    namespace: ns,
    pod: 'server-0',
    renewTime: new Date(),
    kinds: DEFAULT_KINDS,
  });
  await createKubernetesCluster(mgmt, ns, 'cluster-2');
  await createKubernetesCluster(mgmt, ns, 'cluster-3');

  const upstreams = `/apis/gloo.solo.io/v1/namespaces/${src}/upstreams`;
  for (const body of [
    upstream('web', '*/httpbin'),
    upstream('failing', 'cluster-1/missing-ns'),
    upstream('fresh', 'cluster-2, prod-eu'),
    upstream('bad', 'a/b/c'),
    upstream('plain', undefined),
  ]) {
    await mgmt.request({ method: 'POST', path: upstreams, body });
  }
  await mgmt.request({
    method: 'POST',
    path: `/apis/gateway.networking.k8s.io/v1/namespaces/${src}/httproutes`,
    body: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: 'route',
        namespace: src,
        annotations: { 'gloo.solo.io/distribute-to': 'cluster-1/httpbin' },
      },
      spec: { rules: [{ backendRefs: [{ group: 'gloo.solo.io', kind: 'Upstream', name: 'web' }] }] },
    },
  });
  const web = await getJson<{ metadata: { uid: string } }>(mgmt, `${upstreams}/web`);
  await mgmt.request({
    method: 'POST',
    path: `/api/v1/namespaces/${src}/events`,
    body: {
      metadata: { name: `web.${Date.now()}`, namespace: src },
      involvedObject: {
        apiVersion: 'gloo.solo.io/v1',
        kind: 'Upstream',
        name: 'web',
        namespace: src,
        uid: web.metadata.uid,
      },
      type: 'Warning',
      reason: 'CopyConflict',
      message: 'cluster-2: Upstream httpbin/web exists and is not managed by the relay',
      count: 1,
      firstTimestamp: now(),
      lastTimestamp: now(),
      source: { component: 'kuberelay-mgmt-server' },
    },
  });

  await writeClusterStatus(mgmt, ns, 'cluster-1', {
    connected: true,
    connectedPod: `${ns}/server-0`,
    counts: { applied: 2, failed: 1, conflict: 0, pending: 0 },
    copies: [
      {
        key: 'gloo.solo.io/Upstream/missing-ns/failing',
        source: uri('Upstream', 'failing'),
        outcome: 'Failed',
        code: 'NamespaceNotFound',
        message: 'namespace missing-ns does not exist in cluster-1',
      },
      { key: 'gloo.solo.io/Upstream/httpbin/web', source: uri('Upstream', 'web'), outcome: 'Applied' },
      {
        key: 'gateway.networking.k8s.io/HTTPRoute/httpbin/route',
        source: uri('HTTPRoute', 'route'),
        outcome: 'Applied',
      },
    ],
  });
  await writeClusterStatus(mgmt, ns, 'cluster-2', {
    connected: true,
    connectedPod: `${ns}/server-0`,
    counts: { applied: 0, failed: 0, conflict: 1, pending: 0 },
    copies: [
      {
        key: 'gloo.solo.io/Upstream/httpbin/web',
        source: uri('Upstream', 'web'),
        outcome: 'Conflict',
        code: 'Conflict',
        message: 'Upstream httpbin/web exists and is not managed by the relay',
      },
    ],
  });
  await writeClusterStatus(mgmt, ns, 'cluster-3', { connected: false, connectedPod: '' });
});

const base = () => ['--kubecontext', 'mgmt', '-n', ns, '--source-namespace', src];

// The sources go with the file: a running server of a later file watches every namespace, and
// `web` (*/httpbin) and `route` (cluster-1/httpbin) would become copies of its clusters.
afterAll(async () => {
  for (const collection of [
    `/apis/gloo.solo.io/v1/namespaces/${src}/upstreams`,
    `/apis/gateway.networking.k8s.io/v1/namespaces/${src}/httproutes`,
  ]) {
    await mgmt.request({ method: 'DELETE', path: collection });
  }
});

describe('relayctl status', () => {
  it('shows applied, pending, failed, conflict and not-connected copies, invalid annotations and events', async () => {
    const r = await relayctl(lab, ['status', ...base()]);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    // One block per source; column padding depends on the generated namespace names, so runs of
    // spaces are compared as two.
    const block = (title: string) =>
      (r.out.split('\n\n').find((b) => b.includes(title)) ?? '').replace(/(\S) {2,}/g, '$1  ');
    expect(block(`HTTPRoute ${src}/route`)).toBe(
      [
        `🟢 HTTPRoute ${src}/route  distribute-to: "cluster-1/httpbin"`,
        '   CLUSTER  NAMESPACE  RESULT  REASON',
        '   cluster-1  httpbin  applied',
      ].join('\n'),
    );
    expect(block(`Upstream ${src}/web`)).toMatch(
      new RegExp(
        [
          `^🔴 Upstream ${src}/web  distribute-to: "\\*/httpbin"`,
          '   CLUSTER  NAMESPACE  RESULT  REASON',
          '   cluster-1  httpbin  applied',
          '   cluster-2  httpbin  conflict  Conflict: Upstream httpbin/web exists and is not managed by the relay',
          "   cluster-3  httpbin  not-connected  the cluster's agent is not connected",
          '   Warning CopyConflict \\(x1, \\d+s ago\\): cluster-2: Upstream httpbin/web exists and is not managed by the relay$',
        ].join('\n'),
      ),
    );
    expect(block(`Upstream ${src}/failing`)).toContain(
      '   cluster-1  missing-ns  failed  NamespaceNotFound: namespace missing-ns does not exist in cluster-1',
    );
    expect(block(`Upstream ${src}/fresh`)).toBe(
      [
        `🟡 Upstream ${src}/fresh  distribute-to: "cluster-2, prod-eu"`,
        '   CLUSTER  NAMESPACE  RESULT  REASON',
        `   cluster-2  ${src}  pending  not reported by the agent yet`,
        '   🟡 UnregisteredCluster: names clusters that are not registered: prod-eu',
      ].join('\n'),
    );
    expect(block(`Upstream ${src}/bad`)).toBe(
      [
        `🔴 Upstream ${src}/bad  distribute-to: "a/b/c"`,
        '   🔴 InvalidAnnotation: distribute-to entry "a/b/c": more than one "/" (expected cluster or cluster/namespace)',
        '   🔴 not distributed as asked; copies that exist are kept as they are',
      ].join('\n'),
    );
    expect(r.out).not.toContain('plain');
    expect(r.out).toContain('5 sources: 1 🟢  1 🟡  3 🔴');
    expect(r.out).not.toContain(token);
  });

  it('-o json gives every source with its targets', async () => {
    const r = await relayctl(lab, ['status', ...base(), '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as {
      kind: string;
      sources: {
        kind: string;
        name: string;
        valid: boolean;
        targets: { cluster: string; result: string }[];
      }[];
    };
    expect(doc.kind).toBe('RelayctlStatus');
    expect(
      doc.sources.map((s) => [
        s.kind,
        s.name,
        s.valid,
        s.targets.map((t) => `${t.cluster}=${t.result}`).join(' '),
      ]),
    ).toEqual([
      ['HTTPRoute', 'route', true, 'cluster-1=applied'],
      ['Upstream', 'bad', false, ''],
      ['Upstream', 'failing', true, 'cluster-1=failed'],
      ['Upstream', 'fresh', true, 'cluster-2=pending'],
      ['Upstream', 'web', true, 'cluster-1=applied cluster-2=conflict cluster-3=not-connected'],
    ]);
    expect(r.out).not.toContain(token);
  });

  it('KIND/NAME shows one source, whatever the case of KIND', async () => {
    const r = await relayctl(lab, ['status', 'UPSTREAM/failing', ...base(), '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as {
      sources: { name: string; targets: { result: string; code: string }[] }[];
    };
    expect(doc.sources.map((s) => [s.name, s.targets.map((t) => `${t.result}/${t.code}`)])).toEqual([
      ['failing', ['failed/NamespaceNotFound']],
    ]);
    const route = await relayctl(lab, ['status', 'httproutes.gateway.networking.k8s.io/route', ...base()]);
    expect(route.code).toBe(0);
    expect(route.out).toContain(`🟢 HTTPRoute ${src}/route`);
  });

  it.each([
    { arg: 'upstream/missing', error: 'Upstream missing in namespace SRC not found' },
    {
      arg: 'upstream/plain',
      error:
        'Upstream plain in namespace SRC has no gloo.solo.io/distribute-to annotation: it is not distributed',
    },
  ])('$arg is an error', async ({ arg, error }) => {
    const r = await relayctl(lab, ['status', arg, ...base()]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(`relayctl: error: ${error.replace('SRC', src)}\n`);
  });
});
