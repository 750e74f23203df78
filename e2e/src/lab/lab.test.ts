import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeRest } from '@kuberelay/shared/kube';
import {
  CustomObjectsApi,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  VersionApi,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { watchEvents } from '../support/watchEvents.js';
import { installCrds } from './crds.js';
import { attachLab, DEFAULT_GATEWAY_API_VERSION, type Lab, startLab } from './lab.js';
import { k8sVersion, repoRoot } from './paths.js';

// These tests prove the lab's clusters are real Kubernetes API servers: the behaviours a relay
// depends on (watch, resume, 410 Gone, server-side apply conflicts, CRD defaulting and validation,
// RBAC) come from kube-apiserver itself, not from anything written here.

const GW = { group: 'gateway.networking.k8s.io', version: 'v1' } as const;
type Gateway = KubernetesObject & { spec: Record<string, unknown> };

let lab: Lab;
beforeAll(() => {
  lab = attachLab(inject('labDir'));
});

const gateway = (name: string, namespace = 'gloo-system', port = 8080): Gateway => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name, namespace },
  spec: { gatewayClassName: 'gloo-gateway', listeners: [{ name: 'http', port, protocol: 'HTTP' }] },
});

const statusCode = (error: unknown) => (error as { code?: number }).code;
/** The API server's Status message from a client-node ApiException. */
const statusMessage = (error: unknown) =>
  (JSON.parse(String((error as { body?: unknown }).body)) as { message: string }).message;

describe('the lab', () => {
  it('runs the kube-apiserver release it was built from, in every cluster', async () => {
    for (const cluster of lab.clusterNames) {
      const info = await lab.kubeConfig(cluster).makeApiClient(VersionApi).getCode();
      expect(info.gitVersion).toBe(k8sVersion());
    }
    expect(lab.clusterNames).toEqual(['mgmt', 'cluster-1', 'cluster-2']);
  });

  it('creates, gets, lists and watches a Gateway', async () => {
    const kc = lab.kubeConfig('cluster-1');
    const api = kc.makeApiClient(CustomObjectsApi);
    const events = await watchEvents(
      kc,
      '/apis/gateway.networking.k8s.io/v1/namespaces/gloo-system/gateways',
    );
    await api.createNamespacedCustomObject({
      ...GW,
      namespace: 'gloo-system',
      plural: 'gateways',
      body: gateway('crud'),
    });
    const added = await events.next((e) => e.type === 'ADDED' && e.object.metadata?.name === 'crud');
    expect(added.object.metadata?.uid).toBeTruthy();
    const got = (await api.getNamespacedCustomObject({
      ...GW,
      namespace: 'gloo-system',
      plural: 'gateways',
      name: 'crud',
    })) as Gateway;
    expect(got.spec.gatewayClassName).toBe('gloo-gateway');
    const list = (await api.listNamespacedCustomObject({
      ...GW,
      namespace: 'gloo-system',
      plural: 'gateways',
    })) as {
      items: Gateway[];
    };
    expect(list.items.map((g) => g.metadata?.name)).toContain('crud');
    // The clusters are separate: cluster-2 does not see cluster-1's Gateway.
    await expect(
      lab
        .kubeConfig('cluster-2')
        .makeApiClient(CustomObjectsApi)
        .getNamespacedCustomObject({ ...GW, namespace: 'gloo-system', plural: 'gateways', name: 'crud' }),
    ).rejects.toMatchObject({ code: 404 });
    events.stop();
  });

  it('applies the real Gateway API schema: its defaults, and its CEL rules refuse what they forbid', async () => {
    const api = lab.kubeConfig('cluster-1').makeApiClient(CustomObjectsApi);
    const created = (await api.createNamespacedCustomObject({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      namespace: 'httpbin',
      plural: 'httproutes',
      body: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'defaults', namespace: 'httpbin' },
        spec: {
          parentRefs: [{ name: 'http' }],
          rules: [{ backendRefs: [{ group: 'gloo.solo.io', kind: 'Upstream', name: 'httpbin' }] }],
        },
      },
    })) as { spec: { parentRefs: Record<string, unknown>[]; rules: { matches: unknown }[] } };
    expect(created.spec.rules[0]?.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    expect(created.spec.parentRefs[0]).toMatchObject({
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      name: 'http',
    });

    // A rule of the upstream schema (x-kubernetes-validations on spec.listeners), not one of ours.
    const bad = gateway('tcp-with-hostname');
    bad.spec.listeners = [{ name: 'tcp', port: 9000, protocol: 'TCP', hostname: 'a.example.com' }];
    const error = await api
      .createNamespacedCustomObject({ ...GW, namespace: 'gloo-system', plural: 'gateways', body: bad })
      .catch((e: unknown) => e);
    expect(statusCode(error)).toBe(422);
    expect(statusMessage(error)).toContain("hostname must not be specified for protocols ['TCP', 'UDP']");
  });

  it('installs the Gateway API release asked for, per cluster, and records it', async () => {
    for (const cluster of lab.clusterNames) expect(lab.gatewayApiVersion(cluster)).toBe('v1.2.1');
    const dir = join(repoRoot, '.lab', 'e2e-gateway-api');
    const small = await startLab({ dir, clusters: ['old', 'new'], gatewayApiVersions: { old: 'v1.1.0' } });
    try {
      // What the API servers serve: the bundle version upstream stamps on each of its CRDs.
      const bundle = async (cluster: string) => {
        const crd = await new KubeRest(small.kubeConfig(cluster)).request<KubernetesObject>({
          method: 'GET',
          path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/httproutes.gateway.networking.k8s.io',
        });
        return crd.metadata?.annotations?.['gateway.networking.k8s.io/bundle-version'];
      };
      expect(await bundle('old')).toBe('v1.1.0');
      expect(await bundle('new')).toBe(DEFAULT_GATEWAY_API_VERSION);
      // Recorded in lab.json: another process attaching to the lab sees the same.
      expect(
        attachLab(dir)
          .status()
          .map((s) => [s.cluster, s.gatewayApiVersion]),
      ).toEqual([
        ['old', 'v1.1.0'],
        ['new', 'v1.2.1'],
      ]);
    } finally {
      await small.stop();
    }
  });

  it('installs the CRDs exactly as written, x-kubernetes-* schema markers included', async () => {
    // The Gloo fixtures behave as Gloo 1.18's CRDs: an Upstream's spec drops fields its schema does
    // not list, keeps anything under an open subtree (x-kubernetes-preserve-unknown-fields), and
    // its status, part of the object (no status subresource), is defaulted to {statuses: {}}.
    const api = lab.kubeConfig('cluster-1').makeApiClient(CustomObjectsApi);
    const created = (await api.createNamespacedCustomObject({
      group: 'gloo.solo.io',
      version: 'v1',
      namespace: 'httpbin',
      plural: 'upstreams',
      body: {
        apiVersion: 'gloo.solo.io/v1',
        kind: 'Upstream',
        metadata: { name: 'unknown-fields', namespace: 'httpbin' },
        spec: {
          static: { hosts: [{ addr: 'a.example.com', port: 80 }] },
          sslConfig: { sni: 'a.example.com', notTypedHere: { kept: true } },
          notInTheSchema: { kept: false },
        },
      },
    })) as { spec: Record<string, unknown>; status?: unknown };
    expect(created.spec).toEqual({
      static: { hosts: [{ addr: 'a.example.com', port: 80 }] },
      sslConfig: { sni: 'a.example.com', notTypedHere: { kept: true } },
    });
    expect(created.status).toEqual({ statuses: {} });
  });

  it('stops waiting for CRDs at once, with the reason, when the API server refuses one', async () => {
    // A second CRD claiming the kind Upstream in gloo.solo.io: NamesAccepted=False, never Established.
    const dir = mkdtempSync(join(tmpdir(), 'kuberelay-crds-'));
    const name = 'otherupstreams.gloo.solo.io';
    writeFileSync(
      join(dir, 'conflict.yaml'),
      stringify({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name },
        spec: {
          group: 'gloo.solo.io',
          scope: 'Namespaced',
          names: { kind: 'Upstream', plural: 'otherupstreams' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            },
          ],
        },
      }),
    );
    const kc = lab.kubeConfig('cluster-2');
    const started = Date.now();
    try {
      // The API server names the first clash it finds: the kind or its list kind.
      await expect(installCrds(kc, dir, { label: 'cluster-2' })).rejects.toThrow(
        /^cluster-2: CRD otherupstreams\.gloo\.solo\.io was not accepted: "Upstream(List)?" is already in use$/,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await new KubeRest(kc).request({
        method: 'DELETE',
        path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('server-side apply: a field manager owns its fields, another gets 409, then forces', async () => {
    const objects = KubernetesObjectApi.makeApiClient(lab.kubeConfig('cluster-2'));
    const apply = (manager: string, port: number, force: boolean) =>
      objects.patch(
        gateway('ssa', 'gloo-system', port),
        undefined,
        undefined,
        manager,
        force,
        PatchStrategy.ServerSideApply,
      );
    const first = (await apply('team-a', 8080, false)) as Gateway;
    expect(first.metadata?.managedFields?.map((f) => f.manager)).toEqual(['team-a']);

    const conflict = await apply('team-b', 9090, false).catch((e: unknown) => e);
    expect(statusCode(conflict)).toBe(409);
    expect(statusMessage(conflict)).toContain('conflict with "team-a"');

    const forced = (await apply('team-b', 9090, true)) as Gateway & {
      spec: { listeners: { port: number }[] };
    };
    expect(forced.spec.listeners[0]?.port).toBe(9090);
    expect(forced.metadata?.managedFields?.map((f) => f.manager)).toContain('team-b');
  });

  it('resumes a watch from a resourceVersion, and answers 410 Gone once etcd compacted past it', async () => {
    const kc = lab.kubeConfig('cluster-2');
    const api = kc.makeApiClient(CustomObjectsApi);
    const path = '/apis/gateway.networking.k8s.io/v1/namespaces/gloo-system/gateways';
    const created = (await api.createNamespacedCustomObject({
      ...GW,
      namespace: 'gloo-system',
      plural: 'gateways',
      body: gateway('resume'),
    })) as Gateway;
    const from = created.metadata?.resourceVersion ?? '';
    for (const port of [8081, 8082]) {
      await api.patchNamespacedCustomObject({
        ...GW,
        namespace: 'gloo-system',
        plural: 'gateways',
        name: 'resume',
        body: [{ op: 'replace', path: '/spec/listeners/0/port', value: port }],
      });
    }
    const resumed = await watchEvents(kc, path, { resourceVersion: from });
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const e = await resumed.next((ev) => ev.type === 'MODIFIED' && ev.object.metadata?.name === 'resume');
      ports.push(((e.object as Gateway).spec.listeners as { port: number }[])[0]?.port ?? 0);
    }
    expect(ports).toEqual([8081, 8082]);
    resumed.stop();

    // Compact etcd past `from`, then restart the API server so its watch cache no longer
    // remembers the old events either: exactly what a client sees after an apiserver restart.
    await lab.compactEtcd('cluster-2');
    await lab.stopApiServer('cluster-2');
    await lab.startApiServer('cluster-2');
    const stale = await watchEvents(kc, path, { resourceVersion: from });
    const outcome = await Promise.race([
      stale.next((e) => e.type === 'ERROR', 10_000).then((e) => e.object.code),
      stale.done.then((e) => statusCode(e) ?? (e as { statusCode?: number } | undefined)?.statusCode),
    ]);
    expect(outcome).toBe(410);
    stale.stop();
  });

  it('gives an identity only what RBAC grants it', async () => {
    const kc = await lab.mintIdentity({
      cluster: 'cluster-1',
      user: 'limited-reader',
      groups: ['lab:readers'],
    });
    const api = kc.makeApiClient(CustomObjectsApi);
    const list = () =>
      api.listNamespacedCustomObject({ ...GW, namespace: 'gloo-system', plural: 'gateways' });
    await expect(list()).rejects.toMatchObject({ code: 403 });

    const rbac = lab.kubeConfig('cluster-1').makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: 'gloo-system',
      body: {
        metadata: { name: 'gateway-reader' },
        rules: [
          { apiGroups: ['gateway.networking.k8s.io'], resources: ['gateways'], verbs: ['get', 'list'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: 'gloo-system',
      body: {
        metadata: { name: 'gateway-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gateway-reader' },
        subjects: [{ kind: 'Group', name: 'lab:readers', apiGroup: 'rbac.authorization.k8s.io' }],
      },
    });
    // RBAC takes effect through the authorizer's informer: poll briefly rather than sleep.
    await expect
      .poll(
        async () =>
          list().then(
            () => 'allowed',
            (e: unknown) => statusCode(e),
          ),
        { timeout: 5_000 },
      )
      .toBe('allowed');
    // Still only reading, and only in that namespace.
    await expect(
      api.createNamespacedCustomObject({
        ...GW,
        namespace: 'gloo-system',
        plural: 'gateways',
        body: gateway('nope'),
      }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(
      api.listNamespacedCustomObject({ ...GW, namespace: 'httpbin', plural: 'gateways' }),
    ).rejects.toMatchObject({ code: 403 });
  });

  it('leaves no process behind after stop, also when an API server was restarted', async () => {
    const dir = join(repoRoot, '.lab', 'e2e-lifecycle');
    const small = await startLab({ dir, clusters: ['solo'], installCrds: false });
    // Restart from another process, as a test worker does with the lab the global setup started:
    // the original server's exit then reaches this process after the replacement's pid is written.
    const built = join(repoRoot, 'e2e', 'dist', 'lab', 'lab.js');
    const restart = `const m = await import(${JSON.stringify(built)}); const l = m.attachLab(${JSON.stringify(dir)}); await l.stopApiServer('solo'); await l.startApiServer('solo');`;
    execFileSync(process.execPath, ['--input-type=module', '-e', restart], { stdio: 'inherit' });
    await new Promise((r) => setTimeout(r, 300)); // let the exit of the original server be handled here
    expect(small.status()[0]).toMatchObject({ etcd: { running: true }, apiserver: { running: true } });
    await small.stop();
    expect(processesMentioning(dir).map((pid) => describeProcess(pid))).toEqual([]);
  });
});

/** Pids of live processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function describeProcess(pid: number): string {
  try {
    return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 2).join(' ')}`;
  } catch {
    return `${pid} (exited)`;
  }
}
